"""Thin adapters that serve the legacy mini-program contract (docs/legacy-contract.md) from
the same services, rows and reports as v1."""

from __future__ import annotations

import gzip
import uuid
from functools import cache

import orjson
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
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
from records.reads import (
    OWNER_ID,
    POLL_COLUMNS,
    VERSION,
    FinishedBodyCache,
    hot_fetch,
    json_column,
    poll_row,
)
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
_JSON = "application/json"
# gzip level of the poll bodies: level 6 is ~2x level 1's time for a few % fewer bytes.
GZIP_LEVEL = 6


class PollBody:
    """One run's legacy poll body at one version, encoded once; gzip made on first demand."""

    __slots__ = ("version", "owner_id", "etag", "body", "_gzip", "terminal")

    def __init__(self, version: int, owner_id, body: bytes, *, terminal: bool) -> None:
        self.version, self.owner_id, self.body, self.terminal = version, owner_id, body, terminal
        self.etag = f'"L{version}"'
        self._gzip: bytes | None = None

    @property
    def gzip(self) -> bytes:
        if self._gzip is None:
            self._gzip = _gzip(self.body)
        return self._gzip


class PollCaches:
    """Per process: each run's poll body at its current version (built at most once per
    (run, version)), and the encoded legacy item of each answer of an active run.

    An answer's item is fixed once it is stored: its text, analysis and the run's brands do not
    change while the run is active (re-analysis is refused until it ends). Ended runs build
    their items afresh once per version (a re-analysis bumps the version) and keep no items.
    Finished bodies are reused without a query for ``finished_seconds`` (an admin delete or
    owner change shows within that), as the v1 poll does.
    """

    def __init__(self, *, runs: int = 2_000, finished_seconds: float = 60.0) -> None:
        self.runs = runs
        self.bodies: dict[uuid.UUID, PollBody] = {}
        self.items: dict[int, dict[int, bytes]] = {}
        self.finished = FinishedBodyCache(size=runs, seconds=finished_seconds)
        self._finished_bodies: dict[uuid.UUID, PollBody] = {}

    def clear(self) -> None:
        self.bodies.clear()
        self.items.clear()
        self.finished.clear()
        self._finished_bodies.clear()

    def finished_body(self, execution_id: uuid.UUID) -> PollBody | None:
        if self.finished.get(execution_id) is None:
            return None
        return self._finished_bodies.get(execution_id)

    def keep(self, execution_id: uuid.UUID, body: PollBody, record_id: int) -> None:
        if len(self.bodies) >= self.runs:
            self.bodies.clear()
        self.bodies[execution_id] = body
        if body.terminal:
            self.items.pop(record_id, None)
            if len(self._finished_bodies) >= self.runs:
                self._finished_bodies.clear()
            self._finished_bodies[execution_id] = body
            self.finished.put(execution_id, body.owner_id, body.etag, b"")

    def answer_items(self, record_id: int, main_brand: str, competitors: list[str]) -> list[bytes]:
        """The encoded items of an active run's answers, in answer order: one index-only query
        for the ids, the rows of new answers only."""
        ids = [row[0] for row in hot_fetch(_answer_ids_sql(), [record_id], many=True)]
        known = self.items.get(record_id)
        if known is None:
            if len(self.items) >= self.runs:
                self.items.clear()
            known = self.items[record_id] = {}
        missing = [i for i in ids if i not in known]
        if missing:
            for answer in Answer.objects.filter(id__in=missing):
                known[answer.pk] = encode_item(answer, main_brand, competitors)
        return [known[i] for i in ids]


def encode_item(answer: Answer, main_brand: str, competitors: list[str]) -> bytes:
    """One answer's legacy result item as JSON bytes."""
    item = legacy_items(
        [answer_body(answer, main_brand=main_brand)], main_brand=main_brand, competitors=competitors
    )[0]
    return encode(item)


@cache
def _answer_ids_sql() -> str:
    quote = connection.ops.quote_name
    order = ", ".join(quote(f) for f in ("question_index", "brand", "platform", "run_index"))
    return (
        f"SELECT {quote('id')} FROM {quote(Answer._meta.db_table)} "
        f"WHERE {quote('record_id')} = %s ORDER BY {order}"
    )


poll_caches = PollCaches()


def clear_poll_caches() -> None:
    poll_caches.clear()


