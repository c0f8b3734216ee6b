"""Reaping lost runs, retrying only missing calls, and de-duplicating re-sent starts."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from records import execution, services
from records.engine.base import PlatformError, Reply
from records.models import Answer, TestRecord
from records.reports import Analyser

pytestmark = pytest.mark.django_db


def start(owner=None, **kwargs):
    data = services.clean_execution_input(
        brand="华夏良子",
        competitors=["良子健身"],
        questions=["北京中医推拿哪家好？", "{brandName}怎么样？"],
        platforms=["demo"],
        repeats=1,
    )
    return services.start_execution(owner=owner, data=data, **kwargs)


def half_done_run() -> TestRecord:
    """A running execution with 2 of 3 calls answered (one failed) and a stale heartbeat."""
    record = start().record
    execution.claim_execution(execution_id=record.execution_id)
    first, second, _ = execution.pending_calls(record)
    execution.record_answer(
        execution_id=record.execution_id, call=first, reply=Reply(text="1. 华夏良子"), error=None
    )
    execution.record_answer(
        execution_id=record.execution_id,
        call=second,
        reply=None,
        error=PlatformError("timeout", "slow"),
    )
    TestRecord.objects.filter(pk=record.pk).update(
        heartbeat_at=timezone.now() - timezone.timedelta(seconds=600)
    )
    return record


def test_reap_stale_resumes_lost_runs_keeping_their_answers(capsys):
    record = half_done_run()
    fresh = start(device_id="other").record
    execution.claim_execution(execution_id=fresh.execution_id)

    call_command("reap_stale", "--older-than", "300")

    record.refresh_from_db()
    # Handed back to the queue, still fetching; only the never-asked call is pending.
    assert (record.status, record.stage, record.resumed) == ("queued", "ai_fetching", 1)
    assert (record.completed_tasks, record.failed_tasks, record.answers.count()) == (1, 1, 2)
    assert [c.key for c in execution.pending_calls(record)] == [(1, "良子健身", "demo", 0)]
    assert TestRecord.objects.get(pk=fresh.pk).status == "running"
    assert f"resumed {record.execution_id}" in capsys.readouterr().out
    started_at = record.started_at
    assert execution.claim_execution(execution_id=record.execution_id)
    record.refresh_from_db()
    assert record.started_at == started_at  # a resume keeps the first start


def test_a_resumed_run_finishes_asking_only_its_missing_call(run_worker):
    record = half_done_run()
    call_command("reap_stale", "--older-than", "300")  # enqueues it again

    run_worker()

    record.refresh_from_db()
    assert (record.status, record.resumed, record.answers.count()) == ("partial_completed", 1, 3)
    assert record.answers.get(question_index=0).text == "1. 华夏良子"  # kept, not asked again


def test_reap_stale_marks_runs_lost_too_often_failed_and_keeps_answers(capsys, settings):
    settings.BRANDTEST_MAX_RESUMES = 0
    record = half_done_run()
    fresh = start(device_id="other").record
    execution.claim_execution(execution_id=fresh.execution_id)

    call_command("reap_stale", "--older-than", "300")

    record.refresh_from_db()
    assert (record.status, record.error_type, record.progress) == ("failed", "worker_lost", 100)
    assert "1 of 3 answers are kept" in record.error
    assert record.answers.count() == 2
    assert TestRecord.objects.get(pk=fresh.pk).status == "running"
    assert f"reaped {record.execution_id}" in capsys.readouterr().out


def test_reap_stale_threshold_override_leaves_fresh_runs_alone():
    record = half_done_run()
    call_command("reap_stale", "--older-than", "3600")
    assert TestRecord.objects.get(pk=record.pk).status == "running"


def test_retry_copies_successes_and_runs_only_the_missing_calls(run_worker):
    record = half_done_run()
    execution.reap_stale_executions(older_than_seconds=300, max_resumes=0)
    record.refresh_from_db()

    attempt = services.retry_execution(record=record)

    assert attempt.source == "retry" and attempt.retry_of == record
    assert attempt.completed_tasks == 1 and attempt.status == "queued"
    # The failed call and the never-asked call; not the successful one.
    assert {c.key for c in execution.pending_calls(attempt)} == {
        (1, "华夏良子", "demo", 0),
        (1, "良子健身", "demo", 0),
    }
    run_worker()
    attempt.refresh_from_db()
    assert attempt.status == "completed"
    assert attempt.answers.count() == 3
    kept = attempt.answers.get(question_index=0)
    assert kept.text == "1. 华夏良子"  # reused, not asked again
    assert record.answers.count() == 2  # the original keeps its own answers


def test_retry_of_a_running_or_completed_run_is_refused():
    record = start().record
    with pytest.raises(services.InvalidTransition):
        services.retry_execution(record=record)


def test_same_idempotency_key_returns_the_same_execution(user):
    first = start(owner=user, idempotency_key="abc")
    again = start(owner=user, idempotency_key="abc")
    assert first.created and not again.created
    assert again.record.pk == first.record.pk
    assert TestRecord.objects.count() == 1


def test_same_payload_resent_within_a_minute_is_the_same_execution():
    first = start(device_id="device-1").record
    again = start(device_id="device-1").record
    other_device = start(device_id="device-2").record
    assert again.pk == first.pk
    assert other_device.pk != first.pk


def test_same_payload_after_the_window_is_a_new_execution():
    first = start(device_id="device-1").record
    TestRecord.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timezone.timedelta(seconds=61)
    )
    assert start(device_id="device-1").record.pk != first.pk


def test_anonymous_callers_without_a_device_are_never_merged():
    assert start().record.pk != start().record.pk


def test_api_idempotent_start(api_client):
    payload = {"brand": "华夏良子", "questions": ["推拿哪家好？"], "platforms": ["demo"]}
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1", "HTTP_X_DEVICE_ID": "dev"}
    one = api_client.post("/api/v1/executions/", payload, format="json", **headers)
    two = api_client.post("/api/v1/executions/", payload, format="json", **headers)
    assert one.json()["execution_id"] == two.json()["execution_id"]
    assert Answer.objects.count() == 0 and TestRecord.objects.count() == 1


def test_run_brand_test_command_shows_progress_and_summary(capsys, transactional_db):
    call_command(
        "run_brand_test",
        "--brand", "华夏良子",
        "--competitor", "良子健身",
        "--question", "北京中医推拿哪家好？",
        "--platform", "demo",
        "--repeats", "2",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "2/2" in out and "100%" in out
    assert "华夏良子: completed" in out
    assert "answers: 2 succeeded, 0 failed, 2 planned" in out


def test_run_brand_test_command_names_bad_options():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--platform: Unknown platform 'nope'"):
        call_command("run_brand_test", "--brand", "x", "--platform", "nope")


def test_reanalyse_recomputes_analysis_scores_and_report_without_calling_platforms(
    run_worker, django_capture_on_commit_callbacks
):
    from records.models import BrandScore, ResultDocument

    with django_capture_on_commit_callbacks(execute=True):
        record = start(device_id="d").record
    run_worker()
    record.refresh_from_db()
    before = record.scores.get(brand="良子健身", platform="")
    # The user adds an alias the demo text uses for the competitor; stale scores must move.
    BrandScore.objects.filter(record=record).update(visibility_score=-1, scoring_version="old")
    ResultDocument.objects.filter(record=record).update(etag="stale")
    TestRecord.objects.filter(pk=record.pk).update(scoring_version="old")
    answers_before = list(record.answers.values_list("text", flat=True))

    call_command("reanalyse", "--outdated")

    record.refresh_from_db()
    after = record.scores.get(brand="良子健身", platform="")
    assert after.visibility_score == before.visibility_score != -1
    assert after.scoring_version == record.scoring_version != "old"
    assert record.result_document.etag != "stale"
    assert list(record.answers.values_list("text", flat=True)) == answers_before


def test_reanalyse_applies_new_aliases():
    record = start().record
    execution.claim_execution(execution_id=record.execution_id)
    text = "推荐：\n1. 华夏良子推拿\n2. 良子健身\n3. 华夏按摩（华夏良子旗下）"
    for call in execution.pending_calls(record):
        execution.record_answer(
            execution_id=record.execution_id,
            call=call,
            reply=Reply(text=text),
            error=None,
            analysis=Analyser(record).analyse(text),
        )
    execution.finish_execution(execution_id=record.execution_id)
    answer = record.answers.first()
    assert answer.analysis["brands"]["华夏良子"]["mention_count"] == 2
    # The user says 华夏按摩 is also the main brand: re-analyse picks the alias up.
    TestRecord.objects.filter(pk=record.pk).update(
        brand_aliases={"华夏良子": {"aliases": ["华夏按摩"]}}
    )
    record.refresh_from_db()
    services.reanalyse_execution(record=record)
    answer.refresh_from_db()
    assert answer.analysis["brands"]["华夏良子"]["mention_count"] == 3


def test_reanalyse_refuses_a_running_execution():
    record = start().record
    with pytest.raises(services.InvalidTransition):
        services.reanalyse_execution(record=record)
    with pytest.raises(CommandError):
        call_command("reanalyse")


def test_reap_stale_refuses_a_negative_threshold_with_a_command_error():
    with pytest.raises(CommandError, match="--older-than"):
        call_command("reap_stale", "--older-than", "-1")
