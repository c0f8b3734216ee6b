"""Data migrations, forwards and back."""

import gzip

import orjson
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("records", "0006_legacy_document")]
AFTER = [("records", "0007_split_legacy_sections")]
SECTIONS = {"brand_scores": {"华夏良子": {"overallScore": 94}}, "quality_score": 94}


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def report_of(document) -> dict:
    return orjson.loads(gzip.decompress(document.body_gzip))


def test_legacy_sections_move_out_of_stored_reports_and_back():
    apps = migrate(BEFORE)
    TestRecord = apps.get_model("records", "TestRecord")  # noqa: N806
    ResultDocument = apps.get_model("records", "ResultDocument")  # noqa: N806
    record = TestRecord.objects.create(
        brand_name="华夏良子", questions=["q"], platforms=["demo"], status="completed", progress=100
    )
    old = {"summary": {}, "legacy": SECTIONS, "items": [{"brand": "华夏良子"}]}
    body = orjson.dumps(old)
    ResultDocument.objects.create(
        record=record, body_gzip=gzip.compress(body), etag="old", size=len(body)
    )

    apps = migrate(AFTER)
    document = apps.get_model("records", "ResultDocument").objects.get(record_id=record.pk)
    legacy = apps.get_model("records", "LegacyDocument").objects.get(record_id=record.pk)
    assert report_of(document) == {"summary": {}, "items": [{"brand": "华夏良子"}]}
    assert legacy.sections == SECTIONS
    assert document.etag != "old" and document.size == len(orjson.dumps(report_of(document)))

    apps = migrate(BEFORE)
    document = apps.get_model("records", "ResultDocument").objects.get(record_id=record.pk)
    assert report_of(document) == old
    assert not apps.get_model("records", "LegacyDocument").objects.exists()
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())  # back to the latest schema for other tests
