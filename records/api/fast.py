"""The hot read paths as plain Django views: the status poll and the stored results document.

Clients poll ``GET /api/v1/executions/<id>/status/`` every 150-1000 ms for the whole run, so it
is most of the API's traffic; ``GET .../results/`` sends a stored report of up to a few MB. Both
are plain views over one indexed query (DRF's request/response cycle and the ORM cost several
times the whole view; docs/benchmarks.md), with the same bodies, headers (ETag/304,
Retry-After, Content-Encoding/Vary) and visibility rules as the documented DRF actions
``ExecutionViewSet.poll`` and ``.results``. Those actions still serve the OpenAPI schema and
every request these views hand back (other methods, failed credentials, live reports).

In production ``FastPath`` (wrapped around the WSGI application in brandtest/wsgi.py) sends
GET/HEAD requests for these two paths without a session cookie through Django's handler
*without* the middleware chain, which costs about as much as the poll itself; what that chain
would add to these responses (security headers, Content-Length, the ALLOWED_HOSTS check) is
done by ``FastHandler``.
"""

from __future__ import annotations

import gzip
import re
import time
import uuid
from functools import cache

import orjson
from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import ResolverMatch, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from records.api.serializers import STATUS_FIELDS
from records.models import TERMINAL_STATUSES, ResultDocument, TestRecord

# Columns read by the poll: the body's fields plus the owner for the visibility rule.
_COLUMNS = tuple(f for f in STATUS_FIELDS if f != "execution_id") + ("owner_id",)
_VERSION = _COLUMNS.index("version")
_RESUMED = _COLUMNS.index("resumed")
_JSON = "application/json"
_JSON_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
_NOT_FOUND = orjson.dumps(
    {"error": "No execution with that id is visible to you.", "code": "not_found"}
)


class FinishedBodyCache:
    """Encoded response bodies of finished runs, kept per process.

    Finished runs never change (every write is conditional on an active status), so their
    bodies can be reused. The TTL bounds how long an admin delete or owner change takes to
    show; callers still check visibility against the cached owner on every hit.
    """

    def __init__(self, *, size: int, seconds: float = 60.0) -> None:
        self.size = size
        self.seconds = seconds
        self._entries: dict[uuid.UUID, tuple[float, int | None, str, bytes]] = {}

    def get(self, execution_id: uuid.UUID) -> tuple[int | None, str, bytes] | None:
        """(owner id, etag, body) of a finished run seen within the TTL, else None."""
        entry = self._entries.get(execution_id)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1:]

    def put(self, execution_id: uuid.UUID, owner_id: int | None, etag: str, body: bytes) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[execution_id] = (time.monotonic() + self.seconds, owner_id, etag, body)

    def clear(self) -> None:
        self._entries.clear()

    def __contains__(self, execution_id: object) -> bool:
        return execution_id in self._entries


_terminal_cache = FinishedBodyCache(size=20_000)


def is_visible(owner_id: int | None, user) -> bool:
    """``TestRecord.objects.visible_to(user)`` for one row (tests hold the two equal): anonymous
    runs are readable by anyone with the id; owned runs by their owner and staff only."""
    if owner_id is None:
        return True
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or user.pk == owner_id


