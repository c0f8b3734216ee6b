"""Analysis of stored answers and the results document built from it.

Each answer is analysed when it is stored (``Analyser``); when a run finishes its scores are
materialised (``BrandScore``) and the report is built once and stored gzip-compressed
(``ResultDocument``). Everything here is recomputable from stored answer text (re-analyse).
"""

from __future__ import annotations

import gzip
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from django.utils import timezone

from records.analysis import (
    SCORING_VERSION,
    BrandSpec,
    analyse_answer,
    context_words_from_questions,
    score_execution,
)
from records.analysis.entities import aggregate_entities
from records.analysis.legacy import legacy_brand_scores, legacy_competitive_analysis
from records.analysis.scoring import is_cited
from records.analysis.trends import CellCounts
from records.materialise import (  # noqa: F401  (score rows are re-exported for callers)
    build_cells,
    is_valid,
    score_rows,
    store_cell_scores,
    store_scores,
)
from records.models import (
    Answer,
    AnswerStatus,
    LegacyDocument,
    ResultDocument,
    TestRecord,
)
from records.renderers import answer_body

REPORT_SCHEMA_VERSION = "2"
TOP_DOMAINS = 20
TOP_ENTITIES = 50


class Analyser:
    """Analyses answers of one execution (its brands, aliases and category words)."""

    def __init__(self, record: TestRecord) -> None:
        self.brands = brand_specs(record)
        self.context_words = context_words_from_questions(
            record.questions, [b.name for b in self.brands]
        )

    def analyse(self, text: str, sources: list[dict] | None = None) -> dict[str, Any]:
        if not text.strip():
            return {}
        return analyse_answer(
            text, self.brands, sources=sources or [], context_words=self.context_words
        )


def brand_specs(record: TestRecord) -> list[BrandSpec]:
    """The tracked brands, main first; ``brand_aliases`` maps a brand to
    ``{"aliases": [...], "domains": [...], "safe": bool}``."""
    specs = []
    for name in [record.brand_name, *record.competitor_brands]:
        extra = (record.brand_aliases or {}).get(name) or {}
        specs.append(
            BrandSpec(
                name=name,
                aliases=tuple(extra.get("aliases", ())),
                domains=tuple(extra.get("domains", ())),
                safe_aliases=bool(extra.get("safe", False)),
            )
        )
    return specs


def build_scores(record: TestRecord, answers: list[Answer]) -> dict[str, Any]:
    """docs/metrics.md scores per brand, per platform and overall."""
    brands = [record.brand_name, *record.competitor_brands]
    return score_execution(
        [
            {
                "platform": a.platform,
                # {brandName} questions are one question per substituted brand: their own cell.
                "question_index": _cell_index(record, a),
                "run_index": a.run_index,
                "valid": is_valid(a) and bool(a.analysis),
                "analysis": a.analysis or None,
            }
            for a in answers
        ],
        brands,
        record.platforms,
    )


def _cell_index(record: TestRecord, answer: Answer) -> int:
    brands = [record.brand_name, *record.competitor_brands]
    offset = brands.index(answer.brand) if answer.brand in brands else 0
    return answer.question_index * (len(brands) + 1) + offset


def build_summary(
    record: TestRecord, answers: list[Answer], scores: dict[str, Any]
) -> dict[str, Any]:
    """Counts and headline scores; small enough to live on the execution row."""
    per_platform: dict[str, dict[str, Any]] = defaultdict(lambda: {"succeeded": 0, "failed": 0})
    for answer in answers:
        key = "succeeded" if answer.status == AnswerStatus.SUCCESS else "failed"
        per_platform[answer.platform][key] += 1
    main = scores["brands"][record.brand_name]
    for platform, metrics in main["platforms"].items():
        per_platform[platform]["visibility_score"] = _r(metrics["visibility_score"])
        per_platform[platform]["mention_rate"] = _r(metrics["mention_rate"])
    succeeded = sum(p["succeeded"] for p in per_platform.values())
    overall = main["overall"]
    return {
        "total_tasks": record.total_tasks,
        "answered": len(answers),
        "succeeded": succeeded,
        "failed": len(answers) - succeeded,
        "coverage": round(succeeded / record.total_tasks, 4) if record.total_tasks else None,
        "platforms": {p: dict(v) for p, v in sorted(per_platform.items())},
        "synthetic": any(a.synthetic for a in answers),
        "overall_score": _r(overall["visibility_score"]),
        "mention_rate": _r(overall["mention_rate"]),
        "share_of_voice": _r(overall["share_of_voice"]),
        "avg_rank": _r(overall["avg_rank"]),
        "scoring_version": scores["scoring_version"],
    }