def _poll_body(parsed: uuid.UUID, row: tuple) -> PollBody:
    record_id, main_brand = row[_ID], row[_BRAND]
    competitors = json_column("competitor_brands", row[_COMPETITORS])
    terminal = row[0] in TERMINAL_STATUSES
    finished = None
    if terminal:
        answers = Answer.objects.filter(record_id=record_id)
        items = [encode_item(a, main_brand, competitors) for a in answers]
        sections = LegacyDocument.objects.filter(record_id=record_id).values_list("sections")
        stored = sections.first()
        finished = stored[0] if stored else live_documents(TestRecord.objects.get(pk=record_id))[1]
    else:
        items = poll_caches.answer_items(record_id, main_brand, competitors)
    # The items are encoded once and spliced in (twice: results and detailed_results).
    spliced = orjson.Fragment(b"[" + b",".join(items) + b"]")
    status = status_body(parsed, row, terminal=terminal)
    body = encode(legacy_status_body(status, spliced, finished))
    return PollBody(row[VERSION], row[OWNER_ID], body, terminal=terminal)


def etag_matches(request, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    return header.strip() == "*" or etag in [tag.strip() for tag in header.split(",")]


def accepts_gzip(request) -> bool:
    return "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "")


def send_body(request, body: bytes, etag: str, gzipped, *, retry: bool = False) -> HttpResponse:
    """A body with its ETag (304 on If-None-Match), gzip for clients that accept it.
    ``gzipped`` is the gzip bytes or a callable making them."""
    if etag_matches(request, etag):
        response = HttpResponseNotModified()
    elif accepts_gzip(request):
        response = HttpResponse(gzipped() if callable(gzipped) else gzipped, content_type=_JSON)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type=_JSON)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    patch_vary_headers(response, ("Accept-Encoding",))
    if retry:
        response.headers["Retry-After"] = "1"
    return response


def status_response(request, execution_id: str, user=None) -> HttpResponse:
    """The legacy status body for an execution visible to the caller, else 404: the v1 status
    body of the same row, mapped, with the answers rendered as v1 renders them.

    A poll is the one indexed status query plus, when the version moved, the new answers'
    rows and a concatenation; a finished run within the TTL needs no query at all."""
    user = request.user if user is None else user
    parsed = parse_uuid(execution_id)
    if parsed is None:
        return _task_not_found(execution_id)
    body = poll_caches.finished_body(parsed)
    if body is None:
        row = poll_row(parsed, _COLUMNS)
        if row is None or not is_visible_to(row[OWNER_ID], user):
            return _task_not_found(execution_id)
        body = poll_caches.bodies.get(parsed)
        if body is None or body.version != row[VERSION]:
            body = _poll_body(parsed, row)
            poll_caches.keep(parsed, body, row[_ID])
    elif not is_visible_to(body.owner_id, user):
        return _task_not_found(execution_id)
    return send_body(request, body.body, body.etag, lambda: body.gzip, retry=not body.terminal)


def _fast_user(request):
    """The caller of a credential-less or Bearer poll: anonymous, or the token's user (a bad
    token reads as anonymous, as on every legacy path)."""
    if "HTTP_AUTHORIZATION" not in request.META:
        return AnonymousUser()
    found = auth.LenientJWTAuthentication().authenticate(request)
    return found[0] if found else AnonymousUser()


@csrf_exempt  # reads only
def legacy_status(request, execution_id: str) -> HttpResponse:
    """GET /test/status/<id> on the fast path (brandtest/fastpath.py): no DRF, no middleware."""
    if request.method not in ("GET", "HEAD"):
        return TestStatusView.as_view()(request, execution_id=execution_id)
    return status_response(request, execution_id, _fast_user(request))


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
    one while it runs (or if it was stopped before its report was written); gzip for clients
    that accept it, ETag ``"R<version>"`` and 304 on If-None-Match."""

    def get(self, request, execution_id: str):
        parsed = parse_uuid(execution_id)
        record = (
            TestRecord.objects.visible_to(request.user).filter(execution_id=parsed).first()
            if parsed
            else None
        )
        if record is None:
            return _json({"error": "报告不存在", "execution_id": execution_id}, status=404)
        # The report changes only when the run's version does: a client holding this version
        # gets a 304 before anything is built (its retrieved_at stays the one it was sent).
        etag = f'"R{record.version}"'
        if etag_matches(request, etag):
            return send_body(request, b"", etag, b"")
        stored = stored_documents(record.pk) if record.status in TERMINAL_STATUSES else None
        report, sections = stored or live_documents(record)
        body = _json(legacy_report_body(record, report, sections, retrieved_at=timezone.now()))
        return send_body(request, body.content, etag, lambda: _gzip(body.content))


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


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
        # Ids first, in the same query: the page's ids by the owner's listing index (index only,
        # however deep the page), then those rows by primary key.
        page_ids = runs.values("pk")[offset : offset + limit]
        rows = list(runs.filter(pk__in=page_ids).values(*HISTORY_FIELDS)) if offset < total else []
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
