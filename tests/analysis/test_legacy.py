import pytest

from records.analysis import BrandSpec, analyse_answer
from records.analysis.legacy import (
    legacy_brand_scores,
    legacy_competitive_analysis,
    legacy_geo_data,
    legacy_item_scores,
)


def entry(rank=None, list_rank=None, first_offset=0, score=0):
    mentioned = rank is not None
    return {
        "mentioned": mentioned,
        "rank": rank,
        "list_rank": list_rank,
        "first_offset": first_offset if mentioned else None,
        "sentiment": {"score": score} if mentioned else None,
    }


def analysis(**brands):
    return {"brands": brands, "citations": []}


# A is ranked 2nd behind B (list ranks); A positive.
BEHIND = analysis(A=entry(2, 2, 30, 1), B=entry(1, 1, 10, 0))
# A absent; B first.
ABSENT = analysis(A=entry(), B=entry(1, 1, 5, 0))


def test_geo_data_from_our_own_analysis():
    text = (
        "推荐：\n1. 大宝：便宜\n2. 华夏良子：专业，值得推荐\n详见https://www.dianping.com/shop/1。"
    )
    result = analyse_answer(text, [BrandSpec("华夏良子"), BrandSpec("大宝"), BrandSpec("良子")])
    assert legacy_geo_data(result, "华夏良子", ["大宝", "良子"]) == {
        "brand_mentioned": True,
        "rank": 2,
        "sentiment": 1.0,
        "cited_sources": [
            {
                "url": "https://www.dianping.com/shop/1",
                "site_name": "大众点评",
                "attitude": "neutral",
            }
        ],
        "interception": "大宝",
    }
    absent = legacy_geo_data(result, "良子", ["华夏良子", "大宝"])
    assert (absent["brand_mentioned"], absent["rank"], absent["sentiment"]) == (False, -1, 0.0)
    assert absent["interception"] == ""


def test_interception_lists_competitors_ahead_in_order():
    result = analysis(A=entry(3, 3, 50), B=entry(2, 2, 20), C=entry(1, 1, 5), D=entry(3, 3, 60))
    assert legacy_geo_data(result, "A", ["B", "C", "D"])["interception"] == "C,B"


def test_interception_by_first_mention_when_not_both_list_ranked():
    result = analysis(A=entry(2, None, 40), B=entry(1, None, 10))
    assert legacy_geo_data(result, "A", ["B"])["interception"] == "B"


@pytest.mark.parametrize(
    ("rank", "s", "accuracy"),
    [
        (-1, 0, 30),  # absent: 30 + 20s
        (1, 1, 100),  # 85 + 10 + 10 = 105, clamped
        (3, -1, 75),  # 85 + 0 - 10
        (4, 0, 75),  # 65 + 5*2
        (7, -1, 44),  # 45 + 3*3 - 10
        (12, 0, 39),  # 45 + 3*(-2)
    ],
)
def test_accuracy_brackets(rank, s, accuracy):
    result = analysis(A=entry(rank if rank > 0 else None, None, 0, s))
    assert legacy_item_scores(result, "A", [])["authority_score"] == accuracy


def test_item_scores_match_hand_computation():
    # accuracy 85+5+10 = 100; visibility 70+10*1 = 80; sentiment 100; purity 90; consistency 95
    # score = round(25 + 16 + 20 + 13.5 + 19) = round(93.5) = 94
    assert legacy_item_scores(BEHIND, "A", ["B"]) == {
        "score": 94,
        "authority_score": 100,
        "visibility_score": 80.0,
        "sentiment_score": 100.0,
        "purity_score": 90.0,
        "consistency_score": 95.0,
        "quality_score": 94,
        "quality_level": "A",
    }


