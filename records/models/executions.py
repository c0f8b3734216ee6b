"""Brand-test executions, their answers, their stored reports and scores."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from records.engine.base import ACCESS_MODES
from records.models.choices import (
    ACTIVE_STATUSES,
    ENDED_STAGE,
    TERMINAL_STATUSES,
    AnswerStatus,
    Source,
    Stage,
    Status,
)

# How a run asked its platforms (records.engine.base.ACCESS_MODES): web search off or on.
ACCESS_MODE_CHOICES = [(mode, mode) for mode in ACCESS_MODES]


def ending_fields(*, status: str, error_type: str, error: str, at: datetime) -> dict:
    """What every end of an execution writes (finish, cancel, fail, reap), besides the version."""
    return {
        "status": status,
        "stage": ENDED_STAGE[status],
        "progress": 100,
        "error_type": error_type,
        "error": error,
        "finished_at": at,
        "updated_at": at,
    }


def is_visible_to(owner_id: int | None, user) -> bool:
    """Whether a caller (None: anonymous) may open a run by id: anonymous runs by anyone
    holding the id (it is the capability); owned runs by their owner and staff only.
    ``TestRecordQuerySet.visible_to`` is the same rule as a filter."""
    if owner_id is None:
        return True
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or user.pk == owner_id


class TestRecordQuerySet(models.QuerySet):
    """Reads over executions, and their transitions (conditional UPDATEs)."""

    def active(self) -> TestRecordQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def terminal(self) -> TestRecordQuerySet:
        return self.filter(status__in=TERMINAL_STATUSES)

    def visible_to(self, user) -> TestRecordQuerySet:
        """``is_visible_to`` as a filter (the one rule, both ways)."""
        if user is not None and user.is_authenticated:
            if user.is_staff:
                return self
            return self.filter(Q(owner=user) | Q(owner__isnull=True))
        return self.filter(owner__isnull=True)

    def owned_by(self, user) -> TestRecordQuerySet:
        """The caller's own history; anonymous callers have none."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)

    def stale(self, *, older_than_seconds: int) -> TestRecordQuerySet:
        """Running executions whose worker stopped refreshing the heartbeat."""
        cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
        # The condition of record_running_heartbeat_idx and its order (oldest first), so the
        # scan is of that small index only.
        running = self.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff)
        return running.order_by("heartbeat_at")

    def orphaned(self, *, older_than_seconds: int) -> TestRecordQuerySet:
        """Runs handed back to the queue (they have a heartbeat) that no worker took since:
        their task was lost between the hand-back and the enqueue, or no worker is running."""
        cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
        # record_queued_heartbeat_idx's condition and order, as ``stale`` does.
        return self.filter(status=Status.QUEUED, heartbeat_at__lt=cutoff).order_by("heartbeat_at")

    # Transitions: each is one conditional UPDATE returning the number of rows it changed; all
    # but the heartbeat bump ``version`` (the poll's ETag) and ``updated_at`` through ``stamp``.
    # All but ``revise`` apply to active rows only, so an ended execution never changes state
    # again, whoever writes late.

    def claim(self) -> int:
        """Queued -> running; the one worker whose UPDATE changes the row runs it. A resumed run
        keeps the moment it first started."""
        now = timezone.now()
        return self.filter(status=Status.QUEUED).stamp(
            now,
            status=Status.RUNNING,
            stage=Stage.AI_FETCHING,
            started_at=Coalesce(F("started_at"), Value(now)),
            heartbeat_at=now,
        )

    def release(self) -> int:
        """Running -> queued, handed back for another worker to resume (a worker shutting down,
        or the reaper for a lost one); the stage stays ai_fetching and ``resumed`` counts it."""
        now = timezone.now()
        return self.filter(status=Status.RUNNING).stamp(
            now, status=Status.QUEUED, heartbeat_at=now, resumed=F("resumed") + 1
        )

    def advance(self, **fields) -> int:
        """Write an active run's progress (counters, stage); a write is also a heartbeat."""
        now = timezone.now()
        return self.active().stamp(now, heartbeat_at=now, **fields)

    def end(
        self,
        *,
        status: str,
        error_type: str = "",
        error: str = "",
        at: datetime | None = None,
        **fields,
    ) -> int:
        """Move active runs to the terminal ``status``: finish, cancel, fail and reap.

        ``at`` (default now) is the moment it ended, for a caller that mirrors the row.
        """
        at = at or timezone.now()
        changes = ending_fields(status=status, error_type=error_type, error=error, at=at)
        return self.active().stamp(at, **changes, **fields)

    def heartbeat(self) -> int:
        """Show that running rows' worker is alive. Not a state change: the version (the status
        body's ETag) stays, so pollers are not sent an unchanged body."""
        return self.filter(status=Status.RUNNING).update(heartbeat_at=timezone.now())

    def revise(self, **fields) -> int:
        """Rewrite derived fields (scores, summary) of rows in any state: a re-analysis."""
        return self.stamp(timezone.now(), **fields)

    def stamp(self, now: datetime, **fields) -> int:
        """The bookkeeping of every transition: write ``fields`` at ``now``, bump the version."""
        return self.update(**fields | {"updated_at": now, "version": F("version") + 1})


