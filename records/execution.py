"""The worker side of an execution: claim it, ask its calls, store each answer, finish it.

The task (``records.tasks``) and the ``run_brand_test`` command call :func:`run_execution`; the
reaper calls :func:`reap_stale_executions`. Every state change here takes the ``execution_id``
(what crosses the task queue) and is one of the conditional UPDATEs of
:class:`~records.models.TestRecordQuerySet`, so a run that was cancelled or reaped meanwhile is
never resurrected by a late writer. The request side (start, cancel, retry, re-analyse) lives in
``records.services``, which imports this module and never the other way round.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from records.engine.base import PlatformError, Prompt, Reply
from records.engine.errors import describe_failure
from records.engine.plan import PlannedCall, plan_calls
from records.engine.retry import RetryPolicy
from records.engine.runner import Cell, MatrixRunner, Outcome
from records.models import (
    ENDED_STAGE,
    Answer,
    AnswerStatus,
    Stage,
    Status,
    TestRecord,
    ending_fields,
)
from records.platforms import build_adapters
from records.reports import Analyser, build_results

logger = logging.getLogger(__name__)

# Set by the worker's SIGTERM handler (records.management.commands.worker): the run in progress
# starts no new call, waits BRANDTEST_SHUTDOWN_GRACE for the calls in flight and is handed back.
# Process-wide on purpose: a signal is addressed to the process, not to one run.
_shutdown = threading.Event()
_abandon = threading.Event()


def request_shutdown(*, force: bool = False) -> None:
    """Ask the run in progress in this process (if any) to hand itself back; ``force`` stops
    waiting for its calls in flight. Safe to call from a signal handler."""
    _shutdown.set()
    if force:
        _abandon.set()


def shutdown_requested() -> bool:
    return _shutdown.is_set()


# Progress while asking platforms spans 0..FETCH_PROGRESS_CEILING; analysis and 100 follow.
FETCH_PROGRESS_CEILING = 95
ANALYZING_PROGRESS = 96


def claim_execution(*, execution_id: str | UUID) -> bool:
    """Move a queued execution to running; False if it is not queued (already taken, cancelled)."""
    return bool(TestRecord.objects.filter(execution_id=execution_id).claim())


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
    execution_id: str | UUID,
    call: PlannedCall,
    reply: Reply | None,
    error: PlatformError | None,
    retries: int = 0,
    started_at: datetime | None = None,
    analysis: dict | None = None,
    access_mode: str = "plain",
) -> bool:
    """Store one call's answer (with its analysis) and advance progress in one conditional
    UPDATE.

    Returns False when the execution is no longer active (cancelled, finished, reaped): the
    answer is still kept (it was paid for, and a retry can reuse it) but the execution's state
    does not change.
    """
    record_pk = TestRecord.objects.values_list("pk", flat=True).get(execution_id=execution_id)
    success = reply is not None and bool(reply.text.strip())
    fields = {
        "record_id": record_pk,
        "question_index": call.question.index,
        "brand": call.question.brand,
        "platform": call.platform,
        "run_index": call.run_index,
        "question": call.question.text,
        "retries": retries,
        "started_at": started_at,
        "created_at": timezone.now(),
        "analysis": analysis or {},
        "access_mode": access_mode,
    }
    if reply is not None:
        fields |= {
            "text": reply.text,
            "sources": reply.sources,
            "web_queries": reply.web_queries,
            "search_calls": reply.search_calls,
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
    execution = TestRecord.objects.filter(pk=record_pk)
    try:
        with transaction.atomic():
            Answer.objects.create(**fields)
            updated = execution.advance(
                **{counter: F(counter) + 1},
                # Counts only grow, so progress is monotonic; it stays below 100 until finish.
                progress=(F("completed_tasks") + F("failed_tasks") + 1)
                * FETCH_PROGRESS_CEILING
                / F("total_tasks"),
            )
    except IntegrityError:
        # The cell already has an answer (a re-delivered task); never count it twice.
        logger.warning("duplicate answer for execution %s cell %s ignored", execution_id, call.key)
        return execution.active().exists()
    return bool(updated)


def heartbeat(*, execution_id: str | UUID) -> bool:
    """Refresh a running execution's heartbeat; False if it is no longer running."""
    return bool(TestRecord.objects.filter(execution_id=execution_id).heartbeat())


