"""Comparison views, side by side with the real endpoints (bench URLconf only; never shipped).

- ``floor``: a minimal Django view, one raw indexed lookup, the poll's fields with orjson.
- ``legacy``: the old system's lookup, ``json_extract(results_summary, '$.execution_id')``.
- ``drf_default``: a stock DRF ``RetrieveAPIView`` + ``ModelSerializer`` over the same fields.
- ``doc_roundtrip``: the results document decompressed, parsed and re-serialised (orjson;
  ``doc_roundtrip_json``: the standard library, as DRF would).
"""

from __future__ import annotations

import gzip
import json
import uuid

import orjson
from django.db import connection
from django.http import Http404, HttpResponse
from rest_framework import generics, serializers

from records.models import ResultDocument, TestRecord
from records.renderers import STATUS_COLUMNS

# The poll's columns with the id and the ETag's version, as the real poll reads them.
STATUS_FIELDS = ("execution_id", *STATUS_COLUMNS, "version")

_FIELDS = ", ".join(STATUS_FIELDS)
_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
_MISSING = b'{"error":"not found"}'


def _json(row, names) -> HttpResponse:
    if row is None:
        return HttpResponse(_MISSING, status=404, content_type="application/json")
    body = dict(zip(names, row, strict=True))
    body["execution_id"] = str(uuid.UUID(str(body["execution_id"])))
    content = orjson.dumps(body, option=_OPTIONS)
    # Content-Length as CommonMiddleware would set it: without it the server chunks the body.
    response = HttpResponse(content, content_type="application/json")
    response.headers["Content-Length"] = str(len(content))
    return response


def floor(request, execution_id: str) -> HttpResponse:
    try:
        parsed = uuid.UUID(execution_id)
    except ValueError:
        return HttpResponse(_MISSING, status=404, content_type="application/json")
    param = parsed if connection.features.has_native_uuid_field else parsed.hex
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_FIELDS} FROM records_testrecord WHERE execution_id = %s", [param])
        return _json(cursor.fetchone(), STATUS_FIELDS)


def legacy(request, execution_id: str) -> HttpResponse:
    """The legacy Flask query: the id is found by scanning every row's JSON summary."""
    if connection.vendor == "postgresql":
        where = "(results_summary ->> 'execution_id') = %s"
    else:
        where = "json_extract(results_summary, '$.execution_id') = %s"
    sql = (
        f"SELECT {_FIELDS} FROM records_testrecord WHERE id = "
        f"(SELECT id FROM records_testrecord WHERE {where} LIMIT 1)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [execution_id])
        return _json(cursor.fetchone(), STATUS_FIELDS)


class StatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = TestRecord
        fields = STATUS_FIELDS


class DrfDefaultView(generics.RetrieveAPIView):
    """What a stock DRF detail view of the same fields and visibility costs."""

    serializer_class = StatusSerializer
    lookup_field = "execution_id"

    def get_queryset(self):
        return TestRecord.objects.visible_to(self.request.user)


def _document(execution_id: str) -> bytes:
    try:
        record = TestRecord.objects.visible_to(None).only("id").get(execution_id=execution_id)
    except (TestRecord.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    return ResultDocument.objects.only("body_gzip").get(record=record).body_gzip


def doc_roundtrip(request, execution_id: str) -> HttpResponse:
    """The report decompressed, parsed and re-serialised with orjson (the fastest way)."""
    report = orjson.loads(gzip.decompress(_document(execution_id)))
    return HttpResponse(orjson.dumps(report), content_type="application/json")


def doc_roundtrip_json(request, execution_id: str) -> HttpResponse:
    """The same with the standard library, as DRF's JSONParser/JSONRenderer would do it."""
    report = json.loads(gzip.decompress(_document(execution_id)))
    body = json.dumps(report, ensure_ascii=False, separators=(",", ":")).encode()
    return HttpResponse(body, content_type="application/json")
