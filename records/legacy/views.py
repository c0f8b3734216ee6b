"""Thin adapters that serve the legacy mini-program contract from the same rows as v1."""

from __future__ import annotations

import gzip
import uuid

import orjson
from django.http import JsonResponse
from rest_framework.views import APIView

from records.api.serializers import STATUS_FIELDS
from records.legacy.payloads import legacy_item, legacy_status_body
from records.models import TERMINAL_STATUSES, Answer, ResultDocument, TestRecord
from records.reports import answer_item


class LegacyView(APIView):
    """Legacy paths answer in the legacy shapes and never 401 (a 401 sends the mini-program's
    user to the login page in the middle of a run)."""


def _not_found(execution_id: str) -> JsonResponse:
    return JsonResponse(
        {"error": "Task not found", "task_id": execution_id},
        status=404,
        json_dumps_params={"ensure_ascii": False},
    )


def status_response(request, execution_id: str) -> JsonResponse:
    """The legacy status body for an execution visible to the caller, else 404."""
    try:
        parsed = uuid.UUID(execution_id)
    except ValueError:
        return _not_found(execution_id)
    fields = (*STATUS_FIELDS, "id", "brand_name", "competitor_brands")
    row = (
        TestRecord.objects.visible_to(request.user)
        .filter(execution_id=parsed)
        .values(*fields)
        .first()
    )
    if row is None:
        return _not_found(execution_id)
    finished = None
    if row["status"] in TERMINAL_STATUSES:
        document = ResultDocument.objects.filter(record_id=row["id"]).values("body_gzip").first()
        report = orjson.loads(gzip.decompress(document["body_gzip"])) if document else {}
        report_items = report.get("items", [])
        finished = report.get("legacy") or {}
    else:
        record = TestRecord(
            id=row["id"],
            brand_name=row["brand_name"],
            competitor_brands=row["competitor_brands"],
        )
        report_items = [answer_item(record, a) for a in Answer.objects.filter(record_id=row["id"])]
    items = [
        legacy_item(item, main_brand=row["brand_name"], competitors=row["competitor_brands"])
        for item in report_items
    ]
    body = legacy_status_body(row, items, finished)
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


class TestStatusView(LegacyView):
    """GET /test/status/<execution_id>"""

    def get(self, request, execution_id: str):
        return status_response(request, execution_id)


class TestProgressView(LegacyView):
    """GET /api/test-progress?executionId=<id>"""

    def get(self, request):
        execution_id = request.query_params.get("executionId")
        if not execution_id:
            return JsonResponse(
                {"status": "error", "error": "executionId is required", "code": 400}, status=400
            )
        return status_response(request, execution_id)
