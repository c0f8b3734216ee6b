"""Move the legacy sections out of stored v1 reports into LegacyDocument rows."""

import gzip
import hashlib

import orjson
from django.db import migrations


def _encode(report):
    # As records.reports.encode_report does (migrations never import app code).
    body = orjson.dumps(report)
    return (
        gzip.compress(body, compresslevel=6, mtime=0),
        hashlib.sha256(body).hexdigest()[:32],
        len(body),
    )


def _rewrite(document, report):
    document.body_gzip, document.etag, document.size = _encode(report)
    document.save(update_fields=["body_gzip", "etag", "size"])


def split(apps, schema_editor):
    ResultDocument = apps.get_model("records", "ResultDocument")
    LegacyDocument = apps.get_model("records", "LegacyDocument")
    for document in ResultDocument.objects.iterator(chunk_size=200):
        report = orjson.loads(gzip.decompress(document.body_gzip))
        if "legacy" not in report:
            continue
        LegacyDocument.objects.update_or_create(
            record_id=document.record_id,
            defaults={"sections": report.pop("legacy") or {}, "created_at": document.created_at},
        )
        _rewrite(document, report)


def merge(apps, schema_editor):
    ResultDocument = apps.get_model("records", "ResultDocument")
    LegacyDocument = apps.get_model("records", "LegacyDocument")
    for legacy in LegacyDocument.objects.iterator(chunk_size=200):
        document = ResultDocument.objects.filter(record_id=legacy.record_id).first()
        if document is None:
            continue
        report = orjson.loads(gzip.decompress(document.body_gzip))
        # The legacy sections sat just before the items.
        items = report.pop("items", [])
        _rewrite(document, report | {"legacy": legacy.sections, "items": items})
    LegacyDocument.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0006_legacy_document"),
    ]

    operations = [
        migrations.RunPython(split, merge),
    ]
