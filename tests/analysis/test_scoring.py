import json

import pytest

from records.analysis import SCORING_VERSION, score_execution
from records.analysis.scoring import visibility_score


def analysis(ranks, sentiments=None, citations=(), structured=False):
    """A minimal analyse_answer() result: ranks {brand: rank or None}, sentiments {brand: score}."""
    sentiments = sentiments or {}
    return {
        "brands": {
            brand: {
                "mentioned": rank is not None,
                "rank": rank,
                "sentiment": None if rank is None else {"score": sentiments.get(brand, 0)},
            }
            for brand, rank in ranks.items()
        },
        "citations": list(citations),
        "has_structured_sources": structured,
    }


def answer(platform, q, run, ranks=None, sentiments=None, **kwargs):
    valid = ranks is not None
    return {
        "platform": platform,
        "question_index": q,
        "run_index": run,
        "valid": valid,
        "analysis": analysis(ranks, sentiments, **kwargs) if valid else None,
    }


@pytest.fixture
def scores():
    answers = [
        # p1, question 0: two runs.
        answer("p1", 0, 0, {"A": 1, "B": 2}, {"A": 1, "B": 0}),
        answer("p1", 0, 1, {"A": None, "B": 1}, {"B": -1}),
        # p1, question 1: one success, one failure.
        answer("p1", 1, 0, {"A": 2, "B": 1}, {"A": 1, "B": 1}),
        answer("p1", 1, 1),
        # p2: question 0 succeeds, question 1 fails.
        answer("p2", 0, 0, {"A": 1, "B": None}, {"A": 0}),
        answer("p2", 1, 0),
    ]
    return score_execution(answers, ["A", "B"], ["p1", "p2", "p3"])


def test_platform_metrics_match_hand_computation(scores):
    a1 = scores["brands"]["A"]["platforms"]["p1"]
    # cells: q0 mr 1/2, rr (1+0)/2, top1 1/2; q1 mr 1, rr 1/2, top1 0.
    assert a1["mention_rate"] == 0.75
    assert a1["mention_rate_se"] == pytest.approx(0.25)  # stdev(0.5, 1) / sqrt(2)
    assert a1["low_sample"] is True
    assert a1["mrr"] == 0.5
    assert a1["top1_rate"] == 0.25
    assert (a1["avg_rank"], a1["avg_rank_n"]) == (1.5, 2)
    assert a1["share_of_voice"] == 0.4  # A mentioned 2 times of 5 brand mentions
    assert (a1["nss"], a1["nss_n"], a1["sentiment_score"]) == (1.0, 2, 100.0)
    # 100 (0.4*0.75 + 0.3*0.5 + 0.2*0.4 + 0.1*0.75*1.0)
    assert a1["visibility_score"] == pytest.approx(60.5)
    assert a1["coverage"] == {"valid": 3, "attempted": 4, "rate": 0.75}

    b1 = scores["brands"]["B"]["platforms"]["p1"]
    assert (b1["mention_rate"], b1["mention_rate_se"]) == (1.0, 0.0)
    assert b1["mrr"] == 0.875  # q0 (1/2 + 1)/2, q1 1
    assert b1["top1_rate"] == 0.75
    assert (b1["avg_rank"], b1["avg_rank_n"]) == (1.25, 3)  # cells 1.5 and 1
    assert b1["share_of_voice"] == 0.6
    assert (b1["nss"], b1["nss_n"], b1["sentiment_score"]) == (0.25, 3, 62.5)
    assert b1["visibility_score"] == pytest.approx(84.5)


def test_unmentioned_brand_gets_nulls_not_defaults(scores):
    b2 = scores["brands"]["B"]["platforms"]["p2"]
    assert b2["mention_rate"] == 0.0 and b2["mrr"] == 0.0
    assert (b2["avg_rank"], b2["avg_rank_n"]) == (None, 0)
    assert (b2["nss"], b2["sentiment_score"]) == (None, None)
    assert b2["mention_rate_se"] is None  # one question: no standard deviation
    assert b2["visibility_score"] == 0.0
    assert b2["components"]["sentiment"] is None


def test_overall_is_the_mean_over_platforms_with_valid_answers(scores):
    a = scores["brands"]["A"]["overall"]
    assert a["visibility_score"] == pytest.approx((60.5 + 95.0) / 2)
    assert a["mention_rate"] == 0.875
    assert a["mrr"] == 0.75
    assert a["top1_rate"] == 0.625
    assert (a["avg_rank"], a["avg_rank_n"]) == (1.25, 3)
    assert a["share_of_voice"] == 0.7
    assert (a["nss"], a["sentiment_score"]) == (0.5, 75.0)
    # Per question, mean over platforms: q0 (0.5 + 1)/2, q1 1; SE = stdev / sqrt(2).
    assert a["mention_rate_se"] == pytest.approx(0.125)
    assert a["coverage"] == {"valid": 4, "attempted": 6, "rate": 0.666667}
    assert a["platform_coverage"] == {"scored": 2, "total": 3, "platforms": ["p1", "p2"]}
    b = scores["brands"]["B"]["overall"]
    assert b["visibility_score"] == pytest.approx(42.25)
    assert a["share_of_voice"] + b["share_of_voice"] == pytest.approx(1.0)


