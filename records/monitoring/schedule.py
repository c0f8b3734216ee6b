"""Cron expressions and time zones of monitors (cronsim, zoneinfo)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim
from django.utils import timezone

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


def runs_between(schedule: str, tz_name: str, start: datetime, end: datetime) -> int:
    """Cron times in (start, end), capped at MAX_PROJECTED_RUNS."""
    count = 0
    for at in CronSim(schedule, start.astimezone(ZoneInfo(tz_name))):
        if at >= end or count >= MAX_PROJECTED_RUNS:
            break
        count += 1
    return count