def test_brand_scores_match_hand_computation():
    scores = legacy_brand_scores([("A", BEHIND), ("A", ABSENT)], "A", ["B"])
    # A: item 1 (100, 80, 100, 90, 95); item 2 (30, 60, 50, 45, 28.5)
    # means 65, 70, 75, 67.5, 61.75 -> 16.25 + 14 + 15 + 10.125 + 12.35 = 67.725 -> 68
    a = scores["A"]
    assert (a["overallScore"], a["overallGrade"]) == (68, "C")
    assert (
        a["overallAuthority"],
        a["overallVisibility"],
        a["overallSentiment"],
        a["overallPurity"],
        a["overallConsistency"],
    ) == (65.0, 70.0, 75.0, 67.5, 61.8)
    assert "A" in a["overallSummary"]
    # B has no items of its own, so it is scored over every item: twice rank 1, s 0, nobody
    # ahead: (95, 60, 50, 45, 90.25) -> 23.75 + 12 + 10 + 6.75 + 18.05 = 70.55 -> 71
    assert (scores["B"]["overallScore"], scores["B"]["overallGrade"]) == (71, "B")


def test_brand_with_no_successful_answer_gets_nulls():
    scores = legacy_brand_scores([], "A", ["B"])
    assert scores["A"]["overallScore"] is None
    assert scores["A"]["overallGrade"] == "N/A"
    assert scores["B"]["overallAuthority"] is None


def test_competitive_analysis_matches_contract():
    answers = [
        {"brand": "A", "platform": "p1", "analysis": BEHIND},
        {"brand": "A", "platform": "p2", "analysis": ABSENT},
        {"brand": "A", "platform": "p1", "analysis": analysis(A=entry(1, 1, 0), B=entry())},
    ]
    result = legacy_competitive_analysis(answers, "A", ["B"])
    assert set(result) == {"brandScores", "firstMentionByPlatform", "interceptionRisks", "ranking"}
    assert result["brandScores"] == legacy_brand_scores(
        [(a["brand"], a["analysis"]) for a in answers], "A", ["B"]
    )
    # p1: A leads once, B leads once (tie goes to the main brand); p2: only B leads.
    assert result["firstMentionByPlatform"] == {"p1": 1.0, "p2": 0.0}
    main = result["brandScores"]["A"]["overallScore"]
    other = result["brandScores"]["B"]["overallScore"]
    assert result["ranking"] == sorted(
        [{"brand": "A", "score": main}, {"brand": "B", "score": other}],
        key=lambda row: -row["score"],
    )


def test_interception_risk_for_each_competitor_scoring_above_the_main_brand():
    strong = analysis(A=entry(), B=entry(1, 1, 0, 1), C=entry(2, 2, 5, 0))
    answers = [{"brand": "A", "platform": "p", "analysis": strong}]
    result = legacy_competitive_analysis(answers, "A", ["B", "C"])
    scores = {b: s["overallScore"] for b, s in result["brandScores"].items()}
    # A absent: (30, 60, 50, 45, 28.5) -> 41.95 -> 42
    # B first, positive: (100, 60, 100, 90, 95) -> 89.5 -> 90 (round half to even)
    # C second behind B: (90, 80, 50, 45, 85.5) -> 72.35 -> 72
    assert scores == {"A": 42, "B": 90, "C": 72}
    high = {"type": "visibility", "level": "high"}
    assert result["interceptionRisks"] == [
        {**high, "brand": "B", "description": "B的综合得分比A高48分"},
        {**high, "brand": "C", "description": "C的综合得分比A高30分"},
    ]
    assert [row["brand"] for row in result["ranking"]] == ["B", "C", "A"]


def test_interception_risk_level_is_medium_for_small_gaps():
    # A: (90, 80, 50, 45, 85.5) -> 72; B: (100, 60, 100, 90, 95) -> 90; gap 18.
    close = analysis(A=entry(2, 2, 10, 0), B=entry(1, 1, 0, 1))
    answers = [{"brand": "A", "platform": "p", "analysis": close}]
    result = legacy_competitive_analysis(answers, "A", ["B"])
    (risk,) = result["interceptionRisks"]
    assert risk["level"] == "medium"
