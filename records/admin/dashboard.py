"""The executions dashboard: counts and scores over a window that follows the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Count
from django.db.models.functions import TruncDate
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from records.admin.display import STATUS_COLOURS, status_label
from records.models import BrandScore, TestRecord

# The windows a staff member can pick (days); None is "all time".
WINDOWS = (7, 30, 90, 365, None)
DEFAULT_DAYS = 30


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


def dashboard_view(request, *, admin_site, opts):
    """Charts over the chosen window, read from stored values."""
    window = choose_window(request.GET.get("days"))
    recent = window.of(TestRecord.objects.all())
    status_counts = recent.values_list("status").annotate(n=Count("id")).order_by("-n")
    by_status = [
        row | {"colour": STATUS_COLOURS.get(row["label"], "#417690")} for row in bars(status_counts)
    ]
    for row in by_status:
        row["label"] = status_label(row["label"])
    per_day = bars(
        recent.annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by("-day")[:14]
    )
    by_error = bars(
        recent.exclude(error_type="")
        .values_list("error_type")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    platform_means = (
        window.of(BrandScore.objects.filter(is_main_brand=True), "record__created_at")
        .exclude(platform="")
        .values_list("platform")
        .annotate(mean=Avg("visibility_score"))
        .order_by("-mean")
    )
    by_platform = [
        {"label": p, "value": f"{m:.1f}", "width": max(1, round(m))}
        for p, m in platform_means
        if m is not None
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
        "total": sum(row["count"] for row in by_status),
        "monitors_url": reverse("admin:records_monitor_changelist"),
        "opts": opts,
    }
    return TemplateResponse(request, "admin/records/testrecord/dashboard.html", context)
