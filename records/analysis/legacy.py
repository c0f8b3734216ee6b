"""Compatibility views for the legacy mini-program (docs/legacy-contract.md "Result item" and
"Legacy-compatible scores"), computed from our own analysis, never from the answering model.

These are views: the primary metrics are :func:`records.analysis.score_execution`'s.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence


def _entry(analysis: Mapping, brand: str) -> Mapping:
    return (analysis.get("brands") or {}).get(brand) or {}


def _is_ahead(other: Mapping, entry: Mapping) -> bool:
    """Whether brand ``other`` appears ahead of brand ``entry`` in one answer.

    Both must be mentioned. When both are ranked by list, the list ranks decide (sharing an item
    is not ahead); otherwise the first mention decides, so a list rank is never compared with a
    mention order.
    """
    if not other.get("mentioned") or not entry.get("mentioned"):
        return False
    if other.get("list_rank") is not None and entry.get("list_rank") is not None:
        return other["list_rank"] < entry["list_rank"]
    return other["first_offset"] < entry["first_offset"]


def interceptors(analysis: Mapping, brand: str, competitors: Sequence[str]) -> list[str]:
    """Competitors appearing ahead of ``brand`` in one answer, in the order they appear."""
    entry = _entry(analysis, brand)
    ahead = [c for c in competitors if c != brand and _is_ahead(_entry(analysis, c), entry)]
    return sorted(ahead, key=lambda c: _entry(analysis, c)["first_offset"])


def _rank_and_sentiment(analysis: Mapping, brand: str) -> tuple[int, float]:
    entry = _entry(analysis, brand)
    if not entry.get("mentioned"):
        return -1, 0.0
    sentiment = entry.get("sentiment") or {}
    return int(entry.get("rank") or -1), float(sentiment.get("score") or 0)


def legacy_geo_data(analysis: Mapping, brand: str, competitors: Sequence[str]) -> dict:
    """The legacy item's ``geo_data`` for ``brand`` (rank -1 and sentiment 0.0 when absent)."""
    rank, sentiment = _rank_and_sentiment(analysis, brand)
    return {
        "brand_mentioned": rank != -1,
        "rank": rank,
        "sentiment": sentiment,
        "cited_sources": [
            {
                "url": c["url"],
                "site_name": c.get("site_name") or c["domain"],
                "attitude": c.get("attitude", "neutral"),
            }
            for c in analysis.get("citations") or []
        ],
        "interception": ",".join(interceptors(analysis, brand, competitors)),
    }


def _accuracy(rank: int, s: float) -> float:
    if rank <= 0:
        value = 30 + 20 * s
    elif rank <= 3:
        value = 85 + 5 * (3 - rank) + 10 * s
    elif rank <= 6:
        value = 65 + 5 * (6 - rank) + 10 * s
    else:
        value = 45 + 3 * (10 - rank) + 10 * s
    return min(100.0, max(0.0, value))


def grade(score: float) -> str:
    """Legacy letter grade: A >= 85, B >= 70, C >= 50, else D."""
    return "A" if score >= 85 else "B" if score >= 70 else "C" if score >= 50 else "D"


def _combine(a: float, v: float, s: float, p: float, c: float) -> int:
    return round(0.25 * a + 0.2 * v + 0.2 * s + 0.15 * p + 0.2 * c)


def legacy_item_scores(analysis: Mapping, brand: str, competitors: Sequence[str]) -> dict:
    """One answer's legacy scores for ``brand`` (the result item's ``*_score`` fields)."""
    rank, s = _rank_and_sentiment(analysis, brand)
    accuracy = _accuracy(rank, s)
    ahead = len(interceptors(analysis, brand, competitors))
    visibility = 60.0 if ahead == 0 else float(min(100, 70 + 10 * ahead))
    sentiment = 50 * (s + 1)
    purity = 0.9 * sentiment
    consistency = 0.95 * accuracy
    score = _combine(accuracy, visibility, sentiment, purity, consistency)
    return {
        "score": score,
        "authority_score": accuracy,
        "visibility_score": visibility,
        "sentiment_score": sentiment,
        "purity_score": purity,
        "consistency_score": consistency,
        "quality_score": score,
        "quality_level": grade(score),
    }


