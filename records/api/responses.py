"""The v1 hot responses: the status poll and a stored results document.

Used by the plain views (records/api/hot_views.py, what production serves) and by the
documented DRF actions (records/api/views.py); both send the same bodies and headers (ETag/304,
Retry-After, Content-Encoding/Vary) under the same visibility rule.
"""

from __future__ import annotations

import gzip
import uuid
from functools import cache

import orjson
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers

from records.models import TERMINAL_STATUSES, ResultDocument, TestRecord, is_visible_to
from records.reads import OWNER_ID, VERSION, FinishedBodyCache, hot_fetch, poll_row, uuid_param
from records.renderers import encode, status_body

_JSON = "application/json"
_NOT_FOUND = orjson.dumps(
    {"error": "No execution with that id is visible to you.", "code": "not_found"}
)

# Clients keep polling a finished run for a while; its body is reused.
finished_bodies = FinishedBodyCache(size=20_000)


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
    cached = finished_bodies.get(parsed)
    if cached is not None:
        owner_id, etag, body = cached
        terminal = True
    else:
        row = poll_row(parsed)
        if row is None:
            return not_found()
        owner_id, etag = row[OWNER_ID], f'"{row[VERSION]}"'
        terminal = row[0] in TERMINAL_STATUSES
        body = encode(status_body(parsed, row, terminal=terminal))
        if terminal:
            finished_bodies.put(parsed, owner_id, etag, body)
    if not is_visible_to(owner_id, user):
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
    row = hot_fetch(_document_sql(connection.vendor), [uuid_param(parsed)])
    if row is None or not is_visible_to(row[1], user):
        return not_found()
    status, _, body_gzip, etag = row
    if status not in TERMINAL_STATUSES or body_gzip is None:
        return None
    return stored_document_response(request, bytes(body_gzip), etag)
