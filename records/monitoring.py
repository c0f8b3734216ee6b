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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from records.costs import spend_of_answers
from records.engine.plan import expand_questions
from records.models import (
    Answer,
    Monitor,
    MonitorStatus,
    Prompt,
    TestRecord,
    TrackedBrand,
    names_tracked_brand,
)
from records.services import (
    MAX_COMPETITORS,
    ExecutionInput,
    StartResult,
    clean_platforms,
    start_execution,
)

logger = logging.getLogger(__name__)

MAX_PROMPTS = 50
MAX_ALIASES = 20
MAX_DOMAINS = 20
# A month has at most this many runs counted when projecting spend (an every-minute cron has
# ~44,640; counting them one by one would cost more than the projection is worth).
MAX_PROJECTED_RUNS = 50_000


# --- Cron and time zones -----------------------------------------------------------------------


def next_run_after(schedule: str, tz_name: str, after: datetime) -> datetime:
    """The first cron time strictly after ``after``, read in the monitor's time zone (UTC out)."""
    local = after.astimezone(ZoneInfo(tz_name))
    return next(CronSim(schedule, local)).astimezone(timezone.UTC)


def latest_run_at_or_before(schedule: str, tz_name: str, at: datetime) -> datetime:
    """The most recent cron time at or before ``at`` (the period a due tick claims)."""
    # cronsim's reverse iteration excludes its start; one microsecond later includes ``at``.
    local = (at + timedelta(microseconds=1)).astimezone(ZoneInfo(tz_name))
    return next(CronSim(schedule, local, reverse=True)).astimezone(timezone.UTC)


def month_start(at: datetime, tz_name: str) -> datetime:
    """Midnight on the first day of ``at``'s calendar month in the monitor's time zone."""
    local = at.astimezone(ZoneInfo(tz_name))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# --- Validation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrandInput:
    name: str
    is_main: bool
    aliases: list[str]
    domains: list[str]


@dataclass(frozen=True, slots=True)
class PromptInput:
    text: str
    tags: list[str]
    # None: derive from the text; True/False: the owner's override.
    branded: bool | None = None


@dataclass(frozen=True, slots=True)
class MonitorInput:
    """A validated, normalised monitor definition."""

    name: str
    platforms: list[str]
    repeats: int
    schedule: str
    timezone: str
    monthly_call_budget: int | None
    brands: list[BrandInput]
    prompts: list[PromptInput]

    @property
    def main_brand(self) -> BrandInput:
        return next(b for b in self.brands if b.is_main)

    @property
    def competitors(self) -> list[str]:
        return [b.name for b in self.brands if not b.is_main]

    def calls_per_run(self) -> int:
        return planned_calls(
            [p.text for p in self.prompts],
            self.main_brand.name,
            self.competitors,
            len(self.platforms),
            self.repeats,
        )


def planned_calls(
    questions: list[str], brand: str, competitors: list[str], platforms: int, repeats: int
) -> int:
    """Platform calls one run makes: expanded questions ({brandName} once per brand) x
    platforms x repeats, exactly as the execution will plan them."""
    return len(expand_questions(questions, brand, competitors)) * platforms * repeats


