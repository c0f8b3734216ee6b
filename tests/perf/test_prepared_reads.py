"""The hot reads as prepared statements on PostgreSQL (records.reads.hot_fetch): the v1 poll,
the legacy poll (status row and answer ids) and the results document are planned once per
connection; BRANDTEST_PREPARED_HOT_READS off, or a query-logging connection, prepares nothing.
Whatever the cursor, the responses are the same."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.models import Status
from tests.factories import AnswerFactory, TestRecordFactory
from tests.wsgi import call_wsgi

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="prepared statements are PostgreSQL's (SQLite reads use Django's cursor)",
    ),
]


def prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def deallocate() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    # psycopg's own bookkeeping of what it prepared on this connection.
    connection.connection._prepared.clear()


@pytest.fixture
def running():
    record = TestRecordFactory(status=Status.RUNNING, stage="ai_fetching", progress=40)
    AnswerFactory(record=record)
    return record


def test_polls_and_results_are_prepared_statements(client, running):
    deallocate()
    done = TestRecordFactory(status=Status.COMPLETED, stage="completed", progress=100)
    first = client.get(f"/api/v1/executions/{running.execution_id}/status/")
    again = client.get(f"/api/v1/executions/{running.execution_id}/status/")
    legacy = client.get(f"/test/status/{running.execution_id}")
    client.get(f"/api/v1/executions/{done.execution_id}/results/")
    assert first.status_code == again.status_code == legacy.status_code == 200
    assert first.json() == again.json()
    statements = prepared()
    # Bound on the server ($1), not inlined: one plan serves every execution id.
    assert any('"execution_id" = $1' in s and '"records_testrecord"' in s for s in statements)
    assert any('FROM "records_answer" WHERE "record_id" = $1' in s for s in statements)
    assert any('LEFT JOIN "records_resultdocument"' in s for s in statements)


def test_switched_off_nothing_is_prepared(client, running, settings):
    settings.BRANDTEST_PREPARED_HOT_READS = False
    deallocate()
    assert client.get(f"/api/v1/executions/{running.execution_id}/status/").status_code == 200
    assert client.get(f"/test/status/{running.execution_id}").status_code == 200
    assert prepared() == []


def test_logged_queries_read_as_plain_sql(client, running):
    """Where queries are logged (DEBUG, tests), the SQL is logged with its parameters in
    place, so EXPLAIN can be run on it; nothing is prepared."""
    deallocate()
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/api/v1/executions/{running.execution_id}/status/")
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert running.execution_id.hex in sql and "$1" not in sql
    assert prepared() == []


@pytest.mark.django_db(transaction=True)
def test_polls_read_on_the_new_connection_after_a_reconnect(client):
    """The hot reads keep one cursor per connection; a closed connection's cursor is not
    reused."""
    record = TestRecordFactory(status=Status.RUNNING, stage="ai_fetching", progress=40)
    for url in (
        f"/api/v1/executions/{record.execution_id}/status/",
        f"/test/status/{record.execution_id}",
    ):
        assert client.get(url).status_code == 200
        connection.close()
        assert client.get(url).status_code == 200


def wsgi_get(path: str) -> tuple[int, bytes]:
    """A GET through the production WSGI application with Django's request signals connected
    (connection upkeep between requests, as under granian; the test client disconnects them)."""
    from brandtest.wsgi import application

    status, _, body = call_wsgi(application, path)
    return status, body


def terminate_backend() -> int:
    backend = connection.connection.info.backend_pid
    with connection._nodb_cursor() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])
    return backend


@pytest.mark.django_db(transaction=True)
def test_polls_survive_the_database_dropping_the_connection():
    """A database restart or failover under a persistent connection: the polls and the stored
    report read again on a new connection instead of answering 500."""
    running = TestRecordFactory(status=Status.RUNNING, stage="ai_fetching", progress=40)
    AnswerFactory(record=running)
    done = TestRecordFactory(status=Status.COMPLETED, stage="completed", progress=100)
    paths = (
        f"/api/v1/executions/{running.execution_id}/status/",
        f"/test/status/{running.execution_id}",
        f"/api/v1/executions/{done.execution_id}/results/",
    )
    for path in paths:
        assert wsgi_get(path)[0] == 200
        backend = terminate_backend()
        status, body = wsgi_get(path)
        assert status == 200, body[:300]
        assert connection.connection.info.backend_pid != backend


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_inside_a_transaction_is_not_retried():
    """Inside a transaction a new connection would not see its writes: the error is raised."""
    from django.db import OperationalError, transaction

    from records.reads import poll_row

    record = TestRecordFactory(status=Status.RUNNING)
    with pytest.raises(OperationalError), transaction.atomic():
        terminate_backend()
        poll_row(record.execution_id)
    connection.close()
