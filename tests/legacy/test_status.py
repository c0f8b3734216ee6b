"""The legacy poll: GET /test/status/<id> and GET /api/test-progress?executionId=."""

import uuid

import pytest

from records import execution, services
from records.engine.base import PlatformError, Reply
from records.models import TestRecord
from records.renderers import iso
from records.reports import Analyser

pytestmark = pytest.mark.django_db

ANSWER = "推荐如下：\n1. 良子健身：老牌连锁。\n2. 华夏良子：手法专业，值得推荐。"


def started(**overrides) -> TestRecord:
    data = services.clean_execution_input(
        brand="华夏良子",
        competitors=["良子健身"],
        questions=["北京中医推拿哪家好？"],
        platforms=["demo"],
        repeats=overrides.pop("repeats", 1),
    )
    return services.start_execution(owner=overrides.pop("owner", None), data=data).record


def answer(record: TestRecord, text: str | None = ANSWER, error: PlatformError | None = None):
    call = execution.pending_calls(record)[0]
    analysis = Analyser(record).analyse(text) if text else None
    execution.record_answer(
        execution_id=record.execution_id,
        call=call,
        reply=Reply(text=text, model="demo-synthetic-1", latency_ms=1234, synthetic=True)
        if text
        else None,
        error=error,
        analysis=analysis,
    )


def common(record: TestRecord) -> dict:
    record.refresh_from_db()
    return {
        "task_id": str(record.execution_id),
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "total_tasks": record.total_tasks,
        "completed_tasks": record.completed_tasks,
    }


EXPECTED_ITEM = {
    "brand": "华夏良子",
    "question": "北京中医推拿哪家好？",
    "model": "demo",
    "aiModel": "demo",
    "response": ANSWER,
    "response_latency": 1.234,
    "status": "success",
    "error": None,
    "error_type": None,
    "geo_data": {
        "brand_mentioned": True,
        "rank": 2,
        "sentiment": 1.0,
        "cited_sources": [],
        "interception": "良子健身",
    },
    # accuracy 85 + 5(3-2) + 10 = 100; one competitor ahead: visibility 80; sentiment 100;
    # purity 90; consistency 95; overall round(25 + 16 + 20 + 13.5 + 19) = 94, grade A.
    "score": 94,
    "authority_score": 100.0,
    "visibility_score": 80.0,
    "sentiment_score": 100.0,
    "purity_score": 90.0,
    "consistency_score": 95.0,
    "quality_score": 94,
    "quality_level": "A",
}


def test_queued_run(client):
    record = started()
    body = client.get(f"/test/status/{record.execution_id}").json()
    assert body == common(record) | {
        "progress": 0,
        "stage": "init",
        "status": "initializing",
        "is_completed": False,
        "should_stop_polling": False,
        "results": [],
        "detailed_results": [],
        "error": None,
        "completion_rate": 0.0,
    }


def test_running_run_shows_answers_so_far(client):
    record = started(repeats=2)
    execution.claim_execution(execution_id=record.execution_id)
    answer(record)
    body = client.get(f"/api/test-progress?executionId={record.execution_id}").json()
    assert body == common(record) | {
        "progress": 47,
        "stage": "ai_fetching",
        "status": "ai_fetching",
        "is_completed": False,
        "should_stop_polling": False,
        "results": [EXPECTED_ITEM],
        "detailed_results": [EXPECTED_ITEM],
        "error": None,
        "completion_rate": 0.5,
    }


def test_completed_run_has_the_finished_fields(client):
    record = started()
    execution.claim_execution(execution_id=record.execution_id)
    answer(record)
    execution.finish_execution(execution_id=record.execution_id)
    body = client.get(f"/test/status/{record.execution_id}").json()
    finished = {k: body.pop(k) for k in services_finished_keys()}
    assert body == common(record) | {
        "progress": 100,
        "stage": "completed",
        "status": "completed",
        "is_completed": True,
        "should_stop_polling": True,
        "results": [EXPECTED_ITEM],
        "detailed_results": [EXPECTED_ITEM],
        "error": None,
        "completion_rate": 1.0,
    }
    assert finished["quality_score"] == 94
    assert finished["brand_scores"]["华夏良子"]["overallGrade"] == "A"
    assert finished["competitive_analysis"]["firstMentionByPlatform"] == {"demo": 0.0}
    assert finished["overall_score"] == record.overall_score
    assert finished["negative_sources"] == []


def services_finished_keys():
    from records.legacy.payloads import FINISHED_KEYS

    return FINISHED_KEYS


def test_failed_run_reports_failed_with_the_error(client):
    record = started()
    execution.claim_execution(execution_id=record.execution_id)
    answer(record, text=None, error=PlatformError("quota_exhausted", "Insufficient Balance"))
    execution.finish_execution(execution_id=record.execution_id)
    body = client.get(f"/test/status/{record.execution_id}").json()
    assert (body["status"], body["stage"], body["progress"]) == ("failed", "failed", 100)
    assert body["is_completed"] is True and body["should_stop_polling"] is True
    assert "demo: quota exhausted" in body["error"]
    item = body["results"][0]
    assert item["status"] == "failed" and item["error_type"] == "quota_exhausted"
    assert item["geo_data"]["rank"] == -1 and item["response"] == ""


def test_cancelled_run_reads_as_failed_with_error_cancelled(client):
    record = started()
    services.cancel_execution(record=record)
    body = client.get(f"/test/status/{record.execution_id}").json()
    assert (body["status"], body["error"], body["progress"]) == ("failed", "cancelled", 100)
    assert body["is_completed"] is True


@pytest.mark.parametrize("execution_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_and_malformed_ids_are_404(client, execution_id):
    response = client.get(f"/test/status/{execution_id}")
    assert response.status_code == 404
    assert response.json() == {"error": "Task not found", "task_id": execution_id}
    response = client.get(f"/api/test-progress?executionId={execution_id}")
    assert response.status_code == 404


def test_progress_without_execution_id_is_400(client):
    response = client.get("/api/test-progress")
    assert response.status_code == 400
    assert response.json() == {"status": "error", "error": "executionId is required", "code": 400}


def test_another_users_run_is_404_and_never_401(client, user, other_user):
    record = started(owner=user)
    assert client.get(f"/test/status/{record.execution_id}").status_code == 404
    client.force_login(other_user)
    assert client.get(f"/test/status/{record.execution_id}").status_code == 404
    client.force_login(user)
    assert client.get(f"/test/status/{record.execution_id}").status_code == 200
    response = client.get(
        f"/test/status/{record.execution_id}", HTTP_AUTHORIZATION="Bearer expired-or-bogus"
    )
    assert response.status_code != 401


def test_a_run_handed_back_for_resume_reads_as_still_fetching(client):
    record = started()
    TestRecord.objects.filter(pk=record.pk).claim()
    TestRecord.objects.filter(pk=record.pk).release()  # its worker shut down mid-run
    for url in (
        f"/test/status/{record.execution_id}",
        f"/api/test-progress?executionId={record.execution_id}",
    ):
        body = client.get(url).json()
        assert (body["status"], body["is_completed"], body["error"]) == ("ai_fetching", False, None)
        assert body["should_stop_polling"] is False
