"""Every state change of a brand test: start, record an answer, finish, cancel.

Interfaces (the v1 API, the legacy adapters, admin actions, tasks and commands) call these and
format the result; the rules live here. Every write to an execution is a conditional UPDATE on an
active status, so a terminal run can never be resurrected by a late writer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from records.engine.base import PlatformError, Prompt, Reply
from records.engine.errors import describe_failure
from records.engine.plan import PlannedCall, expand_questions, plan_calls
from records.engine.retry import RetryPolicy
from records.engine.runner import Cell, MatrixRunner, Outcome
from records.models import (
    ACTIVE_STATUSES,
    Answer,
    AnswerStatus,
    Source,
    Stage,
    Status,
    TestRecord,
    WeChatAccount,
)
from records.platforms import available_platforms, build_adapters, canonical_platform
from records.reports import Analyser, build_results

logger = logging.getLogger(__name__)

MAX_COMPETITORS = 10
MAX_QUESTIONS = 5
# Progress while asking platforms spans 0..FETCH_PROGRESS_CEILING; analysis and 100 follow.
FETCH_PROGRESS_CEILING = 95
ANALYZING_PROGRESS = 96
# A start re-sent by the same caller with the same input within this many seconds is the same.
DUPLICATE_WINDOW = 60
# Asked when a request names no question (the legacy system's defaults).
DEFAULT_QUESTIONS = (
    "{brandName}的核心竞争优势是什么？",
    "{brandName}在目标用户群体中的认知度如何？",
    "{brandName}与竞品的主要差异化体现在哪里？",
)


class InvalidTransition(Exception):
    """The requested change does not apply to the execution's current state."""


@dataclass(frozen=True, slots=True)
class ExecutionInput:
    """A validated, normalised brand-test request."""

    brand: str
    competitors: list[str]
    questions: list[str]
    platforms: list[str]
    repeats: int


