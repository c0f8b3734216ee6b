"""The trend maths (records/analysis/trends.py) on numbers worked by hand."""

import math
from datetime import UTC, date, datetime

import pytest

from records.analysis.trends import (
    CellCounts,
    cell_counts,
    cell_value,
    change,
    period_point,
    period_start,
    pool,
    significance,
)


def _mr(mentioned: int, valid: int) -> CellCounts:
    return CellCounts(n_valid=valid, n_mentioned=mentioned)


class SignificanceTests:
    def test_paired_differences_by_hand(self):
        # d = 0.5, 0.25, 0.75: mean 0.5; deviations 0, -0.25, 0.25 -> Σ² = 0.125, var = 0.125/2
        # = 0.0625, sd = 0.25, se = 0.25/sqrt(3) = 0.144338; 2 se = 0.288675 < 0.5 -> beyond.
        delta, se, beyond = significance([0.5, 0.25, 0.75])
        assert delta == pytest.approx(0.5)
        assert se == pytest.approx(0.25 / math.sqrt(3))
        assert se == pytest.approx(0.144338, abs=1e-6)
        assert beyond is True

    def test_within_noise(self):
        # d = 1, -0.5, 0: mean 1/6 = 0.1667; deviations 5/6, -2/3, -1/6 -> Σ² = 25/36 + 16/36 +
        # 1/36 = 42/36, var = 21/36, sd = 0.763763, se = 0.440959; 2 se = 0.88 > 0.1667.
        delta, se, beyond = significance([1.0, -0.5, 0.0])
        assert delta == pytest.approx(1 / 6)
        assert se == pytest.approx(math.sqrt(21 / 36) / math.sqrt(3))
        assert beyond is False

    def test_fewer_than_two_cells_has_no_se_and_is_never_beyond_noise(self):
        assert significance([]) == (None, None, False)
        assert significance([1.0]) == (1.0, None, False)

    def test_zero_se(self):
        # Every cell moved by the same amount: sd 0, so any non-zero delta is beyond noise...
        assert significance([0.5, 0.5]) == (0.5, 0.0, True)
        # ... and no change at all is not.
        assert significance([0.0, 0.0, 0.0]) == (0.0, 0.0, False)

    def test_exactly_two_se_is_not_beyond(self):
        # d = 0, 1: mean 0.5, sd = sqrt(0.5), se = sqrt(0.5)/sqrt(2) = 0.5: |0.5| > 1.0 is false.
        delta, se, beyond = significance([0.0, 1.0])
        assert (delta, se, beyond) == (pytest.approx(0.5), pytest.approx(0.5), False)


class ChangeTests:
    def test_common_cells_only(self):
        # Cells a, b, c before; a, b, d after (c retired, d added).
        # a: 1/2 -> 2/2 (d = 0.5); b: 0/2 -> 1/2 (d = 0.5); c and d are ignored.
        before = {"a": _mr(1, 2), "b": _mr(0, 2), "c": _mr(2, 2)}
        after = {"a": _mr(2, 2), "b": _mr(1, 2), "d": _mr(0, 2)}
        result = change(before, after, "mention_rate")
        assert result.cells == 2
        assert result.delta == pytest.approx(0.5)
        assert result.before == pytest.approx(0.25)
        assert result.after == pytest.approx(0.75)
        # Both differences equal: se 0 -> beyond noise.
        assert result.se == pytest.approx(0.0)
        assert result.beyond_noise is True
        assert (result.n_before, result.n_after) == (4, 4)
        # The naive change over all cells: before (0.5 + 0 + 1)/3 = 0.5, after (1 + 0.5 + 0)/3
        # = 0.5 -> 0; the common-cell change is +0.5.
        naive = (
            sum(cell_value(c, "mention_rate") for c in after.values()) / 3
            - sum(cell_value(c, "mention_rate") for c in before.values()) / 3
        )
        assert naive == pytest.approx(0.0)

    def test_cells_without_a_value_on_one_side_are_left_out(self):
        # Sentiment is undefined where the brand is never mentioned.
        before = {"a": CellCounts(n_valid=1, n_mentioned=1, sentiment_sum=1, sentiment_n=1)}
        after = {"a": CellCounts(n_valid=1)}
        result = change(before, after, "sentiment")
        assert (result.cells, result.delta, result.se, result.beyond_noise) == (
            0,
            None,
            None,
            False,
        )


