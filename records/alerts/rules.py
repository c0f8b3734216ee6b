"""Evaluate a monitor's alert rules when one of its executions ends, from stored rows only.

The period of a run is the one holding its scheduled time (a run started by hand: its creation
time) in the monitor's time zone, ``BRANDTEST_ALERT_INTERVAL`` long. "The previous period" is
the latest earlier period with a scored run. Comparisons pool ``CellScore`` counts per cell over
each period's runs and use only the cells both periods asked (records.analysis.trends.change),
as the trend API does. Each candidate is written with ``get_or_create`` on the unique
(monitor, kind, brand, platform, period_start): evaluating again never adds a row.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models.functions import Coalesce
from django.urls import reverse

from records.analysis.alerts import (
    dropped,
    lost_domains,
    overtook,
    period_bounds,
    share_of_voice,
)
from records.analysis.trends import CellCounts, change, pool
from records.engine.errors import describe_failure
from records.models import (
    Alert,
    AlertKind,
    AlertSettings,
    Answer,
    AnswerStatus,
    CellScore,
    Monitor,
    Status,
    TestRecord,
)

logger = logging.getLogger(__name__)

SCORED = (Status.COMPLETED, Status.PARTIAL_COMPLETED)
PROBLEM = (Status.FAILED, Status.PARTIAL_COMPLETED)
COUNT_FIELDS = tuple(CellCounts.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An alert a rule would raise; stored unless its period already has it."""

    kind: str
    brand: str
    platform: str
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date
    records: tuple[int, ...]  # scored executions in it

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def rule_settings(monitor: Monitor) -> AlertSettings:
    """The monitor's toggles and recipients; every rule on when it has no row."""
    return AlertSettings.objects.filter(monitor=monitor).first() or AlertSettings(monitor=monitor)


def _zone(monitor: Monitor) -> ZoneInfo:
    return ZoneInfo(monitor.timezone)


def _bounds(monitor: Monitor, moment: datetime) -> tuple[date, date]:
    return period_bounds(
        moment.astimezone(_zone(monitor)).date(), settings.BRANDTEST_ALERT_INTERVAL
    )


def _scored(monitor: Monitor):
    """The monitor's scored executions with their period time ``at``."""
    return (
        TestRecord.objects.filter(monitor=monitor, status__in=SCORED)
        .annotate(at=Coalesce("scheduled_for", "created_at"))
        .order_by()
    )


def _period(monitor: Monitor, start: date, end: date) -> Period:
    zone = _zone(monitor)
    lo = datetime.combine(start, time.min, tzinfo=zone)
    hi = datetime.combine(end, time.max, tzinfo=zone)
    ids = _scored(monitor).filter(at__gte=lo, at__lte=hi).values_list("pk", flat=True)
    return Period(start, end, tuple(sorted(ids)))


def _previous(monitor: Monitor, start: date) -> Period | None:
    lo = datetime.combine(start, time.min, tzinfo=_zone(monitor))
    latest = _scored(monitor).filter(at__lt=lo).order_by("-at").values_list("at", flat=True)
    moment = latest.first()
    if moment is None:
        return None
    return _period(monitor, *_bounds(monitor, moment))


def _cell_key(row: dict) -> tuple:
    # The prompt is a question's identity across runs; its index only within one (as trends).
    question = (
        ("prompt", row["prompt_id"]) if row["prompt_id"] else ("index", row["question_index"])
    )
    return (row["platform"], question, row["subject"])


def _pooled_cells(record_ids: Iterable[int], brands: list[str]) -> dict[tuple, dict]:
    """(brand, platform) -> cell key -> pooled counts; platform '' pools every platform."""
    cells: dict[tuple, dict[tuple, list[CellCounts]]] = defaultdict(lambda: defaultdict(list))
    rows = CellScore.objects.filter(record_id__in=list(record_ids), brand__in=brands).values(
        "brand", "platform", "prompt_id", "question_index", "subject", *COUNT_FIELDS
    )
    for row in rows.order_by().iterator(chunk_size=5000):
        counts = CellCounts(**{f: row[f] for f in COUNT_FIELDS})
        key = _cell_key(row)
        cells[(row["brand"], row["platform"])][key].append(counts)
        cells[(row["brand"], "")][key].append(counts)
    return {group: {k: pool(v) for k, v in by_cell.items()} for group, by_cell in cells.items()}


def _platforms(record: TestRecord) -> list[str]:
    # Overall only means something beside two or more platforms.
    return list(record.platforms) + ([""] if len(record.platforms) > 1 else [])


