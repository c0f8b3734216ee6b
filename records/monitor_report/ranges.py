"""A report's date range: ``?from=&to=`` or ``?range=last_week|last_month``, checked, with the
equal-length range before it that the changes compare against."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from records.models import Monitor
from records.trend_params import monitor_zone

#: The longest range one report covers (a year, a leap year's too).
MAX_REPORT_DAYS = 366
RANGES = ("last_week", "last_month")
# No monitor ran before this; it also keeps the previous range's arithmetic inside date's range.
EARLIEST = date(2000, 1, 1)
LATEST = date(9000, 12, 31)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ReportRangeError(ValueError):
    """A bad range parameter; ``field`` names it (the page answers 400 with it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class ReportRange:
    """Days in the monitor's time zone, both inclusive; ``kind`` is last_week, last_month or
    custom (from/to)."""

    start: date
    end: date
    kind: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> ReportRange:
        """The range of the same length ending the day before this one starts."""
        end = self.start - timedelta(days=1)
        return ReportRange(end - timedelta(days=self.days - 1), end, "previous")

    def bounds(self, monitor: Monitor) -> tuple[datetime, datetime]:
        """[start 00:00, the day after end 00:00) in the monitor's time zone."""
        zone = monitor_zone(monitor)
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    def query(self) -> dict[str, str]:
        """The query string that asks for exactly this range."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def last_week(today: date) -> ReportRange:
    """The last full ISO week (Monday to Sunday) before ``today``'s week."""
    monday = today - timedelta(days=today.weekday())
    return ReportRange(monday - timedelta(days=7), monday - timedelta(days=1), "last_week")


def last_month(today: date) -> ReportRange:
    """The last full calendar month before ``today``'s month."""
    end = today.replace(day=1) - timedelta(days=1)
    return ReportRange(end.replace(day=1), end, "last_month")


def _day(params: Mapping[str, str], field: str) -> date | None:
    raw = (params.get(field) or "").strip()
    if not raw:
        return None
    try:
        if not _ISO_DAY.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise ReportRangeError(field, f"{field}={raw[:40]!r} is not a date (YYYY-MM-DD).") from None
    if not EARLIEST <= day <= LATEST:
        raise ReportRangeError(
            field, f"{field}={raw} is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}."
        )
    return day


def clean_report_range(
    params: Mapping[str, str], *, monitor: Monitor, today: date | None = None
) -> ReportRange:
    """The range a report request asks for; every error names its parameter.

    ``range``: last_week (the default) or last_month; ``from``/``to``: ISO days in the monitor's
    time zone, inclusive (``to`` defaults to today, ``from`` to six days before ``to``), at most
    :data:`MAX_REPORT_DAYS` days, ``from`` not after ``to``. ``range`` and ``from``/``to``
    exclude each other.
    """
    if today is None:
        today = timezone.now().astimezone(monitor_zone(monitor)).date()
    kind = (params.get("range") or "").strip()
    start, end = _day(params, "from"), _day(params, "to")
    if kind:
        if kind not in RANGES:
            raise ReportRangeError("range", f"range={kind[:40]!r}: use last_week or last_month.")
        if start or end:
            raise ReportRangeError("range", "Give range, or from and to, not both.")
        return last_week(today) if kind == "last_week" else last_month(today)
    if start is None and end is None:
        return last_week(today)
    end = end or today
    start = start or end - timedelta(days=6)
    if start > end:
        raise ReportRangeError("from", f"from ({start}) is after to ({end}).")
    days = (end - start).days + 1
    if days > MAX_REPORT_DAYS:
        raise ReportRangeError(
            "to", f"The range {start} to {end} is {days} days; at most {MAX_REPORT_DAYS}."
        )
    return ReportRange(start, end, "custom")


__all__ = [
    "MAX_REPORT_DAYS",
    "RANGES",
    "ReportRange",
    "ReportRangeError",
    "clean_report_range",
    "last_month",
    "last_week",
]
