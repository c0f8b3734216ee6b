"""One test (at least) per alert rule, against runs of a local fake platform; idempotency."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from records import alerts, monitoring, services
from records.models import Alert, AlertSettings, Status, alerts_between
from tests.alerts.conftest import DAY1, MAIN, MAIN_ABSENT, MAIN_ON_TOP, NEGATIVE, RIVAL
from tests.fakes.platform_server import Behaviour

pytestmark = pytest.mark.django_db


def evaluate(record):
    return alerts.evaluate_execution(execution_id=record.execution_id).alerts


def test_visibility_drop_beyond_noise_carries_delta_se_and_n(alert_monitor, run_period):
    monitor = alert_monitor()
    first = run_period(monitor, 0, MAIN_ON_TOP)
    assert evaluate(first) == []  # no previous period: nothing to compare
    second = run_period(monitor, 1, MAIN_ABSENT)
    raised = {a.kind: a for a in evaluate(second)}
    drop = raised["visibility_drop"]
    assert (drop.brand, drop.platform) == (MAIN, "deepseek")
    assert drop.execution == second and drop.period_start == drop.period_end == date(2026, 3, 11)
    evidence = drop.evidence
    assert evidence["metric"] == "visibility_score" and evidence["beyond_noise"] is True
    assert evidence["delta"] < 0 and evidence["after"] == 0
    assert evidence["se"] == 0  # every cell fell by the same amount
    assert evidence["cells"] == 3 and evidence["n_before"] == 3 and evidence["n_after"] == 3
    assert evidence["period_before"] == {"start": "2026-03-10", "end": "2026-03-10"}


def test_a_change_within_noise_raises_no_drop(alert_monitor, run_period):
    monitor = alert_monitor(prompts=[{"text": "北京中医推拿哪家好？"}])
    run_period(monitor, 0, MAIN_ON_TOP)
    # One common cell: no standard error, so no change is beyond noise.
    kinds = {a.kind for a in evaluate(run_period(monitor, 1, MAIN_ABSENT))}
    assert "visibility_drop" not in kinds


def test_overtaken_names_the_competitor_with_both_shares_of_voice(alert_monitor, run_period):
    monitor = alert_monitor()
    run_period(monitor, 0, MAIN_ON_TOP)
    raised = [a for a in evaluate(run_period(monitor, 1, MAIN_ABSENT)) if a.kind == "overtaken"]
    assert len(raised) == 1
    alert = raised[0]
    assert (alert.brand, alert.platform) == (RIVAL, "deepseek")
    assert alert.evidence["share_of_voice_before"] == {MAIN: 0.5, RIVAL: 0.5}
    assert alert.evidence["share_of_voice_after"] == {MAIN: 0.0, RIVAL: 1.0}
    assert alert.evidence["main_brand"] == MAIN and alert.evidence["cells"] == 3


def test_negative_mention_quotes_the_cue_with_offsets_and_the_answer(alert_monitor, run_period):
    monitor = alert_monitor()
    record = run_period(monitor, 0, NEGATIVE)
    (alert,) = evaluate(record)
    assert (alert.kind, alert.brand, alert.platform) == ("negative_mention", MAIN, "deepseek")
    assert alert.evidence["count"] == 3
    mention = alert.evidence["mentions"][0]
    answer = record.answers.get(pk=mention["answer"])
    for quote in mention["quotes"]:
        assert answer.text[quote["start"] : quote["end"]] == quote["text"]
    assert {q["text"] for q in mention["quotes"]} == {"服务很差", "投诉", "不推荐"}
    assert mention["link"].startswith(f"/api/v1/executions/{record.execution_id}/answers/")
    assert "服务很差" in mention["context"]


def test_owned_citation_lost_lists_the_domain_no_longer_cited(alert_monitor, run_period):
    monitor = alert_monitor()
    own = (("https://www.example.com/shop/1", "华夏良子官网"),)
    other = (("https://www.dianping.com/shop/2", "大众点评"),)
    run_period(monitor, 0, MAIN_ON_TOP, sources=own)
    raised = evaluate(run_period(monitor, 1, MAIN_ON_TOP, sources=other))
    assert [(a.kind, a.brand, a.platform) for a in raised] == [
        ("owned_citation_lost", MAIN, "deepseek")
    ]
    assert raised[0].evidence["domains"] == ["example.com"]
    assert raised[0].evidence["cited_before"] == {"example.com": 3}


def test_no_sources_after_says_nothing_about_citations(alert_monitor, run_period):
    monitor = alert_monitor()
    run_period(monitor, 0, MAIN_ON_TOP, sources=(("https://example.com/", "官网"),))
    assert evaluate(run_period(monitor, 1, MAIN_ON_TOP)) == []


def test_run_problem_for_a_failed_run_names_the_actionable_cause(alert_monitor, run_period):
    monitor = alert_monitor()
    record = run_period(monitor, 0, "", behaviour=Behaviour("quota_deepseek"))
    assert record.status == Status.FAILED
    (alert,) = evaluate(record)
    assert (alert.kind, alert.platform) == ("run_problem", "deepseek")
    assert alert.evidence["error_type"] == "quota_exhausted"
    assert "balance" in alert.evidence["error"] and alert.evidence["failed_calls"] == {
        "quota_exhausted": 3
    }


def test_run_problem_for_a_scheduled_run_skipped_over_budget(alert_monitor):
    monitor = alert_monitor(monthly_call_budget=4)  # a run needs 3 calls: one run a month
    assert monitoring.tick(now=monitor.next_run_at + timedelta(seconds=5)).started
    monitor.refresh_from_db()
    result = monitoring.tick(now=monitor.next_run_at + timedelta(seconds=5))
    assert result.skipped and not result.started
    (alert,) = Alert.objects.filter(monitor=monitor)
    assert (alert.kind, alert.brand, alert.platform, alert.execution) == (
        "run_problem",
        MAIN,
        "",
        None,
    )
    assert alert.evidence["skipped"] is True and "budget" in alert.evidence["reason"]


def test_a_rule_turned_off_raises_nothing(alert_monitor, run_period):
    monitor = alert_monitor()
    alerts.update_alert_settings(monitor=monitor, rules_on={"negative_mention": False})
    assert evaluate(run_period(monitor, 0, NEGATIVE)) == []
    assert AlertSettings.objects.get(monitor=monitor).visibility_drop is True


def test_evaluating_again_or_after_reanalyse_adds_no_alert(alert_monitor, run_period):
    monitor = alert_monitor()
    run_period(monitor, 0, MAIN_ON_TOP)
    second = run_period(monitor, 1, MAIN_ABSENT)
    assert len(evaluate(second)) == 2  # visibility_drop and overtaken
    assert evaluate(second) == []
    services.reanalyse_execution(record=second)
    assert evaluate(second) == []
    # A second run later the same day finds the period's alerts already there.
    again = run_period(monitor, 1, MAIN_ABSENT, hours=3)
    assert evaluate(again) == []
    assert Alert.objects.filter(monitor=monitor).count() == 2


def test_alerts_between_returns_the_alerts_of_a_range(alert_monitor, run_period):
    monitor = alert_monitor()
    run_period(monitor, 0, MAIN_ON_TOP)
    evaluate(run_period(monitor, 1, MAIN_ABSENT))
    day2 = (DAY1 + timedelta(days=1)).date()
    assert alerts_between(monitor, day2, day2).count() == 2
    assert alerts_between(monitor, day2 - timedelta(days=7), day2 - timedelta(days=1)).count() == 0