def visibility_drops(record: TestRecord, before: Period, after: Period, cells) -> list[Candidate]:
    main, metric = record.brand_name, settings.BRANDTEST_ALERT_VISIBILITY_METRIC
    out = []
    for platform in _platforms(record):
        result = change(
            cells["before"].get((main, platform), {}),
            cells["after"].get((main, platform), {}),
            metric,
        )
        if dropped(result, min_drop=settings.BRANDTEST_ALERT_MIN_DROP):
            evidence = {
                "metric": metric,
                **result.as_dict(),
                "period_before": before.as_dict(),
                "period_after": after.as_dict(),
            }
            out.append(Candidate(AlertKind.VISIBILITY_DROP, main, platform, evidence))
    return out


def overtakes(record: TestRecord, before: Period, after: Period, cells) -> list[Candidate]:
    main = record.brand_name
    out = []
    for platform in _platforms(record):
        main_b = cells["before"].get((main, platform), {})
        main_a = cells["after"].get((main, platform), {})
        for rival in record.competitor_brands:
            rival_b = cells["before"].get((rival, platform), {})
            rival_a = cells["after"].get((rival, platform), {})
            common = sorted(set(main_b) & set(main_a) & set(rival_b) & set(rival_a), key=repr)
            if not common:
                continue
            sides = [pool(side[k] for k in common) for side in (main_b, rival_b, main_a, rival_a)]
            if overtook(*sides, margin=settings.BRANDTEST_ALERT_OVERTAKE_MARGIN):
                mb, rb, ma, ra = (share_of_voice(s) for s in sides)
                evidence = {
                    "main_brand": main,
                    "share_of_voice_before": {main: mb, rival: rb},
                    "share_of_voice_after": {main: ma, rival: ra},
                    "cells": len(common),
                    "n_before": sides[0].n_valid,
                    "n_after": sides[2].n_valid,
                    "period_before": before.as_dict(),
                    "period_after": after.as_dict(),
                }
                out.append(Candidate(AlertKind.OVERTAKEN, rival, platform, evidence))
    return out


def _owned_citations(record_ids: Iterable[int], main: str) -> dict[str, dict[str, Any]]:
    """platform -> {"domains": {domain: answers citing it}, "sourced": answers with sources}."""
    by_platform: dict[str, dict[str, Any]] = defaultdict(lambda: {"domains": {}, "sourced": 0})
    answers = Answer.objects.filter(
        record_id__in=list(record_ids), status=AnswerStatus.SUCCESS
    ).values_list("platform", "analysis__citations", "analysis__has_structured_sources")
    for platform, citations, sourced in answers.order_by().iterator(chunk_size=2000):
        entry = by_platform[platform]
        entry["sourced"] += bool(sourced)
        owned = {c.get("domain") for c in citations or [] if c.get("owner_brand") == main}
        for domain in owned - {None}:
            entry["domains"][domain] = entry["domains"].get(domain, 0) + 1
    return by_platform


def owned_citations_lost(record: TestRecord, before: Period, after: Period) -> list[Candidate]:
    main = record.brand_name
    earlier = _owned_citations(before.records, main)
    later = _owned_citations(after.records, main)
    out = []
    for platform in record.platforms:
        now = later.get(platform)
        if not now or not now["sourced"]:
            continue  # without structured sources "not cited" says nothing
        was = earlier.get(platform, {"domains": {}})["domains"]
        lost = lost_domains(was, now["domains"])
        if lost:
            evidence = {
                "domains": lost,
                "cited_before": {d: was[d] for d in lost},
                "sourced_answers_after": now["sourced"],
                "period_before": before.as_dict(),
                "period_after": after.as_dict(),
            }
            out.append(Candidate(AlertKind.OWNED_CITATION_LOST, main, platform, evidence))
    return out


def negative_mentions(record: TestRecord) -> list[Candidate]:
    """The run's answers where the main brand's sentiment is negative, with the cues (quote,
    offsets into the answer text) and the answer's link."""
    main = record.brand_name
    answers_link = reverse("execution-answers", kwargs={"execution_id": str(record.execution_id)})
    found: dict[str, list[dict]] = defaultdict(list)
    answers = record.answers.filter(status=AnswerStatus.SUCCESS).only(
        "id", "platform", "question_index", "run_index", "question", "text", "analysis"
    )
    for answer in answers.order_by("platform", "question_index", "run_index", "id"):
        sentiment = ((answer.analysis or {}).get("brands", {}).get(main) or {}).get("sentiment")
        if not sentiment or sentiment.get("label") != "negative":
            continue
        cues = [c for c in sentiment.get("evidence", []) if len(c) == 3]
        found[answer.platform].append(
            {
                "answer": answer.pk,
                "question_index": answer.question_index,
                "run_index": answer.run_index,
                "question": answer.question,
                "quotes": [{"start": s, "end": e, "text": t} for s, e, t in cues],
                "context": _context(answer.text, cues),
                "link": f"{answers_link}#answer-{answer.pk}",
            }
        )
    limit = settings.BRANDTEST_ALERT_MAX_EVIDENCE
    return [
        Candidate(
            AlertKind.NEGATIVE_MENTION,
            main,
            platform,
            {"count": len(mentions), "mentions": mentions[:limit]},
        )
        for platform, mentions in sorted(found.items())
    ]


