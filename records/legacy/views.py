"""Thin adapters that serve the legacy mini-program contract (docs/legacy-contract.md) from
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
from records.models import (
    TERMINAL_STATUSES,
    Answer,
    LegacyDocument,
    ResultDocument,
    TestRecord,
    is_visible_to,
)
from records.reads import OWNER_ID, POLL_COLUMNS, FinishedBodyCache, json_column, poll_row
from records.renderers import answer_body, encode, status_body
from records.reports import build_results
from records.throttles import LoginThrottle, client_address

MAX_HISTORY_LIMIT = 100


class LegacyView(APIView):
    """Legacy paths answer in the legacy shapes and never 401 (a 401 sends the mini-program's
    user to the login page in the middle of a run): a bad Bearer token reads as anonymous."""

    authentication_classes = (auth.LenientJWTAuthentication, SessionAuthentication)
    # Documented in docs/legacy-contract.md; the OpenAPI schema describes v1.
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


def stored_documents(record_id: int) -> tuple[dict, dict] | None:
    """The report and legacy sections stored when the run finished, or None (still running,
    or stopped early: cancelled, reaped)."""
    document = ResultDocument.objects.filter(record_id=record_id).values("body_gzip").first()
    legacy = LegacyDocument.objects.filter(record_id=record_id).values("sections").first()
    if document is None or legacy is None:
        return None
    return orjson.loads(gzip.decompress(document["body_gzip"])), legacy["sections"]


def live_documents(record: TestRecord) -> tuple[dict, dict]:
    """The report and legacy sections built now from the answers stored so far."""
    results = build_results(record, list(record.answers.all()))
    return results.report, results.legacy


# The poll's row (reads.POLL_COLUMNS first) plus what the legacy items need.
_COLUMNS = (*POLL_COLUMNS, "id", "brand_name", "competitor_brands")
_ID, _BRAND, _COMPETITORS = len(POLL_COLUMNS), len(POLL_COLUMNS) + 1, len(POLL_COLUMNS) + 2
# The mini-program keeps polling a finished run; its legacy body (with every answer) is reused.
_finished_bodies = FinishedBodyCache(size=2_000)


def status_response(request, execution_id: str) -> HttpResponse:
    """The legacy status body for an execution visible to the caller, else 404: the v1 status
    body of the same row, mapped, with the answers rendered as v1 renders them."""
    parsed = parse_uuid(execution_id)
    if parsed is None:
        return _task_not_found(execution_id)
    cached = _finished_bodies.get(parsed)
    if cached is not None:
        owner_id, _, body = cached
        if not is_visible_to(owner_id, request.user):
            return _task_not_found(execution_id)
        return HttpResponse(body, content_type="application/json")
    row = poll_row(parsed, _COLUMNS)
    if row is None or not is_visible_to(row[OWNER_ID], request.user):
        return _task_not_found(execution_id)
    record_id, main_brand = row[_ID], row[_BRAND]
    competitors = json_column("competitor_brands", row[_COMPETITORS])
    terminal = row[0] in TERMINAL_STATUSES
    answers = [
        answer_body(a, main_brand=main_brand) for a in Answer.objects.filter(record_id=record_id)
    ]
    finished = None
    if terminal:
        sections = LegacyDocument.objects.filter(record_id=record_id).values_list("sections")
        stored = sections.first()
        finished = stored[0] if stored else live_documents(TestRecord.objects.get(pk=record_id))[1]
    items = legacy_items(answers, main_brand=main_brand, competitors=competitors)
    status = status_body(parsed, row, terminal=terminal)
    body = encode(legacy_status_body(status, items, finished))
    if terminal:
        _finished_bodies.put(parsed, row[OWNER_ID], "", body)
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
            client_ip=client_address(request),
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
        stored = stored_documents(record.pk) if record.status in TERMINAL_STATUSES else None
        report, sections = stored or live_documents(record)
        return _json(legacy_report_body(record, report, sections, retrieved_at=timezone.now()))


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
