"""The partial indexes' lookups use them, on SQLite and PostgreSQL (whichever the suite runs on).

Each test runs the project's own code, captures the SQL it sends, and asserts that the query
plan of that statement names the index. On PostgreSQL sequential scans are disabled for the
EXPLAIN (the test tables are tiny, so the planner would rightly scan them). That is a faithful
check here because what is asserted is that a *partial* index can serve the query at all: the
planner cannot use a partial index whose condition the query does not imply, whatever the
costs, so a query that stopped repeating the condition fails the test. Choices among several
usable indexes (history, admin, dashboard) need real statistics: tests/perf/
test_explain_at_scale.py plans them over seeded, ANALYZEd rows.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from records import execution, services
from records.legacy.importer.build import already_imported
from records.models import Status
from tests.factories import AnswerFactory, TestRecordFactory

pytestmark = pytest.mark.django_db


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def captured(run, *needles: str) -> list[str]:
    """The SELECTs ``run`` sends that contain every needle."""
    with CaptureQueriesContext(connection) as queries:
        run()
    found = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT") and all(n in q["sql"] for n in needles)
    ]
    assert found, f"no SELECT with {needles}"
    return found


def assert_uses(sql: str, index: str) -> None:
    text = plan(sql)
    assert index in text, f"{index} not in the plan of\n{sql}\n{text}"


def example_input():
    return services.ExecutionInput(
        brand="华夏良子",
        competitors=["良子健身"],
        questions=["北京中医推拿哪家好？"],
        platforms=["demo"],
        repeats=1,
    )


def test_idempotency_key_lookup_uses_the_partial_unique_index():
    start = lambda: services.start_execution(  # noqa: E731
        owner=None, data=example_input(), device_id="d1", idempotency_key="k1", enqueue=False
    )
    for sql in captured(start, '"idempotency_key" = '):
        assert_uses(sql, "record_unique_idempotency_key")


def test_recent_duplicate_lookup_uses_the_caller_index():
    start = lambda: services.start_execution(  # noqa: E731
        owner=None, data=example_input(), device_id="d1", enqueue=False
    )
    (sql,) = captured(start, '"request_fingerprint" = ')
    assert_uses(sql, "record_caller_recent_idx")


def test_legacy_key_lookup_uses_the_partial_unique_index():
    (sql,) = captured(lambda: already_imported("legacy:abc:1"), '"legacy_key" = ')
    assert_uses(sql, "record_unique_legacy_key")


def test_reaper_uses_the_running_heartbeat_index():
    TestRecordFactory(status=Status.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1))
    reap = lambda: execution.reap_stale_executions(older_than_seconds=60, max_resumes=3)  # noqa: E731
    # The running-heartbeat scan (the handed-back-but-orphaned sweep reads queued rows).
    sqls = [sql for sql in captured(reap, '"heartbeat_at" < ') if "'running'" in sql]
    assert sqls
    for sql in sqls:
        assert_uses(sql, "record_running_heartbeat_idx")
    # The hand-backs no worker took: queued rows by heartbeat, on their own partial index.
    orphans = [sql for sql in captured(reap, '"heartbeat_at" < ') if "'queued'" in sql]
    assert orphans
    for sql in orphans:
        assert_uses(sql, "record_queued_heartbeat_idx")


def test_legacy_poll_reads_answers_by_the_answer_index(client):
    record = TestRecordFactory(status=Status.RUNNING)
    AnswerFactory(record=record)
    get = lambda: client.get(f"/test/status/{record.execution_id}")  # noqa: E731
    (ids,) = captured(get, 'SELECT "id" FROM "records_answer"')
    # By record: answer_unique_call (SQLite names it sqlite_autoindex_records_answer_1) or, on
    # PostgreSQL, the record foreign key's index; never a scan of every answer.
    text = plan(ids)
    names = ("answer_unique_call", "autoindex_records_answer", "records_answer_record_id")
    assert any(name in text for name in names), text
    status = captured(get, "records_testrecord")[0]
    assert "execution_id" in plan(status)
