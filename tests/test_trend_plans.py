"""EXPLAIN tests: the trend queries use their indexes, on SQLite and PostgreSQL.

Tables in a test database are tiny, so PostgreSQL would rightly pick sequential scans; with
sequential scans disabled for the EXPLAIN the plan shows which index can serve the query (a
query no index fits still plans a sequential scan).
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction

from records.models import CellScore, Monitor, MonitorStatus, TestRecord
from records.trends import TrendQuery, trend_query
from tests.factories import UserFactory


def plan(queryset) -> str:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


@pytest.mark.django_db
class TrendPlanTests:
    @pytest.mark.parametrize("access_modes", [None, ("search",)])
    def test_points_query_uses_the_monitor_index_then_the_score_rows_of_each_run(
        self, access_modes
    ):
        # With an access_mode filter too: the mode is checked on the executions the monitor
        # index finds (no score row copies it), so the plan is the same.
        owner = UserFactory()
        monitor, other = (
            Monitor.objects.create(
                owner=owner, name=name, platforms=["demo"], status=MonitorStatus.PAUSED
            )
            for name in ("m", "other")
        )
        # Another monitor's runs all over the range, so that "this monitor" is the selective
        # condition (as at scale) rather than the date range alone.
        TestRecord.objects.bulk_create(
            TestRecord(
                owner=owner,
                monitor=other,
                brand_name="b",
                created_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=12 * i),
            )
            for i in range(600)
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE records_testrecord")
        query = TrendQuery(
            metrics=("mention_rate",),
            interval="day",
            start=date(2025, 1, 1),
            end=date(2025, 12, 31),
            access_modes=access_modes,
        )
        text = plan(trend_query(monitor, query))
        assert "record_monitor_created_idx" in text, text
        # BrandScore by record_id: its FK index (SQLite) or the unique (record, brand, platform).
        assert "records_brandscore_record_id" in text or "brandscore_unique_cell" in text, text
        assert "SCAN records_brandscore" not in text and "Seq Scan" not in text, text

    def test_change_query_uses_the_cell_index(self):
        rows = CellScore.objects.filter(record_id__in=[1, 2], brand__in=["华夏良子"]).values(
            "platform", "question_index", "n_valid"
        )
        text = plan(rows.order_by())
        if connection.vendor == "sqlite":
            # SQLite names the index of a table-level UNIQUE itself; the searched columns show
            # it is the composite (record, brand, platform, question_index, subject) one.
            assert "SEARCH records_cellscore USING INDEX sqlite_autoindex_records_cellscore" in text
            assert "(record_id=? AND brand=?)" in text, text
        else:
            assert "cellscore_unique_cell" in text, text
