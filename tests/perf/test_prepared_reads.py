"""The hot reads as prepared statements on PostgreSQL (records.reads.hot_cursor): the v1 poll,
the legacy poll (status row and answer ids) and the results document are planned once per
connection; BRANDTEST_PREPARED_HOT_READS off, or a query-logging connection, prepares nothing.
Whatever the cursor, the responses are the same."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.models import Status
from tests.factories import AnswerFactory, TestRecordFactory

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
