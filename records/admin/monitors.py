"""Staff views of monitors: list, detail with brands and prompts inline, actions, and the monitor
page (trend charts read from stored scores)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from records import charts, costs, monitoring
from records.admin.discovered import discovered_panel, track_entity
from records.admin.display import STATUS_COLOURS, spend_text, status_label
from records.analysis.scoring import is_cited
from records.models import (
    Answer,
    AnswerStatus,
    BrandScore,
    Monitor,
    MonitorStatus,
    Prompt,
    TestRecord,
    TrackedBrand,
)

# The monitor page shows this many days up to the newest run (``?days=`` picks another).
PAGE_DAYS = 56
RUN_HISTORY_ROWS = 30
TOP_DOMAINS = 5
# About 95 % of a normal sampling distribution lies within this many standard errors.
Z95 = 1.96


class TrackedBrandInline(admin.TabularInline):
    """The monitor's brands: exactly one main brand, the rest competitors."""

    model = TrackedBrand
    extra = 0
    fields = ("name", "is_main", "aliases", "domains")


class PromptInline(admin.TabularInline):
    """The monitor's prompts; retired ones stay listed, so every run's prompt set is known."""

    model = Prompt
    extra = 0
    fields = ("text", "tags", "branded", "branded_overridden", "active_from", "retired_at")
    readonly_fields = ("active_from", "retired_at")


