"""The history, admin and dashboard queries use their named indexes, on SQLite and PostgreSQL,
planned over seeded, ANALYZEd rows.

A planner choosing among indexes needs statistics: on an empty table every owner-led index
costs the same, and PostgreSQL rightly scans a tiny table. So the module seeds 6,000 runs shaped
like the bench dataset (40 owners and anonymous runs over two years, the statuses' real
shares, 200 brands, BrandScores of a third of the finished runs), runs ANALYZE, and asks for the
plan of each statement the project's own code sends, with no planner setting changed. The data
is committed for the module and deleted afterwards.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records.models import BrandScore, TestRecord
from records.models.choices import ENDED_STAGE, TERMINAL_STATUSES, Source, Stage, Status

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:records_testrecord_changelist")
DASHBOARD = reverse("admin:records_testrecord_dashboard")
ROWS = 6_000
# Many brands, as in production: a searched brand is a small share of the runs (a brand in 5%
# of a table stored in created_at order is rightly found by walking record_created_idx).
BRANDS = [f"品牌{i}" for i in range(200)]
PLATFORMS = ["deepseek", "kimi", "qwen", "doubao", "wenxin", "zhipu"]
STATUSES = (
    (Status.COMPLETED, 900),
    (Status.PARTIAL_COMPLETED, 45),
    (Status.FAILED, 30),
    (Status.CANCELLED, 10),
    (Status.RUNNING, 12),
    (Status.QUEUED, 3),
)


def seed(owner, owners) -> None:
    rng = random.Random(12)
    now = timezone.now()
    statuses, weights = zip(*STATUSES, strict=True)
    records = []
    for i in range(ROWS):
        status = rng.choices(statuses, weights)[0]
        terminal = status in TERMINAL_STATUSES
        created = now - timedelta(days=700 * i / ROWS, seconds=rng.random() * 60)
        anyone = None if rng.random() < 0.4 else rng.choice(owners)
        records.append(
            TestRecord(
                owner=owner if i % 30 == 0 else anyone,
                # The owner's runs are of ten brands (a brand's history has pages).
                brand_name=rng.choice(BRANDS[:10] if i % 30 == 0 else BRANDS),
                competitor_brands=[rng.choice(BRANDS)],
                questions=["北京中医推拿哪家好？"],
                platforms=rng.sample(PLATFORMS, rng.randint(1, 4)),
                status=status,
                stage=ENDED_STAGE[status] if terminal else (
                    Stage.AI_FETCHING if status == Status.RUNNING else Stage.INIT
                ),
                progress=100 if terminal else 0,
                source=Source.RETRY if i % 97 == 0 else Source.API,
                error_type="timeout" if status == Status.FAILED else "",
                total_tasks=4,
                created_at=created,
                heartbeat_at=created,
            )
        )  # fmt: skip
    TestRecord.objects.bulk_create(records, batch_size=1_000)
    scores = []
    for record in TestRecord.objects.filter(status=Status.COMPLETED).only("id", "platforms"):
        if record.pk % 3:
            continue
        for platform in ["", *record.platforms[:2]]:
            scores.append(
                BrandScore(
                    record=record,
                    brand="b",
                    platform=platform,
                    is_main_brand=True,
                    visibility_score=rng.uniform(5, 95),
                    scoring_version="vs-1.0",
                )
            )
    BrandScore.objects.bulk_create(scores, batch_size=1_000)
    # BrandScore.created_at follows its run's (the window the dashboard reads is by it).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_brandscore SET created_at = (SELECT created_at FROM "
            "records_testrecord WHERE records_testrecord.id = records_brandscore.record_id)"
        )
        cursor.execute("ANALYZE")


@pytest.fixture(scope="module")
def scaled(django_db_setup, django_db_blocker):
    """(owner, staff) of the seeded, analysed dataset, committed for this module."""
    users = get_user_model()
    with django_db_blocker.unblock():
        owner = users.objects.create(username="scale-owner")
        staff = users.objects.create(username="scale-staff", is_staff=True, is_superuser=True)
        owners = users.objects.bulk_create(users(username=f"scale-{i}") for i in range(40))
        seed(owner, owners)
    yield owner, staff
    with django_db_blocker.unblock():
        BrandScore.objects.all().delete()
        TestRecord.objects.all().delete()
        users.objects.filter(username__startswith="scale-").delete()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def selects(run, *needles: str) -> list[str]:
    """The SELECTs ``run`` sends that contain every needle."""
    with CaptureQueriesContext(connection) as queries:
        response = run()
    assert response.status_code == 200, response.status_code
    found = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT") and all(n in q["sql"] for n in needles)
    ]
    assert found, f"no SELECT with {needles}"
    return found


def assert_uses(sql: str, index: str | tuple[str, ...]) -> str:
    """The plan names ``index`` (or one of several that serve the query equally)."""
    text = plan(sql)
    names = (index,) if isinstance(index, str) else index
    assert any(name in text for name in names), f"{index} not in the plan of\n{sql}\n{text}"
    assert "SCAN records_testrecord\n" not in text + "\n", text
    return text


def is_count(sql: str) -> bool:
    return sql.lstrip().upper().startswith("SELECT COUNT(")


def is_rows_by_id(sql: str) -> bool:
    """The second step of an ids-first page (records.reads.IdsFirstPaginator)."""
    return '"records_testrecord"."id" IN (' in sql


def assert_by_primary_key(sql: str) -> None:
    text = plan(sql)
    assert "PRIMARY KEY" in text or "records_testrecord_pkey" in text, text


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ({}, "record_owner_created_idx"),
        ({"brand": "品牌3"}, "record_owner_brand_idx"),
        ({"status": "failed"}, "record_owner_status_idx"),
        ({"brand": "品牌3", "status": "completed"}, "record_owner_"),
        ({"created_after": "2025-06-01T00:00:00Z"}, "record_owner_created_idx"),
        (
            {
                "brand": "品牌3",
                "status": "completed",
                "created_after": "2025-01-01T00:00:00Z",
                "created_before": "2026-01-01T00:00:00Z",
            },
            "record_owner_",
        ),
        ({"page": 3}, "record_owner_created_idx"),
    ],
)
def test_filtered_history_uses_an_owner_index(client, scaled, query, index):
    owner, _ = scaled
    client.force_login(owner)
    get = lambda: client.get(reverse("execution-list"), query)  # noqa: E731
    sqls = selects(get, "records_testrecord", "owner_id")
    for sql in sqls:
        if is_rows_by_id(sql):
            assert_by_primary_key(sql)
        else:
            # The page's ids on the named index; its COUNT on any index led by the owner.
            assert_uses(sql, "record_owner_" if is_count(sql) else index)
    assert any(is_rows_by_id(sql) for sql in sqls), sqls


def test_legacy_history_uses_the_owner_index(client, scaled):
    owner, _ = scaled
    client.force_login(owner)
    get = lambda: client.get("/api/diagnosis/history", {"page": 2})  # noqa: E731
    for sql in selects(get, "records_testrecord", "owner_id"):
        assert_uses(sql, "record_owner_")
    (page,) = [s for s in selects(get, "records_testrecord", "owner_id") if not is_count(s)]
    assert_uses(page, "record_owner_created_idx")


@pytest.mark.parametrize(
    ("query", "index", "count_index"),
    [
        ({}, "record_created_idx", None),
        ({"p": "2"}, "record_created_idx", None),
        ({"status__exact": "failed"}, "record_status_created_idx", "record_status_created_idx"),
        # The running rows alone: the reaper's partial index (then a sort of those few) or the
        # status index, in order.
        (
            {"status__exact": "running"},
            ("record_status_created_idx", "record_running_heartbeat_idx"),
            ("record_status_created_idx", "record_running_heartbeat_idx"),
        ),
        ({"stage__exact": "init"}, "record_stage_created_idx", "record_stage_created_idx"),
        ({"source__exact": "retry"}, "record_source_created_idx", "record_source_created_idx"),
        ({"q": "品牌3"}, "record_brand_created_idx", "record_brand_created_idx"),
        ({"platform": "deepseek"}, "record_created_idx", "record_created_idx"),
        ({"created_at__gte": "2026-01-01T00:00:00+00:00"}, "record_created_idx", None),
    ],
)
def test_admin_changelist_filters_and_search_use_an_index(
    client, scaled, settings, query, index, count_index
):
    # The platform filter's window smaller than the table, as it is in production.
    settings.BRANDTEST_ADMIN_PLATFORM_WINDOW = 1_000
    _, staff = scaled
    client.force_login(staff)
    get = lambda: client.get(CHANGELIST, query)  # noqa: E731
    sqls = selects(get, "records_testrecord")
    # The listing (LIMIT 20, or no LIMIT when the capped count found one page or less).
    pages = [
        s
        for s in sqls
        if not is_count(s) and "ORDER BY" in s and ('AS "pk"' in s or '"execution_id"' in s)
    ]
    assert pages, sqls
    for sql in pages:
        assert_uses(sql, index)
    for sql in filter(is_rows_by_id, sqls):
        assert_by_primary_key(sql)
    # No exact COUNT over the table: every COUNT is of a LIMITed subquery, by an index when
    # the filter is selective (a COUNT capped at 10,001 of 6,000 rows may rightly scan).
    counts = [s for s in sqls if is_count(s)]
    assert counts and all("LIMIT" in sql.upper() for sql in counts), counts
    for sql in counts:
        if count_index:
            assert_uses(sql, count_index)


def test_admin_platform_filter_reads_a_bounded_window(client, scaled, settings):
    """The platform filter's cut-off is one index-only OFFSET into record_created_idx; the
    page and its count then read only runs newer than it (a window smaller than the seeded
    table here, as 20,000 is of a production one)."""
    settings.BRANDTEST_ADMIN_PLATFORM_WINDOW = 1_000
    _, staff = scaled
    client.force_login(staff)
    get = lambda: client.get(CHANGELIST, {"platform": "deepseek"})  # noqa: E731
    sqls = selects(get, "records_testrecord", '"created_at"')
    window = [s for s in sqls if "OFFSET" in s.upper()]
    assert window and "record_created_idx" in plan(window[0]), window
    filtered = [s for s in sqls if "platforms" in s and not is_rows_by_id(s)]
    assert filtered and all('"created_at" >=' in s for s in filtered), filtered
    for sql in filtered:
        assert_uses(sql, "record_created_idx")
    html = client.get(CHANGELIST, {"platform": "deepseek"}).content.decode()
    assert "platform (newest 1,000 runs)" in html


@pytest.mark.parametrize("days", ["", "30", "7"])
def test_dashboard_reads_bounded_indexed_windows(client, scaled, days):
    _, staff = scaled
    client.force_login(staff)
    get = lambda: client.get(DASHBOARD, {"days": days} if days else {})  # noqa: E731
    runs = selects(get, "records_testrecord")
    for sql in runs:
        if "django_session" in sql or "auth_user" in sql:
            continue
        # Each one bounded (a LIMIT) and on the created_at index: no scan of the table, no
        # GROUP BY over it, no exact COUNT.
        assert "LIMIT" in sql.upper(), sql
        assert "GROUP BY" not in sql.upper(), sql
        assert_uses(sql, "record_created_idx")
    (scores,) = selects(get, "records_brandscore")
    assert "LIMIT" in scores.upper() and "GROUP BY" not in scores.upper(), scores
    text = plan(scores)
    assert "brandscore_main_recent_idx" in text, text


def test_dashboard_counts_what_it_reads(client, scaled):
    """The charts are the counts of the rows read: the status bars of the newest runs of the
    window add up to the total the page states."""
    _, staff = scaled
    client.force_login(staff)
    response = client.get(DASHBOARD, {"days": "30"})
    since = timezone.now() - timedelta(days=30)
    expected = TestRecord.objects.filter(created_at__gte=since).count()
    assert response.context["total"] == expected
    assert sum(row["count"] for row in response.context["by_status"]) == expected
    assert not response.context["sampled"]
