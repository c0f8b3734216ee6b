"""Execution-level scores (docs/metrics.md §3-§8): MR (+SE), MRR, top-1, average rank, SoV, NSS, VS.

Aggregation is run -> cell (question x platform) -> platform -> overall, each level a plain
mean, so every question and every platform weighs the same and failed calls reweight nothing.
Missing values are None (JSON null), never 0 or 99.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# vs-1.2: citation panels count cited sources only and list retrieved ones apart.
SCORING_VERSION = "vs-1.2"
WEIGHTS = {"mention_rate": 0.40, "mrr": 0.30, "share_of_voice": 0.20, "sentiment": 0.10}
LOW_SAMPLE_QUESTIONS = 10


@dataclass(slots=True)
class _Run:
    mentioned: bool
    rank: int | None
    sentiment: int | None


@dataclass(slots=True)
class _Cell:
    attempted: int = 0
    runs: list[dict[str, _Run]] = field(default_factory=list)


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def _se(values: list[float]) -> float | None:
    # A standard deviation needs two questions.
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) >= 2 else None


def _run(analysis: Mapping, brand: str) -> _Run:
    entry = (analysis.get("brands") or {}).get(brand) or {}
    mentioned = bool(entry.get("mentioned"))
    sentiment = entry.get("sentiment") or {}
    return _Run(
        mentioned=mentioned,
        rank=entry.get("rank") if mentioned else None,
        sentiment=sentiment.get("score") if mentioned and sentiment else None,
    )


def visibility_score(
    mention_rate: float, mrr: float, share_of_voice: float | None, sentiment_score: float | None
) -> tuple[float, dict]:
    """VS = 100 (0.40 MR + 0.30 MRR + 0.20 SoV + 0.10 MR S) and its components.

    A missing SoV counts 0; a missing sentiment (only when MR = 0) makes its term 0.
    """
    sov = share_of_voice or 0.0
    s = sentiment_score / 100 if sentiment_score is not None else None
    points = {
        "mention_rate": 100 * WEIGHTS["mention_rate"] * mention_rate,
        "mrr": 100 * WEIGHTS["mrr"] * mrr,
        "share_of_voice": 100 * WEIGHTS["share_of_voice"] * sov,
        "sentiment": 100 * WEIGHTS["sentiment"] * mention_rate * (s or 0.0),
    }
    components = {
        "mention_rate": mention_rate,
        "mrr": mrr,
        "share_of_voice": sov,
        "sentiment": s,
        "points": points,
    }
    return sum(points.values()), components


def _platform_metrics(cells: dict[int, _Cell], brand: str, brands: Sequence[str]) -> dict:
    attempted = sum(cell.attempted for cell in cells.values())
    valid_cells = {q: cell for q, cell in sorted(cells.items()) if cell.runs}
    valid = sum(len(cell.runs) for cell in valid_cells.values())
    coverage = {
        "valid": valid,
        "attempted": attempted,
        "rate": _round(valid / attempted) if attempted else None,
    }
    cell_rows = []
    mr_q: dict[int, float] = {}
    rr_q, top1_q, rank_q, s_q = [], [], [], []
    rank_n = s_n = 0
    own_mentions = all_mentions = 0
    for q, cell in sorted(cells.items()):
        runs = [run[brand] for run in cell.runs]
        k = len(runs)
        votes = sum(run.mentioned for run in runs)
        verdict = None
        if k:
            verdict = (
                "stable_present" if votes == k else "stable_absent" if votes == 0 else "unstable"
            )
        cell_rows.append(
            {
                "question_index": q,
                "attempted": cell.attempted,
                "valid": k,
                "votes": f"{votes}/{k}",
                "mention_rate": _round(votes / k) if k else None,
                "verdict": verdict,
            }
        )
        if not k:
            continue
        mr_q[q] = votes / k
        rr_q.append(sum(1 / run.rank for run in runs if run.mentioned and run.rank) / k)
        top1_q.append(sum(1 for run in runs if run.mentioned and run.rank == 1) / k)
        ranks = [run.rank for run in runs if run.mentioned and run.rank is not None]
        if ranks:
            rank_q.append(sum(ranks) / len(ranks))
            rank_n += len(ranks)
        scores = [run.sentiment for run in runs if run.mentioned and run.sentiment is not None]
        if scores:
            s_q.append(sum(scores) / len(scores))
            s_n += len(scores)
        for run in cell.runs:
            own_mentions += run[brand].mentioned
            all_mentions += sum(run[b].mentioned for b in brands)

    n_questions = len(mr_q)
    metrics: dict = {
        "questions": n_questions,
        "mention_rate": _mean(mr_q.values()),
        "mention_rate_se": _se(list(mr_q.values())),
        "low_sample": n_questions < LOW_SAMPLE_QUESTIONS,
        "mrr": _mean(rr_q),
        "top1_rate": _mean(top1_q),
        "avg_rank": _mean(rank_q),
        "avg_rank_n": rank_n,
        "share_of_voice": own_mentions / all_mentions if all_mentions else None,
        "nss": _mean(s_q),
        "nss_n": s_n,
        "coverage": coverage,
        "cells": cell_rows,
    }
    metrics["sentiment_score"] = 50 * (metrics["nss"] + 1) if metrics["nss"] is not None else None
    if metrics["mention_rate"] is None:
        metrics["visibility_score"] = None
        metrics["components"] = None
    else:
        vs, components = visibility_score(
            metrics["mention_rate"],
            metrics["mrr"],
            metrics["share_of_voice"],
            metrics["sentiment_score"],
        )
        metrics["visibility_score"] = vs
        metrics["components"] = components
    metrics["_mr_by_question"] = mr_q
    return metrics


def _overall(per_platform: dict[str, dict]) -> dict:
    scored = {p: m for p, m in per_platform.items() if m["mention_rate"] is not None}
    by_question: dict[int, list[float]] = defaultdict(list)
    for m in scored.values():
        for q, mr in m["_mr_by_question"].items():
            by_question[q].append(mr)
    per_question = [sum(v) / len(v) for _, v in sorted(by_question.items())]
    attempted = sum(m["coverage"]["attempted"] for m in per_platform.values())
    valid = sum(m["coverage"]["valid"] for m in per_platform.values())
    nss = _mean(m["nss"] for m in scored.values())
    overall: dict = {
        "questions": len(per_question),
        "mention_rate": _mean(m["mention_rate"] for m in scored.values()),
        "mention_rate_se": _se(per_question),
        "low_sample": len(per_question) < LOW_SAMPLE_QUESTIONS,
        "mrr": _mean(m["mrr"] for m in scored.values()),
        "top1_rate": _mean(m["top1_rate"] for m in scored.values()),
        "avg_rank": _mean(m["avg_rank"] for m in scored.values()),
        "avg_rank_n": sum(m["avg_rank_n"] for m in scored.values()),
        "share_of_voice": _mean(m["share_of_voice"] for m in scored.values()),
        "nss": nss,
        "nss_n": sum(m["nss_n"] for m in scored.values()),
        "sentiment_score": 50 * (nss + 1) if nss is not None else None,
        "visibility_score": _mean(m["visibility_score"] for m in scored.values()),
        "coverage": {
            "valid": valid,
            "attempted": attempted,
            "rate": _round(valid / attempted) if attempted else None,
        },
        "platform_coverage": {
            "scored": len(scored),
            "total": len(per_platform),
            "platforms": list(scored),
        },
    }
    if scored:
        components = [m["components"] for m in scored.values()]
        overall["components"] = {
            "mention_rate": overall["mention_rate"],
            "mrr": overall["mrr"],
            "share_of_voice": _mean(c["share_of_voice"] for c in components),
            "sentiment": _mean(c["sentiment"] for c in components),
            "points": {
                key: sum(c["points"][key] for c in components) / len(components) for key in WEIGHTS
            },
        }
    else:
        overall["components"] = None
    return overall


def _clean(value):
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def is_cited(citation: Mapping) -> bool:
    """Whether the answer cites it (an analysis before access modes has only cited ones)."""
    return citation.get("cited", True) is not False


def _domain_row(citation: Mapping) -> dict:
    return {
        "domain": citation["domain"],
        "site_name": citation.get("site_name") or citation["domain"],
        "owner": citation.get("owner", "third_party"),
        "owner_brand": citation.get("owner_brand"),
        "answers": 0,
        "citations": 0,
        "_seen": set(),
    }


def _citation_panel(answers: list[Mapping], brands: Sequence[str]) -> dict:
    """Per-platform citation panel; rates are "n/a" when the platform returns no sources.

    ``domains`` are the domains answers cite (a marker, a link, a URL, a named source, or the
    platform's flag); ``retrieved_domains`` those the platform returned for an answer that
    cites nothing of that domain (retrieved, not cited). Rates are over the platform's valid
    answers, counted only when the platform returned sources (``answers``)."""
    returns_sources = any(a["analysis"].get("has_structured_sources") for a in answers)
    domains: dict[str, dict] = {}
    retrieved: dict[str, dict] = {}
    answers_citing = 0
    brand_answers = dict.fromkeys(brands, 0)
    total = 0
    for answer in answers:
        every = answer["analysis"].get("citations") or []
        citations = [c for c in every if is_cited(c)]
        total += len(citations)
        if citations:
            answers_citing += 1
        for citation in citations:
            row = domains.setdefault(citation["domain"], _domain_row(citation))
            row["citations"] += 1
            row["_seen"].add(id(answer))
        cited_domains = {c["domain"] for c in citations}
        for citation in every:
            if not is_cited(citation) and citation["domain"] not in cited_domains:
                row = retrieved.setdefault(citation["domain"], _domain_row(citation))
                row["citations"] += 1
                row["_seen"].add(id(answer))
        for brand in brands:
            if any(c.get("owner_brand") == brand for c in citations):
                brand_answers[brand] += 1
    n = len(answers)

    def rows_of(table: dict[str, dict], *, share: bool) -> list[dict]:
        rows = []
        for row in sorted(table.values(), key=lambda r: (-len(r["_seen"]), r["domain"])):
            row["answers"] = len(row.pop("_seen"))
            row["citation_rate"] = row["answers"] / n if returns_sources and n else "n/a"
            if share:
                row["citation_share"] = (
                    row["citations"] / total if returns_sources and total else "n/a"
                )
            rows.append(row)
        return rows

    by_brand = {
        brand: (count / n if returns_sources and n else "n/a")
        for brand, count in brand_answers.items()
    }
    return {
        "returns_sources": returns_sources,
        "answers": n if returns_sources else None,
        "answers_with_sources": sum(
            bool(a["analysis"].get("has_structured_sources")) for a in answers
        ),
        "citation_rate": answers_citing / n if returns_sources and n else "n/a",
        "owned_citation_rate": by_brand[brands[0]] if brands else "n/a",
        "brand_citation_rate": by_brand,
        "domains": rows_of(domains, share=True),
        "retrieved_domains": rows_of(retrieved, share=False),
    }


def score_execution(
    answers: Iterable[Mapping], brands: Sequence[str], platforms: Sequence[str]
) -> dict:
    """Scores of one execution per brand, per platform and overall.

    ``answers`` holds one mapping per attempted call: ``platform``, ``question_index``,
    ``run_index``, ``valid`` (succeeded with non-empty text) and ``analysis`` (the dict from
    :func:`analyse_answer`, required when valid). ``brands[0]`` is the main brand. Answers on
    platforms not listed in ``platforms`` are ignored.
    """
    if not brands:
        raise ValueError("at least one brand is required")
    cells: dict[str, dict[int, _Cell]] = {p: defaultdict(_Cell) for p in platforms}
    valid_by_platform: dict[str, list[Mapping]] = {p: [] for p in platforms}
    for answer in answers:
        platform = answer["platform"]
        if platform not in cells:
            continue
        cell = cells[platform][answer["question_index"]]
        cell.attempted += 1
        if not answer.get("valid"):
            continue
        analysis = answer.get("analysis")
        if analysis is None:
            raise ValueError("a valid answer needs its analysis")
        cell.runs.append({brand: _run(analysis, brand) for brand in brands})
        valid_by_platform[platform].append(answer)

    result_brands = {}
    for brand in brands:
        per_platform = {p: _platform_metrics(cells[p], brand, brands) for p in platforms}
        overall = _overall(per_platform)
        result_brands[brand] = {
            "overall": _clean(overall),
            "platforms": _clean(per_platform),
        }
    coverage = result_brands[brands[0]]["overall"]
    return {
        "scoring_version": SCORING_VERSION,
        "weights": dict(WEIGHTS),
        "brands": result_brands,
        "platform_coverage": coverage["platform_coverage"],
        "coverage": coverage["coverage"],
        "citations": {p: _clean(_citation_panel(valid_by_platform[p], brands)) for p in platforms},
    }
