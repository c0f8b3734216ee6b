"""One answer, rendered three ways: GET …/answers/, the results report and the legacy items."""

import gzip

import orjson
import pytest

from records import execution
from records.engine.base import PlatformError
from records.models import ResultDocument
from records.renderers import ANSWER_FIELDS
from tests.legacy.test_status import answer, started

pytestmark = pytest.mark.django_db


def finished_run():
    record = started(repeats=2)
    execution.claim_execution(execution_id=record.execution_id)
    answer(record)
    answer(record, text=None, error=PlatformError("quota_exhausted", "Insufficient Balance"))
    execution.finish_execution(execution_id=record.execution_id)
    record.refresh_from_db()
    return record


def test_an_answer_agrees_in_the_answers_list_the_report_and_the_legacy_items(api_client):
    record = finished_run()
    base = f"/api/v1/executions/{record.execution_id}"
    listed = api_client.get(f"{base}/answers/").json()["results"]
    report = api_client.get(f"{base}/results/").json()
    legacy = api_client.get(f"/test/status/{record.execution_id}").json()["results"]

    assert len(listed) == len(report["items"]) == len(legacy) == 2
    for v1, item, old in zip(listed, report["items"], legacy, strict=True):
        assert list(v1) == list(ANSWER_FIELDS)
        assert v1 == item  # every field: the same renderer
        # The legacy item maps the same rendering to the mini-program's names.
        assert old["brand"] == v1["brand"] == "华夏良子"  # no {brandName}: the main brand
        assert (old["question"], old["status"]) == (v1["question"], v1["status"])
        assert old["model"] == old["aiModel"] == v1["platform"]
        assert old["response"] == (v1["response"] or "")
        assert (old["error"], old["error_type"]) == (v1["error"], v1["error_type"])
        latency = v1["latency_ms"]
        assert old["response_latency"] == (latency / 1000 if latency is not None else None)
    succeeded, failed = listed
    assert succeeded["error"] is None and succeeded["error_type"] is None
    assert succeeded["created_at"].endswith("Z")
    assert failed["analysis"] is None and failed["error_type"] == "quota_exhausted"


def test_the_v1_report_carries_no_legacy_sections(api_client):
    record = finished_run()
    document = ResultDocument.objects.get(record=record)
    stored = orjson.loads(gzip.decompress(document.body_gzip))
    assert "legacy" not in stored
    assert record.legacy_document.sections["quality_score"] == 94
    running = started(repeats=2)
    execution.claim_execution(execution_id=running.execution_id)
    answer(running)
    live = api_client.get(f"/api/v1/executions/{running.execution_id}/results/").json()
    assert live["final"] is False and "legacy" not in live
