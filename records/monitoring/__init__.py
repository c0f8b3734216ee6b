"""Monitors: create and change them, pause and resume, start their runs, and the scheduler tick.

A monitor's run is an ordinary execution started through ``records.services.start_execution``
(with the monitor, its period and the prompt ids), so polling, results, retry, admin and scores
all apply. The scheduler (``tick``) is safe with any number of concurrent workers: each due
monitor is claimed with one conditional UPDATE of ``next_run_at``, and the unique constraint on
(monitor, scheduled_for) makes a second start of a period impossible even if two claims raced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from records import tasks
from records.costs import spend_of_answers
from records.models import (
    Answer,
    Monitor,
    MonitorStatus,
    Prompt,
    TestRecord,
    TrackedBrand,
    names_tracked_brand,
)
from records.monitoring.inputs import (
    BrandInput,
    MonitorInput,
    PromptInput,
    clean_monitor_input,
    monitor_definition,
    planned_calls,
)
from records.monitoring.schedule import (
    latest_run_at_or_before,
    month_start,
    next_run_after,
    runs_between,
)
from records.services import (
    ExecutionInput,
    StartResult,
    start_execution,
)

logger = logging.getLogger(__name__)


# --- Create, update, pause, resume ---------------------------------------------------------


def _brand_names(brands: list[BrandInput]) -> list[str]:
    return [n for b in brands for n in (b.name, *b.aliases)]


def _write_brands(monitor: Monitor, brands: list[BrandInput]) -> None:
    # Brands are not versioned (scores name brands by name): replace them wholesale.
    monitor.brands.all().delete()
    TrackedBrand.objects.bulk_create(
        TrackedBrand(
            monitor=monitor, name=b.name, aliases=b.aliases, domains=b.domains, is_main=b.is_main
        )
        for b in brands
    )


def _new_prompt(monitor: Monitor, p: PromptInput, names: list[str], at: datetime) -> Prompt:
    derived = names_tracked_brand(p.text, names)
    return Prompt(
        monitor=monitor,
        text=p.text,
        tags=p.tags,
        branded=derived if p.branded is None else p.branded,
        branded_overridden=p.branded is not None,
        active_from=at,
    )


@transaction.atomic
def create_monitor(*, owner, data: MonitorInput, now: datetime | None = None) -> Monitor:
    """Store a new active monitor with its brands and prompts; its first run is the next cron
    time after now."""
    now = now or timezone.now()
    monitor = Monitor.objects.create(
        owner=owner,
        name=data.name,
        platforms=data.platforms,
        repeats=data.repeats,
        access_mode=data.access_mode,
        schedule=data.schedule,
        timezone=data.timezone,
        monthly_call_budget=data.monthly_call_budget,
        weekly_digest=data.weekly_digest,
        next_run_at=next_run_after(data.schedule, data.timezone, now),
        created_at=now,
        updated_at=now,
    )
    _write_brands(monitor, data.brands)
    names = _brand_names(data.brands)
    Prompt.objects.bulk_create(_new_prompt(monitor, p, names, now) for p in data.prompts)
    logger.info("monitor %s created; next run %s", monitor.pk, monitor.next_run_at)
    return monitor


@transaction.atomic
def update_monitor(*, monitor: Monitor, data: MonitorInput, now: datetime | None = None) -> Monitor:
    """Apply a whole new definition. Prompts are never edited in place: a current prompt whose
    text, tags or override changed, or that is no longer listed, is retired; new ones are
    added. A changed schedule or time zone moves an active monitor's next run. A changed
    access mode applies from the next run; the runs before keep theirs (a second trend series)."""
    now = now or timezone.now()
    monitor = Monitor.objects.select_for_update().get(pk=monitor.pk)
    rescheduled = (data.schedule, data.timezone) != (monitor.schedule, monitor.timezone)
    fields = {
        "name": data.name,
        "platforms": data.platforms,
        "repeats": data.repeats,
        "access_mode": data.access_mode,
        "schedule": data.schedule,
        "timezone": data.timezone,
        "monthly_call_budget": data.monthly_call_budget,
        "weekly_digest": data.weekly_digest,
        "updated_at": now,
    }
    if rescheduled and monitor.status == MonitorStatus.ACTIVE:
        fields["next_run_at"] = next_run_after(data.schedule, data.timezone, now)
    Monitor.objects.filter(pk=monitor.pk).update(**fields)
    _write_brands(monitor, data.brands)

    names = _brand_names(data.brands)
    wanted = {p.text: p for p in data.prompts}
    retired: list[int] = []
    kept: set[str] = set()
    for prompt in monitor.prompts.current():
        new = wanted.get(prompt.text)
        same = (
            new is not None
            and new.tags == prompt.tags
            and (new.branded is None) == (not prompt.branded_overridden)
            and (new.branded is None or new.branded == prompt.branded)
        )
        if same:
            kept.add(prompt.text)
        else:
            retired.append(prompt.pk)
    Prompt.objects.filter(pk__in=retired).update(retired_at=now)
    Prompt.objects.bulk_create(
        _new_prompt(monitor, p, names, now) for p in data.prompts if p.text not in kept
    )
    monitor.refresh_from_db()
    logger.info("monitor %s updated (%d prompts retired)", monitor.pk, len(retired))
    return monitor


def pause_monitor(*, monitor: Monitor, reason: str = "") -> Monitor:
    """Stop scheduling a monitor; runs already started finish."""
    Monitor.objects.filter(pk=monitor.pk).update(
        status=MonitorStatus.PAUSED, paused_reason=reason[:200], updated_at=timezone.now()
    )
    monitor.refresh_from_db()
    return monitor


def resume_monitor(*, monitor: Monitor, now: datetime | None = None) -> Monitor:
    """Schedule a paused monitor again from the next cron time: no catch-up for the pause."""
    now = now or timezone.now()
    Monitor.objects.filter(pk=monitor.pk, status=MonitorStatus.PAUSED).update(
        status=MonitorStatus.ACTIVE,
        paused_reason="",
        next_run_at=next_run_after(monitor.schedule, monitor.timezone, now),
        updated_at=now,
    )
    monitor.refresh_from_db()
    return monitor


# --- Runs ------------------------------------------------------------------------------------


def monitor_execution_input(monitor: Monitor) -> tuple[ExecutionInput, list[int]]:
    """What a monitor's next run asks, and the Prompt id behind each question."""
    brands = list(monitor.brands.all())
    main = next(b for b in brands if b.is_main)
    prompts = list(monitor.prompts.current())
    aliases = {
        b.name: {"aliases": list(b.aliases), "domains": list(b.domains)}
        for b in brands
        if b.aliases or b.domains
    }
    data = ExecutionInput(
        brand=main.name,
        competitors=[b.name for b in brands if not b.is_main],
        questions=[p.text for p in prompts],
        platforms=list(monitor.platforms),
        repeats=monitor.repeats,
        brand_aliases=aliases,
        access_mode=monitor.access_mode,
    )
    return data, [p.pk for p in prompts]


