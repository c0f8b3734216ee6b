"""GET /api/v1/monitors/{id}/trend/: points, changes on common cells, prompt changes, errors.

Executions are built as a monitor's runs are: a TestRecord with the monitor, its questions and
prompt ids, answers whose text the real analyser reads, then build_results(...).store() (what
finishing a run does), so BrandScore and CellScore rows come from answers, never by hand.
"""

from datetime import UTC, datetime

import pytest

from records.models import (
    Answer,
    AnswerStatus,
    Monitor,
    MonitorStatus,
    Prompt,
    TestRecord,
    TrackedBrand,
)
from records.reports import Analyser, build_results
from tests.factories import UserFactory

MAIN, RIVAL = "华夏良子", "通透堂"
MENTIONED = f"推荐{MAIN}，手法专业。另外{RIVAL}也可以。"
ABSENT = f"推荐{RIVAL}，环境不错。"


def make_monitor(owner, texts: list[str]) -> tuple[Monitor, list[Prompt]]:
    monitor = Monitor.objects.create(
        owner=owner, name="推拿 北京", platforms=["demo"], status=MonitorStatus.PAUSED
    )
    TrackedBrand.objects.create(monitor=monitor, name=MAIN, is_main=True)
    TrackedBrand.objects.create(monitor=monitor, name=RIVAL)
    prompts = [
        Prompt.objects.create(
            monitor=monitor, text=text, active_from=datetime(2025, 3, 1, tzinfo=UTC)
        )
        for text in texts
    ]
    return monitor, prompts


def run(monitor: Monitor, at: datetime, asked: list[tuple[Prompt, bool]]) -> TestRecord:
    """One finished monitor execution at ``at``: each prompt asked once on demo; the main brand
    mentioned where the flag says so."""
    record = TestRecord.objects.create(
        owner=monitor.owner,
        monitor=monitor,
        brand_name=MAIN,
        competitor_brands=[RIVAL],
        questions=[p.text for p, _ in asked],
        prompt_ids=[p.pk for p, _ in asked],
        platforms=["demo"],
        repeats=1,
        total_tasks=len(asked),
        status="completed",
        created_at=at,
    )
    analyser = Analyser(record)
    for index, (prompt, mentioned) in enumerate(asked):
        text = MENTIONED if mentioned else ABSENT
        Answer.objects.create(
            record=record,
            question_index=index,
            brand=MAIN,
            platform="demo",
            run_index=0,
            question=prompt.text,
            text=text,
            status=AnswerStatus.SUCCESS,
            analysis=analyser.analyse(text),
        )
    build_results(record, list(record.answers.order_by("question_index"))).store(record)
    return record


def trend(client, monitor, **params):
    return client.get(f"/api/v1/monitors/{monitor.pk}/trend/", params)


