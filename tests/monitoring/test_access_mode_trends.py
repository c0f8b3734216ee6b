"""A monitor that switches from plain to search keeps both series: the trend API and the admin's
charts show one per mode, ``changes`` never compare across modes, and search calls count in the
month's budget and spend. Every run is a real one on the offline demo platform."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from records import execution, monitoring
from records.models import Monitor, TestRecord
from tests.monitoring.conftest import definition

pytestmark = pytest.mark.django_db

DAYS = [datetime(2026, 3, day, 1, 0, tzinfo=UTC) for day in (2, 3, 4, 5)]  # 09:00 Shanghai


def run_period(monitor: Monitor, period: datetime) -> TestRecord:
    """Start the monitor's run for ``period`` as the scheduler does, run it, date it."""
    monitor.refresh_from_db()
    started = monitoring.start_monitor_run(
        monitor=monitor, scheduled_for=period, now=period, enqueue=False
    )
    execution.run_execution(execution_id=started.record.execution_id)
    TestRecord.objects.filter(pk=started.record.pk).update(created_at=period)
    return TestRecord.objects.get(pk=started.record.pk)


@pytest.fixture
def history(user_client):
    """Plain on days 1-2, then the owner switches the monitor to search; search on days 3-4."""
    body = definition(monthly_call_budget=None, repeats=2)
    created = user_client.post("/api/v1/monitors/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["access_mode"] == "plain"
    monitor = Monitor.objects.get(pk=created.json()["id"])
    runs = [run_period(monitor, day) for day in DAYS[:2]]
    switched = user_client.patch(
        f"/api/v1/monitors/{monitor.pk}/", {"access_mode": "search"}, format="json"
    )
    assert switched.status_code == 200, switched.content
    assert switched.json()["access_mode"] == "search"
    runs += [run_period(monitor, day) for day in DAYS[2:]]
    return monitor, runs


def trend(client, monitor, **params):
    query = {"from": "2026-03-01", "to": "2026-03-31", "metric": "mention_rate"} | params
    response = client.get(f"/api/v1/monitors/{monitor.pk}/trend/", query)
    assert response.status_code == 200, response.content
    return response.json()


def test_plain_and_search_runs_are_separate_series(user_client, history):
    monitor, runs = history
    assert [r.access_mode for r in runs] == ["plain", "plain", "search", "search"]
    mode_of = {str(r.execution_id): r.access_mode for r in runs}
    body = trend(user_client, monitor)
    assert body["access_modes"] == ["plain", "search"]
    periods = {mode: set() for mode in ("plain", "search")}
    for point in body["points"]:
        # A point never pools executions of two modes.
        assert {mode_of[e] for e in point["executions"]} == {point["access_mode"]}
        periods[point["access_mode"]].add(point["period"])
    assert periods == {
        "plain": {"2026-03-02", "2026-03-03"},
        "search": {"2026-03-04", "2026-03-05"},
    }


def test_changes_only_compare_like_with_like(user_client, history):
    monitor, _ = history
    changes = trend(user_client, monitor)["changes"]
    pairs = {(c["access_mode"], c["period_before"], c["period_after"]) for c in changes}
    # Never day 3 (plain) against day 4 (search), though they are the two last-but-one days.
    assert pairs == {("plain", "2026-03-02", "2026-03-03"), ("search", "2026-03-04", "2026-03-05")}


def test_the_access_mode_filter_keeps_one_series(user_client, history):
    monitor, runs = history
    body = trend(user_client, monitor, access_mode="search")
    assert body["access_modes"] == ["search"]
    assert {p["access_mode"] for p in body["points"]} == {"search"}
    assert {c["access_mode"] for c in body["changes"]} == {"search"}
    branded = trend(user_client, monitor, access_mode="plain", branded="false")
    assert {p["access_mode"] for p in branded["points"]} <= {"plain"}
    bad = user_client.get(f"/api/v1/monitors/{monitor.pk}/trend/", {"access_mode": "web"})
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["access_mode"]


def test_the_admin_charts_draw_one_line_per_mode(client, staff_user, history):
    monitor, _ = history
    client.force_login(staff_user)
    html = client.get(reverse("admin:records_monitor_page", args=[monitor.pk])).content.decode()
    assert "demo · plain" in html and "demo · search" in html
    assert "华夏良子 · plain" in html and "华夏良子 · search" in html
    assert "(search mode)" in html  # the single-series charts say which mode they show


def test_search_calls_count_in_the_budget_and_the_spend(history, settings):
    monitor, runs = history
    settings.BRANDTEST_SEARCH_PRICES = {"demo": {"per_call": 0.5, "currency": "CNY"}}
    # One prompt, one platform, two repeats: 2 calls a plain run, 2 + 2 searches a search run.
    assert [r.total_tasks for r in runs] == [2, 2, 2, 2]
    assert monitoring.calls_this_month(monitor, DAYS[-1]) == 2 + 2 + 4 + 4
    spend = monitoring.monitor_month_spend(monitor, DAYS[-1])
    assert spend["spent"]["search_calls"] == 4
    assert spend["spent"]["by_currency"]["CNY"] == pytest.approx(4 * 0.5)


def test_the_budget_check_plans_the_search_calls(make_monitor):
    # One call a run, budgeted as two in search mode (the chat call and its web search).
    with pytest.raises(ValidationError, match="x 2 for web search"):
        make_monitor(access_mode="search", monthly_call_budget=1)
    monitor = make_monitor(access_mode="search", monthly_call_budget=3)
    monitoring.start_monitor_run(monitor=monitor, scheduled_for=DAYS[0], now=DAYS[0])
    with pytest.raises(monitoring.BudgetExceeded, match="needs 2 calls; 2 of the 3"):
        monitoring.start_monitor_run(monitor=monitor, scheduled_for=DAYS[1], now=DAYS[1])


def test_a_monitor_on_a_platform_without_the_mode_is_a_400(user_client, platform_env):
    platform_env({"DEEPSEEK_API_KEY": "sk-test"})
    body = definition(platforms=["deepseek"], access_mode="search")
    response = user_client.post("/api/v1/monitors/", body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "access_mode": ["deepseek has no search mode; its modes: plain"]
    }