class CellValueTests:
    def test_values_from_counts(self):
        # 4 valid answers; mentioned in 3 with ranks 1, 2, 4 -> rr Σ = 1.75; top-1 once;
        # sentiment +1, 0, +1 -> NSS 2/3; tracked-brand mentions 6 -> SoV 3/6; 2 answers came with
        # sources, 1 cites an own domain -> owned 1/4.
        counts = CellCounts(
            n_valid=4,
            n_mentioned=3,
            rr_sum=1.75,
            n_top1=1,
            sentiment_sum=2,
            sentiment_n=3,
            n_all_mentions=6,
            n_sourced=2,
            n_owned_cited=1,
        )
        assert cell_value(counts, "mention_rate") == 0.75
        assert cell_value(counts, "mrr") == pytest.approx(0.4375)
        assert cell_value(counts, "top1_rate") == 0.25
        assert cell_value(counts, "share_of_voice") == 0.5
        assert cell_value(counts, "sentiment") == pytest.approx(2 / 3)
        assert cell_value(counts, "owned_citation_rate") == 0.25
        # VS = 100 (0.4·0.75 + 0.3·0.4375 + 0.2·0.5 + 0.1·0.75·S), S = 50(2/3 + 1)/100 = 5/6
        #    = 30 + 13.125 + 10 + 6.25 = 59.375
        assert cell_value(counts, "visibility_score") == pytest.approx(59.375)

    def test_undefined(self):
        assert cell_value(CellCounts(), "mention_rate") is None
        assert cell_value(CellCounts(n_valid=2), "share_of_voice") is None
        assert cell_value(CellCounts(n_valid=2), "owned_citation_rate") is None
        with pytest.raises(ValueError):
            cell_value(CellCounts(n_valid=1), "reach")

    def test_pool_averages_repeats_answer_weighted(self):
        # Repeats 1/1 and 0/3 of one cell pool to 1/4, not the mean of rates (0.5).
        assert cell_value(pool([_mr(1, 1), _mr(0, 3)]), "mention_rate") == 0.25


class CellCountsTests:
    def test_from_analyses(self):
        def analysis(a_rank, b_rank, *, a_sent=None, sources=False, cites_a=False):
            brands = {
                "A": {"mentioned": a_rank is not None, "rank": a_rank},
                "B": {"mentioned": b_rank is not None, "rank": b_rank},
            }
            if a_sent is not None:
                brands["A"]["sentiment"] = {"score": a_sent}
            citations = [{"domain": "a.com", "owner_brand": "A"}] if cites_a else []
            return {"brands": brands, "has_structured_sources": sources, "citations": citations}

        answers = [
            # cell (demo, 0): two repeats, A rank 1 positive and A rank 2 with B rank 1.
            {
                "platform": "demo",
                "question_index": 0,
                "valid": True,
                "analysis": analysis(1, None, a_sent=1, sources=True, cites_a=True),
            },  # noqa: E501
            {
                "platform": "demo",
                "question_index": 0,
                "valid": True,
                "analysis": analysis(2, 1, a_sent=0),
            },  # noqa: E501
            # a failed call in the same cell counts nowhere
            {"platform": "demo", "question_index": 0, "valid": False, "analysis": None},
            # cell (demo, 1): A absent
            {"platform": "demo", "question_index": 1, "valid": True, "analysis": analysis(None, 1)},
        ]
        cells = cell_counts(answers, ["A", "B"])
        a0 = cells[("demo", 0, "")]["A"]
        assert a0 == CellCounts(
            n_valid=2,
            n_mentioned=2,
            rr_sum=1.5,
            n_top1=1,
            sentiment_sum=1,
            sentiment_n=2,
            n_all_mentions=3,
            n_sourced=1,
            n_owned_cited=1,
        )
        assert cells[("demo", 1, "")]["A"] == CellCounts(n_valid=1, n_all_mentions=1)
        assert cells[("demo", 1, "")]["B"].n_top1 == 1


class PeriodTests:
    def test_period_start(self):
        moment = datetime(2025, 3, 13, 23, 30, tzinfo=UTC)  # a Thursday
        assert period_start(moment, "day") == date(2025, 3, 13)
        assert period_start(moment, "week") == date(2025, 3, 10)
        assert period_start(moment, "month") == date(2025, 3, 1)
        with pytest.raises(ValueError):
            period_start(moment, "year")

    def test_period_point(self):
        # Mean over executions, None skipped; SE is the mean of the executions' SEs.
        assert period_point([0.2, None, 0.4], [0.1, 0.3]) == {
            "value": pytest.approx(0.3),
            "se": pytest.approx(0.2),
        }
        assert period_point([0.2, 0.4], [0.1, None]) == {"value": pytest.approx(0.3), "se": None}
        assert period_point([None]) == {"value": None, "se": None}
