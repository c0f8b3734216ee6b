"""What one legacy import did: the runs imported, the rows skipped and why, the warnings."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

SKIP_REASONS = {
    "already_imported": "already imported",
    "fixture": "test fixtures (items without answers; --include-fixtures imports them)",
    "no_items": "no items (detailed_results empty or null)",
    "corrupt": "corrupt value",
    "invalid": "invalid row",
    "unreadable": "unreadable row",
    "error": "unexpected error",
}


class SkipRow(Exception):
    """This row is not imported; ``reason`` is one of SKIP_REASONS."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


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
        lines += self.skipped_lines(verbose=verbose)
        if self.warnings:
            lines.append(f"Warnings: {len(self.warnings)}")
            for message, rows in self.warnings.items():
                ids = [r for r in rows if r is not None]
                lines.append(f"  {message}" + (f" (rows {_ranges(ids)})" if ids else ""))
        if self.dry_run:
            lines.append("Dry run: everything above was rolled back; nothing was saved.")
        return lines

    def skipped_lines(self, *, verbose: bool) -> list[str]:
        """The skipped rows by reason: their details, or only their ids when there are many."""
        lines = [f"Rows skipped: {len(self.skipped)}"]
        for reason, rows in self.skipped_by_reason().items():
            label = SKIP_REASONS.get(reason, reason)
            if all(not row.detail for row in rows) or not verbose and len(rows) > 10:
                lines.append(f"  {label}: {len(rows)} (rows {_ranges(r.row_id for r in rows)})")
            else:
                lines.append(f"  {label}: {len(rows)}")
                lines += [f"    row {row.row_id}: {row.detail}" for row in rows]
        return lines


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{count} {name}" for name, count in sorted(counter.items()))


def _ranges(ids: Iterable[int]) -> str:
    """'1-3, 7, 9-10' for [1, 2, 3, 7, 9, 10]."""
    parts: list[list[int]] = []
    for value in sorted(set(ids)):
        if parts and parts[-1][1] == value - 1:
            parts[-1][1] = value
        else:
            parts.append([value, value])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts)
