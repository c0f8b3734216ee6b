"""One legacy ``test_records`` row built into a finished, re-analysed execution."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from records.execution import execution_outcome
from records.legacy.importer.identity import execution_id_of, legacy_key_of
from records.legacy.importer.mapping import LegacyItem, g1_item, g2_item, item_dicts, question_cells
from records.legacy.importer.read import (
    CorruptValue,
    TaskTimes,
    as_text,
    decode_names,
    decode_value,
    names_in,
    parse_timestamp,
    read_row,
)
from records.legacy.importer.report import ImportedRun, ImportReport, SkipRow
from records.models import Answer, AnswerStatus, Source, TestRecord
from records.platforms import canonical_platform
from records.reports import Analyser, build_results
from records.services import ExecutionInput


@dataclass(frozen=True, slots=True)
class ImportContext:
    """One open legacy file and what every row's import needs from it."""

    connection: sqlite3.Connection
    report: ImportReport
    g2: bool
    columns: set[str]  # of test_records; G1 files lack the compression flags
    owners: dict[int, Any]  # legacy user id -> Django user or None
    task_times: TaskTimes


@dataclass(frozen=True, slots=True)
class Cell:
    """Where an item's answer sits in the run's plan."""

    question_index: int
    brand: str
    platform: str
    run_index: int


def already_imported(legacy_key: str) -> bool:
    """Whether a run with this legacy key exists; ``exclude`` repeats the condition of
    record_unique_legacy_key, so the lookup uses that index (a scan otherwise)."""
    return TestRecord.objects.filter(legacy_key=legacy_key).exclude(legacy_key="").exists()


def import_row(ctx: ImportContext, row_id: int) -> ImportedRun:
    """Import one test_records row or raise SkipRow."""
    row = read_row(ctx.connection, row_id)
    summary = decode_summary(ctx, row)
    raw_items = decode_items(ctx, row)
    items = [g2_item(i) if ctx.g2 else g1_item(i) for i in raw_items]
    brand = brand_of(ctx, row, items)
    legacy_key = legacy_key_of(row, brand, raw_items)
    kept = summary.get("execution_id") if ctx.g2 else None  # G1 never stored one
    execution_id = execution_id_of(kept, legacy_key=legacy_key, report=ctx.report, row_id=row_id)
    if already_imported(legacy_key):
        raise SkipRow("already_imported", "")
    if TestRecord.objects.filter(execution_id=execution_id).exists():
        raise SkipRow("already_imported", f"execution {execution_id} exists (from another source)")
    if not any(item.carries_answer for item in items) and not ctx.report.include_fixtures:
        raise SkipRow("fixture", "")

    record, cells = build_record(
        ctx, row, brand, summary, items, execution_id=execution_id, legacy_key=legacy_key
    )
    answers = build_answers(record, items, cells)
    # The outcome is decided by the one rule finish_execution uses, never while building.
    record.status, record.stage, record.error_type, record.error = execution_outcome(
        answers, total_tasks=len(answers)
    )
    store_run(record, answers)
    return ImportedRun(row_id, str(execution_id), record.status, len(answers))


def flag(ctx: ImportContext, row: sqlite3.Row, column: str) -> bool:
    """Whether a G2 row stored ``column`` gzipped."""
    name = f"is_{column}_compressed"
    return name in ctx.columns and bool(row[name])


def decode_summary(ctx: ImportContext, row: sqlite3.Row) -> dict[str, Any]:
    try:
        summary = decode_value(row["results_summary"], compressed=flag(ctx, row, "summary"))
    except CorruptValue as exc:
        if ctx.g2:
            # G2 keeps the execution id there; guessing a new one would fork the run's identity.
            raise SkipRow("corrupt", f"results_summary: {exc}") from exc
        ctx.report.warn("G1 results_summary not JSON; ignored", row["id"])
        return {}
    return summary if isinstance(summary, dict) else {}


def decode_items(ctx: ImportContext, row: sqlite3.Row) -> list[dict[str, Any]]:
    try:
        detailed = decode_value(row["detailed_results"], compressed=flag(ctx, row, "detailed"))
    except CorruptValue as exc:
        raise SkipRow("corrupt", f"detailed_results: {exc}") from exc
    raw_items = item_dicts(detailed)
    if not raw_items:
        raise SkipRow("no_items", "")
    return raw_items


def brand_of(ctx: ImportContext, row: sqlite3.Row, items: list[LegacyItem]) -> str:
    """The row's brand, else the first item's; cut to the model's 100 characters."""
    brand = as_text(row["brand_name"]).strip() or next((i.brand for i in items if i.brand), "")
    if not brand:
        raise SkipRow("invalid", "no brand name")
    if len(brand) > 100:
        ctx.report.warn("brand name longer than 100 characters truncated", row["id"])
        brand = brand[:100]
    return brand


def platform_of(ctx: ImportContext, name: str, row_id: int) -> str:
    """The canonical id; an unknown name is kept lower-cased (its answers are kept too)."""
    name = name.strip()
    if not name:
        ctx.report.warn("item without model kept as platform 'unknown'", row_id)
        return "unknown"
    platform = canonical_platform(name)
    if platform is None:
        platform = name.lower()[:30]
        ctx.report.warn(f"unknown model {name!r} kept as platform {platform!r}", row_id)
    return platform