def _r(value: float | None, digits: int = 2) -> float | None:
    if value is None:
        return None
    return round(value * 100, digits) / 100 if abs(value) <= 1 else round(value, digits)


def question_breakdown(record: TestRecord, answers: list[Answer]) -> list[dict[str, Any]]:
    """Per asked question: how often each tracked brand was mentioned, and its mean rank."""
    brands = [record.brand_name, *record.competitor_brands]
    groups: dict[tuple[int, str], list[Answer]] = defaultdict(list)
    for answer in answers:
        groups[(answer.question_index, answer.brand)].append(answer)
    rows = []
    for (index, brand), group in sorted(groups.items()):
        valid = [a for a in group if is_valid(a) and a.analysis]
        per_brand = {}
        for name in brands:
            entries = [a.analysis["brands"][name] for a in valid]
            ranks = [e["rank"] for e in entries if e["mentioned"] and e["rank"] is not None]
            per_brand[name] = {
                "mentioned": sum(e["mentioned"] for e in entries),
                "mention_rate": round(sum(e["mentioned"] for e in entries) / len(entries), 4)
                if entries
                else None,
                "avg_rank": round(sum(ranks) / len(ranks), 2) if ranks else None,
                "avg_rank_n": len(ranks),
            }
        rows.append(
            {
                "question_index": index,
                "question": group[0].question,
                "brand": brand or record.brand_name,
                "answers": len(valid),
                "attempted": len(group),
                "brands": per_brand,
            }
        )
    return rows


def competitor_comparison(record: TestRecord, scores: dict[str, Any]) -> list[dict[str, Any]]:
    """Every tracked brand's overall scores side by side, best visibility first."""
    rows = []
    for name, data in scores["brands"].items():
        overall = data["overall"]
        rows.append(
            {
                "brand": name,
                "is_main_brand": name == record.brand_name,
                "visibility_score": overall["visibility_score"],
                "mention_rate": overall["mention_rate"],
                "mrr": overall["mrr"],
                "share_of_voice": overall["share_of_voice"],
                "avg_rank": overall["avg_rank"],
                "avg_rank_n": overall["avg_rank_n"],
                "sentiment_score": overall["sentiment_score"],
            }
        )
    return sorted(rows, key=lambda r: -(r["visibility_score"] or 0))


def top_cited_domains(answers: list[Answer]) -> list[dict[str, Any]]:
    """The domains the answers cite most, with who owns them."""
    counts: Counter[str] = Counter()
    owners: dict[str, tuple[str, str | None]] = {}
    cited_in = 0
    for answer in answers:
        every = (answer.analysis or {}).get("citations") or []
        citations = [c for c in every if is_cited(c)]
        domains = {c["domain"] for c in citations if c.get("domain")}
        cited_in += bool(domains)
        for citation in citations:
            if citation.get("domain"):
                owners.setdefault(
                    citation["domain"], (citation.get("owner"), citation.get("owner_brand"))
                )
        counts.update(domains)
    valid = sum(1 for a in answers if is_valid(a))
    return [
        {
            "domain": domain,
            "answers": count,
            "citation_rate": round(count / valid, 4) if valid else None,
            "owner": owners[domain][0],
            "owner_brand": owners[domain][1],
        }
        for domain, count in counts.most_common(TOP_DOMAINS)
    ]


