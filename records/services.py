"""The request side of an execution: check the input, start, cancel, retry, re-analyse.

Interfaces (the v1 API, the legacy adapters, admin actions and commands) call these and format
the result; the rules live here. Each takes the ``TestRecord`` the interface already loaded
(through its visibility check); ``start_execution`` returns the one it created. The worker side
(claim, record an answer, finish, reap) lives in ``records.execution`` and takes an
``execution_id`` (what crosses the task queue). Every write to an execution is one of the
conditional UPDATEs of ``TestRecordQuerySet``, so an ended run never changes state again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from records.engine.plan import expand_questions
from records.execution import FETCH_PROGRESS_CEILING
from records.models import (
    ACTIVE_STATUSES,
    Answer,
    AnswerStatus,
    Monitor,
    Source,
    Status,
    TestRecord,
)
from records.platforms import (  # noqa: F401  (clean_platforms: re-exported for monitors)
    clean_access_mode,
    clean_platforms,
)
from records.reports import Analyser, build_results
from records.tasks import run_brand_test

logger = logging.getLogger(__name__)

MAX_COMPETITORS = 10
MAX_QUESTIONS = 5
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


class IdempotencyConflict(Exception):
    """An Idempotency-Key the caller already used with a different request (body or run).

    Its message names the conflict and nothing of the first request."""

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request; "
            "send a new key for a new request."
        )


@dataclass(frozen=True, slots=True)
class ExecutionInput:
    """A validated, normalised request: what an execution asks, as stored on its row."""

    brand: str
    competitors: list[str]
    questions: list[str]
    platforms: list[str]
    repeats: int
    # Extra names and domains per brand (set by the legacy import; a request has none).
    brand_aliases: dict[str, dict] = field(default_factory=dict)
    access_mode: str = "plain"

    @classmethod
    def from_record(cls, record: TestRecord) -> ExecutionInput:
        """The input an execution was started with."""
        return cls(
            brand=record.brand_name,
            competitors=record.competitor_brands,
            questions=record.questions,
            platforms=record.platforms,
            repeats=record.repeats,
            brand_aliases=record.brand_aliases,
            access_mode=record.access_mode,
        )

    def record_fields(self) -> dict[str, Any]:
        """The input as ``TestRecord`` fields, for creating the execution that runs it."""
        return {
            "brand_name": self.brand,
            "competitor_brands": self.competitors,
            "brand_aliases": self.brand_aliases,
            "questions": self.questions,
            "platforms": self.platforms,
            "repeats": self.repeats,
            "access_mode": self.access_mode,
        }


def clean_execution_input(
    *,
    brand: str,
    competitors: list[str],
    questions: list[str],
    platforms: list[str],
    repeats: int | None,
    access_mode: str | None = "plain",
) -> ExecutionInput:
    """Validate and normalise a request; raise ValidationError naming each bad field.

    ``access_mode`` None takes BRANDTEST_DEFAULT_ACCESS_MODE (the v1 API passes what the request
    said); the legacy interface and the commands keep the default, plain."""
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

    cleaned_platforms = clean_platforms(platforms, errors)
    mode = clean_access_mode(access_mode, platforms, errors)

    if repeats is None:
        repeats = settings.BRANDTEST_DEFAULT_REPEATS
    if not 1 <= repeats <= settings.BRANDTEST_MAX_REPEATS:
        errors.setdefault("repeats", []).append(
            f"Repeats must be between 1 and {settings.BRANDTEST_MAX_REPEATS}."
        )

    if errors:
        raise ValidationError(errors)
    return ExecutionInput(
        brand, cleaned_competitors, cleaned_questions, cleaned_platforms, repeats, access_mode=mode
    )


def caller_key_for(owner, device_id: str = "") -> str:
    """Who is asking, for de-duplicating re-sent starts: a user, else a device, else nobody."""
    if owner is not None and owner.is_authenticated:
        return f"user:{owner.pk}"
    device_id = (device_id or "").strip()[:120]
    return f"device:{device_id}" if device_id else ""


def idempotency_caller(owner, device_id: str, client_ip: str, idempotency_key: str) -> str:
    """The caller an Idempotency-Key belongs to: the user or device, else (for an anonymous
    caller without X-Device-ID) the client address, so the key is honoured for them too.
    An address alone de-duplicates by key only, never by body (callers behind one NAT)."""
    caller = caller_key_for(owner, device_id)
    if not caller and idempotency_key and client_ip:
        caller = f"ip:{client_ip}"[:150]
    return caller


def clean_idempotency_key(value: str) -> str:
    return (value or "").strip()[:200]


def _keyed(caller_key: str, idempotency_key: str, request_fingerprint: str) -> TestRecord | None:
    """The execution this caller's key already names, or None; the key bound to another
    request is an IdempotencyConflict."""
    if not (caller_key and idempotency_key):
        return None
    # The exclusion repeats the partial unique index's condition, so the lookup uses it.
    existing = (
        TestRecord.objects.filter(caller_key=caller_key, idempotency_key=idempotency_key)
        .exclude(idempotency_key="")
        .first()
    )
    if existing is not None and existing.request_fingerprint != request_fingerprint:
        raise IdempotencyConflict()
    return existing


def fingerprint(data: ExecutionInput) -> str:
    """A stable hash of a normalised request; equal requests have equal fingerprints. A plain
    run's is what it was before access modes existed, so stored keys keep matching."""
    fields = [data.brand, data.competitors, data.questions, sorted(data.platforms), data.repeats]
    if data.access_mode != "plain":
        fields.append(data.access_mode)
    payload = json.dumps(fields, ensure_ascii=False)
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
    client_ip: str = "",
    enqueue: bool = True,
    monitor: Monitor | None = None,
    scheduled_for: datetime | None = None,
    prompt_ids: list[int] | None = None,
) -> StartResult:
    """Store a new execution as queued, then enqueue its task once the row is committed.

    A start is idempotent for its caller: the same ``idempotency_key`` with the same request,
    or the same request re-sent within DUPLICATE_WINDOW seconds by the same user or device
    (the mini-program re-sends after a timeout), returns the execution the first request
    created instead of a second one. The same key with a different request is an
    ``IdempotencyConflict``.

    A monitor's run passes ``monitor`` and the ``prompt_ids`` its questions came from; a
    scheduled one also ``scheduled_for``, its period, which the unique constraint on
    (monitor, scheduled_for) makes idempotent instead (a second start raises IntegrityError), so
    the re-send window does not apply: an every-minute schedule asks the same input each minute.
    """
    owner = owner if owner is not None and owner.is_authenticated else None
    idempotency_key = clean_idempotency_key(idempotency_key)
    caller_key = idempotency_caller(owner, device_id, client_ip, idempotency_key)
    request_fingerprint = fingerprint(data)
    if caller_key and scheduled_for is None:
        lock_caller(caller_key)
        # The exclusion repeats the partial index's condition, so the lookup uses it.
        mine = TestRecord.objects.filter(caller_key=caller_key).exclude(caller_key="")
        existing = _keyed(caller_key, idempotency_key, request_fingerprint)
        if existing is None and not caller_key.startswith("ip:"):
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
        monitor=monitor,
        scheduled_for=scheduled_for,
        prompt_ids=list(prompt_ids or []),
        **data.record_fields(),
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