@cache
def _select_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in _COLUMNS)
    table = quote(TestRecord._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE {quote('execution_id')} = %s"


def _fetch(execution_id: uuid.UUID) -> tuple | None:
    """The row by the unique execution_id index: one query, no ORM (it would triple the cost)."""
    with connection.cursor() as cursor:
        cursor.execute(_select_sql(connection.vendor), [_uuid_param(execution_id)])
        return cursor.fetchone()


def _encode(execution_id: uuid.UUID, row: tuple, terminal: bool) -> bytes:
    (status, stage, progress, total, completed, failed, error, error_type) = row[:8]
    created_at, started_at, finished_at, updated_at = row[8:12]
    # Same body as serializers.status_payload (a test holds them equal), written out here
    # because going through it costs ~7 µs more per poll (iso strings, a dict from the row);
    # orjson writes datetimes as DRF does: ISO 8601, UTC as "Z" (raw SQLite rows are naive UTC).
    return orjson.dumps(
        {
            "execution_id": str(execution_id),
            "status": status,
            "stage": stage,
            "progress": progress,
            "is_completed": terminal,
            "total_tasks": total,
            "completed_tasks": completed,
            "failed_tasks": failed,
            "error": error or None,
            "error_type": error_type or None,
            "created_at": created_at,
            "started_at": started_at,
            "finished_at": finished_at,
            "updated_at": updated_at,
            "next_poll_ms": None if terminal else settings.BRANDTEST_POLL_INTERVAL_MS,
            "resumed": row[_RESUMED],
        },
        option=_JSON_OPTIONS,
    )


def etag_matches(request, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    return etag in [tag.strip() for tag in header.split(",")] or header.strip() == "*"


def not_found() -> HttpResponse:
    """The v1 error shape of a 404, as the API's exception handler writes it."""
    return HttpResponse(_NOT_FOUND, status=404, content_type=_JSON)


def status_response(request, execution_id: str, user) -> HttpResponse:
    """The poll for ``user`` (None: anonymous): 200 body, 304, or 404 for unknown, malformed
    and not-yours ids alike."""
    try:
        parsed = uuid.UUID(execution_id)
    except ValueError:
        return not_found()
    cached = _terminal_cache.get(parsed)
    if cached is not None:
        owner_id, etag, body = cached
        terminal = True
    else:
        row = _fetch(parsed)
        if row is None:
            return not_found()
        owner_id, etag = row[-1], f'"{row[_VERSION]}"'
        terminal = row[0] in TERMINAL_STATUSES
        body = _encode(parsed, row, terminal)
        if terminal:
            _terminal_cache.put(parsed, owner_id, etag, body)
    if not is_visible(owner_id, user):
        return not_found()
    if etag_matches(request, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=_JSON)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    if not terminal:
        response.headers["Retry-After"] = "1"
    return response


def _uuid_param(execution_id: uuid.UUID):
    return execution_id if connection.features.has_native_uuid_field else execution_id.hex


@cache
def _document_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    record, document = TestRecord._meta.db_table, ResultDocument._meta.db_table
    return (
        f"SELECT r.{quote('status')}, r.{quote('owner_id')}, d.{quote('body_gzip')}, "
        f"d.{quote('etag')} FROM {quote(record)} r LEFT JOIN {quote(document)} d "
        f"ON d.{quote('record_id')} = r.{quote('id')} WHERE r.{quote('execution_id')} = %s"
    )


def stored_document_response(request, body_gzip: bytes, etag: str) -> HttpResponse:
    """Send stored gzip bytes as they are; decompress only for clients that cannot take gzip."""
    quoted = f'"{etag}"'
    if etag_matches(request, quoted):
        response = HttpResponse(status=304)
    elif "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", ""):
        response = HttpResponse(body_gzip, content_type=_JSON)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(body_gzip), content_type=_JSON)
    response.headers["ETag"] = quoted
    patch_vary_headers(response, ("Accept-Encoding",))
    return response


def results_response(request, execution_id: str, user) -> HttpResponse | None:
    """A finished run's stored report in one query (record and document joined); None when
    there is no stored report yet (the DRF action builds a live one)."""
    try:
        parsed = uuid.UUID(execution_id)
    except ValueError:
        return not_found()
    with connection.cursor() as cursor:
        cursor.execute(_document_sql(connection.vendor), [_uuid_param(parsed)])
        row = cursor.fetchone()
    if row is None or not is_visible(row[1], user):
        return not_found()
    status, _, body_gzip, etag = row
    if status not in TERMINAL_STATUSES or body_gzip is None:
        return None
    return stored_document_response(request, bytes(body_gzip), etag)


def _has_credentials(request) -> bool:
    """An Authorization header, a session cookie, or DRF's test-client force_authenticate."""
    return (
        "HTTP_AUTHORIZATION" in request.META
        or ("HTTP_COOKIE" in request.META and settings.SESSION_COOKIE_NAME in request.COOKIES)
        or hasattr(request, "_force_auth_user")
    )


