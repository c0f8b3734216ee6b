"""The demo monitor: weeks of synthetic daily history, so a new user sees a trend at once.

Everything goes through the real services: the monitor is created by ``create_monitor``, each
past day's run is started by ``start_monitor_run`` for that day's schedule period and run by the
worker side on the offline demo platform, whose answers follow the scheduled day
(records/engine/demo.py). Only the timestamps are then moved back to the day the run stands for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from records import alerts, execution, monitoring
from records.models import Answer, BrandScore, Monitor, Prompt, TestRecord

logger = logging.getLogger(__name__)

DEMO_USERNAME = "demo-synthetic"
DEMO_MONITOR_NAME = "演示监测：北京推拿（合成数据 · synthetic demo）"
DEMO_DAYS = 42
DEMO_DEFINITION = {
    "name": DEMO_MONITOR_NAME,
    "platforms": ["demo"],
    "repeats": 3,
    "schedule": "0 9 * * *",
    "timezone": "Asia/Shanghai",
    "monthly_call_budget": None,
    "brands": [
        {
            "name": "华夏良子",
            "is_main": True,
            "aliases": ["华夏良子推拿"],
            "domains": ["huaxialiangzi.example"],
        },
        {"name": "通透堂"},
        {"name": "良子健身"},
        {"name": "足疗大师"},
    ],
    "prompts": [
        {"text": "北京中医推拿哪家好？", "tags": ["推拿"]},
        {"text": "北京适合肩颈放松的推拿店推荐", "tags": ["推拿", "肩颈"]},
        {"text": "北京足疗连锁品牌排行", "tags": ["足疗"]},
        {"text": "朝阳区周末推拿去哪家？", "tags": ["推拿", "朝阳"]},
        {"text": "华夏良子推拿怎么样？", "tags": ["口碑"]},
    ],
}


@dataclass(frozen=True, slots=True)
class SeedResult:
    """The demo monitor, whether this call created it, and the runs it added."""

    monitor: Monitor
    created: bool
    runs_added: int


def demo_periods(monitor: Monitor, *, days: int, now: datetime) -> list[datetime]:
    """The monitor's last ``days`` schedule periods up to ``now``, oldest first."""
    periods: list[datetime] = []
    at = now
    while len(periods) < days:
        period = monitoring.latest_run_at_or_before(monitor.schedule, monitor.timezone, at)
        periods.append(period)
        at = period - timedelta(seconds=1)
    return periods[::-1]


def seed_demo_monitor(*, days: int = DEMO_DAYS, now: datetime | None = None) -> SeedResult:
    """Create the demo monitor if missing and give it a run for each of its last ``days``
    periods it has none for. Idempotent: a second call the same day adds nothing."""
    now = now or timezone.now()
    owner, _ = get_user_model().objects.get_or_create(
        username=DEMO_USERNAME, defaults={"first_name": "Demo (synthetic data)"}
    )
    if owner.has_usable_password():
        owner.set_unusable_password()
        owner.save(update_fields=["password"])
    monitor = Monitor.objects.filter(owner=owner, name=DEMO_MONITOR_NAME).first()
    created = monitor is None
    if created:
        monitor = monitoring.create_monitor(
            owner=owner, data=monitoring.clean_monitor_input(**DEMO_DEFINITION), now=now
        )
    periods = demo_periods(monitor, days=days, now=now)
    if created:
        # The history starts before the first period: the prompts were there all along.
        start = periods[0] - timedelta(days=1)
        Monitor.objects.filter(pk=monitor.pk).update(created_at=start)
        Prompt.objects.filter(monitor=monitor).update(active_from=start)
    done = set(
        TestRecord.objects.filter(monitor=monitor, scheduled_for__in=periods).values_list(
            "scheduled_for", flat=True
        )
    )
    added = 0
    for period in periods:
        if period in done:
            continue
        run_demo_period(monitor, period)
        added += 1
    Monitor.objects.filter(pk=monitor.pk).update(
        last_scheduled_for=max(periods[-1], monitor.last_scheduled_for or periods[-1])
    )
    monitor.refresh_from_db()
    logger.info("demo monitor %s: %d run(s) added", monitor.pk, added)
    return SeedResult(monitor=monitor, created=created, runs_added=added)


def run_demo_period(monitor: Monitor, period: datetime) -> TestRecord:
    """Start and run the monitor's execution for ``period`` now, then date it to the period."""
    started = monitoring.start_monitor_run(
        monitor=monitor, scheduled_for=period, now=period, enqueue=False
    ).record
    execution.run_execution(execution_id=started.execution_id)
    record = TestRecord.objects.get(pk=started.pk)
    # Move every timestamp back by the same amount: durations and order stay as they ran.
    shift = record.created_at - period
    rows = TestRecord.objects.filter(pk=record.pk)
    rows.update(
        created_at=F("created_at") - shift,
        started_at=F("started_at") - shift,
        finished_at=F("finished_at") - shift,
        updated_at=F("updated_at") - shift,
        heartbeat_at=F("heartbeat_at") - shift,
    )
    Answer.objects.filter(record=record).update(
        created_at=F("created_at") - shift, started_at=F("started_at") - shift
    )
    BrandScore.objects.filter(record=record).update(created_at=F("created_at") - shift)
    # The alert rules, as the worker evaluates them when a monitor's run ends (the demo monitor
    # has no webhooks or recipients, so nothing is sent): the report shows the history's alerts.
    alerts.evaluate_execution(execution_id=record.execution_id)
    return rows.get()