class TestRecord(models.Model):
    """One brand-test execution: its input, lifecycle and summary."""

    execution_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="test_records",
        help_text="Who started the run; empty for anonymous runs (readable by execution id).",
    )
    source = models.CharField(max_length=20, choices=Source, default=Source.API)
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
        help_text="The execution this attempt retries; its successful answers were reused.",
    )
    # "<source file identity>:<row id>" of an imported legacy run; makes imports idempotent.
    legacy_key = models.CharField(max_length=200, blank=True)
    # Who asked, for de-duplicating re-sent starts: "user:<id>", "device:<X-Device-ID>" or "".
    caller_key = models.CharField(max_length=150, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    # sha256 of the normalised input; an identical start from the same caller is a re-send.
    request_fingerprint = models.CharField(max_length=64, blank=True)

    # The monitor whose schedule (or run-now) started this execution; null for one-off tests.
    # SET_NULL so a deleted monitor leaves its history behind as ordinary executions.
    monitor = models.ForeignKey(
        "records.Monitor",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="executions",
        db_index=False,  # record_monitor_created_idx leads with monitor_id.
    )
    # The schedule period this run was started for; null for a run started by hand.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    # Parallel to ``questions``: the monitor Prompt id each question came from (M2 keys cells).
    prompt_ids = models.JSONField(default=list, blank=True)

    brand_name = models.CharField(max_length=100)
    competitor_brands = models.JSONField(default=list, blank=True)
    brand_aliases = models.JSONField(default=dict, blank=True)
    questions = models.JSONField(default=list)
    platforms = models.JSONField(default=list)
    repeats = models.PositiveSmallIntegerField(default=1)
    # Every call of the run is asked in this mode; its answers, scores and trend series carry it.
    access_mode = models.CharField(max_length=10, choices=ACCESS_MODE_CHOICES, default="plain")
    scoring_version = models.CharField(max_length=20, blank=True)

    status = models.CharField(max_length=20, choices=Status, default=Status.QUEUED)
    stage = models.CharField(max_length=20, choices=Stage, default=Stage.INIT)
    progress = models.PositiveSmallIntegerField(default=0)
    total_tasks = models.PositiveIntegerField(default=0)
    completed_tasks = models.PositiveIntegerField(default=0)
    failed_tasks = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    error_type = models.CharField(max_length=30, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every write; the status poll's ETag.
    version = models.PositiveIntegerField(default=1)
    # How often the run was handed back to the queue (worker shut down or lost) and resumed.
    resumed = models.PositiveSmallIntegerField(default=0)

    overall_score = models.FloatField(null=True, blank=True)
    results_summary = models.JSONField(default=dict, blank=True)

    objects = TestRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "execution"
        ordering = ["-created_at", "-id"]
        # Every hot query names its index; tests/perf/ asserts each plan on SQLite and
        # PostgreSQL. A partial index is used only by a query that repeats its condition. The
        # listing indexes end in -id, the ordering's tie-breaker: PostgreSQL then reads a page
        # in index order with no sort, and never prefers another index to avoid one.
        indexes = [
            # The caller's history: WHERE owner_id = ? ORDER BY created_at DESC.
            models.Index(fields=["owner", "-created_at", "-id"], name="record_owner_created_idx"),
            # The history filtered by brand or status: WHERE owner_id = ? AND brand_name = ? ...
            models.Index(
                fields=["owner", "brand_name", "-created_at", "-id"], name="record_owner_brand_idx"
            ),
            models.Index(
                fields=["owner", "status", "-created_at", "-id"], name="record_owner_status_idx"
            ),
            # Admin changelist and staff history: ORDER BY created_at DESC.
            models.Index(fields=["-created_at", "-id"], name="record_created_idx"),
            # Admin search by brand, newest first: WHERE brand_name = ? ORDER BY created_at DESC.
            models.Index(
                fields=["brand_name", "-created_at", "-id"], name="record_brand_created_idx"
            ),
            # Admin status, stage and source filters, newest first (a rare value would otherwise
            # walk the whole created_at index to fill a page).
            models.Index(fields=["status", "-created_at", "-id"], name="record_status_created_idx"),
            models.Index(fields=["stage", "-created_at", "-id"], name="record_stage_created_idx"),
            models.Index(fields=["source", "-created_at", "-id"], name="record_source_created_idx"),
            # De-duplicating a re-sent start: WHERE caller_key = ? AND created_at >= now - 60 s
            # AND NOT caller_key = ''.
            models.Index(
                fields=["caller_key", "-created_at"],
                condition=~Q(caller_key=""),
                name="record_caller_recent_idx",
            ),
            # A monitor's history and trend: WHERE monitor_id = ? ORDER BY created_at.
            models.Index(fields=["monitor", "created_at"], name="record_monitor_created_idx"),
            # Reaper: WHERE status = 'running' AND heartbeat_at < ?; partial so it stays tiny.
            models.Index(
                fields=["status", "heartbeat_at"],
                condition=Q(status=Status.RUNNING),
                name="record_running_heartbeat_idx",
            ),
            # The reaper's second sweep (hand-backs no worker took): WHERE status = 'queued' AND
            # heartbeat_at < ?; partial, so it holds the few queued runs only.
            models.Index(
                fields=["status", "heartbeat_at"],
                condition=Q(status=Status.QUEUED),
                name="record_queued_heartbeat_idx",
            ),
        ]
        constraints = [
            # Re-importing a legacy file finds the runs it imported before.
            models.UniqueConstraint(
                fields=["legacy_key"], condition=~Q(legacy_key=""), name="record_unique_legacy_key"
            ),
            # The same Idempotency-Key from the same caller always names one execution.
            models.UniqueConstraint(
                fields=["caller_key", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="record_unique_idempotency_key",
            ),
            # One execution per monitor period: two schedulers racing cannot both start it.
            models.UniqueConstraint(
                fields=["monitor", "scheduled_for"],
                condition=Q(monitor__isnull=False, scheduled_for__isnull=False),
                name="record_unique_monitor_period",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="record_status_valid"
            ),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="record_stage_valid"),
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="record_progress_range"
            ),
            # Progress reaches 100 only at a terminal state.
            models.CheckConstraint(
                condition=Q(progress__lt=100) | Q(status__in=TERMINAL_STATUSES),
                name="record_progress_100_only_terminal",
            ),
            models.CheckConstraint(
                condition=Q(source__in=Source.values), name="record_source_valid"
            ),
            models.CheckConstraint(condition=Q(repeats__gte=1), name="record_repeats_positive"),
            models.CheckConstraint(
                condition=Q(access_mode__in=ACCESS_MODES), name="record_access_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand_name} ({str(self.execution_id)[:8]}) {self.get_status_display()}"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or timezone.now()
        return (end - self.started_at).total_seconds()


class Answer(models.Model):
    """One platform call: the answer to one question on one platform in one repeat."""

    record = models.ForeignKey(TestRecord, on_delete=models.CASCADE, related_name="answers")
    question_index = models.PositiveSmallIntegerField()
    platform = models.CharField(max_length=30)
    # The brand substituted into a {brandName} question; blank when the question names none.
    brand = models.CharField(max_length=100, blank=True)
    run_index = models.PositiveSmallIntegerField(default=0)

    question = models.TextField(help_text="The question exactly as sent.")
    text = models.TextField(blank=True)
    # Structured sources the platform returned ([{"index", "url", "title", "site_name",
    # "cited"}]), the web queries it ran and its billable search calls (search mode).
    sources = models.JSONField(default=list, blank=True)
    access_mode = models.CharField(max_length=10, choices=ACCESS_MODE_CHOICES, default="plain")
    web_queries = models.JSONField(default=list, blank=True)
    search_calls = models.PositiveSmallIntegerField(default=0)
    model_name = models.CharField(max_length=100, blank=True)
    synthetic = models.BooleanField(
        default=False, help_text="Written by the offline demo platform, not a real AI."
    )
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=AnswerStatus)
    error = models.TextField(blank=True)
    error_type = models.CharField(max_length=30, blank=True)
    retries = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    analysis = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["question_index", "brand", "platform", "run_index"]
        constraints = [
            # One answer per cell and repeat; also the index for "answers of a record".
            models.UniqueConstraint(
                fields=["record", "question_index", "brand", "platform", "run_index"],
                name="answer_unique_call",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AnswerStatus.values), name="answer_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(access_mode__in=ACCESS_MODES), name="answer_access_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} q{self.question_index} r{self.run_index} {self.status}"


class ResultDocument(models.Model):
    """The finished report, stored gzip-compressed once so it is served as stored bytes."""

    record = models.OneToOneField(
        TestRecord, on_delete=models.CASCADE, related_name="result_document"
    )
    body_gzip = models.BinaryField()
    etag = models.CharField(max_length=64)
    size = models.PositiveIntegerField(help_text="Uncompressed JSON size in bytes.")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"report {self.record_id} ({self.size} bytes)"


class LegacyDocument(models.Model):
    """The legacy sections of a finished report, stored beside it so v1 clients never get them."""

    record = models.OneToOneField(
        TestRecord, on_delete=models.CASCADE, related_name="legacy_document"
    )
    # brand_scores, competitive_analysis, negative_sources, recommendation_data, quality_score,
    # overall_score: what the mini-program reads of a finished run (docs/legacy-contract.md).
    sections = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"legacy sections {self.record_id}"
