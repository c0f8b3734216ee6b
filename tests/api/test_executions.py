"""The v1 executions API."""

import gzip
import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from records.models import Answer, Status, TestRecord
from records.renderers import iso
from tests.factories import AnswerFactory, TestRecordFactory

pytestmark = pytest.mark.django_db

START = {
    "brand": "华夏良子",
    "competitors": ["良子健身"],
    "questions": ["北京中医推拿哪家好？"],
    "platforms": ["demo"],
    "repeats": 2,
}


def status_url(execution_id) -> str:
    return f"/api/v1/executions/{execution_id}/status/"


def test_start_returns_202_with_location_and_links(api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/executions/", START, format="json")
    assert response.status_code == 202
    body = response.json()
    execution_id = body["execution_id"]
    assert response["Location"] == f"http://testserver/api/v1/executions/{execution_id}/"
    assert body["status"] == "queued" and body["stage"] == "init" and body["progress"] == 0
    assert body["is_completed"] is False
    assert body["links"]["status"] == f"/api/v1/executions/{execution_id}/status/"
    assert body["total_tasks"] == 2
    assert TestRecord.objects.get(execution_id=execution_id).owner is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({k: v for k, v in START.items() if k != "brand"}, "brand"),
        ({k: v for k, v in START.items() if k != "platforms"}, "platforms"),
        (START | {"platforms": "demo"}, "platforms"),
        (START | {"questions": "推拿哪家好"}, "questions"),
        (START | {"competitors": [["nested"]]}, "competitors"),
        (START | {"repeats": "many"}, "repeats"),
        (START | {"brand": ""}, "brand"),
        (START | {"platforms": ["nosuch"]}, "platforms"),
        (START | {"repeats": 99}, "repeats"),
    ],
)
def test_bad_start_is_400_naming_the_field(api_client, payload, field):
    response = api_client.post("/api/v1/executions/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert list(body["fields"]) == [field]
    assert body["code"] == "invalid"
    assert field in body["error"]
    assert TestRecord.objects.count() == 0


def test_malformed_json_is_400(api_client):
    response = api_client.post("/api/v1/executions/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_status_poll_is_one_query_with_plain_strings(api_client):
    record = TestRecordFactory(
        status="running", stage="ai_fetching", progress=40, total_tasks=5, completed_tasks=2
    )
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(status_url(record.execution_id))
    assert len(queries) == 1
    assert "execution_id" in queries[0]["sql"]
    body = response.json()
    assert body == {
        "execution_id": str(record.execution_id),
        "status": "running",
        "stage": "ai_fetching",
        "progress": 40,
        "is_completed": False,
        "total_tasks": 5,
        "completed_tasks": 2,
        "failed_tasks": 0,
        "error": None,
        "error_type": None,
        "created_at": iso(record.created_at),
        "started_at": None,
        "finished_at": None,
        "updated_at": iso(record.updated_at),
        "next_poll_ms": 1000,
        "resumed": 0,
        "access_mode": "plain",
    }
    assert response["Retry-After"] == "1"
    assert response["ETag"] == f'"{record.version}"'


def test_status_poll_answers_304_when_the_etag_matches(api_client):
    record = TestRecordFactory()
    first = api_client.get(status_url(record.execution_id))
    second = api_client.get(status_url(record.execution_id), HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 304
    TestRecord.objects.filter(pk=record.pk).update(version=record.version + 1)
    third = api_client.get(status_url(record.execution_id), HTTP_IF_NONE_MATCH=first["ETag"])
    assert third.status_code == 200


def test_terminal_status_has_no_retry_after(api_client):
    record = TestRecordFactory(status="completed", stage="completed", progress=100)
    response = api_client.get(status_url(record.execution_id))
    assert response.json()["is_completed"] is True
    assert response.json()["next_poll_ms"] is None
    assert "Retry-After" not in response


@pytest.mark.parametrize("execution_id", [str(uuid.uuid4()), "not-a-uuid", "1", "%20"])
def test_unknown_or_malformed_ids_are_404_json(api_client, execution_id):
    for suffix in ("", "status/", "results/", "answers/"):
        response = api_client.get(f"/api/v1/executions/{execution_id}/{suffix}")
        assert response.status_code == 404, suffix
        assert response.json()["code"] == "not_found"


def test_another_users_run_is_404_everywhere(user, other_user, api_client):
    record = TestRecordFactory(owner=user)
    api_client.force_authenticate(other_user)
    for suffix in ("", "status/", "results/", "answers/"):
        assert (
            api_client.get(f"/api/v1/executions/{record.execution_id}/{suffix}").status_code == 404
        )
    assert api_client.post(f"/api/v1/executions/{record.execution_id}/cancel/").status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get(status_url(record.execution_id)).status_code == 404


def test_owner_and_staff_see_an_owned_run(user, staff_user, api_client):
    record = TestRecordFactory(owner=user)
    for who in (user, staff_user):
        api_client.force_authenticate(who)
        assert api_client.get(status_url(record.execution_id)).status_code == 200


def test_anonymous_run_is_readable_by_anyone_with_the_id(user_client):
    record = TestRecordFactory(owner=None)
    assert user_client.get(status_url(record.execution_id)).status_code == 200


def test_history_lists_only_the_callers_runs_newest_first(user, other_user, user_client):
    older = TestRecordFactory(owner=user)
    newer = TestRecordFactory(owner=user)
    TestRecordFactory(owner=other_user)
    TestRecordFactory(owner=None)
    body = user_client.get("/api/v1/executions/").json()
    assert body["count"] == 2
    assert [r["execution_id"] for r in body["results"]] == [
        str(newer.execution_id),
        str(older.execution_id),
    ]


def test_anonymous_history_is_empty(api_client):
    TestRecordFactory(owner=None)
    assert api_client.get("/api/v1/executions/").json()["results"] == []


def test_history_filters_by_status_brand_and_date(user, user_client):
    done = TestRecordFactory(owner=user, status="completed", stage="completed", progress=100)
    TestRecordFactory(owner=user, brand_name="其他品牌")

    def ids(query):
        response = user_client.get(f"/api/v1/executions/?{query}")
        return [r["execution_id"] for r in response.json()["results"]]

    assert ids("status=completed") == [str(done.execution_id)]
    assert len(ids("brand=华夏良子")) == 1
    assert len(ids("created_after=2000-01-01T00:00:00Z")) == 2
    assert ids("created_before=2000-01-01T00:00:00Z") == []
    assert user_client.get("/api/v1/executions/?status=bogus").status_code == 400


@pytest.mark.parametrize("size", [1, 5, 20])
def test_history_query_count_is_constant(user, user_client, size, django_assert_num_queries):
    for _ in range(size):
        TestRecordFactory(owner=user)
    with django_assert_num_queries(3):  # COUNT, the page's ids (index only), their rows
        response = user_client.get("/api/v1/executions/?page_size=50")
    assert response.json()["count"] == size


def test_detail_returns_the_execution(api_client):
    record = TestRecordFactory()
    body = api_client.get(f"/api/v1/executions/{record.execution_id}/").json()
    assert body["brand"] == "华夏良子"
    assert body["competitors"] == ["良子健身", "足疗大师"]
    assert body["status"] == "queued"


def test_answers_are_paginated(api_client):
    record = TestRecordFactory(total_tasks=3)
    for run in range(3):
        AnswerFactory(record=record, run_index=run)
    body = api_client.get(f"/api/v1/executions/{record.execution_id}/answers/").json()
    assert body["count"] == 3
    assert body["results"][0]["response"] == "1. 华夏良子\n2. 良子健身"


def test_cancel_then_cancel_again_is_409(api_client):
    record = TestRecordFactory()
    url = f"/api/v1/executions/{record.execution_id}/cancel/"
    response = api_client.post(url)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    again = api_client.post(url)
    assert again.status_code == 409
    assert "already cancelled" in again.json()["error"]


def test_full_run_through_the_api(api_client, django_capture_on_commit_callbacks, run_worker):
    with django_capture_on_commit_callbacks(execute=True):
        execution_id = api_client.post("/api/v1/executions/", START, format="json").json()[
            "execution_id"
        ]
    run_worker()
    status = api_client.get(status_url(execution_id)).json()
    assert (status["status"], status["progress"], status["is_completed"]) == (
        "completed",
        100,
        True,
    )
    assert Answer.objects.filter(record__execution_id=execution_id).count() == 2

    gz = api_client.get(
        f"/api/v1/executions/{execution_id}/results/", HTTP_ACCEPT_ENCODING="gzip, br"
    )
    assert gz["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in gz["Vary"]
    report = json.loads(gzip.decompress(gz.content))
    plain = api_client.get(f"/api/v1/executions/{execution_id}/results/")
    assert "Content-Encoding" not in plain
    assert plain.json() == report
    assert report["execution_id"] == execution_id
    assert len(report["items"]) == 2
    assert (
        api_client.get(
            f"/api/v1/executions/{execution_id}/results/", HTTP_IF_NONE_MATCH=gz["ETag"]
        ).status_code
        == 304
    )


def test_results_of_a_running_execution_are_a_live_partial_view(api_client):
    record = TestRecordFactory(status="running", stage="ai_fetching", total_tasks=2)
    AnswerFactory(record=record)
    body = api_client.get(f"/api/v1/executions/{record.execution_id}/results/").json()
    assert body["final"] is False
    assert len(body["items"]) == 1


def test_platforms_list_never_shows_keys(api_client, platform_env):
    platform_env({"DEEPSEEK_API_KEY": "sk-secret-value"})
    response = api_client.get("/api/v1/platforms/")
    platforms = {p["id"]: p for p in response.json()}
    assert platforms["deepseek"]["configured"] is True
    assert platforms["kimi"]["configured"] is False
    assert platforms["demo"]["synthetic"] is True
    assert "sk-secret-value" not in response.content.decode()


def test_schema_and_offline_docs_are_served(api_client):
    schema = api_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/executions/{execution_id}/status/" in schema.content
    docs = api_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content


def test_retry_endpoint_starts_a_new_attempt(api_client):
    record = TestRecordFactory(status="failed", stage="failed", progress=100)
    response = api_client.post(f"/api/v1/executions/{record.execution_id}/retry/")
    assert response.status_code == 202
    body = response.json()
    assert body["retry_of"] == str(record.execution_id)
    assert body["source"] == "retry" and body["status"] == "queued"
    assert response["Location"].endswith(f"/api/v1/executions/{body['execution_id']}/")


def test_retry_of_a_completed_run_is_409(api_client):
    record = TestRecordFactory(status="completed", stage="completed", progress=100)
    response = api_client.post(f"/api/v1/executions/{record.execution_id}/retry/")
    assert response.status_code == 409
    assert "completed" in response.json()["error"]


def test_links_follow_the_script_prefix():
    """The links are reversed once per script prefix (records.api.serializers), so a service
    mounted under a path prefix links under it, and each execution gets its own id."""
    from django.urls import get_script_prefix, set_script_prefix

    from records.api.serializers import execution_links

    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    before = get_script_prefix()
    try:
        set_script_prefix("/brand/")
        assert execution_links(first)["status"] == f"/brand/api/v1/executions/{first}/status/"
        set_script_prefix("/")
        links = execution_links(second)
    finally:
        set_script_prefix(before)
    assert links == {
        "self": f"/api/v1/executions/{second}/",
        "status": f"/api/v1/executions/{second}/status/",
        "results": f"/api/v1/executions/{second}/results/",
        "answers": f"/api/v1/executions/{second}/answers/",
        "cancel": f"/api/v1/executions/{second}/cancel/",
        "retry": f"/api/v1/executions/{second}/retry/",
    }


@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Shanghai"])
def test_execution_body_is_what_drf_builds_from_the_declared_fields(settings, time_zone):
    """ExecutionSerializer writes its body out by hand (the history's cost); it must stay what
    DRF's generic path builds from the declared fields, for every kind of row and whatever the
    time zone setting."""
    from rest_framework import serializers as drf

    from records.api.serializers import EXECUTION_LIST_ONLY, ExecutionSerializer

    settings.TIME_ZONE = time_zone
    first = TestRecordFactory()
    finished = TestRecordFactory(
        status="partial_completed",
        stage="completed",
        progress=100,
        total_tasks=4,
        completed_tasks=3,
        failed_tasks=1,
        overall_score=61.25,
        error="kimi: quota exhausted",
        error_type="quota_exhausted",
        started_at=timezone.now() - timedelta(minutes=3),
        finished_at=timezone.now(),
        access_mode="search",
    )
    retry = TestRecordFactory(retry_of=finished, source="retry", competitor_brands=[])
    fresh = TestRecord(execution_id=uuid.uuid4(), status=Status.RUNNING, created_at=timezone.now())
    fresh.updated_at = fresh.created_at
    rows = list(
        TestRecord.objects.select_related("retry_of")
        .only(*EXECUTION_LIST_ONLY)
        .filter(pk__in=[first.pk, finished.pk, retry.pk])
    )
    for record in [*rows, fresh]:
        serializer = ExecutionSerializer(record)
        generic = drf.ModelSerializer.to_representation(serializer, record)
        assert serializer.data == generic
        assert list(serializer.data) == list(generic)
    assert ExecutionSerializer(rows, many=True).data == [ExecutionSerializer(r).data for r in rows]
