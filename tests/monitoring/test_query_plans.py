"""The scheduler's due-monitors query uses its partial index, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from records.models import Monitor

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(" ".join(map(str, row)) for row in cursor.fetchall())


def test_due_monitors_query_uses_the_partial_index(make_monitor):
    for _ in range(5):
        make_monitor()
    now = timezone.now() + timedelta(days=1)
    text = plan(Monitor.objects.due(now).order_by("next_run_at")[:200])
    assert "monitor_due_idx" in text, text