def citation_panel(
    record: TestRecord, answers: list[Answer], scores: dict[str, Any]
) -> dict[str, Any]:
    """Cited versus retrieved domains (docs/metrics.md §6), over the denominator the metrics
    allow: the valid answers of the platforms that returned sources in this run (none: every
    rate is "n/a", never 0). A domain is cited by an answer that marks, links or names it (or
    that the platform flags cited); retrieved when the platform returned it for an answer that
    does not cite it. The owned-citation rate counts answers citing a main-brand domain."""
    platforms = [p for p, panel in scores["citations"].items() if panel.get("returns_sources")]
    pooled = [a for a in answers if a.platform in platforms and is_valid(a) and a.analysis]
    n = len(pooled)
    counts: dict[str, Counter[str]] = {"cited": Counter(), "retrieved": Counter()}
    rows: dict[str, dict[str, Any]] = {}
    owned = 0
    for answer in pooled:
        every = [c for c in answer.analysis.get("citations") or [] if c.get("domain")]
        cited = {c["domain"] for c in every if is_cited(c)}
        counts["cited"].update(cited)
        counts["retrieved"].update({c["domain"] for c in every} - cited)
        owned += any(c.get("owner") == "own" and is_cited(c) for c in every)
        for c in every:
            rows.setdefault(
                c["domain"],
                {
                    "domain": c["domain"],
                    "site_name": c.get("site_name") or c["domain"],
                    "owner": c.get("owner"),
                    "owner_brand": c.get("owner_brand"),
                },
            )

    def listed(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            rows[domain] | {"answers": count, "rate": round(count / n, 4)}
            for domain, count in counter.most_common(TOP_DOMAINS)
        ]

    return {
        "access_mode": record.access_mode,
        "platforms_with_sources": platforms,
        "answers": n,
        "answers_with_sources": sum(bool(a.analysis.get("has_structured_sources")) for a in pooled),
        "owned_citation_rate": round(owned / n, 4) if n else "n/a",
        "cited_domains": listed(counts["cited"]),
        "retrieved_domains": listed(counts["retrieved"]),
    }


def discovered_entities(answers: Iterable[Answer]) -> list[dict[str, Any]]:
    """Untracked entities the answers recommend, most recommending answers first (metrics §5b).

    Tracked brands are scored in ``scores``; these are the names the user did not type in.
    """
    rows = aggregate_entities((a.platform, a.analysis) for a in answers if is_valid(a))
    return [row for row in rows if not row["tracked"]][:TOP_ENTITIES]


def legacy_sections(
    record: TestRecord, answers: list[Answer], summary: dict[str, Any]
) -> dict[str, Any]:
    """The finished-run fields the legacy mini-program reads at top level."""
    valid = [a for a in answers if is_valid(a) and a.analysis]
    brand_of = lambda a: a.brand or record.brand_name  # noqa: E731
    brand_scores = legacy_brand_scores(
        [(brand_of(a), a.analysis) for a in valid], record.brand_name, record.competitor_brands
    )
    competitive = legacy_competitive_analysis(
        [{"brand": brand_of(a), "platform": a.platform, "analysis": a.analysis} for a in valid],
        record.brand_name,
        record.competitor_brands,
    )
    negative: dict[str, dict[str, Any]] = {}
    recommended: Counter[str] = Counter()
    for answer in valid:
        entries = answer.analysis["brands"]
        main = entries.get(record.brand_name) or {}
        for name, entry in entries.items():
            if entry.get("mentioned") and entry.get("rank") == 1:
                recommended[name] += 1
        if (main.get("sentiment") or {}).get("label") == "negative":
            for citation in answer.analysis.get("citations") or []:
                item = negative.setdefault(
                    citation["url"],
                    {
                        "url": citation["url"],
                        "site_name": citation.get("site_name") or citation["domain"],
                        "domain": citation["domain"],
                        "platforms": [],
                        "count": 0,
                    },
                )
                item["count"] += 1
                if answer.platform not in item["platforms"]:
                    item["platforms"].append(answer.platform)
    main_scores = brand_scores.get(record.brand_name) or {}
    return {
        "brand_scores": brand_scores,
        "competitive_analysis": competitive,
        "negative_sources": sorted(negative.values(), key=lambda n: -n["count"]),
        "recommendation_data": {
            "top_recommended": [
                {"brand": brand, "first_place_answers": count}
                for brand, count in recommended.most_common()
            ],
            "answers": len(valid),
        },
        "quality_score": main_scores.get("overallScore"),
        "overall_score": summary["overall_score"],
    }


