"""Materialised scores of an execution: BrandScore rows (brand x platform, overall) and
CellScore rows (brand x prompt x platform), written at finish and on re-analyse."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from records.analysis.trends import CellCounts, cell_counts
from records.models import (
    Answer,
    AnswerStatus,
    BrandScore,
    CellScore,
    Prompt,
    TestRecord,
)


def is_valid(answer: Answer) -> bool:
    """A successful call with non-empty text: the only answers any denominator counts."""
    return answer.status == AnswerStatus.SUCCESS and bool(answer.text.strip())


def build_cells(
    record: TestRecord, answers: list[Answer]
) -> dict[tuple[str, int, str], dict[str, CellCounts]]:
    """Per cell (platform, question index, substituted brand) and brand, the additive counts the
    trend changes pool (records.analysis.trends)."""
    return cell_counts(
        (
            {
                "platform": a.platform,
                "question_index": a.question_index,
                "subject": a.brand or record.brand_name,
                "valid": is_valid(a) and bool(a.analysis),
                "analysis": a.analysis or None,
            }
            for a in answers
            if a.platform in record.platforms
        ),
        [record.brand_name, *record.competitor_brands],
    )


def store_cell_scores(
    record: TestRecord, cells: dict[tuple[str, int, str], dict[str, CellCounts]]
) -> None:
    """Replace an execution's per-cell scores; each cell names the monitor prompt it asked."""
    prompt_ids = list(record.prompt_ids or [])
    existing = set(
        Prompt.objects.filter(pk__in=[p for p in prompt_ids if p]).values_list("pk", flat=True)
    )

    def prompt_of(index: int) -> int | None:
        pid = prompt_ids[index] if index < len(prompt_ids) else None
        return pid if pid in existing else None

    CellScore.objects.filter(record=record).delete()
    CellScore.objects.bulk_create(
        CellScore(
            record=record,
            brand=brand,
            platform=platform,
            question_index=index,
            subject=subject,
            prompt_id=prompt_of(index),
            **asdict(counts),
        )
        for (platform, index, subject), per_brand in cells.items()
        for brand, counts in per_brand.items()
    )


def _owned_citation_rates(scores: dict[str, Any], brand: str) -> dict[str, float | None]:
    """A brand's owned-citation rate per platform ('' = mean over platforms with sources)."""
    rates: dict[str, float | None] = {}
    for platform, panel in scores["citations"].items():
        rate = (panel.get("brand_citation_rate") or {}).get(brand)
        rates[platform] = rate if isinstance(rate, int | float) else None
    present = [r for r in rates.values() if r is not None]
    rates[""] = sum(present) / len(present) if present else None
    return rates


def score_rows(record: TestRecord, scores: dict[str, Any]) -> Iterable[BrandScore]:
    """BrandScore rows for every brand x (platform, overall)."""
    for brand, data in scores["brands"].items():
        owned = _owned_citation_rates(scores, brand)
        for platform, metrics in [("", data["overall"]), *data["platforms"].items()]:
            yield BrandScore(
                record=record,
                brand=brand,
                platform=platform,
                is_main_brand=brand == record.brand_name,
                mention_rate=metrics["mention_rate"],
                mention_rate_se=metrics["mention_rate_se"],
                mrr=metrics["mrr"],
                top1_rate=metrics["top1_rate"],
                avg_rank=metrics["avg_rank"],
                avg_rank_n=metrics["avg_rank_n"],
                share_of_voice=metrics["share_of_voice"],
                nss=metrics["nss"],
                nss_n=metrics["nss_n"],
                visibility_score=metrics["visibility_score"],
                coverage=metrics["coverage"]["rate"],
                valid_answers=metrics["coverage"]["valid"],
                owned_citation_rate=owned.get(platform),
                components=metrics["components"] or {},
                scoring_version=scores["scoring_version"],
            )


def store_scores(record: TestRecord, scores: dict[str, Any]) -> None:
    """Replace an execution's materialised scores."""
    BrandScore.objects.filter(record=record).delete()
    BrandScore.objects.bulk_create(score_rows(record, scores))