@cache
def _drf_action(name: str):
    from records.api.views import ExecutionViewSet

    return ExecutionViewSet.as_view({"get": name})


def _serve(request, execution_id: str, action: str, respond):
    """GET/HEAD with no credentials or good ones: ``respond``; anything else: the DRF action,
    which answers exactly as it always has (405, OPTIONS, the 401/403 shape, live reports)."""
    if request.method in ("GET", "HEAD"):
        user = None
        if _has_credentials(request):
            # DRF's configured authenticators, read per request (Session, Token, JWT, ...).
            authenticators = [auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
            try:
                user = Request(request, authenticators=authenticators).user
            except APIException:
                user = False
        if user is not False:
            response = respond(request, execution_id, user)
            if response is not None:
                return response
    return _drf_action(action)(request, execution_id=execution_id)


@csrf_exempt  # reads only; other methods go to the DRF action, which does its own CSRF checks
def execution_status(request, execution_id: str):
    """GET /api/v1/executions/<id>/status/"""
    return _serve(request, execution_id, "poll", status_response)


@csrf_exempt
def execution_results(request, execution_id: str):
    """GET /api/v1/executions/<id>/results/"""
    return _serve(request, execution_id, "results", results_response)


class FastHandler(WSGIHandler):
    """Django's WSGI handler with no middleware and the route already matched by ``FastPath``.

    Signals (connection reuse and health checks), exception handling, 404/500 logging and
    response closing stay Django's own; what the skipped middleware would add to these
    responses (security headers, Content-Length, the ALLOWED_HOSTS check) is done here.
    """

    def __call__(self, environ, start_response):
        response = super().__call__(environ, start_response)
        if getattr(response, "streaming", True):
            return response
        # The body is in memory: hand the server one bytes object, which it writes without
        # iterating in Python, and close the response (request_finished) now.
        body = response.content
        response.close()
        return [body]

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._respond)

    def _respond(self, request):
        request.get_host()  # DisallowedHost -> 400, as CommonMiddleware would
        response = self._get_response(request)
        headers = response.headers
        if not response.streaming and "Content-Length" not in headers:
            headers["Content-Length"] = str(len(response.content))
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            headers.setdefault("X-Content-Type-Options", "nosniff")
        if settings.SECURE_REFERRER_POLICY:
            headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            headers.setdefault(
                "Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
            )
        headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS.upper())
        return response

    def resolve_request(self, request):
        view, execution_id = request.environ["brandtest.fast_route"]
        match = ResolverMatch(view, (), {"execution_id": execution_id})
        request.resolver_match = match
        return match


class FastPath:
    """WSGI middleware: GET/HEAD of the status and results paths without a session cookie go
    through ``FastHandler``; everything else goes to ``application`` unchanged."""

    def __init__(self, application):
        self.application = application
        self.handler = FastHandler()
        self.routes = [
            (self._pattern(name), view)
            for name, view in (
                ("execution-status", execution_status),
                ("execution-results", execution_results),
            )
        ]
        self.session_cookie = f"{settings.SESSION_COOKIE_NAME}="

    @staticmethod
    def _pattern(url_name: str) -> re.Pattern:
        # The path from the URLconf, so the routes and this stay in step.
        marker = "00000000-0000-0000-0000-000000000000"
        prefix, suffix = reverse(url_name, kwargs={"execution_id": marker}).split(marker)
        return re.compile(rf"{re.escape(prefix)}([^/]+){re.escape(suffix)}\Z")

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and self.session_cookie not in (
            environ.get("HTTP_COOKIE") or ""
        ):
            path = environ.get("PATH_INFO") or ""
            for pattern, view in self.routes:
                if (match := pattern.match(path)) is not None:
                    environ["brandtest.fast_route"] = (view, match[1])
                    return self.handler(environ, start_response)
        return self.application(environ, start_response)