def clean_execution_input(
    *,
    brand: str,
    competitors: list[str],
    questions: list[str],
    platforms: list[str],
    repeats: int | None,
) -> ExecutionInput:
    """Validate and normalise a request; raise ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {}

    brand = (brand or "").strip()
    if not brand:
        errors.setdefault("brand", []).append("The main brand is required.")
    elif len(brand) > 100:
        errors.setdefault("brand", []).append("The main brand must be at most 100 characters.")

    cleaned_competitors: list[str] = []
    seen = {brand.casefold()}
    for name in competitors or []:
        name = name.strip()
        if not name:
            errors.setdefault("competitors", []).append("Competitor names must not be blank.")
        elif len(name) > 100:
            errors.setdefault("competitors", []).append(
                f"Competitor {name[:20]!r}... must be at most 100 characters."
            )
        elif name.casefold() not in seen:
            seen.add(name.casefold())
            cleaned_competitors.append(name)
    if len(cleaned_competitors) > MAX_COMPETITORS:
        errors.setdefault("competitors", []).append(
            f"At most {MAX_COMPETITORS} competitors, got {len(cleaned_competitors)}."
        )

    cleaned_questions = [q.strip() for q in questions or [] if q and q.strip()]
    if not cleaned_questions:
        cleaned_questions = list(DEFAULT_QUESTIONS)
    if len(cleaned_questions) > MAX_QUESTIONS:
        errors.setdefault("questions", []).append(
            f"At most {MAX_QUESTIONS} questions, got {len(cleaned_questions)}."
        )
    for q in cleaned_questions:
        if not 2 <= len(q) <= 500:
            errors.setdefault("questions", []).append(
                f"Each question must be 2-500 characters; {q[:20]!r} has {len(q)}."
            )

    cleaned_platforms: list[str] = []
    if not platforms:
        errors.setdefault("platforms", []).append("At least one platform is required.")
    available = available_platforms()
    for name in platforms or []:
        platform = canonical_platform(name)
        if platform is None:
            errors.setdefault("platforms", []).append(f"Unknown platform {name!r}.")
        elif platform not in available:
            errors.setdefault("platforms", []).append(
                f"Platform {platform!r} is not configured on this server "
                f"(set {platform.upper()}_API_KEY)."
                if platform != "demo"
                else "The demo platform is disabled on this server."
            )
        elif platform not in cleaned_platforms:
            cleaned_platforms.append(platform)

    if repeats is None:
        repeats = settings.BRANDTEST_DEFAULT_REPEATS
    if not 1 <= repeats <= settings.BRANDTEST_MAX_REPEATS:
        errors.setdefault("repeats", []).append(
            f"Repeats must be between 1 and {settings.BRANDTEST_MAX_REPEATS}."
        )

    if errors:
        raise ValidationError(errors)
    return ExecutionInput(brand, cleaned_competitors, cleaned_questions, cleaned_platforms, repeats)


def caller_key_for(owner, device_id: str = "") -> str:
    """Who is asking, for de-duplicating re-sent starts: a user, else a device, else nobody."""
    if owner is not None and owner.is_authenticated:
        return f"user:{owner.pk}"
    device_id = (device_id or "").strip()[:120]
    return f"device:{device_id}" if device_id else ""


def fingerprint(data: ExecutionInput) -> str:
    """A stable hash of a normalised request; equal requests have equal fingerprints."""
    payload = json.dumps(
        [data.brand, data.competitors, data.questions, sorted(data.platforms), data.repeats],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StartResult:
    """The execution a start request names, and whether this request created it."""

    record: TestRecord
    created: bool


@transaction.atomic
def start_execution(
    *,
    owner,
    data: ExecutionInput,
    source: str = Source.API,
    device_id: str = "",
    idempotency_key: str = "",
    enqueue: bool = True,
) -> StartResult:
    """Store a new execution as queued, then enqueue its task once the row is committed.

    A start is idempotent for its caller: the same ``idempotency_key``, or the same request
    re-sent within DUPLICATE_WINDOW seconds (the mini-program re-sends after a timeout), returns
    the execution the first request created instead of a second one.
    """
    from records.tasks import run_brand_test

    owner = owner if owner is not None and owner.is_authenticated else None
    caller_key = caller_key_for(owner, device_id)
    request_fingerprint = fingerprint(data)
    idempotency_key = (idempotency_key or "").strip()[:200]
    if caller_key:
        lock_caller(caller_key)
        mine = TestRecord.objects.filter(caller_key=caller_key)
        existing = None
        if idempotency_key:
            existing = mine.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            window_start = timezone.now() - timezone.timedelta(seconds=DUPLICATE_WINDOW)
            existing = (
                mine.filter(request_fingerprint=request_fingerprint, created_at__gte=window_start)
                .order_by("-created_at")
                .first()
            )
        if existing is not None:
            logger.info("start re-sent by %s; returning %s", caller_key, existing.execution_id)
            return StartResult(existing, created=False)

    planned = expand_questions(data.questions, data.brand, data.competitors)
    record = TestRecord.objects.create(
        owner=owner,
        source=source,
        caller_key=caller_key,
        idempotency_key=idempotency_key if caller_key else "",
        request_fingerprint=request_fingerprint,
        brand_name=data.brand,
        competitor_brands=data.competitors,
        questions=data.questions,
        platforms=data.platforms,
        repeats=data.repeats,
        total_tasks=len(planned) * len(data.platforms) * data.repeats,
    )
    execution_id = str(record.execution_id)
    if enqueue:
        transaction.on_commit(lambda: run_brand_test.enqueue(execution_id))
    logger.info("queued execution %s (%s calls)", execution_id, record.total_tasks)
    return StartResult(record, created=True)


def lock_caller(caller_key: str) -> None:
    """Serialise one caller's concurrent starts so a double-sent request cannot create two runs.

    SQLite already serialises writers (transactions begin IMMEDIATE); PostgreSQL takes a
    transaction-scoped advisory lock on the caller.
    """
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(caller_key.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def claim_execution(*, execution_id: str) -> bool:
    """Move a queued execution to running; False if it is not queued (already taken, cancelled)."""
    now = timezone.now()
    return bool(
        TestRecord.objects.filter(execution_id=execution_id, status=Status.QUEUED).update(
            status=Status.RUNNING,
            stage=Stage.AI_FETCHING,
            started_at=now,
            heartbeat_at=now,
            updated_at=now,
            version=F("version") + 1,
        )
    )


def pending_calls(record: TestRecord) -> list[PlannedCall]:
    """The calls of an execution that have no stored answer yet."""
    done = set(
        Answer.objects.filter(record=record).values_list(
            "question_index", "brand", "platform", "run_index"
        )
    )
    calls = plan_calls(
        record.questions,
        record.brand_name,
        record.competitor_brands,
        record.platforms,
        record.repeats,
    )
    return [call for call in calls if call.key not in done]


def record_answer(
    *,
    record_id: int,
    call: PlannedCall,
    reply: Reply | None,
    error: PlatformError | None,
    retries: int = 0,
    started_at=None,
    analysis: dict | None = None,
) -> bool:
    """Store one call's answer (with its analysis) and advance progress in one conditional
    UPDATE.

    Returns False when the execution is no longer active (cancelled, finished, reaped): the
    answer is still kept (it was paid for, and a retry can reuse it) but the execution's state
    does not change.
    """
    now = timezone.now()
    success = reply is not None and bool(reply.text.strip())
    fields = {
        "record_id": record_id,
        "question_index": call.question.index,
        "brand": call.question.brand,
        "platform": call.platform,
        "run_index": call.run_index,
        "question": call.question.text,
        "retries": retries,
        "started_at": started_at,
        "created_at": now,
        "analysis": analysis or {},
    }
    if reply is not None:
        fields |= {
            "text": reply.text,
            "sources": reply.sources,
            "model_name": reply.model,
            "synthetic": reply.synthetic,
            "latency_ms": reply.latency_ms,
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
        }
    if success:
        fields["status"] = AnswerStatus.SUCCESS
    else:
        fields["status"] = AnswerStatus.FAILED
        fields["error_type"] = error.error_type if error else "bad_response"
        fields["error"] = error.message if error else "The platform returned an empty answer."

    counter = "completed_tasks" if success else "failed_tasks"
    try:
        with transaction.atomic():
            Answer.objects.create(**fields)
            updated = TestRecord.objects.filter(pk=record_id, status__in=ACTIVE_STATUSES).update(
                **{counter: F(counter) + 1},
                # Counts only grow, so progress is monotonic; it stays below 100 until finish.
                progress=(F("completed_tasks") + F("failed_tasks") + 1)
                * FETCH_PROGRESS_CEILING
                / F("total_tasks"),
                heartbeat_at=now,
                updated_at=now,
                version=F("version") + 1,
            )
    except IntegrityError:
        # The cell already has an answer (a re-delivered task); never count it twice.
        logger.warning("duplicate answer for execution row %s cell %s ignored", record_id, call.key)
        return TestRecord.objects.filter(pk=record_id, status__in=ACTIVE_STATUSES).exists()
    return bool(updated)


def heartbeat(*, record_id: int) -> bool:
    """Refresh a running execution's heartbeat; False if it is no longer running."""
    return bool(
        TestRecord.objects.filter(pk=record_id, status=Status.RUNNING).update(
            heartbeat_at=timezone.now()
        )
    )


