"""Who a monitor's answers recommend instead: its untracked entities over a range of days.

The service beside :mod:`records.trends` for discovered entities (docs/metrics.md §5b): it reads
the ``entities`` already stored in each answer's analysis, so no platform is called and nothing
is re-analysed. One query returns only that JSON key of the successful answers of the monitor's
executions in the range (found through ``record_monitor_created_idx``, then each execution's
answers by ``record_id``); a second reads the monitor's brands. The counts are
:func:`records.analysis.entities.aggregate_entities`, the same as an execution's report.

"Untracked" means not a brand of the monitor *now* (by name or alias, with the alias suffix
rules): once a competitor is tracked, it leaves the list even for runs analysed before.

Public API::

    rows = monitor_entities(monitor, start, end)          # [{name, answers, platforms, ...}]
    body = monitor_entity_report(monitor, start, end)     # {"from", "to", "executions", ...}
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from records.analysis.entities import aggregate_entities, entity_key
from records.models import Answer, AnswerStatus, Monitor
from records.trend_params import monitor_zone

#: The most rows one report lists (the execution report lists as many).
TOP_ENTITIES = 50
#: Surface forms kept per entity (they become the aliases of a tracked competitor).
TOP_SURFACES = 5


def _bounds(monitor: Monitor, start: date, end: date) -> tuple[datetime, datetime]:
    """Days in the monitor's time zone, both inclusive, as the trend counts them."""
    zone = monitor_zone(monitor)
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def entity_answers_query(monitor: Monitor, start: date, end: date):
    """The one read: (execution id, created at, platform, entities) per successful answer.

    SELECT answer.record_id, testrecord.created_at, answer.platform, answer.analysis -> 'entities'
    FROM answer JOIN testrecord WHERE testrecord.monitor_id = ? AND created_at >= ? AND < ?
    AND answer.status = 'success' AND answer.text <> '' — record_monitor_created_idx, then the
    answers of each execution by record_id. A successful answer always has text (the worker
    stores a blank reply as a failure); the text test keeps imported rows honest.
    """
    lo, hi = _bounds(monitor, start, end)
    return (
        Answer.objects.filter(
            record__monitor=monitor,
            record__created_at__gte=lo,
            record__created_at__lt=hi,
            status=AnswerStatus.SUCCESS,
        )
        .exclude(text="")
        .order_by()
        .values_list("record_id", "record__created_at", "platform", "analysis__entities")
    )


def tracked_keys(monitor: Monitor) -> set[str]:
    """The entity keys of the monitor's brands and their aliases (固生堂中医馆 → 固生堂)."""
    keys: set[str] = set()
    for name, aliases in monitor.brands.values_list("name", "aliases"):
        for spelling in (name, *(aliases or ())):
            if key := entity_key(str(spelling)):
                keys.add(key)
    return keys


def monitor_entity_report(
    monitor: Monitor, start: date, end: date, *, limit: int = TOP_ENTITIES
) -> dict[str, Any]:
    """The untracked entities the monitor's answers recommend from ``start`` to ``end`` (days
    in its time zone, inclusive), most recommending answers first, with the counts behind them.

    Per entity: ``name``, ``answers`` (answers recommending it), ``platforms``, ``mean_rank``
    over the answers that rank it (``ranked_n``), ``mentions`` (answers naming it in any role),
    ``share`` (answers / valid answers in the range), ``executions`` (runs with at least one
    recommending answer), ``first_seen``/``last_seen`` (the days of those runs), ``surfaces``
    (its spellings in the answers, most frequent first) and ``tracked`` (always null here).
    """
    zone = monitor_zone(monitor)
    pairs: list[tuple[str, dict]] = []
    runs: set[int] = set()
    # Per entity name: the runs' days and the spellings of its recommending answers.
    days: dict[str, dict[int, date]] = defaultdict(dict)
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for record_id, created_at, platform, entities in entity_answers_query(
        monitor, start, end
    ).iterator(chunk_size=2000):
        runs.add(record_id)
        entities = entities or []
        pairs.append((platform, {"entities": entities}))
        for entity in entities:
            if entity.get("role") == "recommended":
                days[entity["name"]][record_id] = created_at.astimezone(zone).date()
                surfaces[entity["name"]][entity.get("surface") or entity["name"]] += 1
    tracked = tracked_keys(monitor)
    rows = []
    for row in aggregate_entities(pairs):
        # Current brands, not the flag stored at analysis time: a brand dropped since counts.
        if entity_key(row["name"]) in tracked:
            continue
        seen = days[row["name"]]
        spellings = sorted(surfaces[row["name"]].items(), key=lambda kv: (-kv[1], kv[0]))
        rows.append(
            row
            | {
                "tracked": None,
                "share": round(row["answers"] / len(pairs), 4),
                "executions": len(seen),
                "first_seen": min(seen.values()).isoformat(),
                "last_seen": max(seen.values()).isoformat(),
                "surfaces": [surface for surface, _ in spellings[:TOP_SURFACES]],
            }
        )
        if len(rows) == limit:
            break
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "executions": len(runs),
        "answers": len(pairs),
        "entities": rows,
    }


def monitor_entities(
    monitor: Monitor, start: date, end: date, *, limit: int = TOP_ENTITIES
) -> list[dict[str, Any]]:
    """The rows of :func:`monitor_entity_report`: keys ``name``, ``answers``, ``platforms``,
    ``mean_rank`` and the rest it lists."""
    return monitor_entity_report(monitor, start, end, limit=limit)["entities"]
