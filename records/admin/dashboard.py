"""The executions dashboard: counts and scores over a window that follows the data.

Every chart reads a bounded, indexed slice, so the page costs the same at a million rows as at a
thousand: the status and error charts count the newest ``SAMPLE`` executions of the window (by
record_created_idx), the daily bars count each of the last days up to ``DAY_CAP`` (index-only
range counts), and the platform means average the newest ``SAMPLE`` main-brand scores
(brandscore_main_recent_idx). No query counts or averages a whole table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from records.admin.display import STATUS_COLOURS, status_label
from records.models import BrandScore, TestRecord

# The windows a staff member can pick (days); None is "all time".
WINDOWS = (7, 30, 90, 365, None)
DEFAULT_DAYS = 30
# The newest executions (and main-brand scores) of the window the charts are drawn from.
SAMPLE = 10_000
# Days shown in "executions per day", each counted up to DAY_CAP (one bounded index range).
DAYS_SHOWN = 14
DAY_CAP = 10_000


def bars(rows, warn: frozenset | set = frozenset()) -> list[dict]:
    """(label, count) rows as bar-chart rows scaled to the largest count."""
    rows = list(rows)
    top = max((n for _, n in rows), default=0) or 1
    return [
        {
            "label": str(label),
            "count": n,
            "width": max(1, round(100 * n / top)),
            "warn": label in warn,
        }
        for label, n in rows
    ]


@dataclass(frozen=True)
class Window:
    """The range the dashboard shows: ``days`` (None: all) up to ``end``."""

    days: int | None
    end: datetime
    # True when the recent days had no executions, so the window ends at the newest one instead.
    follows_data: bool

    @property
    def start(self) -> datetime | None:
        return None if self.days is None else self.end - timedelta(days=self.days)

    def of(self, queryset, field: str = "created_at"):
        start = self.start
        queryset = queryset.filter(**{f"{field}__lte": self.end})
        return queryset if start is None else queryset.filter(**{f"{field}__gte": start})


def choose_window(raw_days: str | None) -> Window:
    """``?days=`` (7, 30, 90, 365 or ``all``; default 30), ending now, or at the newest execution
    when none fall in the last ``days`` (imported history ends in the past)."""
    days: int | None = DEFAULT_DAYS
    if raw_days == "all":
        days = None
    elif raw_days and raw_days.isdigit() and int(raw_days) in WINDOWS:
        days = int(raw_days)
    now = timezone.now()
    newest = TestRecord.objects.order_by("-created_at").values_list("created_at", flat=True)[:1]
    newest = newest[0] if newest else None
    if days is None or newest is None or newest >= now - timedelta(days=days):
        return Window(days=days, end=now, follows_data=False)
    return Window(days=days, end=newest, follows_data=True)


def newest_executions(window: Window) -> list[tuple[str, str]]:
    """(status, error_type) of the newest SAMPLE executions of the window."""
    rows = window.of(TestRecord.objects.all()).order_by("-created_at")
    return list(rows.values_list("status", "error_type")[:SAMPLE])


def daily_counts(window: Window) -> list[tuple[str, int]]:
    """(day, executions) for the last DAYS_SHOWN days of the window that had any, newest
    first; each a count of one day's range of record_created_idx, stopped at DAY_CAP + 1."""
    zone = timezone.get_current_timezone()
    last = timezone.localtime(window.end, zone).date()
    days = min(DAYS_SHOWN, window.days or DAYS_SHOWN)
    found = []
    for back in range(days):
        day = last - timedelta(days=back)
        since = datetime.combine(day, time.min, tzinfo=zone)
        runs = TestRecord.objects.filter(
            created_at__gte=since, created_at__lt=since + timedelta(days=1)
        )
        if n := runs.order_by()[: DAY_CAP + 1].count():
            found.append((day.isoformat(), n))
    return found


def platform_means(window: Window) -> list[tuple[str, float]]:
    """Mean main-brand visibility score per platform over the newest SAMPLE scored rows of
    the window, highest first (the query repeats brandscore_main_recent_idx's condition)."""
    scores = BrandScore.objects.filter(is_main_brand=True).exclude(platform="")
    rows = window.of(scores).order_by("-created_at").values_list("platform", "visibility_score")
    sums: dict[str, list[float]] = defaultdict(list)
    for platform, score in rows[:SAMPLE]:
        if score is not None:
            sums[platform].append(score)
    means = [(p, sum(values) / len(values)) for p, values in sums.items()]
    return sorted(means, key=lambda row: -row[1])


def dashboard_view(request, *, admin_site, opts):
    """Charts over the chosen window, read from stored values in bounded, indexed slices."""
    window = choose_window(request.GET.get("days"))
    newest = newest_executions(window)
    status_counts = Counter(status for status, _ in newest).most_common()
    by_status = [
        row | {"colour": STATUS_COLOURS.get(row["label"], "#417690")} for row in bars(status_counts)
    ]
    for row in by_status:
        row["label"] = status_label(row["label"])
    per_day = bars(daily_counts(window))
    for row in per_day:
        row["capped"] = row["count"] > DAY_CAP
    by_error = bars(Counter(error for _, error in newest if error).most_common())
    by_platform = [
        {"label": p, "value": f"{m:.1f}", "width": max(1, round(m))}
        for p, m in platform_means(window)
    ]
    context = {
        **admin_site.each_context(request),
        "title": "Executions dashboard",
        "window": window,
        "windows": [
            {
                "value": "all" if d is None else str(d),
                "label": "all" if d is None else f"{d} days",
                "current": d == window.days,
            }
            for d in WINDOWS
        ],  # fmt: skip
        "by_status": by_status,
        "per_day": per_day,
        "by_platform": by_platform,
        "by_error": by_error,
        "total": len(newest),
        "sampled": len(newest) >= SAMPLE,
        "sample": SAMPLE,
        "day_cap": DAY_CAP,
        "monitors_url": reverse("admin:records_monitor_changelist"),
        "opts": opts,
    }
    return TemplateResponse(request, "admin/records/testrecord/dashboard.html", context)
