"""Staff read a monitor at a glance: its page of trend charts, built from stored scores."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from records.models import BrandScore, Monitor, TrackedBrand
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
    )  # fmt: skip
    scored_run(monitor, 0, main=10.0, rival=20.0)
    html = staff_client.get(reverse("admin:records_monitor_page", args=[monitor.pk])).content
    html = html.decode()
    assert "4 of 10" in html
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
