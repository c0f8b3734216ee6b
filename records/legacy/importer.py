"""Import runs from the legacy Flask app's SQLite databases (LEGACY_CONTRACT.md §2).

The source file is opened read-only and immutable, so nothing is written next to it. Each legacy
``test_records`` row becomes one finished :class:`~records.models.TestRecord` with its answers,
re-analysed and scored by the same functions that finish a new run
(:func:`records.execution.finish_execution`), so old and new runs are comparable.

Identity of an imported run (what makes re-imports idempotent):

* ``legacy_key`` is ``legacy:<fingerprint>:<row id>``, where the fingerprint hashes the row's own
  immutable content (legacy user id, brand, ``test_date`` and the decoded items). It is used
  instead of the file's name, size or header bytes, which all change when a live legacy database
  grows, is copied, renamed or vacuumed; the content of a saved run never changes. Two legacy
  databases whose row ids overlap still get distinct keys.
* ``execution_id``: G2 rows keep ``results_summary.execution_id``; G1 rows (and G2 rows without a
  valid one) get ``uuid5(LEGACY_NAMESPACE, legacy_key)``. Because the fingerprint covers the
  answers, a derived id cannot be guessed from a brand and a date, which matters for anonymous
  runs, where the execution id is the only capability.

A G2 answer ends with the ``{"geo_analysis": ...}`` block the old prompt asked for. ``Answer.text``
holds the answer without it (what is analysed and served as ``response``); the answer as stored
by the legacy app is kept in ``Answer.analysis["raw_text"]`` when the two differ.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as dt_timezone
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from records.engine.plan import BRAND_PLACEHOLDER
from records.execution import execution_outcome
from records.legacy.accounts import ensure_wechat_user
from records.models import (
    Answer,
    AnswerStatus,
    Source,
    TestRecord,
)
from records.platforms import canonical_platform
from records.reports import Analyser, build_results

logger = logging.getLogger(__name__)

# Fixed forever: derived execution ids of already imported G1 runs depend on it.
LEGACY_NAMESPACE = uuid.UUID("6f0c3d1e-7a52-5b8e-9c1d-4e2f8a9b0c31")
ANONYMOUS_OPENID = "anonymous"
# Timestamps inside G2 items are naive local time of the legacy server.
LEGACY_LOCAL_TZ = dt_timezone(timedelta(hours=8), "UTC+08:00")
GZIP_MAGIC = b"\x1f\x8b"
REQUIRED_COLUMNS = frozenset(
    {"id", "user_id", "brand_name", "test_date", "results_summary", "detailed_results"}
)
USER_COLUMNS = ("id", "openid", "nickname", "avatar_url", "created_at")
G2_FLAG_COLUMNS = frozenset({"is_summary_compressed", "is_detailed_compressed"})
# Item statuses the legacy app wrote for a call that produced no answer.
FAILED_ITEM_STATUSES = frozenset({"failed", "failure", "error", "timeout", "cancelled"})
NO_MESSAGE_ERROR = "The legacy run recorded this call as failed without a message."
EMPTY_ANSWER_ERROR = "The platform returned an empty answer."

_NAME_SEPARATORS = re.compile(r"[,，、;；\n]+")
_GEO_BLOCK_START = re.compile(r'\{\s*"geo_analysis"\s*:')
_OPENING_FENCE = re.compile(r"```[\w-]*[ \t]*\n?[ \t]*\Z")
_CLOSING_FENCE = re.compile(r"\s*```")


class LegacyFileError(Exception):
    """The file cannot be imported at all: missing, unreadable, or not a legacy database."""


class CorruptValue(ValueError):
    """A stored value that cannot be decoded (bad gzip, bad UTF-8, bad JSON)."""


class _SkipRow(Exception):
    """This row is not imported; ``reason`` is one of SKIP_REASONS."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


SKIP_REASONS = {
    "already_imported": "already imported",
    "fixture": "test fixtures (items without answers; --include-fixtures imports them)",
    "no_items": "no items (detailed_results empty or null)",
    "corrupt": "corrupt value",
    "invalid": "invalid row",
    "unreadable": "unreadable row",
    "error": "unexpected error",
}