def finish_execution(*, record_id: int) -> TestRecord | None:
    """Analyse, store the report and move the execution to its terminal state.

    Returns None when the execution stopped being active meanwhile (cancelled or reaped).
    """
    now = timezone.now()
    if not TestRecord.objects.filter(pk=record_id, status=Status.RUNNING).update(
        stage=Stage.ANALYZING,
        progress=ANALYZING_PROGRESS,
        heartbeat_at=now,
        updated_at=now,
        version=F("version") + 1,
    ):
        return None
    record = TestRecord.objects.get(pk=record_id)
    answers = list(record.answers.all())
    status, stage, error_type, error = execution_outcome(answers, total_tasks=record.total_tasks)
    results = build_results(record, answers)
    with transaction.atomic():
        finished = TestRecord.objects.filter(pk=record_id, status=Status.RUNNING).update(
            status=status,
            stage=stage,
            progress=100,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            heartbeat_at=timezone.now(),
            error=error,
            error_type=error_type,
            version=F("version") + 1,
            **results.record_fields,
        )
        if not finished:
            return None
        record.refresh_from_db()
        results.store(record)
    logger.info("execution %s finished: %s", record.execution_id, status)
    return record


def execution_outcome(answers: list[Answer], *, total_tasks: int) -> tuple[str, str, str, str]:
    """(status, stage, error_type, error) of a run that asked its calls and got ``answers``:
    completed when every call succeeded, partial when some did, failed when none did."""
    succeeded = [a for a in answers if a.status == AnswerStatus.SUCCESS]
    failed = [a for a in answers if a.status == AnswerStatus.FAILED]
    if not succeeded:
        status, stage = Status.FAILED, Stage.FAILED
    elif failed or len(answers) < total_tasks:
        status, stage = Status.PARTIAL_COMPLETED, Stage.COMPLETED
    else:
        status, stage = Status.COMPLETED, Stage.COMPLETED
    return (status, stage, *summarise_failures(failed, all_failed=not succeeded))


