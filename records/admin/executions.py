"""Staff views of executions and their answers: list, detail, actions."""

import csv
import re
import uuid
from html import escape

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ERROR_FLAG
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from records import costs, services
from records.admin.dashboard import dashboard_view
from records.admin.display import pretty_json, spend_text, status_bar
from records.models import Answer, AnswerStatus, TestRecord
from records.platforms import KNOWN_PLATFORMS
from records.reads import IdsFirstPaginator
from records.reports import discovered_entities

# A search term that is a (short) execution id: the 8 characters the list shows, or more.
HEX_PREFIX = re.compile(r"[0-9a-f]{4,32}")
# The changelist counts at most this many matching rows (one bounded index scan), never the table.
COUNT_CAP = 10_000


class CappedCountPaginator(IdsFirstPaginator):
    """The changelist's paginator without an exact COUNT over a growing table: it counts at
    most COUNT_CAP + 1 matching rows (``SELECT COUNT(*) FROM (… LIMIT n)``), so a filter that
    matches a million rows costs what one that matches ten thousand does. Past the cap the
    page links stop at COUNT_CAP / per_page and the result count reads COUNT_CAP + 1. Pages
    are read ids first (records.reads.IdsFirstPaginator)."""

    @cached_property
    def count(self) -> int:
        return self.object_list[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


# OWASP "CSV injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value as a CSV cell a spreadsheet shows as text: a string that would start a
    formula gets a leading apostrophe (numbers and dates are written as they are)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class PlatformFilter(admin.SimpleListFilter):
    """Executions among the newest BRANDTEST_ADMIN_PLATFORM_WINDOW that asked a platform: no
    index serves "this JSON list holds X" on both databases, and a platform nobody asked would
    otherwise read every row of the table."""

    parameter_name = "platform"

    def __init__(self, request, params, model, model_admin):
        self.window = settings.BRANDTEST_ADMIN_PLATFORM_WINDOW
        self.title = _("platform (newest %(n)s runs)") % {"n": f"{self.window:,}"}
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [(p, p) for p in KNOWN_PLATFORMS]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # The created_at of the window's oldest run: one index-only OFFSET into
        # record_created_idx; the page and its count then read only newer runs, by that index.
        newest = TestRecord.objects.order_by("-created_at").values_list("created_at", flat=True)
        oldest = list(newest[self.window - 1 : self.window])
        if oldest:
            queryset = queryset.filter(created_at__gte=oldest[0])
        # JSON list stored as text on both backends; match the quoted id.
        return queryset.alias(platforms_text=Cast("platforms", TextField())).filter(
            platforms_text__contains=f'"{self.value()}"'
        )


# The change page lists at most this many answers (the API's /answers/ pages through all of them).
ANSWER_ROWS = 500


def answer_mentions(answer) -> str:
    """Each mentioned brand as "name #rank (method) @offset"."""
    brands = (answer.analysis or {}).get("brands") or {}
    return (
        "; ".join(
            f"{name} #{entry['rank']} ({entry['rank_method']}) @{entry['first_offset']}"
            for name, entry in brands.items()
            if entry.get("mentioned")
        )
        or "—"
    )


def answer_entities(answer) -> str:
    """The brands an answer recommends (#rank, ✓ when tracked), then its information sources."""
    found = (answer.analysis or {}).get("entities") or []
    recommended = [
        f"{e['name']}"
        + (f" #{e['rank']}" if e["rank"] is not None else "")
        + (" ✓" if e["tracked"] else "")
        for e in found
        if e["role"] == "recommended"
    ]
    sources = [e["name"] for e in found if e["role"] == "source"]
    text = "; ".join(recommended) + (f" | {_('sources')}: {', '.join(sources)}" if sources else "")
    return text or "—"


def short_text(answer) -> str:
    text = answer.text or answer.error
    return text[:160] + ("…" if len(text) > 160 else "")


def _blank(value) -> object:
    return "—" if value is None or value == "" else value


# (header, value of an answer) for the change page's answers table.
ANSWER_COLUMNS = (
    (_("question"), lambda a: a.question_index),
    (_("brand"), lambda a: a.brand or "—"),
    (_("platform"), lambda a: a.platform),
    (_("run"), lambda a: a.run_index),
    (_("status"), lambda a: a.get_status_display()),
    (_("model"), lambda a: _blank(a.model_name)),
    (_("latency (ms)"), lambda a: _blank(a.latency_ms)),
    (_("error type"), lambda a: _blank(a.error_type)),
    (_("mentions: rank (method) @offset"), answer_mentions),
    (_("entities: recommended #rank, sources"), answer_entities),
    (_("answer"), short_text),
)

# (header, value of a score) for the change page's scores table.
SCORE_COLUMNS = (
    (_("brand"), lambda s: s.brand),
    (_("platform"), lambda s: s.platform or _("overall")),
    (_("visibility score"), lambda s: _blank(s.visibility_score)),
    (_("mention rate"), lambda s: _blank(s.mention_rate)),
    (_("MRR"), lambda s: _blank(s.mrr)),
    (_("share of voice"), lambda s: _blank(s.share_of_voice)),
    (_("avg rank"), lambda s: _blank(s.avg_rank)),
    (_("ranked answers"), lambda s: _blank(s.avg_rank_n)),
    (_("NSS"), lambda s: _blank(s.nss)),
    (_("coverage"), lambda s: _blank(s.coverage)),
    (_("scoring version"), lambda s: s.scoring_version),
)


def html_table(columns, rows) -> SafeString:
    """A read-only table of ``rows``, one escaped cell per (header, value) column. The admin's
    inline formsets render a form per row (~5 ms each: 0.4 s for a 72-answer run); this is one
    string join."""
    head = "".join(f'<th scope="col">{escape(str(header))}</th>' for header, _ in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(value(row)))}</td>" for _, value in columns) + "</tr>"
        for row in rows
    )
    return mark_safe(  # noqa: S308 - every header and cell is escaped above
        f'<table class="records-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


@admin.register(TestRecord)
class TestRecordAdmin(admin.ModelAdmin):
    """Executions, newest first; read-only apart from the actions."""

    list_display = (
        "short_id",
        "brand_name",
        "owner",
        "status",
        "stage",
        "progress_bar",
        "platform_list",
        "counts",
        "overall_score",
        "created_at",
        "duration",
    )
    list_filter = ("status", "stage", PlatformFilter, "source", "created_at")
    search_fields = ("=execution_id", "=brand_name")
    list_select_related = ("owner",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    # Rendering a row costs ~2 ms of Python (13 columns); the queries behind a page cost ~1 ms.
    list_per_page = 20
    date_hierarchy = None
    actions = ("cancel_executions", "retry_executions", "reanalyse_executions", "export_csv")
    fieldsets = (
        (
            _("Input"),
            {
                "fields": (
                    "execution_id",
                    "owner",
                    "source",
                    "monitor",
                    "scheduled_for",
                    "brand_name",
                    "competitor_brands",
                    "questions",
                    "platforms",
                    "repeats",
                )
            },
        ),
        (
            _("Lifecycle"),
            {
                "fields": (
                    "status",
                    "stage",
                    "progress",
                    "total_tasks",
                    "completed_tasks",
                    "failed_tasks",
                    "error_type",
                    "error",
                    "created_at",
                    "started_at",
                    "finished_at",
                    "updated_at",
                    "heartbeat_at",
                    "version",
                )
            },
        ),
        (_("Summary"), {"fields": ("overall_score", "estimated_cost", "summary_json")}),
        (_("Scores"), {"fields": ("scores_table",)}),
        (_("Answers"), {"fields": ("answers_table",)}),
        (_("Who the answers recommend instead"), {"fields": ("discovered_entities_table",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).defer("brand_aliases")

    def changelist_view(self, request, extra_context=None):
        # A NUL byte in a filter or search value fails on PostgreSQL text columns (DataError):
        # such a value matches nothing, so it is Django's "invalid filter" page (?e=1).
        if any("\x00" in "".join([key, *values]) for key, values in request.GET.lists()):
            return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view(self.dashboard_view)
        return [
            path("dashboard/", view, name="records_testrecord_dashboard"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request):
        return dashboard_view(request, admin_site=self.admin_site, opts=self.model._meta)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in TestRecord._meta.fields] + [
            "estimated_cost",
            "summary_json",
            "scores_table",
            "answers_table",
            "discovered_entities_table",
        ]

    @admin.display(description=_("estimated cost"))
    def estimated_cost(self, record):
        """Stored token counts times the example prices in settings (records.costs)."""
        spend = costs.execution_spend(record)
        rows = ", ".join(
            f"{row['platform']}: {row['calls']} calls, {row['prompt_tokens']} + "
            f"{row['completion_tokens']} tokens"
            for row in spend["by_platform"]
        )
        return f"{spend_text(spend)} ({rows})" if rows else "— (no answers yet)"

    def get_search_results(self, request, queryset, search_term):
        # Indexed lookups only: an exact brand name, or an execution id or its first characters
        # (the short id the list shows) as a range scan of the unique execution_id index.
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(brand_name=term)
        prefix = term.lower().replace("-", "")
        if HEX_PREFIX.fullmatch(prefix):
            match |= Q(
                execution_id__gte=uuid.UUID(prefix.ljust(32, "0")),
                execution_id__lte=uuid.UUID(prefix.ljust(32, "f")),
            )
        return queryset.filter(match), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description=_("id"), ordering="execution_id")
    def short_id(self, record):
        return str(record.execution_id)[:8]

    @admin.display(description=_("progress"), ordering="progress")
    def progress_bar(self, record):
        return status_bar(record)

    @admin.display(description=_("platforms"))
    def platform_list(self, record):
        return ", ".join(record.platforms)

    @admin.display(description=_("done / failed / total"))
    def counts(self, record):
        return f"{record.completed_tasks} / {record.failed_tasks} / {record.total_tasks}"

    @admin.display(description=_("duration"))
    def duration(self, record):
        seconds = record.duration_seconds
        return "—" if seconds is None else f"{seconds:.1f} s"

    @admin.display(description=_("results summary"))
    def summary_json(self, record):
        return pretty_json(record.results_summary)

    @admin.display(description=_("stored scores per brand and platform"))
    def scores_table(self, record):
        scores = list(record.scores.all())
        return html_table(SCORE_COLUMNS, scores) if scores else "—"

    @staticmethod
    def stored_answers(record) -> list[Answer]:
        """The run's answers without their long columns, read once per page (the answers table
        and the entities table both use them)."""
        if not hasattr(record, "_admin_answers"):
            record._admin_answers = list(record.answers.defer("sources", "question", "web_queries"))
        return record._admin_answers

    @admin.display(description=_("answers, long text left out"))
    def answers_table(self, record):
        answers = self.stored_answers(record)
        total = len(answers)
        if not total:
            return "—"
        table = html_table(ANSWER_COLUMNS, answers[:ANSWER_ROWS])
        if total <= ANSWER_ROWS:
            return table
        return format_html(
            "<p>{}</p>{}",
            _("The first %(shown)s of %(total)s answers; GET %(url)s pages through all of them.")
            % {
                "shown": f"{ANSWER_ROWS:,}",
                "total": f"{total:,}",
                "url": f"/api/v1/executions/{record.execution_id}/answers/",
            },
            table,
        )

    @admin.display(description=_("untracked entities"))
    def discovered_entities_table(self, record):
        answers = [a for a in self.stored_answers(record) if a.status == AnswerStatus.SUCCESS]
        rows = discovered_entities(answers)
        if not rows:
            return "—"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row["name"],
                    row["answers"],
                    ", ".join(row["platforms"]),
                    "—" if row["mean_rank"] is None else row["mean_rank"],
                    row["mentions"],
                )
                for row in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            _("entity"),
            _("answers recommending"),
            _("platforms"),
            _("mean rank"),
            _("answers naming"),
            body,
        )

    def apply_service(self, request, queryset, service, done_message: str, skipped_message: str):
        """Run a service on each selected execution; report how many it applied to."""
        done, skipped = [], 0
        for record in queryset:
            try:
                done.append(str(service(record=record).execution_id)[:8])
            except services.InvalidTransition:
                skipped += 1
        self.message_user(
            request,
            f"{done_message.format(n=len(done), ids=', '.join(done) or 'none')}; "
            f"{skipped} {skipped_message}.",
            messages.SUCCESS if done else messages.WARNING,
        )

    @admin.action(description=_("Cancel selected executions"))
    def cancel_executions(self, request, queryset):
        self.apply_service(
            request, queryset, services.cancel_execution, "Cancelled {n}", "had already ended"
        )

    @admin.action(description=_("Retry selected executions (ask only the missing calls)"))
    def retry_executions(self, request, queryset):
        self.apply_service(
            request,
            queryset,
            services.retry_execution,
            "Started {n} new attempt(s) ({ids})",
            "not retryable (only failed, partial or cancelled runs are)",
        )

    @admin.action(description=_("Re-analyse selected executions from stored answers"))
    def reanalyse_executions(self, request, queryset):
        self.apply_service(
            request,
            queryset,
            services.reanalyse_execution,
            "Re-analysed {n}",
            "still running (re-analyse them once they end)",
        )

    @admin.action(description=_("Export selected executions as CSV"))
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="executions.csv"'
        response.write("\ufeff")  # so spreadsheet programs read the Chinese names as UTF-8
        writer = csv.writer(response)
        writer.writerow(EXPORT_COLUMNS)
        for record in queryset.select_related("owner").order_by("-created_at"):
            row = [
                record.execution_id,
                record.brand_name,
                "、".join(record.competitor_brands),
                ",".join(record.platforms),
                record.status,
                record.owner.get_username() if record.owner else "",
                record.completed_tasks,
                record.failed_tasks,
                record.total_tasks,
                record.overall_score if record.overall_score is not None else "",
                record.error_type,
                record.created_at.isoformat(),
                record.finished_at.isoformat() if record.finished_at else "",
            ]
            writer.writerow([csv_cell(value) for value in row])
        return response


EXPORT_COLUMNS = (
    "execution_id",
    "brand",
    "competitors",
    "platforms",
    "status",
    "owner",
    "succeeded",
    "failed",
    "total",
    "visibility_score",
    "error_type",
    "created_at",
    "finished_at",
)