# ---------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True, slots=True)
class ImportedRun:
    """A legacy row imported as an execution."""

    row_id: int
    execution_id: str
    status: str
    answers: int


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A legacy row left out, and why."""

    row_id: int
    reason: str
    detail: str = ""


@dataclass
class ImportReport:
    """What one import did: users, runs imported, rows skipped with reasons, warnings."""

    path: str
    generation: str = ""
    dry_run: bool = False
    include_fixtures: bool = False
    read_from_copy: bool = False
    rows: int = 0
    users_imported: int = 0
    users_existing: int = 0
    users_without_openid: int = 0
    imported: list[ImportedRun] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    # message -> legacy row ids (None for file-level warnings), so repeats collapse to one line.
    warnings: dict[str, list[int | None]] = field(default_factory=dict)

    @property
    def runs_imported(self) -> int:
        return len(self.imported)

    def warn(self, message: str, row_id: int | None = None) -> None:
        rows = self.warnings.setdefault(message, [])
        if row_id not in rows:
            rows.append(row_id)

    def skipped_by_reason(self) -> dict[str, list[SkippedRow]]:
        groups: dict[str, list[SkippedRow]] = defaultdict(list)
        for skipped in self.skipped:
            groups[skipped.reason].append(skipped)
        return dict(groups)

    def lines(self, *, verbose: bool = False) -> list[str]:
        """A readable summary; ``verbose`` also lists every imported run."""
        lines = [
            f"Legacy file: {self.path} (generation {self.generation.upper()}, "
            f"{self.rows} test_records rows)"
        ]
        if self.read_from_copy:
            lines.append("  Read from a private copy to include its un-checkpointed -wal file.")
        lines.append(
            f"Users: {self.users_imported} imported, {self.users_existing} already present"
            + (f", {self.users_without_openid} without openid" if self.users_without_openid else "")
        )
        statuses = Counter(run.status for run in self.imported)
        lines.append(
            f"Runs imported: {self.runs_imported}" + (f" ({_counts(statuses)})" if statuses else "")
        )
        if verbose:
            lines += [
                f"  row {run.row_id} -> {run.execution_id} ({run.status}, {run.answers} answer(s))"
                for run in self.imported
            ]
        lines.append(f"Rows skipped: {len(self.skipped)}")
        for reason, rows in self.skipped_by_reason().items():
            label = SKIP_REASONS.get(reason, reason)
            if all(not row.detail for row in rows) or not verbose and len(rows) > 10:
                lines.append(f"  {label}: {len(rows)} (rows {_ranges(r.row_id for r in rows)})")
            else:
                lines.append(f"  {label}: {len(rows)}")
                lines += [f"    row {row.row_id}: {row.detail}" for row in rows]
        if self.warnings:
            lines.append(f"Warnings: {len(self.warnings)}")
            for message, rows in self.warnings.items():
                ids = [r for r in rows if r is not None]
                lines.append(f"  {message}" + (f" (rows {_ranges(ids)})" if ids else ""))
        if self.dry_run:
            lines.append("Dry run: everything above was rolled back; nothing was saved.")
        return lines


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{count} {name}" for name, count in sorted(counter.items()))


def _ranges(ids) -> str:
    """'1-3, 7, 9-10' for [1, 2, 3, 7, 9, 10]."""
    parts: list[str] = []
    for value in sorted(set(ids)):
        if parts and isinstance(parts[-1], list) and parts[-1][1] == value - 1:
            parts[-1][1] = value
        else:
            parts.append([value, value])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)


# ---------------------------------------------------------------------------------------------
# Decoding stored values


def decode_value(value: object, *, compressed: bool = False) -> Any:
    """A stored column value as JSON data; None for NULL, empty, JSON null and the string "null".

    Bytes are gunzipped when ``compressed`` or when they start with the gzip magic, then
    decoded as UTF-8. The JSON parser decodes ``\\uXXXX`` escapes. Raises CorruptValue.
    """
    if value is None:
        return None
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        if compressed or value.startswith(GZIP_MAGIC):
            try:
                value = gzip.decompress(value)
            except (OSError, EOFError, zlib.error) as exc:
                raise CorruptValue(f"bad gzip data ({exc})") from exc
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptValue(f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    elif isinstance(value, str):
        text = value
    else:
        return value
    text = text.strip().lstrip("\ufeff")
    if not text:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptValue(f"bad JSON ({exc})") from exc
    if isinstance(data, str):
        # A JSON string holding JSON: the legacy app stored some values double-encoded.
        inner = data.strip()
        if inner in ("", "null"):
            return None
        if inner[:1] in "[{":
            try:
                return json.loads(inner)
            except json.JSONDecodeError:
                return data
    return data


def decode_names(value: object) -> list[str]:
    """A list of names from a JSON list, a JSON string or a plain 'a, b' string."""
    try:
        data = decode_value(value)
    except CorruptValue:
        # ai_models_used was sometimes saved as plain comma-separated text, not JSON.
        data = value if isinstance(value, str) else None
    if isinstance(data, str):
        data = _NAME_SEPARATORS.split(data)
    if not isinstance(data, list):
        return []
    return [str(x).strip() for x in data if isinstance(x, str | int) and str(x).strip()]


def strip_geo_block(content: str) -> str:
    """The answer without the ``{"geo_analysis": ...}`` block the legacy prompt asked for.

    The block may sit in a code fence. A block that does not parse (the model's output was cut
    off) runs to the end of the answer.
    """
    matches = list(_GEO_BLOCK_START.finditer(content))
    if not matches:
        return content
    start = matches[-1].start()
    fence = _OPENING_FENCE.search(content, 0, start)
    cut = fence.start() if fence else start
    try:
        _, end = json.JSONDecoder().raw_decode(content, start)
    except json.JSONDecodeError:
        end = len(content)
    else:
        closing = _CLOSING_FENCE.match(content, end)
        if fence and closing:
            end = closing.end()
    before, after = content[:cut].rstrip(), content[end:].strip()
    return f"{before}\n\n{after}" if before and after else before or after


def parse_timestamp(value: object, *, naive_tz: tzinfo = UTC) -> datetime | None:
    """An aware UTC datetime from ISO text (naive text is in ``naive_tz``) or epoch seconds."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_tz)
    return parsed.astimezone(UTC)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _names_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [n.strip() for n in _NAME_SEPARATORS.split(value) if n.strip()]
    if isinstance(value, list):
        return [n.strip() for n in value if isinstance(n, str) and n.strip()]
    return []