def summarise_failures(failed: list[Answer], *, all_failed: bool) -> tuple[str, str]:
    """A run-level error a human can act on, e.g.
    'deepseek: quota exhausted; check the account's balance (3 calls)'."""
    if not failed:
        return "", ""
    by_cause = Counter((a.platform, a.error_type or "internal") for a in failed)
    parts = [
        f"{describe_failure(platform, error_type)} ({count} call{'s' * (count > 1)})"
        for (platform, error_type), count in sorted(by_cause.items())
    ]
    dominant = by_cause.most_common(1)[0][0][1]
    prefix = "All calls failed. " if all_failed else ""
    return dominant, prefix + "; ".join(parts)


def cancel_execution(*, record: TestRecord) -> TestRecord:
    """Cancel an active execution; the runner sees it at its next write and stops."""
    now = timezone.now()
    updated = TestRecord.objects.filter(pk=record.pk, status__in=ACTIVE_STATUSES).update(
        status=Status.CANCELLED,
        stage=Stage.FAILED,
        progress=100,
        error="cancelled",
        error_type="cancelled",
        finished_at=now,
        updated_at=now,
        version=F("version") + 1,
    )
    record.refresh_from_db()
    if not updated:
        raise InvalidTransition(
            f"The execution is already {record.status}; it cannot be cancelled."
        )
    logger.info("execution %s cancelled", record.execution_id)
    return record


def fail_execution(*, record_id: int, error_type: str, error: str) -> bool:
    """Mark an active execution failed (a crash inside the runner); keeps its answers."""
    now = timezone.now()
    return bool(
        TestRecord.objects.filter(pk=record_id, status__in=ACTIVE_STATUSES).update(
            status=Status.FAILED,
            stage=Stage.FAILED,
            progress=100,
            error=error,
            error_type=error_type,
            finished_at=now,
            updated_at=now,
            version=F("version") + 1,
        )
    )


def run_execution(*, execution_id: str) -> None:
    """Run a queued execution to its end: ask every pending call concurrently, store each answer
    as it lands, then finish. Called by the task; safe to call twice (one claim wins)."""
    if not claim_execution(execution_id=execution_id):
        logger.info("execution %s is not queued; nothing to run", execution_id)
        return
    record = TestRecord.objects.get(execution_id=execution_id)
    try:
        if run_pending_calls(record):
            finish_execution(record_id=record.pk)
    except Exception:
        logger.exception("execution %s crashed", execution_id)
        fail_execution(
            record_id=record.pk,
            error_type="internal",
            error="The run stopped on an internal error; stored answers are kept. Retry it.",
        )
        raise


