"""The hot read path shared by the v1 and legacy polls: one indexed query for a run's status
row, and a per-process cache of finished runs' encoded bodies.

Plain SQL over the unique execution_id index: the ORM would triple the poll's cost
(docs/benchmarks.md). Reads elsewhere are QuerySet methods.
"""

from __future__ import annotations

import time
import uuid
from functools import cache
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db import OperationalError, connection

from records.models import TestRecord
from records.renderers import STATUS_COLUMNS

# The v1 poll's row: the status body's columns, then the ETag and the owner (visibility).
POLL_COLUMNS = (*STATUS_COLUMNS, "version", "owner_id")
VERSION, OWNER_ID = len(STATUS_COLUMNS), len(STATUS_COLUMNS) + 1


@cache
def _select_sql(vendor: str, columns: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    table = quote(TestRecord._meta.db_table)
    selected = ", ".join(quote(c) for c in columns)
    return f"SELECT {selected} FROM {table} WHERE {quote('execution_id')} = %s"


def uuid_param(execution_id: uuid.UUID) -> uuid.UUID | str:
    """An execution id as the backend's raw cursor takes it (SQLite stores hex)."""
    return execution_id if connection.features.has_native_uuid_field else execution_id.hex


@cache
def _prepared_cursor_class():
    import psycopg

    class PreparedCursor(psycopg.Cursor):
        """psycopg's server-side binding cursor, every query a prepared statement."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            prepare = True if prepare is None else prepare
            return super().execute(query, params, prepare=prepare, binary=binary)

    return PreparedCursor


def _kept_cursor():
    """The connection's own prepared-statement cursor, made on its first hot read and again
    after a reconnect. Kept because a fresh psycopg cursor looks up a loader for every column
    of its first result (~35 µs of a poll on PostgreSQL); a kept one has them. It holds its
    last result until the next hot read on the connection."""
    raw = connection.connection
    kept = getattr(connection, "_brandtest_hot_cursor", None)
    if kept is None or kept.connection is not raw or kept.closed:
        kept = _prepared_cursor_class()(raw)
        connection._brandtest_hot_cursor = kept
    return kept


def hot_fetch(sql: str, params: list, *, many: bool = False):
    """One hot read (the polls, the results document, a running run's answer ids): the first
    row (or every row, ``many``) of ``sql``.

    On PostgreSQL the query is a prepared statement: planned once per connection instead of
    once per request, which is most of the server's time for a one-row lookup (the planner
    weighs every index of the table). Django's own cursors bind parameters on the client and
    never prepare. Errors are translated as on Django's cursors. Where queries are logged
    (DEBUG, a test capturing them) and on SQLite, or with BRANDTEST_PREPARED_HOT_READS off, it
    runs on Django's cursor: the same SQL, logged with its parameters in place (what the
    EXPLAIN tests read). A connection the server dropped is replaced and the read made again.
    """
    if (
        connection.vendor != "postgresql"
        or not settings.BRANDTEST_PREPARED_HOT_READS
        or connection.queries_logged
    ):
        with connection.cursor() as cursor:
            return _fetch(cursor, sql, params, many)
    try:
        return _prepared_fetch(sql, params, many)
    except OperationalError:
        # A persistent connection the server dropped (a restart, a failover, an idle
        # timeout): these reads are idempotent and outside any transaction, so read once more
        # on a fresh connection instead of failing the poll.
        raw = connection.connection
        if connection.in_atomic_block or raw is None or not raw.closed:
            raise
        connection.close()
        return _prepared_fetch(sql, params, many)


def _prepared_fetch(sql: str, params: list, many: bool):
    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        return _fetch(_kept_cursor(), sql, params, many)


def _fetch(cursor, sql: str, params: list, many: bool):
    cursor.execute(sql, params)
    return cursor.fetchall() if many else cursor.fetchone()


def poll_row(execution_id: uuid.UUID, columns: tuple[str, ...] = POLL_COLUMNS) -> tuple | None:
    """The run's ``columns`` (``POLL_COLUMNS`` first, in order, when a caller needs more) by
    the unique execution_id index, or None. JSON columns come back as text; decode them with
    ``json_column``."""
    return hot_fetch(_select_sql(connection.vendor, columns), [uuid_param(execution_id)])


def json_column(name: str, value: Any) -> Any:
    """A raw JSON column value decoded as the ORM would."""
    return TestRecord._meta.get_field(name).from_db_value(value, None, connection)


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


class IdsFirstPaginator(Paginator):
    """A page read in two steps: the ids of the page by the listing's index (the index holds the
    order's columns and the id, so skipping to page 500 reads index entries only, and SQLite
    prefers the ordered index to a smaller unordered one), then those rows by primary key.
    The rows come back in the page's order; the page's object_list is a list."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        queryset = self.object_list
        ids = list(queryset.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
        return self._get_page([rows[i] for i in ids if i in rows], number, self)