# ---------------------------------------------------------------------------------------------
# Legacy items


@dataclass(slots=True)
class LegacyItem:
    """One legacy result item, normalised across generations."""

    question: str
    brand: str
    model: str
    raw_text: str
    text: str
    status: str
    error: str = ""
    error_type: str = ""
    timestamp: datetime | None = None
    # Has an answer text or a recorded failure message; a row with none of these is a fixture.
    carries_answer: bool = True
    competitors: list[str] = field(default_factory=list)


def _finish_item(
    *,
    question: str,
    brand: str,
    model: str,
    raw_text: str,
    failed: bool,
    error: str,
    error_type: str,
    timestamp: datetime | None = None,
    competitors: list[str] | None = None,
) -> LegacyItem:
    text = strip_geo_block(raw_text).strip() if raw_text.strip() else ""
    item = LegacyItem(
        question=question.strip(),
        brand=brand.strip(),
        model=model.strip(),
        raw_text=raw_text,
        text=text,
        status=AnswerStatus.SUCCESS,
        timestamp=timestamp,
        carries_answer=bool(raw_text.strip() or error.strip()),
        competitors=competitors or [],
    )
    if failed or error.strip() or not text:
        item.status = AnswerStatus.FAILED
        if failed or error.strip():
            item.error = error.strip() or NO_MESSAGE_ERROR
            item.error_type = (error_type.strip() or "internal")[:30]
        else:
            item.error, item.error_type = EMPTY_ANSWER_ERROR, "bad_response"
    return item


def g1_item(data: dict[str, Any]) -> LegacyItem:
    """``{success, brand, aiModel, question, response, error_message?, error_type?, ...}``."""
    response = _text(data.get("response"))
    error = _text(data.get("error_message") or data.get("error"))
    is_error_text = response.lstrip().startswith("Error:")
    if is_error_text:
        # Failures stored their message as the response: "Error: ...".
        error = error or response.strip().removeprefix("Error:").strip()
        response = ""
    return _finish_item(
        question=_text(data.get("question")),
        brand=_text(data.get("brand")),
        model=_text(data.get("aiModel") or data.get("model")),
        raw_text=response,
        failed=data.get("success") is False or is_error_text,
        error=error,
        error_type=_text(data.get("error_type")),
    )