def run_pending_calls(record: TestRecord) -> bool:
    """Ask every call without an answer; True if the run is still active at the end.

    Only this thread touches the database: the runner's threads make HTTP calls and hand each
    outcome back here. Between outcomes it checks (once a tick) that the run is still running,
    so a cancel stops new calls within about a second, and it refreshes the heartbeat.
    """
    calls = {call.key: call for call in pending_calls(record)}
    cancel = threading.Event()
    runner = MatrixRunner(
        build_adapters(record.platforms, cancel_event=cancel),
        global_limit=settings.BRANDTEST_GLOBAL_CONCURRENCY,
        per_platform_limit=settings.BRANDTEST_PLATFORM_CONCURRENCY,
        retry=RetryPolicy(
            max_retries=settings.BRANDTEST_MAX_RETRIES,
            base_delay=settings.BRANDTEST_RETRY_BASE_DELAY,
            max_delay=settings.BRANDTEST_RETRY_MAX_DELAY,
        ),
        tick_seconds=1.0,
        cancel_event=cancel,
    )
    brands = (record.brand_name, *record.competitor_brands)
    cells = [
        Cell(
            key,
            call.platform,
            Prompt(call.question.text, brands=brands, seed=f"{record.execution_id}|{key}"),
        )
        for key, call in calls.items()
    ]
    analyser = Analyser(record)
    beat_every = max(1.0, min(10.0, settings.BRANDTEST_STALE_AFTER / 6))
    last_beat = time.monotonic()
    with contextlib.closing(runner.run(cells)) as outcomes:
        for outcome in outcomes:
            if outcome is None:
                if not TestRecord.objects.filter(pk=record.pk, status=Status.RUNNING).exists():
                    logger.info("execution %s stopped being active", record.execution_id)
                    return False
                if time.monotonic() - last_beat >= beat_every:
                    heartbeat(record_id=record.pk)
                    last_beat = time.monotonic()
                continue
            if not store_outcome(record, calls[outcome.key], outcome, analyser):
                logger.info("execution %s stopped being active", record.execution_id)
                return False
            last_beat = time.monotonic()
    return True


def store_outcome(
    record: TestRecord, call: PlannedCall, outcome: Outcome, analyser: Analyser
) -> bool:
    """Record one runner outcome as an answer, analysed as it is stored."""
    elapsed = timezone.timedelta(seconds=max(0.0, time.monotonic() - outcome.started))
    reply = outcome.reply
    analysis = analyser.analyse(reply.text, reply.sources) if reply is not None else None
    return record_answer(
        analysis=analysis,
        record_id=record.pk,
        call=call,
        reply=outcome.reply,
        error=outcome.error,
        retries=outcome.retries,
        started_at=timezone.now() - elapsed,
    )


def reap_stale_executions(*, older_than_seconds: int) -> list[str]:
    """Mark running executions whose heartbeat is older than the threshold failed (worker_lost).

    Their stored answers are kept; a retry re-runs only the calls without a successful answer.
    """
    reaped = []
    for record in TestRecord.objects.stale(older_than_seconds=older_than_seconds).only(
        "pk", "execution_id", "completed_tasks", "total_tasks"
    ):
        error = (
            f"The worker running this execution stopped (no heartbeat for over "
            f"{older_than_seconds} s). {record.completed_tasks} of {record.total_tasks} answers "
            "are kept; retry it to ask only the missing ones."
        )
        cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
        # Conditional on the heartbeat still being stale, so a worker that just woke up wins.
        if TestRecord.objects.filter(
            pk=record.pk, status=Status.RUNNING, heartbeat_at__lt=cutoff
        ).update(
            status=Status.FAILED,
            stage=Stage.FAILED,
            progress=100,
            error=error,
            error_type="worker_lost",
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            version=F("version") + 1,
        ):
            logger.warning("reaped execution %s (worker lost)", record.execution_id)
            reaped.append(str(record.execution_id))
    return reaped


RETRYABLE_STATUSES = (Status.FAILED, Status.PARTIAL_COMPLETED, Status.CANCELLED)


