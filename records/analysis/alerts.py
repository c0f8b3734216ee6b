"""The maths of a monitor's alert rules (docs/metrics.md §10): periods and the decisions.

The Django side (``records.alerts``) reads stored ``CellScore`` counts and answer analyses and
asks these functions whether a rule fires. Plain Python: no Django.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from records.analysis.trends import CellCounts, Change, cell_value, period_start

__all__ = [
    "dropped",
    "lost_domains",
    "next_period_start",
    "overtook",
    "period_bounds",
    "period_start",
    "share_of_voice",
]


def next_period_start(start: date, interval: str) -> date:
    """The first day of the period after the one starting on ``start``."""
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    raise ValueError(f"unknown interval {interval!r}")


def period_bounds(day: date, interval: str) -> tuple[date, date]:
    """(first, last) day of the period holding ``day``, both inclusive."""
    first = day
    if interval == "week":
        first = day - timedelta(days=day.weekday())
    elif interval == "month":
        first = day.replace(day=1)
    elif interval != "day":
        raise ValueError(f"unknown interval {interval!r}")
    return first, next_period_start(first, interval) - timedelta(days=1)


def dropped(result: Change, *, min_drop: float = 0.0) -> bool:
    """The visibility_drop rule: the change on common cells is negative, beyond noise (more than
    two standard errors of the paired differences, records.analysis.trends.significance) and at
    least ``min_drop``. Without an SE (fewer than two common cells) nothing is beyond noise."""
    return (
        result.delta is not None
        and result.beyond_noise
        and result.delta < 0
        and -result.delta >= min_drop
    )


def share_of_voice(counts: CellCounts) -> float | None:
    """A brand's share of the tracked-brand mentions in pooled counts (None: no mention)."""
    return cell_value(counts, "share_of_voice")


def overtook(
    main_before: CellCounts,
    rival_before: CellCounts,
    main_after: CellCounts,
    rival_after: CellCounts,
    *,
    margin: float = 0.0,
) -> bool:
    """The overtaken rule: the rival's share of voice was at most the main brand's in the earlier
    period and exceeds it by more than ``margin`` in the later one (the same cells both sides).

    A side where no tracked brand was mentioned has no share of voice; nobody overtakes there.
    """
    sov = [share_of_voice(c) for c in (main_before, rival_before, main_after, rival_after)]
    if any(v is None for v in sov):
        return False
    mb, rb, ma, ra = sov
    return rb <= mb and ra > ma + margin


def lost_domains(before: Iterable[str], after: Iterable[str]) -> list[str]:
    """Owned domains cited in the earlier period and not in the later one, sorted."""
    return sorted(set(before) - set(after))