def g2_item(data: dict[str, Any]) -> LegacyItem:
    """``{question_text, main_brand, competitor_brands, model, platform, content, status, ...}``."""
    status = _text(data.get("status")).strip().lower()
    return _finish_item(
        question=_text(data.get("question_text") or data.get("question")),
        brand=_text(data.get("brand") or data.get("main_brand")),
        model=_text(data.get("platform") or data.get("model")),
        raw_text=_text(data.get("content") or data.get("response")),
        failed=status in FAILED_ITEM_STATUSES,
        error=_text(data.get("error")),
        error_type=_text(data.get("error_type")),
        timestamp=parse_timestamp(data.get("timestamp"), naive_tz=LEGACY_LOCAL_TZ),
        competitors=_names_in(data.get("competitor_brands")),
    )


def _item_dicts(detailed: Any) -> list[dict[str, Any]] | None:
    if isinstance(detailed, dict):
        wrapped = detailed.get("results")
        detailed = wrapped if isinstance(wrapped, list) else [detailed]
    if not isinstance(detailed, list):
        return None
    return [item for item in detailed if isinstance(item, dict) and item]


def question_cells(items: list[LegacyItem], main: str) -> tuple[list[str], list[tuple[int, str]]]:
    """The run's questions and each item's (question_index, brand), as plan.expand_questions
    would have made them.

    A question asked once per brand with the brand substituted becomes a ``{brandName}`` template
    whose answers carry their brand (the main brand's included, as in new runs); any other
    question is kept as asked, with brand ''.
    """
    candidates = [
        item.question.replace(item.brand, BRAND_PLACEHOLDER)
        if item.brand and item.brand in item.question
        else None
        for item in items
    ]
    brands_of: dict[str, set[str]] = defaultdict(set)
    for item, candidate in zip(items, candidates, strict=True):
        if candidate is not None:
            brands_of[candidate].add(item.brand)
    questions: dict[str, int] = {}
    cells = []
    for item, candidate in zip(items, candidates, strict=True):
        templated = candidate is not None and brands_of[candidate] != {main}
        text = candidate if templated else item.question
        cells.append((questions.setdefault(text, len(questions)), item.brand if templated else ""))
    return list(questions), cells


# ---------------------------------------------------------------------------------------------
# Reading the file


@contextmanager
def open_legacy(path: Path) -> Iterator[tuple[sqlite3.Connection, bool]]:
    """A read-only connection to a legacy database and whether it reads a private copy.

    ``immutable=1`` makes SQLite take no locks and create no ``-wal``/``-shm``/journal file (a
    plain ``mode=ro`` open of a WAL-mode file needs them). An immutable open ignores a ``-wal``
    file, so when one with content sits next to the file, both are copied to a temporary
    directory and the copy is read, which includes its committed transactions.
    """
    if not path.exists():
        raise LegacyFileError(f"{path}: no such file")
    if not path.is_file() or not os.access(path, os.R_OK):
        raise LegacyFileError(f"{path}: not a readable file")
    wal = path.with_name(f"{path.name}-wal")
    with ExitStack() as stack:
        from_copy = wal.is_file() and wal.stat().st_size > 0
        if from_copy:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="legacy-")))
            shutil.copyfile(path, folder / path.name)
            shutil.copyfile(wal, folder / wal.name)
            uri = f"{(folder / path.name).as_uri()}?mode=rw"
        else:
            uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        try:
            connection = sqlite3.connect(uri, uri=True)
            stack.callback(connection.close)
            connection.row_factory = sqlite3.Row
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise LegacyFileError(f"{path}: not a readable SQLite database ({exc})") from exc
        yield connection, from_copy


