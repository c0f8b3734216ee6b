"""Reading a legacy SQLite file of either generation, and decoding its stored values.

Nothing here touches Django: it opens the file read-only, tells the generations apart and turns
stored columns (TEXT, BLOB, gzip, double-encoded JSON) into plain Python data.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from records.legacy.importer.report import SkipRow

GZIP_MAGIC = b"\x1f\x8b"
REQUIRED_COLUMNS = frozenset(
    {"id", "user_id", "brand_name", "test_date", "results_summary", "detailed_results"}
)
USER_COLUMNS = ("id", "openid", "nickname", "avatar_url", "created_at")
G2_FLAG_COLUMNS = frozenset({"is_summary_compressed", "is_detailed_compressed"})

NAME_SEPARATORS = re.compile(r"[,，、;；\n]+")

TaskTimes = dict[str, tuple[datetime | None, datetime | None]]


class LegacyFileError(Exception):
    """The file cannot be imported at all: missing, unreadable, or not a legacy database."""


class CorruptValue(ValueError):
    """A stored value that cannot be decoded (bad gzip, bad UTF-8, bad JSON)."""


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


def table_columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}


def user_rows(connection: sqlite3.Connection) -> list[dict[str, Any]] | None:
    """The legacy users by id (a missing optional column reads as None); None without a usable
    users table."""
    columns = table_columns(connection, "users")
    if not {"id", "openid"} <= columns:
        return None
    wanted = [c for c in USER_COLUMNS if c in columns]
    rows = connection.execute(f"SELECT {', '.join(wanted)} FROM users ORDER BY id")
    return [{name: row[name] if name in wanted else None for name in USER_COLUMNS} for row in rows]


def read_task_times(connection: sqlite3.Connection) -> TaskTimes:
    """task_id -> (created_at, updated_at) from task_statuses, for G2 runs' start and end."""
    if not {"task_id", "created_at", "updated_at"} <= table_columns(connection, "task_statuses"):
        return {}
    return {
        str(row["task_id"]): (
            parse_timestamp(row["created_at"]),
            parse_timestamp(row["updated_at"]),
        )
        for row in connection.execute("SELECT task_id, created_at, updated_at FROM task_statuses")
    }


def read_row(connection: sqlite3.Connection, row_id: int) -> sqlite3.Row:
    """One test_records row; a row SQLite cannot read is skipped, not fatal."""
    try:
        return connection.execute("SELECT * FROM test_records WHERE id = ?", (row_id,)).fetchone()
    except sqlite3.DatabaseError as exc:
        raise SkipRow("unreadable", str(exc)) from exc


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
        text = _decode_bytes(value, compressed=compressed)
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


def _decode_bytes(value: bytes, *, compressed: bool) -> str:
    if compressed or value.startswith(GZIP_MAGIC):
        try:
            value = gzip.decompress(value)
        except (OSError, EOFError, zlib.error) as exc:
            raise CorruptValue(f"bad gzip data ({exc})") from exc
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptValue(f"not UTF-8 ({exc.reason} at byte {exc.start})") from exc


def decode_names(value: object) -> list[str]:
    """A list of names from a JSON list, a JSON string or a plain 'a, b' string."""
    try:
        data = decode_value(value)
    except CorruptValue:
        # ai_models_used was sometimes saved as plain comma-separated text, not JSON.
        data = value if isinstance(value, str) else None
    if isinstance(data, str):
        data = NAME_SEPARATORS.split(data)
    if not isinstance(data, list):
        return []
    return [str(x).strip() for x in data if isinstance(x, str | int) and str(x).strip()]


def names_in(value: object) -> list[str]:
    """Names from an already decoded list or 'a, b' string."""
    if isinstance(value, str):
        return [n.strip() for n in NAME_SEPARATORS.split(value) if n.strip()]
    if isinstance(value, list):
        return [n.strip() for n in value if isinstance(n, str) and n.strip()]
    return []


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


def as_text(value: object) -> str:
    """A stored value as text: '' for NULL, JSON for anything that is not already a string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
