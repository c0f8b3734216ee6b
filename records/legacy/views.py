"""Thin adapters that serve the legacy mini-program contract (LEGACY_CONTRACT.md section 1) from
the same services, rows and reports as v1."""

from __future__ import annotations

import gzip
import uuid

import orjson
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from records import services
from records.api.fast import FinishedBodyCache, is_visible
from records.api.serializers import STATUS_FIELDS
from records.api.throttles import LoginThrottle
from records.legacy import auth, wechat
from records.legacy.errors import error_response, exception_handler
from records.legacy.payloads import (
    HISTORY_FIELDS,
    legacy_history_body,
    legacy_items,
    legacy_report_body,
    legacy_status_body,
)
from records.legacy.serializers import (
    LegacyStartSerializer,
    LoginSerializer,
    RefreshTokenSerializer,
)
from records.models import TERMINAL_STATUSES, Answer, ResultDocument, TestRecord
from records.reports import answer_item, build_report

MAX_HISTORY_LIMIT = 100


class LegacyView(APIView):
    """Legacy paths answer in the legacy shapes and never 401 (a 401 sends the mini-program's
    user to the login page in the middle of a run): a bad Bearer token reads as anonymous."""

    authentication_classes = (auth.LenientJWTAuthentication, SessionAuthentication)
    # Documented in LEGACY_CONTRACT.md; the OpenAPI schema describes v1.
    schema = None

    def get_exception_handler(self):
        return exception_handler