def cancel_execution(*, record: TestRecord) -> TestRecord:
    """Cancel an active execution; the runner sees it at its next write and stops."""
    updated = TestRecord.objects.filter(pk=record.pk).end(
        status=Status.CANCELLED, error_type="cancelled", error="cancelled"
    )
    record.refresh_from_db()
    if not updated:
        raise InvalidTransition(
            f"The execution is already {record.status}; it cannot be cancelled."
        )
    logger.info("execution %s cancelled", record.execution_id)
    return record


RETRYABLE_STATUSES = (Status.FAILED, Status.PARTIAL_COMPLETED, Status.CANCELLED)


def retry_fingerprint(record: TestRecord) -> str:
    """What an Idempotency-Key sent with a retry is bound to: the run retried."""
    return hashlib.sha256(f"retry:{record.execution_id}".encode()).hexdigest()


@transaction.atomic
def retry_execution(
    *,
    record: TestRecord,
    owner=None,
    device_id: str = "",
    client_ip: str = "",
    idempotency_key: str = "",
) -> TestRecord:
    """Start a new attempt of an ended execution that re-runs only the calls without a
    successful answer; the successful ones are copied over, so the new report is complete.

    Idempotent: while an attempt of this run is still active, or was created less than
    DUPLICATE_WINDOW seconds ago, a retry returns that attempt (a re-sent or repeated retry
    never pays for the missing calls twice); so does the caller's ``idempotency_key`` sent
    with an earlier retry of this run (with another request it is an IdempotencyConflict).
    """
    owner = owner if owner is not None and owner.is_authenticated else None
    idempotency_key = clean_idempotency_key(idempotency_key)
    caller_key = idempotency_caller(owner, device_id, client_ip, idempotency_key)
    request_fingerprint = retry_fingerprint(record)
    # Serialise retries of one run: PostgreSQL locks its row (SQLite's writers are serial).
    record = TestRecord.objects.select_for_update().get(pk=record.pk)
    if caller_key:
        lock_caller(caller_key)
    existing = _keyed(caller_key, idempotency_key, request_fingerprint)
    if existing is None:
        window_start = timezone.now() - timezone.timedelta(seconds=DUPLICATE_WINDOW)
        existing = (
            record.retries.filter(Q(status__in=ACTIVE_STATUSES) | Q(created_at__gte=window_start))
            .order_by("-created_at")
            .first()
        )
    if existing is not None:
        logger.info("retry of %s re-sent; returning %s", record.execution_id, existing.execution_id)
        return existing
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
        caller_key=caller_key or record.caller_key,
        idempotency_key=idempotency_key if caller_key else "",
        request_fingerprint=request_fingerprint,
        **ExecutionInput.from_record(record).record_fields(),
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
    TestRecord.objects.filter(pk=record.pk).revise(**results.record_fields)
    record.refresh_from_db()
    logger.info("re-analysed execution %s", record.execution_id)
    return record