def _strings(value: Any, field_name: str, errors: dict[str, list[str]], limit: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.setdefault(field_name, []).append(f"{field_name} must be a list of strings.")
        return []
    cleaned: list[str] = []
    for item in value:
        item = item.strip()
        if item and item not in cleaned:
            cleaned.append(item[:100])
    if len(cleaned) > limit:
        errors.setdefault(field_name, []).append(f"At most {limit} {field_name}.")
    return cleaned


def _domain(value: str) -> str:
    """'https://www.Example.com/path' -> 'example.com'."""
    value = value.strip().lower()
    for prefix in ("https://", "http://"):
        value = value.removeprefix(prefix)
    value = value.split("/", 1)[0].removeprefix("www.")
    return value


def clean_brands(brands: Any, errors: dict[str, list[str]]) -> list[BrandInput]:
    if not isinstance(brands, list) or not brands:
        errors.setdefault("brands", []).append("At least one brand (the main brand) is required.")
        return []
    cleaned: list[BrandInput] = []
    seen: set[str] = set()
    for item in brands:
        if not isinstance(item, dict):
            errors.setdefault("brands", []).append("Each brand must be an object with a name.")
            continue
        name = str(item.get("name") or "").strip()
        if not name or len(name) > 100:
            errors.setdefault("brands", []).append("Each brand needs a name of 1-100 characters.")
            continue
        if name.casefold() in seen:
            errors.setdefault("brands", []).append(f"Brand {name!r} is listed twice.")
            continue
        seen.add(name.casefold())
        aliases = _strings(item.get("aliases"), "aliases", errors, MAX_ALIASES)
        domains = [
            d for d in map(_domain, _strings(item.get("domains"), "domains", errors, MAX_DOMAINS))
        ]
        for key in ("aliases", "domains"):
            if key in errors:
                errors.setdefault("brands", []).extend(f"{name}: {m}" for m in errors.pop(key))
        cleaned.append(BrandInput(name, bool(item.get("is_main")), aliases, domains))
    mains = [b.name for b in cleaned if b.is_main]
    if cleaned and not mains:
        errors.setdefault("brands", []).append(
            "Exactly one brand must be the main brand (is_main: true); none is."
        )
    elif len(mains) > 1:
        errors.setdefault("brands", []).append(
            f"Exactly one brand must be the main brand; {len(mains)} are: {', '.join(mains)}."
        )
    if len(cleaned) - 1 > MAX_COMPETITORS:
        errors.setdefault("brands", []).append(
            f"At most {MAX_COMPETITORS} competitors besides the main brand."
        )
    return cleaned


def clean_prompts(prompts: Any, errors: dict[str, list[str]]) -> list[PromptInput]:
    if not isinstance(prompts, list) or not prompts:
        errors.setdefault("prompts", []).append("At least one prompt is required.")
        return []
    cleaned: list[PromptInput] = []
    seen: set[str] = set()
    for item in prompts:
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            errors.setdefault("prompts", []).append("Each prompt must be an object with a text.")
            continue
        text = str(item.get("text") or "").strip()
        if not 2 <= len(text) <= 500:
            errors.setdefault("prompts", []).append(
                f"Each prompt text must be 2-500 characters; {text[:20]!r} has {len(text)}."
            )
            continue
        if text in seen:
            errors.setdefault("prompts", []).append(f"Prompt {text[:20]!r} is listed twice.")
            continue
        seen.add(text)
        tags = _strings(item.get("tags"), "tags", errors, 20)
        if "tags" in errors:
            errors.setdefault("prompts", []).extend(errors.pop("tags"))
        branded = item.get("branded")
        if branded is not None and not isinstance(branded, bool):
            errors.setdefault("prompts", []).append("branded must be true, false or absent.")
            branded = None
        cleaned.append(PromptInput(text, tags, branded))
    if len(cleaned) > MAX_PROMPTS:
        errors.setdefault("prompts", []).append(f"At most {MAX_PROMPTS} prompts.")
    return cleaned


def clean_monitor_input(
    *,
    name: Any,
    platforms: Any,
    repeats: Any,
    schedule: Any,
    timezone: Any,
    monthly_call_budget: Any,
    brands: Any,
    prompts: Any,
) -> MonitorInput:
    """Validate a whole monitor definition; raise ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {}
    name = str(name or "").strip()
    if not name or len(name) > 200:
        errors.setdefault("name", []).append("The name is required (1-200 characters).")
    cleaned_platforms = clean_platforms(platforms if isinstance(platforms, list) else [], errors)
    if not isinstance(repeats, int) or isinstance(repeats, bool):
        errors.setdefault("repeats", []).append("Repeats must be an integer.")
        repeats = 1
    elif not 1 <= repeats <= settings.BRANDTEST_MAX_REPEATS:
        errors.setdefault("repeats", []).append(
            f"Repeats must be between 1 and {settings.BRANDTEST_MAX_REPEATS}."
        )
    schedule = " ".join(str(schedule or "").split())
    tz_name = str(timezone or "").strip()
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors.setdefault("timezone", []).append(f"Unknown time zone {tz_name!r}.")
    try:
        if len(schedule.split()) != 5:
            raise CronSimError("need five fields")
        CronSim(schedule, datetime.now(tz=ZoneInfo("UTC")))
    except CronSimError as exc:
        errors.setdefault("schedule", []).append(
            f"Not a valid five-field cron expression ({exc}): {schedule!r}."
        )
    if monthly_call_budget is not None and (
        not isinstance(monthly_call_budget, int)
        or isinstance(monthly_call_budget, bool)
        or monthly_call_budget < 1
    ):
        errors.setdefault("monthly_call_budget", []).append(
            "The monthly call budget must be a positive integer or null."
        )
        monthly_call_budget = None
    cleaned_brands = clean_brands(brands, errors)
    cleaned_prompts = clean_prompts(prompts, errors)
    if errors:
        raise ValidationError(errors)
    data = MonitorInput(
        name,
        cleaned_platforms,
        repeats,
        schedule,
        tz_name,
        monthly_call_budget,
        cleaned_brands,
        cleaned_prompts,
    )
    if monthly_call_budget is not None and monthly_call_budget < data.calls_per_run():
        raise ValidationError(
            {
                "monthly_call_budget": [
                    f"The budget ({monthly_call_budget} calls a month) is below one run: "
                    f"{data.calls_per_run()} calls (prompts x platforms x repeats)."
                ]
            }
        )
    return data


def monitor_definition(monitor: Monitor) -> dict[str, Any]:
    """A stored monitor as the keyword arguments of ``clean_monitor_input`` (for updates)."""
    return {
        "name": monitor.name,
        "platforms": monitor.platforms,
        "repeats": monitor.repeats,
        "schedule": monitor.schedule,
        "timezone": monitor.timezone,
        "monthly_call_budget": monitor.monthly_call_budget,
        "brands": [
            {"name": b.name, "is_main": b.is_main, "aliases": b.aliases, "domains": b.domains}
            for b in monitor.brands.all()
        ],
        "prompts": [
            {
                "text": p.text,
                "tags": p.tags,
                "branded": p.branded if p.branded_overridden else None,
            }
            for p in monitor.prompts.current()
        ],
    }


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
        schedule=data.schedule,
        timezone=data.timezone,
        monthly_call_budget=data.monthly_call_budget,
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
    added. A changed schedule or time zone moves an active monitor's next run."""
    now = now or timezone.now()
    monitor = Monitor.objects.select_for_update().get(pk=monitor.pk)
    rescheduled = (data.schedule, data.timezone) != (monitor.schedule, monitor.timezone)
    fields = {
        "name": data.name,
        "platforms": data.platforms,
        "repeats": data.repeats,
        "schedule": data.schedule,
        "timezone": data.timezone,
        "monthly_call_budget": data.monthly_call_budget,
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
    )
    return data, [p.pk for p in prompts]


def calls_this_month(monitor: Monitor, now: datetime) -> int:
    """Platform calls the monitor's executions planned this calendar month (its time zone): a
    scheduled run counts in its period's month, a run started by hand in the month it started."""
    return month_records(monitor, now).aggregate(calls=Sum("total_tasks"))["calls"] or 0


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
        data.questions, data.brand, data.competitors, len(data.platforms), data.repeats
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


def runs_between(schedule: str, tz_name: str, start: datetime, end: datetime) -> int:
    """Cron times in (start, end), capped at MAX_PROJECTED_RUNS."""
    count = 0
    for at in CronSim(schedule, start.astimezone(ZoneInfo(tz_name))):
        if at >= end or count >= MAX_PROJECTED_RUNS:
            break
        count += 1
    return count


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
