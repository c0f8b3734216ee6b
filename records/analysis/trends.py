"""Trend maths for monitors (docs/metrics.md §9): per-cell counts, periods, and change.

A **cell** is one prompt asked on one platform (a ``{brandName}`` prompt is one cell per
substituted brand). Each execution stores, per tracked brand and cell, the counts below
(``CellCounts``); a period's value of a cell pools the counts of every answer in it (repeats and
every execution of the period), so each answer in a cell weighs the same and repeats are averaged
before cells are compared. A change between two periods is computed on the cells **both** periods
asked, as the mean of paired per-cell differences, with the standard error of that mean:

    d_c   = value_after(c) - value_before(c)        for each common cell c with both values
    delta = mean_c d_c
    se    = stdev_c(d_c) / sqrt(n_cells)            null when n_cells < 2
    beyond_noise = se is not None and |delta| > 2 se   (se = 0: any delta != 0 is beyond noise)

Plain Python: no Django.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from records.analysis.scoring import visibility_score

#: The metrics of a trend, in the order the API lists them.
METRICS = (
    "visibility_score",
    "mention_rate",
    "mrr",
    "share_of_voice",
    "sentiment",
    "top1_rate",
    "owned_citation_rate",
)
INTERVALS = ("day", "week", "month")
#: |delta| must exceed this many standard errors of the difference to be beyond noise.
NOISE_SE = 2.0


@dataclass(frozen=True, slots=True)
class CellCounts:
    """One brand in one cell: sums over the cell's valid answers (additive, so they pool)."""

    n_valid: int = 0
    n_mentioned: int = 0
    rr_sum: float = 0.0  # Σ 1/rank over mentioned answers
    n_top1: int = 0
    sentiment_sum: float = 0.0  # Σ s over mentioned answers with a sentiment
    sentiment_n: int = 0
    n_all_mentions: int = 0  # Σ over answers of tracked brands mentioned (SoV denominator)
    n_sourced: int = 0  # answers whose platform returned structured sources
    n_owned_cited: int = 0  # answers citing (not only retrieving) one of this brand's domains

    def __add__(self, other: CellCounts) -> CellCounts:
        return CellCounts(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(CellCounts))
        )


def pool(counts: Iterable[CellCounts]) -> CellCounts:
    """Sum of counts: the cell over several repeats or several executions."""
    total = CellCounts()
    for c in counts:
        total = total + c
    return total


def _cell_counts_of(analyses: Sequence[Mapping], brand: str, brands: Sequence[str]) -> CellCounts:
    n_mentioned = n_top1 = sentiment_n = n_all = n_sourced = n_owned = 0
    rr_sum = sentiment_sum = 0.0
    for analysis in analyses:
        per_brand = analysis.get("brands") or {}
        entry = per_brand.get(brand) or {}
        n_all += sum(bool((per_brand.get(b) or {}).get("mentioned")) for b in brands)
        if analysis.get("has_structured_sources"):
            n_sourced += 1
        if any(
            c.get("owner_brand") == brand and c.get("cited", True) is not False
            for c in analysis.get("citations") or []
        ):
            n_owned += 1
        if not entry.get("mentioned"):
            continue
        n_mentioned += 1
        rank = entry.get("rank")
        if rank:
            rr_sum += 1 / rank
            n_top1 += rank == 1
        score = (entry.get("sentiment") or {}).get("score")
        if score is not None:
            sentiment_sum += score
            sentiment_n += 1
    return CellCounts(
        n_valid=len(analyses),
        n_mentioned=n_mentioned,
        rr_sum=rr_sum,
        n_top1=n_top1,
        sentiment_sum=sentiment_sum,
        sentiment_n=sentiment_n,
        n_all_mentions=n_all,
        n_sourced=n_sourced,
        n_owned_cited=n_owned,
    )


def cell_counts(
    answers: Iterable[Mapping], brands: Sequence[str]
) -> dict[tuple[str, int, str], dict[str, CellCounts]]:
    """Per cell ``(platform, question_index, subject)`` and brand, the counts of one execution.

    ``answers`` holds one mapping per attempted call: ``platform``, ``question_index``,
    ``subject`` (the brand substituted into a ``{brandName}`` question, else ''), ``valid`` and
    ``analysis`` (:func:`records.analysis.analyse_answer`'s dict). Cells with no valid answer are
    left out: they asked nothing that can be compared.
    """
    grouped: dict[tuple[str, int, str], list[Mapping]] = {}
    for answer in answers:
        if not answer.get("valid") or not answer.get("analysis"):
            continue
        key = (answer["platform"], answer["question_index"], answer.get("subject") or "")
        grouped.setdefault(key, []).append(answer["analysis"])
    return {
        key: {brand: _cell_counts_of(analyses, brand, brands) for brand in brands}
        for key, analyses in sorted(grouped.items())
    }