def finish_execution(*, execution_id: str | UUID) -> TestRecord | None:
    """Analyse, store the report and move the execution to its terminal state.

    Returns None when the execution stopped being active meanwhile (cancelled or reaped).
    """
    running = TestRecord.objects.filter(execution_id=execution_id, status=Status.RUNNING)
    if not running.advance(stage=Stage.ANALYZING, progress=ANALYZING_PROGRESS):
        return None
    record = TestRecord.objects.get(execution_id=execution_id)
    answers = list(record.answers.all())
    status, _, error_type, error = execution_outcome(answers, total_tasks=record.total_tasks)
    results = build_results(record, answers)
    now = timezone.now()
    extra = {"heartbeat_at": now, **results.record_fields}
    with transaction.atomic():
        if not running.end(status=status, error_type=error_type, error=error, at=now, **extra):
            return None
        results.store(record)
    # The row now holds what was just written; mirror it rather than read it back.
    ended = ending_fields(status=status, error_type=error_type, error=error, at=now)
    for name, value in (ended | extra).items():
        setattr(record, name, value)
    record.version += 1
    logger.info("execution %s finished: %s", record.execution_id, status)
    return record


def execution_outcome(answers: list[Answer], *, total_tasks: int) -> tuple[str, str, str, str]:
    """(status, stage, error_type, error) of a run that asked its calls and got ``answers``:
    completed when every call succeeded, partial when some did, failed when none did."""
    succeeded = [a for a in answers if a.status == AnswerStatus.SUCCESS]
    failed = [a for a in answers if a.status == AnswerStatus.FAILED]
    if not succeeded:
        status = Status.FAILED
    elif failed or len(answers) < total_tasks:
        status = Status.PARTIAL_COMPLETED
    else:
        status = Status.COMPLETED
    return (status, ENDED_STAGE[status], *summarise_failures(failed, all_failed=not succeeded))


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


def fail_execution(*, execution_id: str | UUID, error_type: str, error: str) -> bool:
    """Mark an active execution failed (a crash inside the runner); keeps its answers."""
    return bool(
        TestRecord.objects.filter(execution_id=execution_id).end(
            status=Status.FAILED, error_type=error_type, error=error
        )
    )


def run_execution(*, execution_id: str | UUID) -> bool:
    """Run a queued execution to its end: ask every pending call concurrently, store each answer
    as it lands, then finish. Called by the task; safe to call twice (one claim wins).

    Returns True when the run was handed back to the queue (the worker is shutting down): the
    caller enqueues it again, and the next worker asks only the calls still without an answer.
    """
    if _shutdown.is_set():
        return True  # taken by a worker that is stopping: leave it queued for the next one
    if not claim_execution(execution_id=execution_id):
        logger.info("execution %s is not queued; nothing to run", execution_id)
        return False
    record = TestRecord.objects.get(execution_id=execution_id)
    try:
        ended = run_pending_calls(record)
        if ended == "handed_back":
            return True
        if ended == "asked":
            finish_execution(execution_id=execution_id)
        return False
    except Exception:
        logger.exception("execution %s crashed", execution_id)
        fail_execution(
            execution_id=execution_id,
            error_type="internal",
            error="The run stopped on an internal error; stored answers are kept. Retry it.",
        )
        raise