def _json(body: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def parse_uuid(value: str) -> uuid.UUID | None:
    """A malformed id names no execution (404, never a 500)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _task_not_found(execution_id: str) -> JsonResponse:
    return _json({"error": "Task not found", "task_id": execution_id}, status=404)


def stored_report(record_id: int) -> dict | None:
    """The report stored when the run finished, or None (still running, or stopped early:
    cancelled, reaped)."""
    document = ResultDocument.objects.filter(record_id=record_id).values("body_gzip").first()
    return orjson.loads(gzip.decompress(document["body_gzip"])) if document else None


def live_report(record: TestRecord) -> dict:
    """The report built now from the answers stored so far."""
    return build_report(record, list(record.answers.all()))


# The mini-program keeps polling a finished run; its legacy body (with every answer) is reused.
_finished_bodies = FinishedBodyCache(size=2_000)


def status_response(request, execution_id: str) -> HttpResponse:
    """The legacy status body for an execution visible to the caller, else 404."""
    parsed = parse_uuid(execution_id)
    if parsed is None:
        return _task_not_found(execution_id)
    cached = _finished_bodies.get(parsed)
    if cached is not None:
        owner_id, _, body = cached
        if not is_visible(owner_id, request.user):
            return _task_not_found(execution_id)
        return HttpResponse(body, content_type="application/json")
    fields = (*STATUS_FIELDS, "id", "owner_id", "brand_name", "competitor_brands")
    row = TestRecord.objects.filter(execution_id=parsed).values(*fields).first()
    if row is None or not is_visible(row["owner_id"], request.user):
        return _task_not_found(execution_id)
    record = TestRecord(
        id=row["id"], brand_name=row["brand_name"], competitor_brands=row["competitor_brands"]
    )
    finished = None
    terminal = row["status"] in TERMINAL_STATUSES
    if terminal:
        report = stored_report(row["id"]) or live_report(TestRecord.objects.get(pk=row["id"]))
        report_items = report.get("items", [])
        finished = report.get("legacy") or {}
    else:
        report_items = [answer_item(record, a) for a in Answer.objects.filter(record_id=row["id"])]
    body = orjson.dumps(legacy_status_body(row, legacy_items(record, report_items), finished))
    if terminal:
        _finished_bodies.put(parsed, row["owner_id"], "", body)
    return HttpResponse(body, content_type="application/json")


class HealthView(LegacyView):
    """GET /api/test"""

    authentication_classes = ()

    def get(self, request):
        return _json({"status": "success", "message": "Backend is working correctly!"})


class PerformBrandTestView(LegacyView):
    """POST /api/perform-brand-test: validate, store the run, answer 200 (the client treats a
    202 as failure). A start re-sent with the same X-Device-ID within a minute names the run
    the first one created."""

    starts_execution = True

    def post(self, request):
        serializer = LegacyStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = services.start_execution(
            owner=request.user,
            data=serializer.execution_input(),
            device_id=request.headers.get("X-Device-ID", ""),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        ).record
        return _json(
            {
                "status": "success",
                "execution_id": str(record.execution_id),
                "message": "Test started successfully",
            }
        )


class TestStatusView(LegacyView):
    """GET /test/status/<execution_id>"""

    def get(self, request, execution_id: str):
        return status_response(request, execution_id)


class TestProgressView(LegacyView):
    """GET /api/test-progress?executionId=<id>"""

    def get(self, request):
        execution_id = request.query_params.get("executionId")
        if not execution_id:
            return _json(
                {"status": "error", "error": "executionId is required", "code": 400}, status=400
            )
        return status_response(request, execution_id)


class DiagnosisReportView(LegacyView):
    """GET /api/diagnosis/report/<execution_id>: the stored report of a finished run, a live
    one while it runs (or if it was stopped before its report was written)."""

    def get(self, request, execution_id: str):
        parsed = parse_uuid(execution_id)
        record = (
            TestRecord.objects.visible_to(request.user).filter(execution_id=parsed).first()
            if parsed
            else None
        )
        if record is None:
            return _json({"error": "报告不存在", "execution_id": execution_id}, status=404)
        report = stored_report(record.pk) if record.status in TERMINAL_STATUSES else None
        report = report or live_report(record)
        return _json(legacy_report_body(record, report, retrieved_at=timezone.now()))


class DiagnosisHistoryView(LegacyView):
    """GET /api/diagnosis/history?page=1&limit=20: the caller's own runs, newest first
    (anonymous callers have none)."""

    def get(self, request):
        try:
            page = int(request.query_params.get("page", 1))
            limit = int(request.query_params.get("limit", 20))
        except ValueError:
            return error_response("page and limit must be integers", 400)
        page, limit = max(page, 1), min(max(limit, 1), MAX_HISTORY_LIMIT)
        runs = TestRecord.objects.owned_by(request.user)
        total = runs.count()
        offset = (page - 1) * limit
        rows = list(runs.values(*HISTORY_FIELDS)[offset : offset + limit]) if offset < total else []
        return _json(legacy_history_body(rows, page=page, limit=limit, total=total))


class LoginView(LegacyView):
    """POST /api/login {code}: exchange a wx.login() code for our tokens."""

    authentication_classes = ()
    throttle_classes = (LoginThrottle,)

    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            identity = wechat.exchange_code(serializer.validated_data["code"])
        except wechat.WeChatLoginError as exc:
            details = {"wechat_errcode": exc.errcode} if exc.errcode is not None else {}
            return error_response(str(exc), exc.status, **details)
        user = auth.wechat_user(identity)
        return _json(
            {"status": "success", **auth.issue_tokens(user), "data": {"openid": identity.openid}}
        )


class RefreshTokenView(LegacyView):
    """POST /api/refresh-token {refresh_token}: new tokens; the old refresh token is spent.
    A bad one is 400, not 401 (legacy paths never answer 401)."""

    authentication_classes = ()

    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            tokens = auth.rotate_tokens(serializer.validated_data["refresh_token"])
        except auth.InvalidRefreshToken:
            return error_response("The refresh token is invalid or expired; log in again.", 400)
        return _json({"status": "success", **tokens})


class ValidateTokenView(LegacyView):
    """POST /api/validate-token {token}: whether an access token is (still) good."""

    authentication_classes = ()

    def post(self, request):
        token = request.data.get("token") if isinstance(request.data, dict) else None
        valid = isinstance(token, str) and auth.token_user(token) is not None
        return _json({"status": "valid" if valid else "invalid"})