def cell_value(counts: CellCounts, metric: str) -> float | None:
    """One metric of a cell from its (pooled) counts; None where the metric is undefined.

    ``sentiment`` is NSS in [-1, 1] (mean s over mentioned answers); ``owned_citation_rate`` is
    defined only when some answer of the cell came with structured sources; ``visibility_score``
    applies the VS formula of docs/metrics.md §6 to the cell's own MR, MRR, SoV and sentiment.
    """
    v = counts.n_valid
    if not v:
        return None
    if metric == "mention_rate":
        return counts.n_mentioned / v
    if metric == "mrr":
        return counts.rr_sum / v
    if metric == "top1_rate":
        return counts.n_top1 / v
    if metric == "share_of_voice":
        return counts.n_mentioned / counts.n_all_mentions if counts.n_all_mentions else None
    if metric == "sentiment":
        return counts.sentiment_sum / counts.sentiment_n if counts.sentiment_n else None
    if metric == "owned_citation_rate":
        return counts.n_owned_cited / v if counts.n_sourced else None
    if metric == "visibility_score":
        nss = cell_value(counts, "sentiment")
        vs, _ = visibility_score(
            counts.n_mentioned / v,
            counts.rr_sum / v,
            cell_value(counts, "share_of_voice"),
            50 * (nss + 1) if nss is not None else None,
        )
        return vs
    raise ValueError(f"unknown metric {metric!r}")


def period_start(moment: datetime, interval: str) -> date:
    """The first day of the period holding ``moment`` (already in the monitor's time zone).

    day: that date; week: its Monday (ISO weeks); month: the 1st.
    """
    day = moment.date()
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown interval {interval!r}")


def period_point(values: Sequence[float | None], ses: Sequence[float | None] = ()) -> dict:
    """A period's value from its executions' stored values: the plain mean (each execution
    weighs the same; missing values skipped), and its SE when every execution has one.

    The executions of a period ask the same prompts, so their prompt-sampling errors are not
    independent and do not shrink with more runs: the period's SE is the mean of the executions'
    SEs (full correlation), not sqrt(Σ se²)/m.
    """
    present = [v for v in values if v is not None]
    value = sum(present) / len(present) if present else None
    se = None
    if ses and all(s is not None for s in ses):
        se = sum(ses) / len(ses)
    return {"value": value, "se": se}


@dataclass(frozen=True, slots=True)
class Change:
    """A change between two periods on their common cells (module docstring)."""

    delta: float | None
    se: float | None
    before: float | None  # mean over the common cells, earlier period
    after: float | None
    cells: int  # common cells with a value on both sides
    n_before: int  # valid answers in those cells, earlier period
    n_after: int
    beyond_noise: bool

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(Change)}


def significance(differences: Sequence[float]) -> tuple[float | None, float | None, bool]:
    """(delta, se, beyond_noise) of paired differences: mean, stdev/sqrt(n), |mean| > 2 se.

    Fewer than 2 differences: no standard deviation, so se is None and nothing is beyond noise.
    se = 0 (every cell moved by the same amount): any non-zero delta is beyond noise.
    """
    n = len(differences)
    if not n:
        return None, None, False
    delta = sum(differences) / n
    if n < 2:
        return delta, None, False
    se = statistics.stdev(differences) / math.sqrt(n)
    return delta, se, abs(delta) > NOISE_SE * se


def change(
    before: Mapping[Hashable, CellCounts], after: Mapping[Hashable, CellCounts], metric: str
) -> Change:
    """The change of ``metric`` from ``before`` to ``after``, each a period's pooled counts per
    cell key; only cells present on both sides with a defined value on both count."""
    diffs: list[float] = []
    b_values: list[float] = []
    a_values: list[float] = []
    n_before = n_after = 0
    for key in sorted(set(before) & set(after), key=repr):
        b, a = cell_value(before[key], metric), cell_value(after[key], metric)
        if b is None or a is None:
            continue
        b_values.append(b)
        a_values.append(a)
        diffs.append(a - b)
        n_before += before[key].n_valid
        n_after += after[key].n_valid
    delta, se, beyond = significance(diffs)
    return Change(
        delta=delta,
        se=se,
        before=sum(b_values) / len(b_values) if b_values else None,
        after=sum(a_values) / len(a_values) if a_values else None,
        cells=len(diffs),
        n_before=n_before,
        n_after=n_after,
        beyond_noise=beyond,
    )


__all__ = [
    "INTERVALS",
    "METRICS",
    "NOISE_SE",
    "CellCounts",
    "Change",
    "cell_counts",
    "cell_value",
    "change",
    "period_point",
    "period_start",
    "pool",
    "significance",
]