@admin.register(Monitor)
class MonitorAdmin(admin.ModelAdmin):
    """Monitors, newest first; each links to its page of trend charts."""

    list_display = (
        "name",
        "owner",
        "status",
        "schedule",
        "timezone",
        "platform_list",
        "next_run_at",
        "monthly_call_budget",
        "weekly_digest",
        "last_skip_reason",
        "page_link",
    )
    list_filter = ("status", "weekly_digest")
    search_fields = ("name",)
    list_select_related = ("owner",)
    show_full_result_count = False
    inlines = (TrackedBrandInline, PromptInline)
    actions = ("pause_monitors", "resume_monitors", "run_monitors_now")
    readonly_fields = (
        "next_run_at",
        "last_scheduled_for",
        "last_skip_reason",
        "last_skipped_at",
        "last_digest_week",
        "created_at",
        "updated_at",
    )

    def get_urls(self):
        view = self.admin_site.admin_view(self.page_view)
        track = self.admin_site.admin_view(self.track_entity_view)
        return [
            path("<int:monitor_id>/page/", view, name="records_monitor_page"),
            path("<int:monitor_id>/track-entity/", track, name="records_monitor_track_entity"),
            *super().get_urls(),
        ]

    @admin.action(description=_("Pause the selected monitors"))
    def pause_monitors(self, request, queryset):
        paused = 0
        for monitor in queryset.filter(status=MonitorStatus.ACTIVE):
            monitoring.pause_monitor(monitor=monitor, reason=f"paused by {request.user} (admin)")
            paused += 1
        self.message_user(request, f"{paused} monitor(s) paused; runs already started finish.")

    @admin.action(description=_("Resume the selected monitors"))
    def resume_monitors(self, request, queryset):
        resumed = [
            monitoring.resume_monitor(monitor=monitor)
            for monitor in queryset.filter(status=MonitorStatus.PAUSED)
        ]
        nexts = ", ".join(f"{m.name}: {m.next_run_at:%Y-%m-%d %H:%M} UTC" for m in resumed)
        self.message_user(
            request, f"{len(resumed)} monitor(s) resumed (no catch-up). Next runs: {nexts or '—'}."
        )

    @admin.action(description=_("Run the selected monitors now"))
    def run_monitors_now(self, request, queryset):
        for monitor in queryset.select_related("owner"):
            try:
                started = monitoring.start_monitor_run(monitor=monitor)
            except monitoring.BudgetExceeded as exc:
                self.message_user(request, f"{monitor.name}: not started, {exc}", messages.ERROR)
                continue
            record = started.record
            link = reverse("admin:records_testrecord_change", args=[record.pk])
            verb = "started" if started.created else "already started a moment ago"
            self.message_user(
                request,
                format_html(
                    '{}: execution <a href="{}">{}</a> {} ({} calls).',
                    monitor.name,
                    link,
                    str(record.execution_id)[:8],
                    verb,
                    record.total_tasks,
                ),  # fmt: skip
            )

    @admin.display(description=_("platforms"))
    def platform_list(self, monitor):
        return ", ".join(monitor.platforms)

    @admin.display(description=_("trends"))
    def page_link(self, monitor):
        return format_html(
            '<a href="{}">charts</a>', reverse("admin:records_monitor_page", args=[monitor.pk])
        )

    def page_view(self, request, monitor_id: int):
        monitor = get_object_or_404(Monitor.objects.select_related("owner"), pk=monitor_id)
        page = monitor_page_context(monitor, request.GET.get("days"))
        context = {
            **self.admin_site.each_context(request),
            **page,
            "discovered": discovered_panel(
                monitor,
                page["since"],
                days=page["days"],
                can_track=self.has_change_permission(request, monitor),
            ),
            "title": f"Monitor: {monitor.name}",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/records/monitor/page.html", context)

    def track_entity_view(self, request, monitor_id: int):
        """The panel's "track this competitor" button (records/admin/discovered.py)."""
        return track_entity(self, request, monitor_id)


def _period(run: TestRecord, zone: ZoneInfo) -> date:
    """The day a run stands for, in the monitor's time zone."""
    return timezone.localtime(run.scheduled_for or run.created_at, zone).date()


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def monitor_page_context(monitor: Monitor, raw_days: str | None) -> dict:
    """Everything the monitor page draws, from stored rows: runs, scores, citations."""
    zone = ZoneInfo(monitor.timezone)
    days = int(raw_days) if raw_days and raw_days.isdigit() and int(raw_days) > 0 else PAGE_DAYS
    runs_qs = TestRecord.objects.filter(monitor=monitor)
    newest = runs_qs.order_by("-created_at").values_list("created_at", flat=True).first()
    end = max(newest, timezone.now()) if newest else timezone.now()
    since: datetime = (newest or end) - timedelta(days=days)
    runs = list(
        runs_qs.filter(created_at__gte=since)
        .order_by("created_at")
        .only(
            "execution_id", "scheduled_for", "created_at", "status", "total_tasks",
            "completed_tasks", "failed_tasks", "overall_score", "results_summary", "access_mode",
        )
    )  # fmt: skip
    period_of = {run.pk: _period(run, zone) for run in runs}
    periods = sorted(set(period_of.values()))
    labels = [f"{p:%m-%d}" for p in periods]
    brands = list(monitor.brands.order_by("-is_main", "id").values_list("name", flat=True))
    main = brands[0] if brands else ""

    # Access modes never share a series: a monitor that switched mode shows one line per mode.
    mode_of = {run.pk: run.access_mode for run in runs}
    modes = sorted(set(mode_of.values()))
    # The single-line charts (band, leaderboard) show the mode of the newest run.
    shown = runs[-1].access_mode if runs else "plain"

    def named(name: str, mode: str) -> str:
        return f"{name} · {mode}" if len(modes) > 1 else name

    # (metric, brand, platform, mode) -> period -> values of the runs that day.
    cells: dict[tuple, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in BrandScore.objects.filter(record__in=[r.pk for r in runs]).values(
        "record_id", "brand", "platform", "visibility_score", "mention_rate",
        "mention_rate_se", "share_of_voice",
    ):  # fmt: skip
        period = period_of[row["record_id"]]
        mode = mode_of[row["record_id"]]
        for metric in ("visibility_score", "mention_rate", "mention_rate_se", "share_of_voice"):
            if row[metric] is not None:
                cells[(metric, row["brand"], row["platform"], mode)][period].append(row[metric])

    def series(
        metric: str, brand: str, platform: str, scale: float = 1.0, mode: str | None = None
    ) -> list[float | None]:
        by_period = cells.get((metric, brand, platform, mode or shown), {})
        return [
            None if (m := _mean(by_period.get(p, []))) is None else round(m * scale, 2)
            for p in periods
        ]

    platforms = sorted({platform for (_, _, platform, _) in cells if platform})
    visibility = {}
    for mode in modes:
        for p in platforms:
            visibility[named(p, mode)] = series("visibility_score", main, p, mode=mode)
        if len(platforms) > 1:
            visibility[named("overall", mode)] = series("visibility_score", main, "", mode=mode)
    rate = series("mention_rate", main, "", 100)
    se = series("mention_rate_se", main, "", 100)
    pairs = list(zip(rate, se, strict=True))
    low = [None if r is None or s is None else max(0.0, r - Z95 * s) for r, s in pairs]
    high = [None if r is None or s is None else min(100.0, r + Z95 * s) for r, s in pairs]

    leaderboard = _leaderboard(brands, periods, series)
    domains = _domain_weeks(runs, period_of)
    history = _run_history(runs[::-1][:RUN_HISTORY_ROWS], period_of)
    synthetic = "demo" in monitor.platforms
    return {
        "monitor": monitor,
        "days": days,
        "since": since,
        "periods": periods,
        "runs_in_range": len(runs),
        "synthetic": synthetic,
        "brands": brands,
        "main_brand": main,
        "leaderboard": leaderboard,
        "history": history,
        "budget": _budget(monitor),
        "access_modes": modes,
        "charts": {
            "visibility": charts.line_chart(
                title=f"Visibility score of {main} per platform (0–100)",
                x_labels=labels,
                series=visibility,
                y_range=(0, 100),
            ),
            "share_of_voice": charts.line_chart(
                title="Share of voice of every tracked brand (%)",
                x_labels=labels,
                series={
                    named(b, mode): series("share_of_voice", b, "", 100, mode=mode)
                    for mode in modes
                    for b in brands
                },
                y_range=(0, 100),
            ),
            "mention_rate": charts.mention_rate_chart(
                main=main,
                x_labels=labels,
                rate=rate,
                low=low,
                high=high,
                note=f" ({shown} mode)" if len(modes) > 1 else "",
            ),
            "leaderboard": charts.horizontal_bar_chart(
                title="Visibility score, latest day"
                + (f" ({shown} mode)" if len(modes) > 1 else ""),
                rows=[(row["brand"], row["latest"]) for row in leaderboard],
                x_range=(0, 100),
            ),
            "domains": charts.stacked_bar_chart(
                title=f"Top {TOP_DOMAINS} cited domains: answers citing each, weeks from Monday",
                x_labels=domains["labels"],
                series=domains["series"],
            ),
        },
    }


def _leaderboard(brands: list[str], periods: list[date], series) -> list[dict]:
    """Tracked brands by their latest overall visibility score, with the change since the day
    before it (the trend API's ``changes`` says whether a change is beyond noise)."""
    rows = []
    for brand in brands:
        values = series("visibility_score", brand, "")
        known = [v for v in values if v is not None]
        latest = known[-1] if known else None
        previous = known[-2] if len(known) > 1 else None
        rows.append(
            {
                "brand": brand,
                "latest": latest,
                "previous": previous,
                "delta": None if latest is None or previous is None else latest - previous,
                "mean": _mean(known),
            }
        )
    return sorted(rows, key=lambda r: -(r["latest"] or 0))


def _domain_weeks(runs: list[TestRecord], period_of: dict[int, date]) -> dict:
    """Answers citing each of the most cited domains, per ISO week of the runs."""
    week_of = {pk: period - timedelta(days=period.weekday()) for pk, period in period_of.items()}
    per_week: dict[date, Counter[str]] = defaultdict(Counter)
    for record_id, citations in Answer.objects.filter(
        record__in=list(week_of), status=AnswerStatus.SUCCESS
    ).values_list("record_id", "analysis__citations"):
        per_week[week_of[record_id]].update(
            {c["domain"] for c in citations or [] if c.get("domain") and is_cited(c)}
        )
    total: Counter[str] = sum(per_week.values(), Counter())
    top = [domain for domain, _ in total.most_common(TOP_DOMAINS)]
    weeks = sorted(per_week)
    return {
        "labels": [f"{w:%m-%d}" for w in weeks],
        "series": {d: [per_week[w][d] for w in weeks] for d in top},
    }


def _run_history(runs: list[TestRecord], period_of: dict[int, date]) -> list[dict]:
    """The newest runs with their estimated spend (one aggregate query for all of them)."""
    spend = costs.spend_per_execution([run.pk for run in runs])
    return [
        {
            "short_id": str(run.execution_id)[:8],
            "url": reverse("admin:records_testrecord_change", args=[run.pk]),
            "period": period_of[run.pk],
            "scheduled": run.scheduled_for is not None,
            "status": status_label(run.status),
            "colour": STATUS_COLOURS.get(run.status, "#417690"),
            "calls": f"{run.completed_tasks} / {run.failed_tasks} / {run.total_tasks}",
            "score": run.overall_score,
            "cost": spend_text(spend.get(run.pk)),
        }
        for run in runs
    ]


def _budget(monitor: Monitor) -> dict:
    """This month's planned calls against the budget and the estimated spend, as the scheduler
    counts them (records.monitoring), and the last skip."""
    spend = monitoring.monitor_month_spend(monitor)
    projected = spend["projected_by_currency"]
    return {
        "month": spend["month"],
        "calls": spend["calls"],
        "limit": spend["budget"],
        "runs": spend["runs"],
        "spent": spend_text(spend["spent"]),
        "projected": " + ".join(f"≈ {c} {a:.4f}" for c, a in projected.items()) or "—",
        "runs_remaining": spend["runs_remaining"],
        "skip_reason": monitor.last_skip_reason,
        "skipped_at": monitor.last_skipped_at,
    }
