"""Staff read a monitor at a glance: its page of trend charts, built from stored scores."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from records.models import BrandScore, Monitor, TestRecord, TrackedBrand
from tests.factories import AnswerFactory, TestRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def monitor(user):
    monitor = Monitor.objects.create(
        owner=user, name="推拿 北京", platforms=["demo"], next_run_at=timezone.now()
    )
    TrackedBrand.objects.create(monitor=monitor, name="华夏良子", is_main=True)
    TrackedBrand.objects.create(monitor=monitor, name="通透堂")
    return monitor


def scored_run(monitor, days_ago, *, main, rival, status="completed"):
    at = timezone.now() - timedelta(days=days_ago)
    record = TestRecordFactory(
        monitor=monitor, scheduled_for=at, created_at=at, status=status,
        stage="completed" if status == "completed" else "failed", progress=100,
        total_tasks=4, completed_tasks=4 if status == "completed" else 1,
    )  # fmt: skip
    for brand, score in (("华夏良子", main), ("通透堂", rival)):
        for platform in ("", "demo"):
            BrandScore.objects.create(
                record=record, brand=brand, platform=platform, is_main_brand=brand == "华夏良子",
                visibility_score=score, mention_rate=score / 100, mention_rate_se=0.05,
                share_of_voice=score / 200, scoring_version="vs-1.0",
            )  # fmt: skip
    AnswerFactory(
        record=record,
        analysis={"citations": [{"domain": "zhihu.com"}, {"domain": "dianping.com"}]},
    )
    return record


def test_monitor_page_draws_every_chart_from_stored_scores(staff_client, monitor):
    scored_run(monitor, 2, main=40.0, rival=70.0)
    scored_run(monitor, 1, main=55.0, rival=60.0)
    last = scored_run(monitor, 0, main=62.5, rival=50.0, status="cancelled")
    url = reverse("admin:records_monitor_page", args=[monitor.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="pygal-chart"') == 5 and "pygal.config" not in html
    for title in (
        "Visibility score of 华夏良子 per platform (0–100)",
        "Share of voice of every tracked brand (%)",
        "Mention rate of 华夏良子 (%), 95 % band = ±1.96 SE",
        "Visibility score, latest day",
        "Top 5 cited domains: answers citing each, weeks from Monday",
    ):
        assert title in html, title
    assert "zhihu.com" in html and "dianping.com" in html
    # The leaderboard: latest score, the day before and the change, main brand first.
    assert '<td>华夏良子 (main)</td>\n          <td class="num">62.5</td>' in html
    assert '<td class="num up">+7.5</td>' in html and '<td class="num down">-10.0</td>' in html
    # Run history with status labels and links to the executions.
    assert (
        f'href="/admin/records/testrecord/{last.pk}/change/">{str(last.execution_id)[:8]}' in html
    )
    assert '<td style="color: #8a8a8a">Cancelled</td>' in html
    assert "Synthetic data." in html
    assert "3 runs" in html


def test_monitor_page_shows_the_budget_and_the_skip_reason(staff_client, monitor):
    Monitor.objects.filter(pk=monitor.pk).update(
        monthly_call_budget=10,
        last_skip_reason="budget: this run needs 12 calls; 4 of the 10 allowed this month are used",
        last_skipped_at=timezone.now(),
        next_run_at=datetime(2026, 3, 10, 1, 0, tzinfo=UTC),
    )  # fmt: skip
    scored_run(monitor, 0, main=10.0, rival=20.0)
    html = staff_client.get(reverse("admin:records_monitor_page", args=[monitor.pk])).content
    html = html.decode()
    assert "4 of 10 budgeted" in html
    # The next run in the monitor's own time zone, named.
    assert "Next run</span>2026-03-10 09:00 (Asia/Shanghai)</div>" in html
    assert "<strong>Last run skipped</strong>" in html and "needs 12 calls" in html


def test_monitor_page_without_runs_says_so(staff_client, monitor):
    html = staff_client.get(reverse("admin:records_monitor_page", args=[monitor.pk])).content
    assert "No runs yet." in html.decode() and "No runs in this range" in html.decode()


def test_monitors_are_found_from_the_admin_index_and_the_dashboard(staff_client, monitor):
    index = staff_client.get(reverse("admin:index")).content.decode()
    assert 'href="/admin/records/testrecord/dashboard/">Executions dashboard</a>' in index
    assert 'href="/admin/records/monitor/">Monitors</a>' in index
    changelist = staff_client.get(reverse("admin:records_monitor_changelist")).content.decode()
    assert f'href="/admin/records/monitor/{monitor.pk}/page/">charts</a>' in changelist
    dashboard = staff_client.get("/admin/records/testrecord/dashboard/").content.decode()
    assert 'href="/admin/records/monitor/">open the monitors</a>' in dashboard


def test_non_staff_cannot_open_a_monitor_page(client, user, monitor):
    client.force_login(user)
    assert client.get(reverse("admin:records_monitor_page", args=[monitor.pk])).status_code == 302


def test_unknown_monitor_page_is_404(staff_client):
    assert staff_client.get(reverse("admin:records_monitor_page", args=[999])).status_code == 404


# --- Actions: pause, resume and run now, through records.monitoring -------------------------


@pytest.fixture
def served_monitor(user):
    """A monitor made by the real service (brands, prompts, next run), as the API makes it."""
    from records import monitoring
    from tests.monitoring.conftest import definition

    data = monitoring.clean_monitor_input(**definition(monthly_call_budget=None))
    return monitoring.create_monitor(owner=user, data=data)


def act(client, action, *monitors):
    return client.post(
        reverse("admin:records_monitor_changelist"),
        {"action": action, "_selected_action": [m.pk for m in monitors]},
        follow=True,
    )


def test_pause_then_resume_from_the_changelist(staff_client, staff_user, served_monitor):
    response = act(staff_client, "pause_monitors", served_monitor)
    served_monitor.refresh_from_db()
    assert served_monitor.status == "paused"
    assert served_monitor.paused_reason == f"paused by {staff_user} (admin)"
    assert "1 monitor(s) paused" in response.content.decode()
    # Pausing again changes nothing and says so.
    assert (
        "0 monitor(s) paused"
        in act(staff_client, "pause_monitors", served_monitor).content.decode()
    )

    before = timezone.now()
    response = act(staff_client, "resume_monitors", served_monitor)
    served_monitor.refresh_from_db()
    assert served_monitor.status == "active" and served_monitor.paused_reason == ""
    # No catch-up for the pause: the next run is the next 09:00 in Shanghai after now.
    assert before < served_monitor.next_run_at <= before + timedelta(days=1)
    assert served_monitor.next_run_at.astimezone(ZoneInfo("Asia/Shanghai")).hour == 9
    assert "1 monitor(s) resumed (no catch-up)" in response.content.decode()


def test_run_now_starts_one_execution_of_the_monitor(staff_client, served_monitor):
    response = act(staff_client, "run_monitors_now", served_monitor)
    record = TestRecord.objects.get()
    assert record.monitor == served_monitor and record.scheduled_for is None
    assert record.owner == served_monitor.owner and record.status == "queued"
    assert record.brand_name == "华夏良子" and record.platforms == ["demo"]
    html = response.content.decode()
    short = str(record.execution_id)[:8]
    link = f'<a href="/admin/records/testrecord/{record.pk}/change/">{short}</a>'
    assert f"推拿 北京: execution {link} started ({record.total_tasks} calls)." in html


def test_run_now_over_the_budget_is_refused_with_the_reason(staff_client, served_monitor):
    # One call a run (one prompt, one platform, one repeat): the budget allows one run a month.
    Monitor.objects.filter(pk=served_monitor.pk).update(monthly_call_budget=1)
    assert (
        "started (1 calls)"
        in act(staff_client, "run_monitors_now", served_monitor).content.decode()
    )
    html = act(staff_client, "run_monitors_now", served_monitor).content.decode()
    assert TestRecord.objects.count() == 1
    assert (
        "推拿 北京: not started, budget: this run needs 1 calls; 1 of the 1 allowed this month "
        "are already used" in html
    )
    assert 'class="error"' in html


# --- Estimated cost: per run on the monitor page and the execution page, the month's budget --


def test_costs_on_the_monitor_page_and_the_execution_page(staff_client, monitor, settings):
    settings.BRANDTEST_PLATFORM_PRICES = {
        "deepseek": {"input_per_1m": 2.0, "output_per_1m": 8.0, "currency": "CNY"}
    }
    run = scored_run(monitor, 0, main=50.0, rival=40.0)
    run.scheduled_for = None  # a run by hand counts in the month it started
    run.save(update_fields=["scheduled_for"])
    # 2 x (1000 in, 500 out) at CNY 2 / 8 per million = 2 x 0.006; the factory's demo answer
    # has no token counts, so it is counted as unpriced, not priced at zero.
    for index in (1, 2):
        AnswerFactory(
            record=run, platform="deepseek", question_index=index,
            prompt_tokens=1000, completion_tokens=500,
        )  # fmt: skip
    html = staff_client.get(reverse("admin:records_monitor_page", args=[monitor.pk])).content
    html = html.decode()
    assert '<td class="num">≈ CNY 0.0120 + 1 call unpriced</td>' in html
    assert "Est. spend this month</span>≈ CNY 0.0120 + 1 call unpriced in 1 run;" in html

    page = staff_client.get(reverse("admin:records_testrecord_change", args=[run.pk]))
    text = page.content.decode()
    assert "≈ CNY 0.0120 + 1 call unpriced (deepseek: 2 calls, 2000 + 1000 tokens, " in text
    assert "demo: 1 calls, 0 + 0 tokens)" in text