def run_pending_calls(record: TestRecord) -> str:
    """Ask every call without an answer. Returns ``"asked"`` (all asked, the run is still
    active), ``"inactive"`` (cancelled or reaped meanwhile) or ``"handed_back"`` (a shutdown was
    requested: the calls in flight were awaited for up to BRANDTEST_SHUTDOWN_GRACE, what returned
    is stored, and the run is queued again).

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
    day = record.scheduled_for.date() if record.scheduled_for else None
    cells = [
        Cell(
            key,
            call.platform,
            Prompt(
                call.question.text,
                brands=brands,
                seed=f"{record.execution_id}|{key}",
                day=day,
                access_mode=record.access_mode,
            ),
        )
        for key, call in calls.items()
    ]
    analyser = Analyser(record)
    beat_every = max(1.0, min(10.0, settings.BRANDTEST_STALE_AFTER / 6))
    last_beat = time.monotonic()
    grace_ends: float | None = None
    with contextlib.closing(runner.run(cells)) as outcomes:
        for outcome in outcomes:
            if grace_ends is None and _shutdown.is_set():
                grace_ends = time.monotonic() + settings.BRANDTEST_SHUTDOWN_GRACE
                logger.warning(
                    "execution %s: shutdown requested; starting no new call, waiting up to "
                    "%s s for the calls in flight",
                    record.execution_id,
                    settings.BRANDTEST_SHUTDOWN_GRACE,
                )
                runner.stop()
            if grace_ends is not None and (time.monotonic() >= grace_ends or _abandon.is_set()):
                # Closing the generator abandons the calls still on the wire; their cells have
                # no answer, so the next worker asks them.
                logger.warning("execution %s: grace period over", record.execution_id)
                break
            if outcome is None:
                if not TestRecord.objects.filter(pk=record.pk, status=Status.RUNNING).exists():
                    logger.info("execution %s stopped being active", record.execution_id)
                    return "inactive"
                if time.monotonic() - last_beat >= beat_every:
                    heartbeat(execution_id=record.execution_id)
                    last_beat = time.monotonic()
                continue
            if grace_ends is not None and _cut_short(outcome):
                continue  # woken from a retry wait by the shutdown: not an answer, ask it again
            if not store_outcome(record, calls[outcome.key], outcome, analyser):
                logger.info("execution %s stopped being active", record.execution_id)
                return "inactive"
            last_beat = time.monotonic()
    if grace_ends is None:
        return "asked"
    if not TestRecord.objects.filter(pk=record.pk).release():
        return "inactive"
    logger.warning(
        "execution %s handed back to the queue (%d of %d calls answered)",
        record.execution_id,
        len(calls) - len(pending_calls(record)),
        len(calls),
    )
    return "handed_back"


def _cut_short(outcome: Outcome) -> bool:
    """An outcome the runner made up because it was stopped, not one a platform gave."""
    return outcome.error is not None and outcome.error.error_type == "cancelled"


def store_outcome(
    record: TestRecord, call: PlannedCall, outcome: Outcome, analyser: Analyser
) -> bool:
    """Record one runner outcome as an answer, analysed as it is stored."""
    elapsed = timezone.timedelta(seconds=max(0.0, time.monotonic() - outcome.started))
    reply = outcome.reply
    analysis = analyser.analyse(reply.text, reply.sources) if reply is not None else None
    return record_answer(
        analysis=analysis,
        execution_id=record.execution_id,
        call=call,
        reply=outcome.reply,
        error=outcome.error,
        retries=outcome.retries,
        started_at=timezone.now() - elapsed,
        access_mode=record.access_mode,
    )


def reap_stale_executions(*, older_than_seconds: int, max_resumes: int) -> dict[str, list[str]]:
    """Hand back running executions whose heartbeat is older than the threshold (their worker
    vanished: SIGKILL, machine loss), or fail them as worker_lost once resumed ``max_resumes``
    times. Also lists runs handed back earlier that no worker took since (their task may have
    been lost), touching them so that happens once per threshold.

    Returns ``{"resumed": [...], "failed": [...]}`` (execution ids); the caller enqueues the
    resumed ones. Stored answers are always kept, and a resumed run asks only the cells without
    an answer, so no paid call is made twice for a cell that has one.
    """
    swept: dict[str, list[str]] = {"resumed": [], "failed": []}
    stale = TestRecord.objects.stale(older_than_seconds=older_than_seconds)
    for record in stale.only("pk", "execution_id", "completed_tasks", "total_tasks", "resumed"):
        # Each transition is conditional on the heartbeat still being stale, so a worker that
        # just woke up wins.
        still_stale = TestRecord.objects.stale(older_than_seconds=older_than_seconds)
        if record.resumed < max_resumes:
            if still_stale.filter(pk=record.pk).release():
                logger.warning("execution %s lost its worker; resuming it", record.execution_id)
                swept["resumed"].append(str(record.execution_id))
            continue
        error = (
            f"The worker running this execution stopped (no heartbeat for over "
            f"{older_than_seconds} s), after {record.resumed} resume(s). "
            f"{record.completed_tasks} of {record.total_tasks} answers are kept; retry it to ask "
            "only the missing ones."
        )
        if still_stale.filter(pk=record.pk).end(
            status=Status.FAILED, error_type="worker_lost", error=error
        ):
            logger.warning("reaped execution %s (worker lost)", record.execution_id)
            swept["failed"].append(str(record.execution_id))
    orphaned = TestRecord.objects.orphaned(older_than_seconds=older_than_seconds)
    for execution_id in orphaned.values_list("execution_id", flat=True):
        # Not a state change (no version bump): only when it was last handed out.
        if (
            TestRecord.objects.orphaned(older_than_seconds=older_than_seconds)
            .filter(execution_id=execution_id)
            .update(heartbeat_at=timezone.now())
        ):
            swept["resumed"].append(str(execution_id))
    return swept