def calls_this_month(monitor: Monitor, now: datetime) -> int:
    """Calls the monitor's executions planned this calendar month (its time zone): a scheduled
    run counts in its period's month, a run started by hand in the month it started. Web-search
    calls count too: a search-mode run's planned one per answer, or the search calls its
    answers actually made where those are more (a platform may search several times)."""
    records = month_records(monitor, now)
    totals = records.aggregate(
        calls=Sum("total_tasks"), search=Sum("total_tasks", filter=Q(access_mode="search"))
    )
    searched = Answer.objects.filter(record__in=records).aggregate(n=Sum("search_calls"))["n"]
    return (totals["calls"] or 0) + max(totals["search"] or 0, searched or 0)


def month_records(monitor: Monitor, now: datetime):
    """The monitor's executions of ``now``'s calendar month in its time zone."""
    start = month_start(now, monitor.timezone)
    end = (start + timedelta(days=32)).replace(day=1)
    return TestRecord.objects.filter(monitor=monitor).filter(
        Q(scheduled_for__gte=start, scheduled_for__lt=end)
        | Q(scheduled_for__isnull=True, created_at__gte=start, created_at__lt=end)
    )


class BudgetExceeded(Exception):
    """The run would take the monitor past its monthly call budget."""


def start_monitor_run(
    *,
    monitor: Monitor,
    scheduled_for: datetime | None = None,
    now: datetime | None = None,
    device_id: str = "",
    enqueue: bool = True,
) -> StartResult:
    """Start one execution of the monitor through the normal start service.

    ``scheduled_for`` is the schedule period (the scheduler passes it; a run started by hand
    has none). Raises BudgetExceeded when the run's calls plus those already planned this
    month exceed ``monthly_call_budget``, and IntegrityError (from the unique constraint) when
    the period was already started.
    """
    now = now or timezone.now()
    data, prompt_ids = monitor_execution_input(monitor)
    calls = planned_calls(
        data.questions,
        data.brand,
        data.competitors,
        len(data.platforms),
        data.repeats,
        access_mode=data.access_mode,
    )
    if monitor.monthly_call_budget is not None:
        used = calls_this_month(monitor, now)
        if used + calls > monitor.monthly_call_budget:
            raise BudgetExceeded(
                f"budget: this run needs {calls} calls; {used} of the "
                f"{monitor.monthly_call_budget} allowed this month are already used"
            )
    return start_execution(
        owner=monitor.owner,
        data=data,
        device_id=device_id,
        enqueue=enqueue,
        monitor=monitor,
        scheduled_for=scheduled_for,
        prompt_ids=prompt_ids,
    )


