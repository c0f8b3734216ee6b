"""The pure maths of the alert rules (records.analysis.alerts)."""

from datetime import date

import pytest

from records.analysis.alerts import dropped, lost_domains, overtook, period_bounds
from records.analysis.trends import CellCounts, change


@pytest.mark.parametrize(
    "day, interval, bounds",
    [
        (date(2026, 3, 11), "day", (date(2026, 3, 11), date(2026, 3, 11))),
        (date(2026, 3, 11), "week", (date(2026, 3, 9), date(2026, 3, 15))),
        (date(2026, 2, 11), "month", (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2026, 12, 31), "month", (date(2026, 12, 1), date(2026, 12, 31))),
    ],
)
def test_period_bounds(day, interval, bounds):
    assert period_bounds(day, interval) == bounds


def cells(*mentioned: int, n: int = 4) -> dict[int, CellCounts]:
    return {i: CellCounts(n_valid=n, n_mentioned=m) for i, m in enumerate(mentioned)}


def test_a_drop_must_be_negative_beyond_noise_and_large_enough():
    result = change(cells(4, 4, 4, 4), cells(0, 1, 0, 1), "mention_rate")
    assert dropped(result) and not dropped(result, min_drop=0.9)
    assert not dropped(change(cells(0, 1, 0, 1), cells(4, 4, 4, 4), "mention_rate"))  # a rise
    noisy = change(cells(4, 0, 4, 0), cells(0, 4, 0, 3), "mention_rate")
    assert noisy.delta < 0 and not noisy.beyond_noise and not dropped(noisy)


def test_overtaking_needs_the_rival_behind_before_and_ahead_after():
    def sov(main: int, rival: int) -> tuple[CellCounts, CellCounts]:
        total = main + rival
        return (
            CellCounts(n_valid=4, n_mentioned=main, n_all_mentions=total),
            CellCounts(n_valid=4, n_mentioned=rival, n_all_mentions=total),
        )

    mb, rb = sov(3, 1)
    ma, ra = sov(1, 3)
    assert overtook(mb, rb, ma, ra)
    assert not overtook(mb, rb, ma, ra, margin=0.6)  # 0.75 - 0.25 = 0.5 is within the margin
    assert not overtook(ma, ra, ma, ra)  # already ahead before: not a new overtaking
    nobody = CellCounts(n_valid=4)
    assert not overtook(mb, rb, nobody, nobody)


def test_lost_domains():
    assert lost_domains({"a.com": 2, "b.com": 1}, {"b.com": 1}) == ["a.com"]
    assert lost_domains([], ["a.com"]) == []