def by(items, **match):
    found = [i for i in items if all(i[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


DAY1 = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
DAY2 = datetime(2025, 3, 11, 2, 0, tzinfo=UTC)
RANGE = {"from": "2025-03-01", "to": "2025-03-31"}


@pytest.mark.django_db
class TrendChangeTests:
    def test_known_difference_delta_se_beyond_noise(self, user, user_client):
        monitor, prompts = make_monitor(user, [f"问题{i}" for i in range(5)])
        # Main brand mentioned: day 1 only on prompt 5 (0,0,0,0,1); day 2 on all five.
        first = run(
            monitor, DAY1, list(zip(prompts, [False, False, False, False, True], strict=True))
        )
        second = run(monitor, DAY2, [(p, True) for p in prompts])

        response = trend(user_client, monitor, metric="mention_rate", platform="demo", **RANGE)
        assert response.status_code == 200, response.content
        body = response.json()

        # Points: day 1 MR = 1/5 = 0.2, SE = sd(0,0,0,0,1)/sqrt(5): mean 0.2, Σ dev² = 4·0.04
        # + 0.64 = 0.8, var 0.2, sd 0.44721, se 0.2. Day 2: MR 1, SE 0.
        p1 = by(body["points"], period="2025-03-10", brand=MAIN, metric="mention_rate")
        p2 = by(body["points"], period="2025-03-11", brand=MAIN, metric="mention_rate")
        assert (p1["value"], p1["se"], p1["n"]) == (pytest.approx(0.2), pytest.approx(0.2), 5)
        assert (p2["value"], p2["se"], p2["n"]) == (pytest.approx(1.0), pytest.approx(0.0), 5)
        assert p1["executions"] == [str(first.execution_id)]
        assert p2["executions"] == [str(second.execution_id)]
        assert p1["platform"] == "demo"

        # Change on the 5 common cells: d = 1,1,1,1,0 -> delta 0.8; deviations 0.2 ×4 and -0.8:
        # Σ² = 0.16 + 0.64 = 0.8, var = 0.8/4 = 0.2, sd = 0.44721, se = 0.44721/sqrt(5) = 0.2;
        # |0.8| > 2·0.2 = 0.4 -> beyond noise.
        c = by(body["changes"], brand=MAIN, platform="demo", metric="mention_rate")
        assert c["delta"] == pytest.approx(0.8)
        assert c["se"] == pytest.approx(0.2)
        assert c["beyond_noise"] is True
        assert (c["cells"], c["n_before"], c["n_after"]) == (5, 5, 5)
        assert (c["period_before"], c["period_after"]) == ("2025-03-10", "2025-03-11")
        assert (c["before"], c["after"]) == (pytest.approx(0.2), pytest.approx(1.0))

        # The rival is mentioned in every answer both days: delta 0, se 0, not beyond noise.
        r = by(body["changes"], brand=RIVAL, platform="demo", metric="mention_rate")
        assert (r["delta"], r["se"], r["beyond_noise"]) == (0, 0, False)

    def test_within_noise(self, user, user_client):
        monitor, prompts = make_monitor(user, [f"问题{i}" for i in range(4)])
        run(monitor, DAY1, list(zip(prompts, [True, False, False, False], strict=True)))
        run(monitor, DAY2, list(zip(prompts, [True, True, True, False], strict=True)))
        body = trend(user_client, monitor, metric="mention_rate", **RANGE).json()
        # d = 0,1,1,0: delta 0.5; deviations ±0.5 -> Σ² = 1, var 1/3, sd 0.57735, se 0.288675;
        # 2 se = 0.57735 > 0.5 -> within noise. One platform, so overall = demo.
        for platform in ("demo", "overall"):
            c = by(body["changes"], brand=MAIN, platform=platform, metric="mention_rate")
            assert c["delta"] == pytest.approx(0.5)
            assert c["se"] == pytest.approx(0.288675, abs=1e-6)
            assert c["beyond_noise"] is False

    def test_prompt_retired_between_periods_compares_common_cells_only(self, user, user_client):
        monitor, (p1, p2, p3, p4) = make_monitor(user, ["问题一", "问题二", "问题三", "问题四"])
        run(monitor, DAY1, [(p1, True), (p2, False), (p3, True)])
        # Between the runs p3 is retired and p4 added; p4 takes p3's question index (2), so
        # pairing by index would compare different questions.
        Prompt.objects.filter(pk=p3.pk).update(retired_at=datetime(2025, 3, 10, 12, tzinfo=UTC))
        Prompt.objects.filter(pk=p4.pk).update(active_from=datetime(2025, 3, 10, 13, tzinfo=UTC))
        run(monitor, DAY2, [(p1, True), (p2, True), (p4, False)])

        body = trend(user_client, monitor, metric="mention_rate", platform="demo", **RANGE).json()
        p_before = by(body["points"], period="2025-03-10", brand=MAIN)["value"]
        p_after = by(body["points"], period="2025-03-11", brand=MAIN)["value"]
        # Naive: all cells of each day, 2/3 -> 2/3: no change.
        assert p_after - p_before == pytest.approx(0.0)
        c = by(body["changes"], brand=MAIN, platform="demo", metric="mention_rate")
        # Common cells p1 (1 -> 1) and p2 (0 -> 1): d = 0, 1 -> delta 0.5;
        # sd(0, 1) = 0.70711, se = 0.70711/sqrt(2) = 0.5; 0.5 > 1.0 is false.
        assert c["cells"] == 2
        assert (c["n_before"], c["n_after"]) == (2, 2)
        assert c["delta"] == pytest.approx(0.5)
        assert c["se"] == pytest.approx(0.5)
        assert c["beyond_noise"] is False
        # Paired by index instead, cell 2 would be p3 (1) vs p4 (0): d = 0, 1, -1 -> delta 0.
        changes = {(c["prompt_id"], c["change"]): c for c in body["prompt_changes"]}
        assert changes[(p3.pk, "retired")]["at"].startswith("2025-03-10T12:00")
        assert changes[(p4.pk, "added")]["period"] == "2025-03-10"

    def test_every_metric_and_overall_by_default(self, user, user_client):
        monitor, prompts = make_monitor(user, ["问题一", "问题二"])
        run(monitor, DAY1, [(prompts[0], True), (prompts[1], False)])
        body = trend(user_client, monitor, **RANGE).json()
        metrics = {p["metric"] for p in body["points"] if p["brand"] == MAIN}
        # No answer came with structured sources: owned_citation_rate is undefined, no point.
        assert metrics == {
            "visibility_score",
            "mention_rate",
            "mrr",
            "share_of_voice",
            "sentiment",
            "top1_rate",
        }
        assert {p["platform"] for p in body["points"]} == {"demo", "overall"}
        # One period: nothing to compare yet.
        assert body["changes"] == []
        assert body["timezone"] == "Asia/Shanghai"

    def test_branded_split_reads_cells(self, user, user_client):
        monitor, (p1, p2) = make_monitor(user, [f"{MAIN}怎么样？", "北京推拿哪家好？"])
        Prompt.objects.filter(pk=p1.pk).update(branded=True)
        run(monitor, DAY1, [(p1, True), (p2, False)])
        run(monitor, DAY2, [(p1, True), (p2, True)])
        branded = trend(user_client, monitor, metric="mention_rate", branded="true", **RANGE)
        unbranded = trend(user_client, monitor, metric="mention_rate", branded="false", **RANGE)
        both = trend(user_client, monitor, metric="mention_rate", **RANGE)
        value = lambda body, day: by(  # noqa: E731
            body.json()["points"], period=day, brand=MAIN, platform="demo"
        )["value"]
        assert [value(branded, d) for d in ("2025-03-10", "2025-03-11")] == [1.0, 1.0]
        assert [value(unbranded, d) for d in ("2025-03-10", "2025-03-11")] == [0.0, 1.0]
        # The unsplit points (BrandScore) equal the mean of the two halves here.
        assert [value(both, d) for d in ("2025-03-10", "2025-03-11")] == [0.5, 1.0]
        c = by(unbranded.json()["changes"], brand=MAIN, platform="demo")
        assert (c["cells"], c["delta"], c["se"]) == (1, 1.0, None)

    def test_points_from_cells_match_brandscore(self, user, user_client):
        """Consistency: without a split the points read BrandScore; built from CellScore (both
        halves together) they must be the same numbers for every metric."""
        monitor, prompts = make_monitor(user, ["问题一", "问题二", "问题三"])
        run(monitor, DAY1, list(zip(prompts, [True, False, True], strict=True)))
        from records.trends import (
            _brandscore_rows,
            _cell_rows,
            _points_from_brandscores,
            _points_from_cells,
            clean_trend_params,
            monitor_zone,
        )

        query = clean_trend_params(RANGE, monitor=monitor)
        zone = monitor_zone(monitor)
        stored = _points_from_brandscores(query, zone, _brandscore_rows(monitor, query))
        rebuilt = _points_from_cells(query, zone, _cell_rows(monitor, query))
        key = lambda p: (p["brand"], p["platform"], p["metric"])  # noqa: E731
        assert len(stored) == len(rebuilt) > 0
        for s, r in zip(sorted(stored, key=key), sorted(rebuilt, key=key), strict=True):
            assert key(s) == key(r)
            assert r["value"] == pytest.approx(s["value"], abs=1e-6), key(s)
            assert r["n"] == s["n"]


@pytest.mark.django_db
class TrendAccessAndErrorsTests:
    def test_others_monitor_is_404_staff_sees_it(self, user, api_client, staff_user):
        monitor, _ = make_monitor(UserFactory(), ["问题"])
        api_client.force_authenticate(user)
        assert trend(api_client, monitor).status_code == 404
        api_client.force_authenticate(None)
        assert trend(api_client, monitor).status_code == 404
        api_client.force_authenticate(staff_user)
        assert trend(api_client, monitor).status_code == 200
        assert api_client.get("/api/v1/monitors/999999/trend/").status_code == 404

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"metric": "reach"}, "metric"),
            ({"interval": "year"}, "interval"),
            ({"from": "2025-03-10", "to": "2025-03-01"}, "from"),
            ({"from": "yesterday"}, "from"),
            ({"to": "2025-13-01"}, "to"),
            ({"from": "2022-01-01", "to": "2025-01-01"}, "from"),
            ({"branded": "maybe"}, "branded"),
            ({"platform": "myspace"}, "platform"),
            ({"brand": "无名"}, "brand"),
        ],
    )
    def test_bad_params_are_400_naming_the_field(self, user, user_client, params, field):
        monitor, _ = make_monitor(user, ["问题"])
        response = trend(user_client, monitor, **params)
        assert response.status_code == 400
        assert list(response.json()["fields"]) == [field]

    def test_period_boundaries_in_the_monitor_time_zone(self, user, user_client):
        monitor, prompts = make_monitor(user, ["问题"])
        # 2025-03-09 17:00 UTC is 2025-03-10 01:00 in Shanghai: it belongs to the 10th.
        run(monitor, datetime(2025, 3, 9, 17, tzinfo=UTC), [(prompts[0], True)])
        body = trend(user_client, monitor, metric="mention_rate", **RANGE).json()
        assert {p["period"] for p in body["points"]} == {"2025-03-10"}
        week = trend(user_client, monitor, metric="mention_rate", interval="week", **RANGE)
        assert {p["period"] for p in week.json()["points"]} == {"2025-03-10"}
        month = trend(user_client, monitor, metric="mention_rate", interval="month", **RANGE)
        assert {p["period"] for p in month.json()["points"]} == {"2025-03-01"}