# --- The scheduler ---------------------------------------------------------------------------


@dataclass(slots=True)
class TickResult:
    """What one scheduler tick did, for the command's output and the tests."""

    started: list[tuple[int, datetime, str]] = field(default_factory=list)  # monitor, period, id
    skipped: list[tuple[int, datetime, str]] = field(default_factory=list)  # monitor, period, why
    lost: list[int] = field(default_factory=list)  # claimed meanwhile by another tick


def tick(*, now: datetime | None = None, batch: int | None = None) -> TickResult:
    """Start every due monitor's run once: the scheduler's one step (O(due monitors)).

    For each due monitor (partial index monitor_due_idx), one conditional UPDATE moves
    ``next_run_at`` to the first cron time after now only if it still holds the value read; the
    tick whose UPDATE changed the row starts the period, in the same transaction. The period is
    the most recent cron time at or before now, so after downtime a monitor gets one catch-up
    run, not one per missed period.
    """
    now = now or timezone.now()
    batch = batch or settings.BRANDTEST_SCHEDULER_BATCH
    result = TickResult()
    due = list(Monitor.objects.due(now).select_related("owner").order_by("next_run_at")[:batch])
    for monitor in due:
        run_due_monitor(monitor, now=now, result=result)
    return result


def run_due_monitor(monitor: Monitor, *, now: datetime, result: TickResult) -> None:
    """Claim one due monitor's period and start (or skip) its run."""
    period = latest_run_at_or_before(monitor.schedule, monitor.timezone, now)
    following = next_run_after(monitor.schedule, monitor.timezone, now)
    try:
        with transaction.atomic():
            claimed = Monitor.objects.filter(
                pk=monitor.pk, status=MonitorStatus.ACTIVE, next_run_at=monitor.next_run_at
            ).update(next_run_at=following, last_scheduled_for=period, updated_at=now)
            if not claimed:
                result.lost.append(monitor.pk)
                return
            try:
                with transaction.atomic():
                    started = start_monitor_run(monitor=monitor, scheduled_for=period, now=now)
            except BudgetExceeded as exc:
                Monitor.objects.filter(pk=monitor.pk).update(
                    last_skip_reason=str(exc)[:300], last_skipped_at=now
                )
                tasks.alert_skipped_run(monitor=monitor, scheduled_for=period, reason=str(exc))
                result.skipped.append((monitor.pk, period, str(exc)))
                logger.info("monitor %s period %s skipped: %s", monitor.pk, period, exc)
                return
    except IntegrityError:
        # Another tick started this period between our read and our claim (e.g. a worker whose
        # clock lags): the unique (monitor, scheduled_for) constraint refused the second run.
        result.lost.append(monitor.pk)
        return
    result.started.append((monitor.pk, period, str(started.record.execution_id)))
    logger.info(
        "monitor %s period %s started execution %s", monitor.pk, period, started.record.execution_id
    )


# --- Spend -----------------------------------------------------------------------------------


def monitor_month_spend(monitor: Monitor, now: datetime | None = None) -> dict[str, Any]:
    """This calendar month's estimated spend of a monitor (its time zone): what its executions
    cost so far, and a projection adding the runs its schedule still has this month at the
    average cost of this month's runs."""
    now = now or timezone.now()
    start = month_start(now, monitor.timezone)
    end = (start + timedelta(days=32)).replace(day=1)
    records = month_records(monitor, now)
    spent = spend_of_answers(Answer.objects.filter(record__in=records))
    runs = records.count()
    remaining = (
        0
        if monitor.status != MonitorStatus.ACTIVE
        else runs_between(monitor.schedule, monitor.timezone, now, end)
    )
    projected = {
        currency: round(amount + (amount / runs) * remaining, 6) if runs else amount
        for currency, amount in spent["by_currency"].items()
    }
    return {
        "month": start.strftime("%Y-%m"),
        "runs": runs,
        "calls": calls_this_month(monitor, now),
        "budget": monitor.monthly_call_budget,
        "spent": spent,
        "runs_remaining": remaining,
        "projected_by_currency": projected,
    }


__all__ = [
    "BudgetExceeded",
    "TickResult",
    "clean_monitor_input",
    "create_monitor",
    "latest_run_at_or_before",
    "monitor_definition",
    "monitor_month_spend",
    "next_run_after",
    "pause_monitor",
    "resume_monitor",
    "run_due_monitor",
    "start_monitor_run",
    "tick",
    "update_monitor",
]