def build_report(
    record: TestRecord, answers: list[Answer], scores: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The whole results document for an execution."""
    scores = scores if scores is not None else build_scores(record, answers)
    summary = build_summary(record, answers, scores)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "execution_id": str(record.execution_id),
        "brand": record.brand_name,
        "competitors": record.competitor_brands,
        "questions": record.questions,
        "platforms": record.platforms,
        "repeats": record.repeats,
        "access_mode": record.access_mode,
        "synthetic": summary["synthetic"],
        "generated_at": timezone.now().isoformat(),
        "summary": summary,
        "scores": scores,
        "question_breakdown": question_breakdown(record, answers),
        "competitor_comparison": competitor_comparison(record, scores),
        "top_cited_domains": top_cited_domains(answers),
        "citation_panel": citation_panel(record, answers, scores),
        "discovered_entities": discovered_entities(answers),
        "items": [answer_body(a, main_brand=record.brand_name) for a in answers],
    }


@dataclass(frozen=True, slots=True)
class RunResults:
    """A run's scores, report and legacy sections, built together from its answers."""

    scores: dict[str, Any]
    report: dict[str, Any]
    # Stored apart from the report (LegacyDocument), so v1 clients never download them.
    legacy: dict[str, Any]
    cells: dict[tuple[str, int, str], dict[str, CellCounts]]

    @property
    def record_fields(self) -> dict[str, Any]:
        """The execution row's copies of the headline results."""
        return {
            "overall_score": self.report["summary"]["overall_score"],
            "results_summary": self.report["summary"],
            "scoring_version": self.scores["scoring_version"],
        }

    def store(self, record: TestRecord) -> None:
        """Materialise the scores (per brand × platform and per cell) and store the report and
        its legacy sections."""
        store_scores(record, self.scores)
        store_cell_scores(record, self.cells)
        store_report(record, self.report)
        LegacyDocument.objects.update_or_create(
            record=record, defaults={"sections": self.legacy, "created_at": timezone.now()}
        )


def build_results(record: TestRecord, answers: list[Answer]) -> RunResults:
    """Score the run and build its report and legacy sections (finish, re-analyse, import and
    the live legacy views use this)."""
    scores = build_scores(record, answers)
    report = build_report(record, answers, scores)
    return RunResults(
        scores,
        report,
        legacy_sections(record, answers, report["summary"]),
        build_cells(record, answers),
    )


def encode_report(report: dict[str, Any]) -> tuple[bytes, str, int]:
    """JSON-encode and gzip a report; returns (gzip bytes, etag, uncompressed size)."""
    body = orjson.dumps(report)
    etag = hashlib.sha256(body).hexdigest()[:32]
    return gzip.compress(body, compresslevel=6, mtime=0), etag, len(body)


def store_report(record: TestRecord, report: dict[str, Any]) -> ResultDocument:
    """Store (or replace) an execution's report."""
    body_gzip, etag, size = encode_report(report)
    document, _ = ResultDocument.objects.update_or_create(
        record=record,
        defaults={"body_gzip": body_gzip, "etag": etag, "size": size, "created_at": timezone.now()},
    )
    return document


__all__ = ["SCORING_VERSION", "Analyser", "RunResults", "build_report", "build_results"]