def detect_generation(connection: sqlite3.Connection, path: Path) -> str:
    """'g1' (TEXT results) or 'g2' (BLOB results with compression flags)."""
    columns = {
        row["name"]: (row["type"] or "").upper()
        for row in connection.execute("PRAGMA table_info(test_records)")
    }
    if not columns:
        raise LegacyFileError(f"{path}: no test_records table; not a legacy brand-test database")
    missing = REQUIRED_COLUMNS - columns.keys()
    if missing:
        raise LegacyFileError(
            f"{path}: test_records lacks {', '.join(sorted(missing))}; not a legacy database"
        )
    if G2_FLAG_COLUMNS & columns.keys() or "BLOB" in columns["detailed_results"]:
        return "g2"
    return "g1"


def _table_columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}


# ---------------------------------------------------------------------------------------------
# The import


def import_legacy_file(
    path: str | os.PathLike[str], *, dry_run: bool = False, include_fixtures: bool = False
) -> ImportReport:
    """Import users and runs from a legacy SQLite file; idempotent.

    Every row is imported in its own transaction, so one bad row never aborts the file.
    ``dry_run`` does all of it inside one transaction and rolls it back. Raises LegacyFileError
    when the file cannot be read as a legacy database.
    """
    source = Path(path)
    with open_legacy(source) as (connection, from_copy):
        report = ImportReport(
            path=str(source),
            generation=detect_generation(connection, source),
            dry_run=dry_run,
            include_fixtures=include_fixtures,
            read_from_copy=from_copy,
        )
        with transaction.atomic() if dry_run else nullcontext():
            try:
                LegacyImporter(connection, report).run()
            except sqlite3.DatabaseError as exc:
                # Rows already imported stay (unless dry run); a re-run resumes after them.
                raise LegacyFileError(f"{source}: reading failed ({exc})") from exc
            if dry_run:
                transaction.set_rollback(True)
    logger.info(
        "legacy import of %s: %d runs imported, %d rows skipped%s",
        source,
        report.runs_imported,
        len(report.skipped),
        " (dry run, rolled back)" if dry_run else "",
    )
    return report