@transaction.atomic
def retry_execution(*, record: TestRecord, owner=None) -> TestRecord:
    """Start a new attempt of an ended execution that re-runs only the calls without a
    successful answer; the successful ones are copied over, so the new report is complete."""
    from records.tasks import run_brand_test

    if record.status not in RETRYABLE_STATUSES:
        raise InvalidTransition(
            f"Only failed, partially completed or cancelled executions can be retried; "
            f"this one is {record.status}."
        )
    kept = list(record.answers.filter(status=AnswerStatus.SUCCESS))
    total = record.total_tasks
    attempt = TestRecord.objects.create(
        owner=record.owner,
        source=Source.RETRY,
        retry_of=record,
        caller_key=record.caller_key,
        brand_name=record.brand_name,
        competitor_brands=record.competitor_brands,
        brand_aliases=record.brand_aliases,
        questions=record.questions,
        platforms=record.platforms,
        repeats=record.repeats,
        total_tasks=total,
        completed_tasks=len(kept),
        progress=len(kept) * FETCH_PROGRESS_CEILING // total if total else 0,
    )
    for answer in kept:
        answer.pk = None
        answer.record = attempt
    Answer.objects.bulk_create(kept)
    execution_id = str(attempt.execution_id)
    transaction.on_commit(lambda: run_brand_test.enqueue(execution_id))
    logger.info(
        "retrying %s as %s (%d of %d answers kept)",
        record.execution_id,
        execution_id,
        len(kept),
        total,
    )
    return attempt


# Stored beside an answer's analysis but not produced by it (see records/legacy/importer.py).
PRESERVED_ANALYSIS_KEYS = ("raw_text",)


@transaction.atomic
def reanalyse_execution(*, record: TestRecord) -> TestRecord:
    """Recompute every answer's analysis, the scores and the report from stored answer text,
    without calling any platform (after the analysers or scoring change)."""
    if not record.is_terminal:
        raise InvalidTransition(
            f"The execution is {record.status}; re-analyse it once it has ended."
        )
    record = TestRecord.objects.select_for_update().get(pk=record.pk)
    analyser = Analyser(record)
    answers = list(record.answers.all())
    for answer in answers:
        # Keys that are not analysis (an imported answer's raw text) survive a re-analyse.
        kept = {k: v for k, v in (answer.analysis or {}).items() if k in PRESERVED_ANALYSIS_KEYS}
        analysis = (
            analyser.analyse(answer.text, answer.sources)
            if answer.status == AnswerStatus.SUCCESS
            else {}
        )
        answer.analysis = analysis | kept
    Answer.objects.bulk_update(answers, ["analysis"], batch_size=500)
    results = build_results(record, answers)
    results.store(record)
    TestRecord.objects.filter(pk=record.pk).update(
        updated_at=timezone.now(), version=F("version") + 1, **results.record_fields
    )
    record.refresh_from_db()
    logger.info("re-analysed execution %s", record.execution_id)
    return record


def wechat_username(openid: str) -> str:
    """The Django username of a WeChat user (openids are [A-Za-z0-9_-], at most 64 chars)."""
    return f"wx_{openid}"


def ensure_wechat_user(
    *,
    openid: str,
    unionid: str = "",
    nickname: str = "",
    avatar_url: str = "",
    created_at=None,
):
    """The user holding a WeChat openid, created (username ``wx_<openid>``, no usable password)
    with its WeChatAccount when missing; returns (user, created). Used by login and import."""
    from django.contrib.auth import get_user_model

    account = WeChatAccount.objects.select_related("user").filter(openid=openid).first()
    if account is not None:
        return account.user, False
    user_model = get_user_model()
    avatar_url = avatar_url.strip()
    try:
        with transaction.atomic():
            user, created = user_model.objects.get_or_create(
                username=wechat_username(openid),
                defaults={"date_joined": created_at or timezone.now()},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            WeChatAccount.objects.create(
                user=user,
                openid=openid,
                unionid=unionid,
                nickname=nickname.strip()[:100],
                avatar_url=avatar_url
                if avatar_url.startswith(("http://", "https://")) and len(avatar_url) <= 500
                else "",
                created_at=created_at or timezone.now(),
            )
    except IntegrityError:
        # A concurrent first login with the same openid created it meanwhile.
        return WeChatAccount.objects.select_related("user").get(openid=openid).user, False
    return user, True