def _context(text: str, cues: list) -> str:
    """The stretch of the answer around its first negative cue, for a reader of the alert."""
    if not cues:
        return ""
    start, end = cues[0][0], cues[0][1]
    return text[max(0, start - 60) : end + 60]


def run_problems(record: TestRecord) -> list[Candidate]:
    """A failed or partial run: one alert per platform whose calls failed, with the actionable
    cause (records.engine.errors.describe_failure); a run that failed without answers (a crash,
    a lost worker) on the overall platform with its error."""
    failed = (
        record.answers.filter(status=AnswerStatus.FAILED)
        .values_list("platform", "error_type")
        .order_by()
    )
    causes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for platform, error_type in failed:
        causes[platform][error_type or "internal"] += 1
    base = {"status": record.status, "execution_error": record.error}
    out = []
    for platform, by_type in sorted(causes.items()):
        dominant = max(by_type, key=lambda t: (by_type[t], t))
        evidence = base | {
            "error_type": dominant,
            "error": describe_failure(platform, dominant),
            "failed_calls": dict(sorted(by_type.items())),
        }
        out.append(Candidate(AlertKind.RUN_PROBLEM, record.brand_name, platform, evidence))
    if not out:
        evidence = base | {"error_type": record.error_type, "error": record.error}
        out.append(Candidate(AlertKind.RUN_PROBLEM, record.brand_name, "", evidence))
    return out


def _store(
    monitor: Monitor, period: tuple[date, date], candidates: list[Candidate], record=None
) -> list[Alert]:
    """Write the candidates the period does not have yet; returns the new rows."""
    created = []
    for c in candidates:
        alert, new = Alert.objects.get_or_create(
            monitor=monitor,
            kind=c.kind,
            brand=c.brand,
            platform=c.platform,
            period_start=period[0],
            defaults={"period_end": period[1], "execution": record, "evidence": c.evidence},
        )
        if new:
            created.append(alert)
    return created


def evaluate_execution(record: TestRecord) -> list[Alert]:
    """Every enabled rule for an ended monitor run; returns the alerts it added (none when
    evaluated before). Runs without a monitor, and active or cancelled runs, raise nothing."""
    if record.monitor_id is None or record.status not in (*SCORED, Status.FAILED):
        return []
    monitor = record.monitor
    toggles = rule_settings(monitor)
    start, end = _bounds(monitor, record.scheduled_for or record.created_at)
    candidates: list[Candidate] = []
    if record.status in SCORED:
        after = _period(monitor, start, end)
        before = _previous(monitor, start)
        if before is not None and (
            toggles.visibility_drop or toggles.overtaken or toggles.owned_citation_lost
        ):
            brands = [record.brand_name, *record.competitor_brands]
            cells = {
                "before": _pooled_cells(before.records, brands),
                "after": _pooled_cells(after.records, brands),
            }
            if toggles.visibility_drop:
                candidates += visibility_drops(record, before, after, cells)
            if toggles.overtaken:
                candidates += overtakes(record, before, after, cells)
            if toggles.owned_citation_lost:
                candidates += owned_citations_lost(record, before, after)
        if toggles.negative_mention:
            candidates += negative_mentions(record)
    if record.status in PROBLEM and toggles.run_problem:
        candidates += run_problems(record)
    alerts = _store(monitor, (start, end), candidates, record)
    if alerts:
        logger.info(
            "execution %s raised %d alert(s): %s",
            record.execution_id,
            len(alerts),
            ", ".join(sorted({a.kind for a in alerts})),
        )
    return alerts


def skipped_run(monitor: Monitor, *, scheduled_for: datetime, reason: str) -> list[Alert]:
    """A scheduled period that did not run (over budget, paused): one run_problem alert on the
    overall platform for the period."""
    if not rule_settings(monitor).run_problem:
        return []
    main = monitor.brands.filter(is_main=True).values_list("name", flat=True).first() or ""
    evidence = {"skipped": True, "reason": reason, "scheduled_for": scheduled_for.isoformat()}
    candidate = Candidate(AlertKind.RUN_PROBLEM, main, "", evidence)
    return _store(monitor, _bounds(monitor, scheduled_for), [candidate])


__all__ = ["evaluate_execution", "rule_settings", "skipped_run"]
