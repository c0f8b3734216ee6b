"""A monitor's trend: points per period, the change versus the previous period, prompt changes.

The service behind ``GET /api/v1/monitors/{id}/trend/`` (and the admin's monitor page). It reads
only stored scores, never answers: points from ``BrandScore`` (one row per execution × brand ×
platform, '' = overall), the branded/unbranded split and every change from ``CellScore`` (one row
per execution × brand × cell). The maths is :mod:`records.analysis.trends`; the rules are written
in docs/metrics.md §9.

Access modes never mix: each point belongs to one mode (its executions' ``access_mode``, read
through the join the range filter already makes), so a monitor that switched from plain to search
has two series, and ``changes`` compare each mode's last period with that mode's previous one.

Public API::

    query = clean_trend_params(request.GET, monitor=monitor)   # raises TrendParamError
    body = monitor_trend(monitor, query)                       # {"points", "changes", ...}
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from records.analysis.scoring import visibility_score
from records.analysis.trends import (
    CellCounts,
    cell_value,
    change,
    period_point,
    period_start,
    pool,
)
from records.models import BrandScore, CellScore, Monitor, Prompt
from records.trend_params import (  # noqa: F401  (re-exported: the API and tests use them)
    DEFAULT_RANGE_DAYS,
    MAX_RANGE_DAYS,
    METRIC_COLUMNS,
    OVERALL,
    TrendParamError,
    TrendQuery,
    clean_trend_params,
    monitor_zone,
)


def _bounds(monitor: Monitor, query: TrendQuery) -> tuple[datetime, datetime]:
    zone = monitor_zone(monitor)
    return (
        datetime.combine(query.start, time.min, tzinfo=zone),
        datetime.combine(query.end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _period(moment: datetime, zone: ZoneInfo, interval: str) -> date:
    return period_start(moment.astimezone(zone), interval)


def _brandscore_rows(monitor: Monitor, query: TrendQuery) -> list[dict[str, Any]]:
    """The trend query: a monitor's BrandScore rows in a range.

    SELECT ... FROM brandscore JOIN testrecord ON record_id = testrecord.id
    WHERE testrecord.monitor_id = ? AND testrecord.created_at >= ? AND < ? [AND brand IN ...]
    [AND testrecord.access_mode IN ...] — record_monitor_created_idx finds the executions (the
    mode is checked on each of them), brandscore_unique_cell their rows.
    """
    rows = _monitor_scores(monitor, query)
    if query.brands is not None:
        rows = rows.filter(brand__in=query.brands)
    if query.platforms is not None:
        rows = rows.filter(platform__in=query.platforms)
    columns = sorted({METRIC_COLUMNS[m] for m in query.metrics})
    return list(
        rows.order_by()
        .values(
            "record_id",
            "record__execution_id",
            "record__created_at",
            "record__access_mode",
            "brand",
            "platform",
            "valid_answers",
            "mention_rate_se",
            *columns,
        )
        .iterator(chunk_size=5000)
    )


def trend_query(monitor: Monitor, query: TrendQuery) -> Any:
    """The BrandScore queryset of :func:`_brandscore_rows` (for EXPLAIN tests and the bench)."""
    return (
        _monitor_scores(monitor, query)
        .order_by()
        .values("record__execution_id", "brand", "platform", "visibility_score")
    )


def _monitor_scores(monitor: Monitor, query: TrendQuery):
    """A monitor's BrandScore rows in the query's range: the one filter the trend serves and
    the EXPLAIN test and the bench inspect."""
    lo, hi = _bounds(monitor, query)
    rows = BrandScore.objects.filter(
        record__monitor=monitor, record__created_at__gte=lo, record__created_at__lt=hi
    )
    if query.access_modes is not None:
        rows = rows.filter(record__access_mode__in=query.access_modes)
    return rows


def _cell_rows(
    monitor: Monitor,
    query: TrendQuery,
    record_ids: list[int] | None = None,
    brands: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """CellScore rows of a monitor's executions (all in the range, or ``record_ids``).

    SELECT ... FROM cellscore JOIN testrecord WHERE record_id IN (...) [AND brand IN ...]
    [AND prompt.branded = ?] — cellscore_record_brand_idx.
    """
    rows = CellScore.objects.all()
    if record_ids is not None:
        rows = rows.filter(record_id__in=record_ids)
    else:
        lo, hi = _bounds(monitor, query)
        rows = rows.filter(
            record__monitor=monitor, record__created_at__gte=lo, record__created_at__lt=hi
        )
        if query.access_modes is not None:
            rows = rows.filter(record__access_mode__in=query.access_modes)
    if brands is not None:
        rows = rows.filter(brand__in=brands)
    if query.branded is not None:
        # The prompt's flag now (overridable by the owner), not a copy taken at run time.
        rows = rows.filter(prompt__branded=query.branded)
    return list(
        rows.order_by()
        .values(
            "record_id",
            "record__execution_id",
            "record__created_at",
            "record__access_mode",
            "brand",
            "platform",
            "prompt_id",
            "question_index",
            "subject",
            *COUNT_FIELDS,
        )
        .iterator(chunk_size=5000)
    )


COUNT_FIELDS = tuple(CellCounts.__dataclass_fields__)


def _counts(row: Mapping[str, Any]) -> CellCounts:
    return CellCounts(**{f: row[f] for f in COUNT_FIELDS})


def _cell_key(row: Mapping[str, Any]) -> tuple:
    # The prompt is the identity of a question across executions; the index only within one.
    question = (
        ("prompt", row["prompt_id"]) if row["prompt_id"] else ("index", row["question_index"])
    )
    return (row["platform"], question, row["subject"])


def _execution_values(cells: list[CellCounts], metric: str) -> float | None:
    """A platform's value in one execution from its cells, as scoring.py computes BrandScore:
    cell means for MR, MRR, top-1 and NSS; pooled ratios for SoV and owned citations."""
    if metric in ("share_of_voice", "owned_citation_rate"):
        return cell_value(pool(cells), metric)
    if metric == "visibility_score":
        mr = _execution_values(cells, "mention_rate")
        if mr is None:
            return None
        nss = _execution_values(cells, "sentiment")
        vs, _ = visibility_score(
            mr,
            _execution_values(cells, "mrr"),
            _execution_values(cells, "share_of_voice"),
            50 * (nss + 1) if nss is not None else None,
        )
        return vs
    values = [v for c in cells if (v := cell_value(c, metric)) is not None]
    return sum(values) / len(values) if values else None


def _points_from_brandscores(
    query: TrendQuery, zone: ZoneInfo, rows: list[dict]
) -> list[dict[str, Any]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        period = _period(row["record__created_at"], zone, query.interval)
        groups[(period, row["record__access_mode"], row["brand"], row["platform"])].append(row)
    points = []
    for (period, mode, brand, platform), rows in sorted(groups.items()):
        for metric in query.metrics:
            column = METRIC_COLUMNS[metric]
            used = [r for r in rows if r[column] is not None]
            if not used:
                continue
            ses = [r["mention_rate_se"] for r in used] if metric == "mention_rate" else ()
            point = period_point([r[column] for r in used], ses)
            points.append(
                _point(period, mode, brand, platform, metric, point, used, sum_n="valid_answers")
            )
    return points


def _point(period, mode, brand, platform, metric, point, rows, *, sum_n) -> dict[str, Any]:
    executions = sorted({str(r["record__execution_id"]) for r in rows})
    return {
        "period": period.isoformat(),
        "access_mode": mode,
        "brand": brand,
        "platform": platform or OVERALL,
        "metric": metric,
        "value": point["value"],
        "se": point["se"],
        "n": sum(r[sum_n] for r in rows),
        "executions": executions,
    }


def _points_from_cells(query: TrendQuery, zone: ZoneInfo, rows: list[dict]) -> list[dict[str, Any]]:
    """Points of the branded (or unbranded) prompts only, built per execution from CellScore
    exactly as BrandScore is built from answers, then averaged per period."""
    # (execution, brand, platform) -> its cells
    per_exec: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        per_exec[(row["record_id"], row["brand"], row["platform"])].append(row)
    # One value per execution × brand × platform (and overall = mean over platforms).
    exec_values: dict[tuple, dict] = {}
    overall: dict[tuple, list[tuple[str, list[dict]]]] = defaultdict(list)
    for (record_id, brand, platform), cell_rows in per_exec.items():
        overall[(record_id, brand)].append((platform, cell_rows))
    for (record_id, brand), platforms in overall.items():
        sample = platforms[0][1][0]
        period = _period(sample["record__created_at"], zone, query.interval)
        by_platform = {}
        for platform, cell_rows in platforms:
            cells = [_counts(r) for r in cell_rows]
            by_platform[platform] = {m: _execution_values(cells, m) for m in query.metrics}
            mrs = [v for c in cells if (v := cell_value(c, "mention_rate")) is not None]
            se = statistics.stdev(mrs) / len(mrs) ** 0.5 if len(mrs) >= 2 else None
            exec_values[(record_id, brand, platform)] = {
                "period": period,
                "mode": sample["record__access_mode"],
                "execution": sample["record__execution_id"],
                "values": by_platform[platform],
                "se": se,
                "n": sum(c.n_valid for c in cells),
            }
        all_cells = [r for _, cell_rows in platforms for r in cell_rows]
        scored = [p for p, v in by_platform.items() if v.get("mention_rate") is not None]
        values = {}
        for metric in query.metrics:
            vals = [by_platform[p][metric] for p in scored if by_platform[p][metric] is not None]
            values[metric] = sum(vals) / len(vals) if vals else None
        exec_values[(record_id, brand, "")] = {
            "period": period,
            "mode": sample["record__access_mode"],
            "execution": sample["record__execution_id"],
            "values": values,
            "se": None,
            "n": sum(r["n_valid"] for r in all_cells),
        }
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for (_, brand, platform), ev in exec_values.items():
        if query.platforms is not None and platform not in query.platforms:
            continue
        groups[(ev["period"], ev["mode"], brand, platform)].append(ev)
    points = []
    for (period, mode, brand, platform), evs in sorted(groups.items()):
        for metric in query.metrics:
            used = [e for e in evs if e["values"].get(metric) is not None]
            if not used:
                continue
            ses = [e["se"] for e in used] if metric == "mention_rate" else ()
            point = period_point([e["values"][metric] for e in used], ses)
            rows_like = [{"record__execution_id": e["execution"], "n": e["n"]} for e in used]
            points.append(
                _point(period, mode, brand, platform, metric, point, rows_like, sum_n="n")
            )
    return points


def _changes(
    monitor: Monitor,
    query: TrendQuery,
    mode: str,
    periods: dict[date, set[int]],
) -> list[dict[str, Any]]:
    """Last period with executions in ``mode`` versus that mode's period before it, per brand ×
    platform × metric, on the cells both asked (records.analysis.trends.change)."""
    if len(periods) < 2:
        return []
    before_p, after_p = sorted(periods)[-2:]
    ids = sorted(periods[before_p] | periods[after_p])
    side = {rid: ("before" if rid in periods[before_p] else "after") for rid in ids}
    # (brand, platform, side) -> cell key -> [counts]
    cells: dict[tuple, dict[tuple, list[CellCounts]]] = defaultdict(lambda: defaultdict(list))
    for row in _cell_rows(monitor, query, record_ids=ids, brands=query.brands):
        s = side[row["record_id"]]
        key = _cell_key(row)
        counts = _counts(row)
        cells[(row["brand"], row["platform"], s)][key].append(counts)
        cells[(row["brand"], "", s)][key].append(counts)
    out = []
    pairs = sorted({(b, p) for (b, p, _) in cells})
    for brand, platform in pairs:
        if query.platforms is not None and platform not in query.platforms:
            continue
        before = {k: pool(v) for k, v in cells.get((brand, platform, "before"), {}).items()}
        after = {k: pool(v) for k, v in cells.get((brand, platform, "after"), {}).items()}
        for metric in query.metrics:
            result = change(before, after, metric)
            out.append(
                {
                    "access_mode": mode,
                    "brand": brand,
                    "platform": platform or OVERALL,
                    "metric": metric,
                    "period_before": before_p.isoformat(),
                    "period_after": after_p.isoformat(),
                    **result.as_dict(),
                }
            )
    return out


def changes_between(
    monitor: Monitor,
    before: tuple[date, set[int]],
    after: tuple[date, set[int]],
    metrics: tuple[str, ...],
    *,
    access_mode: str,
) -> list[dict[str, Any]]:
    """The trend API's change rule between two given sets of executions (``(label day, record
    ids)`` each), e.g. a report's range and the equal-length range before it: the same pooled
    common cells, delta, SE and ``beyond_noise`` as ``changes`` in :func:`monitor_trend`. The
    executions must all be of ``access_mode`` (a change never compares across modes)."""
    if not before[1] or not after[1] or before[0] >= after[0]:
        return []
    query = TrendQuery(
        metrics=metrics,
        interval="day",
        start=before[0],
        end=after[0],
        access_modes=(access_mode,),
    )
    return _changes(monitor, query, access_mode, {before[0]: before[1], after[0]: after[1]})


def _prompt_changes(monitor: Monitor, query: TrendQuery) -> list[dict[str, Any]]:
    """Prompts added (active_from) or retired (retired_at) within the range, oldest first."""
    lo, hi = _bounds(monitor, query)
    zone = monitor_zone(monitor)
    out = []
    prompts = Prompt.objects.filter(monitor=monitor).only("id", "text", "active_from", "retired_at")
    for prompt in prompts:
        for kind, moment in (("added", prompt.active_from), ("retired", prompt.retired_at)):
            if moment is not None and lo <= moment < hi:
                out.append(
                    {
                        "prompt_id": prompt.id,
                        "text": prompt.text,
                        "change": kind,
                        "at": moment.isoformat(),
                        "period": _period(moment, zone, query.interval).isoformat(),
                    }
                )
    return sorted(out, key=lambda c: (c["at"], c["prompt_id"]))


def monitor_trend(monitor: Monitor, query: TrendQuery) -> dict[str, Any]:
    """The trend of ``monitor`` for a validated ``query``.

    Returns ``{"monitor", "interval", "from", "to", "timezone", "branded", "metrics",
    "access_modes", "points", "changes", "prompt_changes"}``. ``access_modes``: the modes with
    points (one series each). ``points``: one per period × access mode × brand × platform
    ('overall' for the blank platform) × metric: ``period`` (first day, ISO), ``access_mode``,
    ``value`` (mean over the period's executions), ``se`` (mention_rate only), ``n`` (valid
    answers), ``executions`` (ids). ``changes``: per access mode, its last period with
    executions versus its one before, per brand × platform × metric: ``access_mode``,
    ``delta``, ``se``, ``before``, ``after``, ``cells``, ``n_before``, ``n_after``,
    ``beyond_noise``, ``period_before``, ``period_after``. ``prompt_changes``: prompts added or
    retired in the range (``prompt_id``, ``text``, ``change``, ``at``, ``period``).
    """
    zone = monitor_zone(monitor)
    if query.branded is None:
        rows = _brandscore_rows(monitor, query)
        points = _points_from_brandscores(query, zone, rows)
    else:
        rows = _cell_rows(monitor, query, brands=query.brands)
        points = _points_from_cells(query, zone, rows)
    # Per mode, the periods with executions (and which): each mode's last two are compared.
    periods: dict[str, dict[date, set[int]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        period = _period(row["record__created_at"], zone, query.interval)
        periods[row["record__access_mode"]][period].add(row["record_id"])
    modes = sorted(periods)
    return {
        "monitor": monitor.pk,
        "interval": query.interval,
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "timezone": str(zone),
        "branded": query.branded,
        "metrics": list(query.metrics),
        "access_modes": modes,
        "points": points,
        "changes": [c for mode in modes for c in _changes(monitor, query, mode, periods[mode])],
        "prompt_changes": _prompt_changes(monitor, query),
    }


__all__ = [
    "DEFAULT_RANGE_DAYS",
    "MAX_RANGE_DAYS",
    "TrendParamError",
    "TrendQuery",
    "changes_between",
    "clean_trend_params",
    "monitor_trend",
    "trend_query",
]
