"""The scheduler tick: claim semantics, catch-up, pause, budget skip, per-minute schedules."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from records import monitoring
from records.models import Monitor, MonitorStatus, TestRecord
from tests.monitoring.conftest import T0

pytestmark = pytest.mark.django_db

NINE_SHANGHAI = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def test_new_monitor_is_due_at_the_next_cron_time_in_its_time_zone(make_monitor):
    monitor = make_monitor()
    assert monitor.next_run_at == NINE_SHANGHAI


def test_tick_before_the_time_starts_nothing(make_monitor):
    make_monitor()
    result = monitoring.tick(now=NINE_SHANGHAI - timedelta(seconds=1))
    assert result.started == [] and TestRecord.objects.count() == 0


def test_due_tick_starts_one_execution_for_the_period_and_moves_next_run(make_monitor):
    monitor = make_monitor()
    now = NINE_SHANGHAI + timedelta(seconds=3)
    result = monitoring.tick(now=now)
    record = TestRecord.objects.get()
    assert result.started == [(monitor.pk, NINE_SHANGHAI, str(record.execution_id))]
    assert record.monitor == monitor and record.scheduled_for == NINE_SHANGHAI
    assert record.brand_name == "华夏良子" and record.competitor_brands == ["通透堂"]
    assert record.questions == ["北京中医推拿哪家好？"]
    assert record.prompt_ids == [monitor.prompts.get().pk]
    # Item 4: the analysis reads every tracked brand's aliases and owned domains from here.
    assert record.brand_aliases == {
        "华夏良子": {"aliases": ["华夏良子推拿"], "domains": ["example.com"]}
    }
    assert record.owner == monitor.owner and record.total_tasks == 1
    monitor.refresh_from_db()
    assert monitor.next_run_at == NINE_SHANGHAI + timedelta(days=1)
    assert monitor.last_scheduled_for == NINE_SHANGHAI
    # The same tick again (or a second worker a moment later) finds nothing due.
    assert monitoring.tick(now=now + timedelta(seconds=1)).started == []
    assert TestRecord.objects.count() == 1


def test_a_claim_against_a_stale_read_changes_nothing(make_monitor):
    """Two workers read the same due row; only the first conditional UPDATE wins."""
    monitor = make_monitor()
    stale = Monitor.objects.get(pk=monitor.pk)  # what the second worker read
    now = NINE_SHANGHAI + timedelta(seconds=1)
    first = monitoring.TickResult()
    monitoring.run_due_monitor(Monitor.objects.get(pk=monitor.pk), now=now, result=first)
    second = monitoring.TickResult()
    monitoring.run_due_monitor(stale, now=now, result=second)
    assert len(first.started) == 1 and second.started == [] and second.lost == [monitor.pk]
    assert TestRecord.objects.count() == 1


def test_the_database_refuses_a_second_execution_of_one_period(make_monitor):
    monitor = make_monitor()
    monitoring.start_monitor_run(monitor=monitor, scheduled_for=NINE_SHANGHAI)
    with pytest.raises(IntegrityError), transaction.atomic():
        monitoring.start_monitor_run(monitor=monitor, scheduled_for=NINE_SHANGHAI)
    assert TestRecord.objects.filter(monitor=monitor).count() == 1


def test_after_downtime_one_catch_up_run_for_the_latest_missed_period(make_monitor):
    monitor = make_monitor()
    # The scheduler was down for three and a half days: three 09:00 periods were missed.
    now = NINE_SHANGHAI + timedelta(days=3, hours=12)
    result = monitoring.tick(now=now)
    assert [(m, p) for m, p, _ in result.started] == [
        (monitor.pk, NINE_SHANGHAI + timedelta(days=3))
    ]
    monitor.refresh_from_db()
    assert monitor.next_run_at == NINE_SHANGHAI + timedelta(days=4)
    assert monitoring.tick(now=now + timedelta(minutes=1)).started == []
    assert TestRecord.objects.count() == 1


def test_paused_monitor_never_runs_and_resumes_without_catch_up(make_monitor):
    monitor = make_monitor()
    monitoring.pause_monitor(monitor=monitor, reason="holiday")
    for day in range(3):
        assert monitoring.tick(now=NINE_SHANGHAI + timedelta(days=day, seconds=5)).started == []
    assert TestRecord.objects.count() == 0
    resumed_at = NINE_SHANGHAI + timedelta(days=2, hours=1)
    monitor = monitoring.resume_monitor(monitor=monitor, now=resumed_at)
    assert monitor.status == MonitorStatus.ACTIVE and monitor.paused_reason == ""
    assert monitor.next_run_at == NINE_SHANGHAI + timedelta(days=3)
    assert monitoring.tick(now=resumed_at + timedelta(minutes=1)).started == []


def test_run_over_the_monthly_budget_is_skipped_with_its_reason_and_next_run_advances(make_monitor):
    # Two prompts x one platform = 2 calls a run; a budget of 5 allows two runs a month.
    monitor = make_monitor(
        prompts=[{"text": "北京中医推拿哪家好？"}, {"text": "北京推拿推荐"}], monthly_call_budget=5
    )
    for day in range(2):
        assert len(monitoring.tick(now=NINE_SHANGHAI + timedelta(days=day)).started) == 1
    third = NINE_SHANGHAI + timedelta(days=2)
    result = monitoring.tick(now=third)
    assert result.started == []
    assert result.skipped == [
        (
            monitor.pk,
            third,
            "budget: this run needs 2 calls; 4 of the 5 allowed this month are already used",
        )
    ]
    monitor.refresh_from_db()
    assert monitor.last_skip_reason.startswith("budget: this run needs 2 calls")
    assert monitor.last_skipped_at == third
    assert monitor.next_run_at == third + timedelta(days=1)
    assert TestRecord.objects.count() == 2
    # A new calendar month (in the monitor's time zone) has a fresh budget: April 1st, 09:00.
    april = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
    assert len(monitoring.tick(now=april).started) == 1


def test_every_minute_schedule_starts_one_execution_per_minute(make_monitor):
    monitor = make_monitor(schedule="* * * * *", monthly_call_budget=None, now=T0)
    # Ticks every 15 s for ten minutes, as a worker would.
    for step in range(0, 10 * 60, 15):
        monitoring.tick(now=T0 + timedelta(seconds=step))
    periods = list(
        TestRecord.objects.filter(monitor=monitor)
        .order_by("scheduled_for")
        .values_list("scheduled_for", flat=True)
    )
    assert periods == [T0 + timedelta(minutes=m) for m in range(1, 10)]
    monitoring.pause_monitor(monitor=monitor)
    for step in range(0, 5 * 60, 15):
        monitoring.tick(now=T0 + timedelta(minutes=10, seconds=step))
    assert TestRecord.objects.filter(monitor=monitor).count() == 9


def test_a_tick_claims_at_most_its_batch(make_monitor):
    for _ in range(3):
        make_monitor()
    assert len(monitoring.tick(now=NINE_SHANGHAI, batch=2).started) == 2
    assert len(monitoring.tick(now=NINE_SHANGHAI, batch=2).started) == 1


def test_schedule_monitors_once_prints_what_it_started_and_skipped(make_monitor, capsys):
    monitor = make_monitor(now=datetime.now(tz=UTC) - timedelta(days=2), schedule="*/5 * * * *")
    call_command("schedule_monitors", "--once")
    out = capsys.readouterr().out
    record = TestRecord.objects.get(monitor=monitor)
    assert f"started monitor {monitor.pk}" in out and str(record.execution_id) in out
    call_command("schedule_monitors", "--once")
    assert "no monitor due" in capsys.readouterr().out