def legacy_brand_scores(
    items: Sequence[tuple[str, Mapping]], main_brand: str, competitors: Sequence[str]
) -> dict:
    """``brand_scores``: per tracked brand, the means of its items' legacy scores.

    ``items`` are (item brand, analysis) over successful answers. A brand is scored over its own
    items; a brand with none (a question without ``{brandName}`` carries only the main brand)
    is scored over every item, since each analysis covers every tracked brand. With no
    successful answer at all, every number is None and the grade is "N/A".
    """
    tracked = [main_brand, *[c for c in competitors if c != main_brand]]
    own: dict[str, list[Mapping]] = defaultdict(list)
    for brand, analysis in items:
        own[brand].append(analysis)
    everything = [analysis for _, analysis in items]
    scores = {}
    for brand in tracked:
        analyses = own.get(brand) or everything
        others = [b for b in tracked if b != brand]
        if not analyses:
            scores[brand] = {
                "overallScore": None,
                "overallGrade": "N/A",
                "overallAuthority": None,
                "overallVisibility": None,
                "overallSentiment": None,
                "overallPurity": None,
                "overallConsistency": None,
                "overallSummary": f"{brand}暂无成功的回答，无法评分。",
            }
            continue
        rows = [legacy_item_scores(analysis, brand, others) for analysis in analyses]
        n = len(rows)
        a, v, s, p, c = (
            sum(row[key] for row in rows) / n
            for key in (
                "authority_score",
                "visibility_score",
                "sentiment_score",
                "purity_score",
                "consistency_score",
            )
        )
        overall = _combine(a, v, s, p, c)
        mentioned = sum(1 for analysis in analyses if _entry(analysis, brand).get("mentioned"))
        scores[brand] = {
            "overallScore": overall,
            "overallGrade": grade(overall),
            "overallAuthority": round(a, 1),
            "overallVisibility": round(v, 1),
            "overallSentiment": round(s, 1),
            "overallPurity": round(p, 1),
            "overallConsistency": round(c, 1),
            "overallSummary": (
                f"{brand}综合得分{overall}分（{grade(overall)}级），"
                f"在{n}个有效回答中被提及{mentioned}次。"
            ),
        }
    return scores


def legacy_competitive_analysis(
    answers: Iterable[Mapping], main_brand: str, competitors: Sequence[str]
) -> dict:
    """``competitive_analysis`` over successful answers.

    ``answers``: one mapping per successful answer with ``brand`` (the item's brand),
    ``platform`` and ``analysis``. ``firstMentionByPlatform[p]`` is 1.0 when the main brand
    leads (is mentioned with no tracked brand ahead of it) in at least as many of p's answers as
    any other brand, and in at least one; else 0.0. Brands without a score are left out of
    ``ranking`` and ``interceptionRisks``.
    """
    answers = list(answers)
    tracked = [main_brand, *[c for c in competitors if c != main_brand]]
    brand_scores = legacy_brand_scores(
        [(a["brand"], a["analysis"]) for a in answers], main_brand, competitors
    )

    leads: dict[str, Counter[str]] = defaultdict(Counter)
    for answer in answers:
        analysis = answer["analysis"]
        counter = leads[answer["platform"]]
        for brand in tracked:
            entry = _entry(analysis, brand)
            if entry.get("mentioned") and not interceptors(analysis, brand, tracked):
                counter[brand] += 1
    first_mention = {
        platform: (
            1.0 if counter[main_brand] > 0 and counter[main_brand] == max(counter.values()) else 0.0
        )
        for platform, counter in leads.items()
    }

    main_score = brand_scores[main_brand]["overallScore"]
    risks = []
    for competitor in tracked[1:]:
        score = brand_scores[competitor]["overallScore"]
        if score is None or main_score is None or score <= main_score:
            continue
        gap = score - main_score
        risks.append(
            {
                "type": "visibility",
                "level": "high" if gap > 20 else "medium",
                "brand": competitor,
                "description": f"{competitor}的综合得分比{main_brand}高{gap}分",
            }
        )
    ranked = [(b, brand_scores[b]["overallScore"]) for b in tracked]
    ranking = [
        {"brand": brand, "score": score}
        for brand, score in sorted(
            ((b, s) for b, s in ranked if s is not None), key=lambda pair: -pair[1]
        )
    ]
    return {
        "brandScores": brand_scores,
        "firstMentionByPlatform": first_mention,
        "interceptionRisks": risks,
        "ranking": ranking,
    }