class LegacyImporter:
    """Imports one open legacy database into the report's counts."""

    def __init__(self, connection: sqlite3.Connection, report: ImportReport) -> None:
        self.connection = connection
        self.report = report
        self.g2 = report.generation == "g2"
        self.columns = _table_columns(connection, "test_records")
        self.owners: dict[int, Any] = {}
        self.task_times: dict[str, tuple[datetime | None, datetime | None]] = {}

    def run(self) -> None:
        self.owners = self.import_users()
        self.task_times = self.read_task_times()
        row_ids = [row[0] for row in self.connection.execute("SELECT id FROM test_records")]
        self.report.rows = len(row_ids)
        for row_id in sorted(row_ids):
            try:
                with transaction.atomic():
                    self.report.imported.append(self.import_row(row_id))
            except _SkipRow as skip:
                self.report.skipped.append(SkippedRow(row_id, skip.reason, skip.detail))
            except Exception as exc:
                # Isolation boundary: one bad row is reported and never aborts the file.
                logger.exception("legacy row %s failed to import", row_id)
                self.report.skipped.append(
                    SkippedRow(row_id, "error", f"{type(exc).__name__}: {exc}")
                )

    # -- users --------------------------------------------------------------------------------

    def import_users(self) -> dict[int, Any]:
        """Legacy user id -> Django user, or None for the anonymous user."""
        columns = _table_columns(self.connection, "users")
        if not {"id", "openid"} <= columns:
            self.report.warn("no users table with openid; every run is imported without owner")
            return {}
        wanted = [c for c in USER_COLUMNS if c in columns]
        owners: dict[int, Any] = {}
        for row in self.connection.execute(f"SELECT {', '.join(wanted)} FROM users ORDER BY id"):
            openid = _text(row["openid"]).strip()
            owners[row["id"]] = None
            if openid == ANONYMOUS_OPENID:
                continue
            if not openid or len(openid) > 64:
                self.report.users_without_openid += 1
                self.report.warn(
                    f"legacy user {row['id']} has no usable openid; "
                    "its runs are imported without owner"
                )
                continue
            try:
                with transaction.atomic():
                    user, created = ensure_wechat_user(
                        openid=openid,
                        nickname=_text(row["nickname"]) if "nickname" in wanted else "",
                        avatar_url=_text(row["avatar_url"]) if "avatar_url" in wanted else "",
                        created_at=parse_timestamp(row["created_at"])
                        if "created_at" in wanted
                        else None,
                    )
            except IntegrityError as exc:
                self.report.warn(
                    f"legacy user {row['id']} not imported ({exc}); "
                    "its runs are imported without owner"
                )
                continue
            owners[row["id"]] = user
            if created:
                self.report.users_imported += 1
            else:
                self.report.users_existing += 1
        return owners

    def read_task_times(self) -> dict[str, tuple[datetime | None, datetime | None]]:
        """task_id -> (created_at, updated_at) from task_statuses, for G2 runs' start and end."""
        if not {"task_id", "created_at", "updated_at"} <= _table_columns(
            self.connection, "task_statuses"
        ):
            return {}
        return {
            str(row["task_id"]): (
                parse_timestamp(row["created_at"]),
                parse_timestamp(row["updated_at"]),
            )
            for row in self.connection.execute(
                "SELECT task_id, created_at, updated_at FROM task_statuses"
            )
        }

    # -- runs ---------------------------------------------------------------------------------

    def import_row(self, row_id: int) -> ImportedRun:
        """Import one test_records row or raise _SkipRow."""
        try:
            row = self.connection.execute(
                "SELECT * FROM test_records WHERE id = ?", (row_id,)
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise _SkipRow("unreadable", str(exc)) from exc
        summary = self.decode_summary(row)
        try:
            detailed = decode_value(row["detailed_results"], compressed=self.flag(row, "detailed"))
        except CorruptValue as exc:
            raise _SkipRow("corrupt", f"detailed_results: {exc}") from exc
        raw_items = _item_dicts(detailed)
        if not raw_items:
            raise _SkipRow("no_items", "")
        items = [g2_item(i) if self.g2 else g1_item(i) for i in raw_items]

        brand = _text(row["brand_name"]).strip() or next((i.brand for i in items if i.brand), "")
        if not brand:
            raise _SkipRow("invalid", "no brand name")
        if len(brand) > 100:
            self.report.warn("brand name longer than 100 characters truncated", row_id)
            brand = brand[:100]

        legacy_key = self.legacy_key(row, brand, raw_items)
        execution_id = self.execution_id(summary, legacy_key, row_id)
        if TestRecord.objects.filter(legacy_key=legacy_key).exists():
            raise _SkipRow("already_imported", "")
        if TestRecord.objects.filter(execution_id=execution_id).exists():
            raise _SkipRow(
                "already_imported", f"execution {execution_id} exists (from another source)"
            )
        if not any(item.carries_answer for item in items) and not self.report.include_fixtures:
            raise _SkipRow("fixture", "")

        record = self.build_record(row, brand, summary, items, execution_id, legacy_key)
        answers = self.build_answers(record, row_id, items)
        self.finish(record, answers)
        return ImportedRun(row_id, str(execution_id), record.status, len(answers))

    def flag(self, row: sqlite3.Row, column: str) -> bool:
        name = f"is_{column}_compressed"
        return name in self.columns and bool(row[name])

    def decode_summary(self, row: sqlite3.Row) -> dict[str, Any]:
        try:
            summary = decode_value(row["results_summary"], compressed=self.flag(row, "summary"))
        except CorruptValue as exc:
            if self.g2:
                # G2 keeps the execution id there; guessing a new one would fork the run's identity.
                raise _SkipRow("corrupt", f"results_summary: {exc}") from exc
            self.report.warn("G1 results_summary not JSON; ignored", row["id"])
            return {}
        return summary if isinstance(summary, dict) else {}

    def legacy_key(self, row: sqlite3.Row, brand: str, raw_items: list[dict]) -> str:
        """``legacy:<content fingerprint>:<row id>``; see the module docstring for why."""
        content = json.dumps(
            [row["user_id"], brand, _text(row["test_date"]), raw_items],
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return f"legacy:{hashlib.sha256(content.encode()).hexdigest()[:20]}:{row['id']}"

    def execution_id(self, summary: dict[str, Any], legacy_key: str, row_id: int) -> uuid.UUID:
        kept = summary.get("execution_id") if self.g2 else None
        if kept:
            try:
                return uuid.UUID(str(kept))
            except ValueError:
                self.report.warn("G2 execution_id is not a UUID; a stable one was derived", row_id)
        return uuid.uuid5(LEGACY_NAMESPACE, legacy_key)

    def platform(self, name: str, row_id: int) -> str:
        """The canonical id; an unknown name is kept lower-cased (its answers are kept too)."""
        name = name.strip()
        if not name:
            self.report.warn("item without model kept as platform 'unknown'", row_id)
            return "unknown"
        platform = canonical_platform(name)
        if platform is None:
            platform = name.lower()[:30]
            self.report.warn(f"unknown model {name!r} kept as platform {platform!r}", row_id)
        return platform

    def competitors(
        self, row: sqlite3.Row, brand: str, summary: dict[str, Any], items: list[LegacyItem]
    ) -> list[str]:
        """Competitors named by the summary or the items, in order, without the main brand."""
        names = _names_in(summary.get("competitor_brands")) + _names_in(
            summary.get("brands_tested")
        )
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

    def build_record(
        self,
        row: sqlite3.Row,
        brand: str,
        summary: dict[str, Any],
        items: list[LegacyItem],
        execution_id: uuid.UUID,
        legacy_key: str,
    ) -> TestRecord:
        row_id = row["id"]
        requested = [self.platform(n, row_id) for n in decode_names(row["ai_models_used"])]
        item_times = [i.timestamp for i in items if i.timestamp is not None]
        task_start, task_end = self.task_times.get(str(execution_id), (None, None))
        started_at = min(item_times) if item_times else task_start
        created_at = parse_timestamp(row["test_date"]) or started_at
        if created_at is None:
            self.report.warn("no usable test_date; created_at set to the import time", row_id)
            created_at = timezone.now()
        owner = self.owners.get(row["user_id"])
        if row["user_id"] not in self.owners and self.owners:
            self.report.warn("run of a user missing from users; imported without owner", row_id)
        return TestRecord(
            execution_id=execution_id,
            owner=owner,
            source=Source.LEGACY_IMPORT,
            legacy_key=legacy_key,
            brand_name=brand,
            competitor_brands=self.competitors(row, brand, summary, items),
            platforms=list(dict.fromkeys(requested)),
            total_tasks=len(items),
            progress=100,
            created_at=created_at,
            started_at=started_at,
            finished_at=max(item_times) if item_times else task_end or created_at,
            updated_at=timezone.now(),
        )

    def build_answers(
        self, record: TestRecord, row_id: int, items: list[LegacyItem]
    ) -> list[Answer]:
        """Answers in item order (analysed) and the record's questions, platforms, counts."""
        record.questions, cells = question_cells(items, record.brand_name)
        analyser = Analyser(record)
        repeats: Counter[tuple[int, str, str]] = Counter()
        answers = []
        for item, (question_index, brand) in zip(items, cells, strict=True):
            platform = self.platform(item.model, row_id)
            if platform not in record.platforms:
                record.platforms.append(platform)
            run_index = repeats[(question_index, brand, platform)]
            repeats[(question_index, brand, platform)] += 1
            success = item.status == AnswerStatus.SUCCESS
            analysis = analyser.analyse(item.text) if success else {}
            if item.raw_text.strip() and item.raw_text.strip() != item.text:
                analysis["raw_text"] = item.raw_text
            answers.append(
                Answer(
                    record=record,
                    question_index=question_index,
                    platform=platform,
                    brand=brand,
                    run_index=run_index,
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
        record.repeats = max(repeats.values(), default=1)
        record.completed_tasks = sum(a.status == AnswerStatus.SUCCESS for a in answers)
        record.failed_tasks = len(answers) - record.completed_tasks
        record.status, record.stage, record.error_type, record.error = execution_outcome(
            answers, total_tasks=len(answers)
        )
        return answers

    def finish(self, record: TestRecord, answers: list[Answer]) -> None:
        """Store the run and its answers, then score and report it as finish_execution does."""
        record.save()
        Answer.objects.bulk_create(answers)
        results = build_results(record, list(record.answers.all()))
        for name, value in results.record_fields.items():
            setattr(record, name, value)
        record.save(update_fields=list(results.record_fields))
        results.store(record)