def competitors_of(brand: str, summary: dict[str, Any], items: list[LegacyItem]) -> list[str]:
    """Competitors named by the summary or the items, in order, without the main brand."""
    names = names_in(summary.get("competitor_brands")) + names_in(summary.get("brands_tested"))
    for item in items:
        names += [*item.competitors, item.brand]
    seen = {brand.casefold()}
    result = []
    for name in names:
        name = name[:100]
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            result.append(name)
    return result


def run_times(
    ctx: ImportContext, row: sqlite3.Row, items: list[LegacyItem], execution_id: uuid.UUID
) -> tuple[datetime, datetime | None, datetime]:
    """(created_at, started_at, finished_at) from the items' timestamps, the G2 task's times
    and ``test_date``, in that order of trust."""
    item_times = [i.timestamp for i in items if i.timestamp is not None]
    task_start, task_end = ctx.task_times.get(str(execution_id), (None, None))
    started_at = min(item_times) if item_times else task_start
    created_at = parse_timestamp(row["test_date"]) or started_at
    if created_at is None:
        ctx.report.warn("no usable test_date; created_at set to the import time", row["id"])
        created_at = timezone.now()
    return created_at, started_at, max(item_times) if item_times else task_end or created_at


def owner_of(ctx: ImportContext, row: sqlite3.Row) -> Any:
    owner = ctx.owners.get(row["user_id"])
    if row["user_id"] not in ctx.owners and ctx.owners:
        ctx.report.warn("run of a user missing from users; imported without owner", row["id"])
    return owner


def plan_cells(
    ctx: ImportContext, row_id: int, items: list[LegacyItem], main: str
) -> tuple[list[str], list[Cell]]:
    """The run's questions and each item's cell; repeats of a cell count up ``run_index``."""
    questions, cells = question_cells(items, main)
    repeats: dict[tuple[int, str, str], int] = {}
    planned = []
    for item, (question_index, brand) in zip(items, cells, strict=True):
        platform = platform_of(ctx, item.model, row_id)
        key = (question_index, brand, platform)
        repeats[key] = repeats.get(key, -1) + 1
        planned.append(Cell(question_index, brand, platform, repeats[key]))
    return questions, planned


def build_record(
    ctx: ImportContext,
    row: sqlite3.Row,
    brand: str,
    summary: dict[str, Any],
    items: list[LegacyItem],
    *,
    execution_id: uuid.UUID,
    legacy_key: str,
) -> tuple[TestRecord, list[Cell]]:
    """The unsaved execution (every field but the outcome) and each item's cell."""
    requested = [platform_of(ctx, n, row["id"]) for n in decode_names(row["ai_models_used"])]
    created_at, started_at, finished_at = run_times(ctx, row, items, execution_id)
    owner = owner_of(ctx, row)
    questions, cells = plan_cells(ctx, row["id"], items, brand)
    succeeded = sum(item.status == AnswerStatus.SUCCESS for item in items)
    record = TestRecord(
        execution_id=execution_id,
        owner=owner,
        source=Source.LEGACY_IMPORT,
        legacy_key=legacy_key,
        # The run's input, snapshotted as start and retry do: what was asked of which platforms.
        **ExecutionInput(
            brand=brand,
            competitors=competitors_of(brand, summary, items),
            questions=questions,
            platforms=list(dict.fromkeys([*requested, *(cell.platform for cell in cells)])),
            repeats=max(cell.run_index for cell in cells) + 1,
        ).record_fields(),
        total_tasks=len(items),
        completed_tasks=succeeded,
        failed_tasks=len(items) - succeeded,
        progress=100,
        created_at=created_at,
        started_at=started_at,
        finished_at=finished_at,
        updated_at=timezone.now(),
    )
    return record, cells


def build_answers(record: TestRecord, items: list[LegacyItem], cells: list[Cell]) -> list[Answer]:
    """The run's answers in item order, analysed as a new run's answers are."""
    analyser = Analyser(record)
    answers = []
    for item, cell in zip(items, cells, strict=True):
        analysis = analyser.analyse(item.text) if item.status == AnswerStatus.SUCCESS else {}
        # The answer as the legacy app stored it, when it differs from the analysed text.
        if item.raw_text.strip() and item.raw_text.strip() != item.text:
            analysis["raw_text"] = item.raw_text
        answers.append(
            Answer(
                record=record,
                question_index=cell.question_index,
                platform=cell.platform,
                brand=cell.brand,
                run_index=cell.run_index,
                question=item.question,
                text=item.text,
                model_name=item.model[:100],
                status=item.status,
                error=item.error,
                error_type=item.error_type,
                created_at=item.timestamp or record.created_at,
                analysis=analysis,
            )
        )
    return answers


def store_run(record: TestRecord, answers: list[Answer]) -> None:
    """Store the run and its answers, then score and report it as finish_execution does."""
    record.save()
    Answer.objects.bulk_create(answers)
    results = build_results(record, list(record.answers.all()))
    for name, value in results.record_fields.items():
        setattr(record, name, value)
    record.save(update_fields=list(results.record_fields))
    results.store(record)
