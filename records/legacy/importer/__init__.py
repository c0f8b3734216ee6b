"""Import runs from the legacy Flask app's SQLite databases (LEGACY_CONTRACT.md §2).

The source file is opened read-only and immutable, so nothing is written next to it. Each legacy
``test_records`` row becomes one finished :class:`~records.models.TestRecord` with its answers,
re-analysed and scored by the same functions that finish a new run
(:func:`records.execution.finish_execution`), so old and new runs are comparable. Re-importing a
file imports nothing twice (see :mod:`.identity`).

The steps, one module each: :mod:`.read` opens the file and decodes its values, :mod:`.mapping`
turns both generations' items into one shape, :mod:`.users` and :mod:`.build` write the users and
the runs, :mod:`.report` says what happened.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import nullcontext
from pathlib import Path

from django.db import transaction

from records.legacy.importer.build import ImportContext, import_row
from records.legacy.importer.identity import LEGACY_NAMESPACE
from records.legacy.importer.mapping import strip_geo_block
from records.legacy.importer.read import (
    CorruptValue,
    LegacyFileError,
    decode_value,
    detect_generation,
    open_legacy,
    read_task_times,
    table_columns,
)
from records.legacy.importer.report import ImportReport, SkippedRow, SkipRow
from records.legacy.importer.users import import_users

__all__ = [
    "LEGACY_NAMESPACE",
    "CorruptValue",
    "ImportReport",
    "LegacyFileError",
    "decode_value",
    "import_legacy_file",
    "strip_geo_block",
]

logger = logging.getLogger(__name__)


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
                import_rows(connection, report)
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


def import_rows(connection: sqlite3.Connection, report: ImportReport) -> None:
    """Import the users, then every test_records row in id order, each in its own transaction."""
    ctx = ImportContext(
        connection=connection,
        report=report,
        g2=report.generation == "g2",
        columns=table_columns(connection, "test_records"),
        owners=import_users(connection, report),
        task_times=read_task_times(connection),
    )
    row_ids = [row[0] for row in connection.execute("SELECT id FROM test_records")]
    report.rows = len(row_ids)
    for row_id in sorted(row_ids):
        try:
            with transaction.atomic():
                report.imported.append(import_row(ctx, row_id))
        except SkipRow as skip:
            report.skipped.append(SkippedRow(row_id, skip.reason, skip.detail))
        except Exception as exc:
            # Isolation boundary: one bad row is reported and never aborts the file.
            logger.exception("legacy row %s failed to import", row_id)
            report.skipped.append(SkippedRow(row_id, "error", f"{type(exc).__name__}: {exc}"))