def test_components_are_returned_beside_the_score(scores):
    a1 = scores["brands"]["A"]["platforms"]["p1"]
    points = a1["components"]["points"]
    assert points == pytest.approx(
        {"mention_rate": 30.0, "mrr": 15.0, "share_of_voice": 8.0, "sentiment": 7.5}
    )
    assert sum(points.values()) == pytest.approx(a1["visibility_score"])
    overall = scores["brands"]["A"]["overall"]
    assert sum(overall["components"]["points"].values()) == pytest.approx(
        overall["visibility_score"]
    )


def test_platform_without_attempts_is_unscored(scores):
    p3 = scores["brands"]["A"]["platforms"]["p3"]
    assert p3["visibility_score"] is None and p3["mention_rate"] is None
    assert p3["coverage"] == {"valid": 0, "attempted": 0, "rate": None}


def test_stability_verdicts_show_votes(scores):
    cells = scores["brands"]["A"]["platforms"]["p1"]["cells"]
    assert [(c["question_index"], c["votes"], c["verdict"]) for c in cells] == [
        (0, "1/2", "unstable"),
        (1, "1/1", "stable_present"),
    ]
    cells = scores["brands"]["B"]["platforms"]["p2"]["cells"]
    assert [(c["votes"], c["verdict"]) for c in cells] == [("0/1", "stable_absent"), ("0/0", None)]


def test_result_carries_version_weights_and_is_json(scores):
    assert scores["scoring_version"] == SCORING_VERSION
    assert scores["weights"] == {
        "mention_rate": 0.4,
        "mrr": 0.3,
        "share_of_voice": 0.2,
        "sentiment": 0.1,
    }
    json.dumps(scores)


def test_visibility_extremes():
    assert visibility_score(1.0, 1.0, 1.0, 100.0)[0] == pytest.approx(100.0)
    assert visibility_score(0.0, 0.0, None, None)[0] == 0.0


def test_share_of_voice_is_null_when_no_brand_is_mentioned():
    result = score_execution([answer("p", 0, 0, {"A": None, "B": None})], ["A", "B"], ["p"])
    a = result["brands"]["A"]["platforms"]["p"]
    assert a["share_of_voice"] is None
    assert a["visibility_score"] == 0.0  # missing SoV counts 0


def test_low_sample_flag_clears_at_ten_questions():
    answers = [answer("p", q, 0, {"A": 1}) for q in range(10)]
    result = score_execution(answers, ["A"], ["p"])
    assert result["brands"]["A"]["platforms"]["p"]["low_sample"] is False
    assert score_execution(answers[:9], ["A"], ["p"])["brands"]["A"]["overall"]["low_sample"]


def test_failed_retries_do_not_reweight_questions():
    # q0 has three successful runs, q1 one: each question still weighs half.
    answers = [answer("p", 0, r, {"A": 1}) for r in range(3)] + [answer("p", 1, 0, {"A": None})]
    assert score_execution(answers, ["A"], ["p"])["brands"]["A"]["overall"]["mention_rate"] == 0.5


def test_valid_answer_without_analysis_is_an_error():
    bad = {"platform": "p", "question_index": 0, "run_index": 0, "valid": True, "analysis": None}
    with pytest.raises(ValueError):
        score_execution([bad], ["A"], ["p"])


def citation(domain, owner="third_party", owner_brand=None):
    return {"domain": domain, "site_name": domain, "owner": owner, "owner_brand": owner_brand}


def test_citation_panel_rates_over_platforms_that_return_sources():
    own = citation("a.com", "own", "A")
    answers = [
        answer("web", 0, 0, {"A": 1}, citations=[own, citation("zhihu.com")], structured=True),
        answer("web", 1, 0, {"A": 1}, citations=[citation("zhihu.com")], structured=True),
        answer("web", 2, 0, {"A": 1}),
        answer("api", 0, 0, {"A": 1}, citations=[citation("zhihu.com")]),
    ]
    panel = score_execution(answers, ["A"], ["web", "api"])["citations"]
    web = panel["web"]
    assert web["returns_sources"] is True and web["answers"] == 3
    assert web["citation_rate"] == 0.666667
    assert web["owned_citation_rate"] == 0.333333
    zhihu = next(row for row in web["domains"] if row["domain"] == "zhihu.com")
    assert (zhihu["answers"], zhihu["citation_rate"], zhihu["citation_share"]) == (
        2,
        0.666667,
        0.666667,
    )
    api = panel["api"]
    assert api["returns_sources"] is False
    assert api["citation_rate"] == "n/a" and api["owned_citation_rate"] == "n/a"
    assert api["domains"][0]["citation_rate"] == "n/a" and api["domains"][0]["answers"] == 1
