"""The trend API's query parameters: checked, defaulted, errors naming the parameter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from records.analysis.trends import (
    INTERVALS,
    METRICS,
)
from records.engine.base import ACCESS_MODES
from records.models import Monitor
from records.platforms import KNOWN_PLATFORMS

#: The longest range one request may ask for.
MAX_RANGE_DAYS = 731
#: The range when ``from`` is not given: this many days up to ``to``.
DEFAULT_RANGE_DAYS = {"day": 30, "week": 7 * 26, "month": 365}
OVERALL = "overall"

# BrandScore column per metric; ``sentiment`` is NSS in [-1, 1].
METRIC_COLUMNS = {
    "visibility_score": "visibility_score",
    "mention_rate": "mention_rate",
    "mrr": "mrr",
    "share_of_voice": "share_of_voice",
    "sentiment": "nss",
    "top1_rate": "top1_rate",
    "owned_citation_rate": "owned_citation_rate",
}


class TrendParamError(ValueError):
    """A bad query parameter; ``field`` names it (the API answers 400 with it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class TrendQuery:
    """A validated trend request. Dates are days in the monitor's time zone, both inclusive;
    ``platforms`` uses '' for overall; ``brands``/``platforms``/``access_modes`` None = all
    (each mode still its own series)."""

    metrics: tuple[str, ...]
    interval: str
    start: date
    end: date
    brands: tuple[str, ...] | None = None
    platforms: tuple[str, ...] | None = None
    branded: bool | None = None
    access_modes: tuple[str, ...] | None = None


def monitor_zone(monitor: Monitor) -> ZoneInfo:
    try:
        return ZoneInfo(monitor.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _date(params: Mapping[str, str], field: str) -> date | None:
    raw = (params.get(field) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10]) if len(raw) > 10 else date.fromisoformat(raw)
    except ValueError:
        raise TrendParamError(field, f"{raw!r} is not a date (YYYY-MM-DD).") from None


def clean_trend_params(
    params: Mapping[str, str], *, monitor: Monitor, today: date | None = None
) -> TrendQuery:
    """Validate the trend query string. Every error names its field.

    ``metric``: one of :data:`METRICS` or a comma list (default all); ``brand``: tracked brand
    names, comma-separated (default all); ``platform``: platform ids or ``overall`` (default all
    of the monitor's and overall); ``interval``: day | week | month (default day); ``from``/``to``:
    ISO dates in the monitor's time zone, inclusive (default: ``to`` = today, ``from`` =
    :data:`DEFAULT_RANGE_DAYS` earlier), at most :data:`MAX_RANGE_DAYS`; ``branded``: true/false
    (default both, from BrandScore); ``access_mode``: plain, search or a comma list (default
    every mode the monitor's runs used, one series each).
    """
    metrics = _list(params.get("metric")) or list(METRICS)
    for metric in metrics:
        if metric not in METRICS:
            raise TrendParamError(
                "metric", f"Unknown metric {metric!r}; one of {', '.join(METRICS)}."
            )
    interval = (params.get("interval") or "day").strip()
    if interval not in INTERVALS:
        raise TrendParamError("interval", f"Unknown interval {interval!r}; day, week or month.")

    if today is None:
        today = timezone.now().astimezone(monitor_zone(monitor)).date()
    end = _date(params, "to") or today
    start = _date(params, "from") or end - timedelta(days=DEFAULT_RANGE_DAYS[interval] - 1)
    if start > end:
        raise TrendParamError("from", f"from ({start}) is after to ({end}).")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise TrendParamError("from", f"The range is longer than {MAX_RANGE_DAYS} days.")

    brands = None
    if names := _list(params.get("brand")):
        tracked = set(monitor.brands.values_list("name", flat=True))
        unknown = [n for n in names if n not in tracked]
        if unknown:
            raise TrendParamError("brand", f"Not a brand of this monitor: {', '.join(unknown)}.")
        brands = tuple(names)

    platforms = None
    if ids := _list(params.get("platform")):
        cleaned = []
        for pid in ids:
            if pid == OVERALL:
                cleaned.append("")
            elif pid in KNOWN_PLATFORMS:
                cleaned.append(pid)
            else:
                raise TrendParamError("platform", f"Unknown platform {pid!r}.")
        platforms = tuple(cleaned)

    branded = None
    raw = (params.get("branded") or "").strip().lower()
    if raw:
        if raw not in ("true", "false", "1", "0"):
            raise TrendParamError("branded", "branded must be true or false.")
        branded = raw in ("true", "1")
    access_modes = None
    if modes := _list(params.get("access_mode")):
        for mode in modes:
            if mode not in ACCESS_MODES:
                raise TrendParamError(
                    "access_mode",
                    f"Unknown access mode {mode!r}; one of {', '.join(ACCESS_MODES)}.",
                )
        access_modes = tuple(dict.fromkeys(modes))
    return TrendQuery(
        access_modes=access_modes,
        metrics=tuple(metrics),
        interval=interval,
        start=start,
        end=end,
        brands=brands,
        platforms=platforms,
        branded=branded,
    )
