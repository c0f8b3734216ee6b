"""The mini-program's contract (LEGACY_CONTRACT.md section 1): whole bodies of every legacy
endpoint for each state of a run, and every accepted start format."""

import gzip
import json
import uuid
from datetime import datetime, timedelta

import orjson
import pytest
from django.utils import timezone

from records import execution, services
from records.engine.base import PlatformError
from records.models import LegacyDocument, ResultDocument, TestRecord
from records.renderers import iso
from records.reports import build_results
from tests.legacy.test_status import EXPECTED_ITEM, answer, common, started

pytestmark = pytest.mark.django_db

START_URL = "/api/perform-brand-test"
QUOTA = PlatformError("quota_exhausted", "Insufficient Balance")
FAILED_ITEM = {
    "brand": "华夏良子",
    "question": "北京中医推拿哪家好？",
    "model": "demo",
    "aiModel": "demo",
    "response": "",
    "response_latency": None,
    "status": "failed",
    "error": "Insufficient Balance",
    "error_type": "quota_exhausted",
    "geo_data": {
        "brand_mentioned": False,
        "rank": -1,
        "sentiment": 0.0,
        "cited_sources": [],
        "interception": "",
    },
    "score": 0,
    "authority_score": 0,
    "visibility_score": 0,
    "sentiment_score": 0,
    "purity_score": 0,
    "consistency_score": 0,
    "quality_score": 0,
    "quality_level": "N/A",
}
# The legacy sections of a report, and those the results page also reads at the top level.
LEGACY_SECTIONS = (
    "competitive_analysis",
    "brand_scores",
    "negative_sources",
    "recommendation_data",
    "quality_score",
    "overall_score",
)
TOP_LEVEL = ("competitive_analysis", "brand_scores", "negative_sources", "recommendation_data")


class RecentIso:
    """Equal to an ISO 8601 timestamp within the last minute (a response's retrieved_at)."""

    def __eq__(self, other) -> bool:
        moment = datetime.fromisoformat(other)
        return timezone.now() - timedelta(minutes=1) <= moment <= timezone.now()

    def __repr__(self) -> str:
        return "<recent ISO 8601 timestamp>"


def post_json(client, body, **headers):
    return client.post(START_URL, json.dumps(body), content_type="application/json", **headers)


# --- Runs in each state -------------------------------------------------------------------


def queued() -> TestRecord:
    return started()


def running() -> TestRecord:
    record = started(repeats=2)
    execution.claim_execution(execution_id=record.execution_id)
    answer(record)
    return record


def completed() -> TestRecord:
    record = started()
    execution.claim_execution(execution_id=record.execution_id)
    answer(record)
    execution.finish_execution(execution_id=record.execution_id)
    record.refresh_from_db()
    return record


def partial() -> TestRecord:
    record = started(repeats=2)
    execution.claim_execution(execution_id=record.execution_id)
    answer(record)
    answer(record, text=None, error=QUOTA)
    execution.finish_execution(execution_id=record.execution_id)
    record.refresh_from_db()
    return record


def failed() -> TestRecord:
    record = started()
    execution.claim_execution(execution_id=record.execution_id)
    answer(record, text=None, error=QUOTA)
    execution.finish_execution(execution_id=record.execution_id)
    record.refresh_from_db()
    return record


def cancelled() -> TestRecord:
    record = running()
    return services.cancel_execution(record=record)


def stored(record: TestRecord) -> dict:
    """The stored v1 report, with the legacy sections stored beside it under "legacy"."""
    document = ResultDocument.objects.get(record=record)
    sections = LegacyDocument.objects.get(record=record).sections
    return orjson.loads(gzip.decompress(document.body_gzip)) | {"legacy": sections}


def live(record: TestRecord) -> dict:
    results = build_results(record, list(record.answers.all()))
    return results.report | {"legacy": results.legacy}


def report_header(record: TestRecord, **state) -> dict:
    record.refresh_from_db()
    return {
        "execution_id": str(record.execution_id),
        "brand_name": "华夏良子",
        "competitor_brands": ["良子健身"],
        "selected_models": ["demo"],
        "custom_questions": ["北京中医推拿哪家好？"],
        "created_at": iso(record.created_at),
        "completed_at": iso(record.finished_at),
        "overall_score": record.overall_score,
        **state,
    }


def report_rest(report: dict, results: list[dict]) -> dict:
    """Everything but the header: results, analysis, meta and the top-level duplicates."""
    legacy = report["legacy"]
    return {
        "results": results,
        "analysis": {key: legacy[key] for key in LEGACY_SECTIONS}
        | {
            "summary": report["summary"],
            "competitor_comparison": report["competitor_comparison"],
            "question_breakdown": report["question_breakdown"],
            "top_cited_domains": report["top_cited_domains"],
        },
        "meta": {
            "data_schema_version": "1.0",
            "server_version": "2.0.0",
            "retrieved_at": RecentIso(),
        },
        **{key: legacy[key] for key in TOP_LEVEL},
    }


def get_report(client, record: TestRecord) -> dict:
    response = client.get(f"/api/diagnosis/report/{record.execution_id}")
    assert response.status_code == 200
    return response.json()


# --- GET /api/test --------------------------------------------------------------------------


def test_health_check_answers_success(client):
    response = client.get("/api/test", HTTP_AUTHORIZATION="Bearer bogus")
    assert response.status_code == 200
    assert response.json() == {"status": "success", "message": "Backend is working correctly!"}


# --- GET /test/status/<id>: the states test_status.py does not assert whole -----------------


def test_status_of_a_partially_completed_run(client):
    record = partial()
    body = client.get(f"/test/status/{record.execution_id}").json()
    legacy = stored(record)["legacy"]
    assert body == common(record) | {
        "progress": 100,
        "stage": "completed",
        "status": "partial_completed",
        "is_completed": True,
        "should_stop_polling": True,
        "results": [EXPECTED_ITEM, FAILED_ITEM],
        "detailed_results": [EXPECTED_ITEM, FAILED_ITEM],
        "error": record.error,
        "completion_rate": 1.0,
        **{key: legacy[key] for key in LEGACY_SECTIONS},
    }
    assert "demo: quota exhausted" in record.error
    assert body["quality_score"] == 94 and body["overall_score"] == record.overall_score


def test_status_of_a_failed_run(client):
    record = failed()
    body = client.get(f"/test/status/{record.execution_id}").json()
    legacy = stored(record)["legacy"]
    assert body == common(record) | {
        "progress": 100,
        "stage": "failed",
        "status": "failed",
        "is_completed": True,
        "should_stop_polling": True,
        "results": [FAILED_ITEM],
        "detailed_results": [FAILED_ITEM],
        "error": record.error,
        "completion_rate": 1.0,
        **{key: legacy[key] for key in LEGACY_SECTIONS},
    }
    assert record.error.startswith("All calls failed. demo: quota exhausted")
    assert (
        body["quality_score"] is None and body["brand_scores"]["华夏良子"]["overallGrade"] == "N/A"
    )


def test_status_of_a_cancelled_run_reads_as_failed_with_error_cancelled(client):
    record = cancelled()
    body = client.get(f"/test/status/{record.execution_id}").json()
    # Cancelled before finishing: no report was stored; it is built from the answers kept.
    legacy = live(record)["legacy"]
    assert body == common(record) | {
        "progress": 100,
        "stage": "failed",
        "status": "failed",
        "is_completed": True,
        "should_stop_polling": True,
        "results": [EXPECTED_ITEM],
        "detailed_results": [EXPECTED_ITEM],
        "error": "cancelled",
        "completion_rate": 0.5,
        **{key: legacy[key] for key in LEGACY_SECTIONS},
    }
    assert body["quality_score"] == 94


# --- GET /api/diagnosis/report/<id> ----------------------------------------------------------


def test_report_of_a_queued_run_is_live_and_empty(client):
    record = queued()
    body = get_report(client, record)
    header = report_header(
        record,
        status="initializing",
        progress=0,
        stage="init",
        is_completed=False,
        error=None,
        synthetic=False,
    )
    assert body == {"report": header, **report_rest(live(record), [])}
    assert body["brand_scores"]["华夏良子"]["overallGrade"] == "N/A"


def test_report_of_a_running_run_is_live(client):
    record = running()
    body = get_report(client, record)
    header = report_header(
        record,
        status="ai_fetching",
        progress=47,
        stage="ai_fetching",
        is_completed=False,
        error=None,
        synthetic=True,
    )
    assert body == {"report": header, **report_rest(live(record), [EXPECTED_ITEM])}
    assert header["overall_score"] is None and header["completed_at"] is None
    assert body["brand_scores"]["华夏良子"]["overallScore"] == 94


def test_report_of_a_completed_run_is_the_stored_one(client):
    record = completed()
    body = get_report(client, record)
    header = report_header(
        record,
        status="completed",
        progress=100,
        stage="completed",
        is_completed=True,
        error=None,
        synthetic=True,
    )
    assert body == {"report": header, **report_rest(stored(record), [EXPECTED_ITEM])}
    assert header["completed_at"] is not None and header["overall_score"] is not None
    assert body["analysis"]["quality_score"] == 94
    assert body["competitive_analysis"]["firstMentionByPlatform"] == {"demo": 0.0}
    assert body["analysis"]["summary"]["synthetic"] is True


def test_report_of_a_partially_completed_run(client):
    record = partial()
    body = get_report(client, record)
    header = report_header(
        record,
        status="partial_completed",
        progress=100,
        stage="completed",
        is_completed=True,
        error=record.error,
        synthetic=True,
    )
    expected = report_rest(stored(record), [EXPECTED_ITEM, FAILED_ITEM])
    assert body == {"report": header, **expected}
    assert body["analysis"]["summary"]["failed"] == 1


def test_report_of_a_failed_run(client):
    record = failed()
    body = get_report(client, record)
    header = report_header(
        record,
        status="failed",
        progress=100,
        stage="failed",
        is_completed=True,
        error=record.error,
        synthetic=False,
    )
    assert body == {"report": header, **report_rest(stored(record), [FAILED_ITEM])}


def test_report_of_a_cancelled_run_reads_as_failed_with_error_cancelled(client):
    record = cancelled()
    body = get_report(client, record)
    header = report_header(
        record,
        status="failed",
        progress=100,
        stage="failed",
        is_completed=True,
        error="cancelled",
        synthetic=True,
    )
    assert body == {"report": header, **report_rest(live(record), [EXPECTED_ITEM])}


@pytest.mark.parametrize("execution_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_report_of_an_unknown_or_malformed_id_is_404(client, execution_id):
    response = client.get(f"/api/diagnosis/report/{execution_id}")
    assert response.status_code == 404
    assert response.json() == {"error": "报告不存在", "execution_id": execution_id}


# --- GET /api/diagnosis/history --------------------------------------------------------------


def history_row(record: TestRecord, **state) -> dict:
    record.refresh_from_db()
    execution_id = str(record.execution_id)
    return {
        "id": execution_id,
        "execution_id": execution_id,
        "brand_name": "华夏良子",
        "progress": record.progress,
        "created_at": iso(record.created_at),
        "completed_at": iso(record.finished_at),
        "overall_score": record.overall_score,
        **state,
    }


def own(record: TestRecord, user) -> TestRecord:
    TestRecord.objects.filter(pk=record.pk).update(owner=user)
    return record


def test_history_lists_the_callers_runs_in_every_state_newest_first(client, user, other_user):
    runs = [own(make(), user) for make in (queued, running, completed, partial, failed, cancelled)]
    own(completed(), other_user)
    completed()  # anonymous
    client.force_login(user)
    body = client.get("/api/diagnosis/history").json()
    q, r, c, p, f, x = runs
    finished = {"is_completed": True, "progress": 100}
    assert body == {
        "reports": [
            history_row(x, status="failed", stage="failed", error="cancelled", **finished),
            history_row(f, status="failed", stage="failed", error=f.error, **finished),
            history_row(
                p, status="partial_completed", stage="completed", error=p.error, **finished
            ),
            history_row(c, status="completed", stage="completed", error=None, **finished),
            history_row(
                r, status="ai_fetching", stage="ai_fetching", is_completed=False, error=None
            ),
            history_row(q, status="initializing", stage="init", is_completed=False, error=None),
        ],
        "pagination": {"page": 1, "limit": 20, "total": 6, "has_more": False},
    }


def test_history_pages_report_the_true_total(client, user):
    runs = [own(queued(), user) for _ in range(5)][::-1]
    client.force_login(user)
    ids = lambda body: [row["execution_id"] for row in body["reports"]]  # noqa: E731
    first = client.get("/api/diagnosis/history?page=1&limit=2").json()
    assert ids(first) == [str(r.execution_id) for r in runs[:2]]
    assert first["pagination"] == {"page": 1, "limit": 2, "total": 5, "has_more": True}
    last = client.get("/api/diagnosis/history?page=3&limit=2").json()
    assert ids(last) == [str(runs[4].execution_id)]
    assert last["pagination"] == {"page": 3, "limit": 2, "total": 5, "has_more": False}
    beyond = client.get("/api/diagnosis/history?page=9&limit=2").json()
    assert beyond == {
        "reports": [],
        "pagination": {"page": 9, "limit": 2, "total": 5, "has_more": False},
    }


def test_history_of_an_anonymous_caller_is_empty(client):
    completed()
    body = client.get("/api/diagnosis/history").json()
    assert body == {
        "reports": [],
        "pagination": {"page": 1, "limit": 20, "total": 0, "has_more": False},
    }


def test_history_with_junk_paging_is_400_not_500(client):
    response = client.get("/api/diagnosis/history?page=one")
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "error": "page and limit must be integers",
        "code": 400,
    }


def test_history_query_count_does_not_grow_with_the_page(client, user, django_assert_num_queries):
    for _ in range(15):
        own(queued(), user)
    client.force_login(user)
    # session + user, count, page.
    with django_assert_num_queries(4):
        assert len(client.get("/api/diagnosis/history").json()["reports"]) == 15


# --- POST /api/perform-brand-test: accepted formats ------------------------------------------


def test_start_answers_200_and_enqueues_the_run(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_json(
            client,
            {"brand_list": ["华夏良子", "良子健身"], "selectedModels": ["demo"]},
            HTTP_X_DEVICE_ID="device-1",
        )
    assert response.status_code == 200
    record = TestRecord.objects.get()
    assert response.json() == {
        "status": "success",
        "execution_id": str(record.execution_id),
        "message": "Test started successfully",
    }
    assert len(callbacks) == 1
    assert (record.brand_name, record.competitor_brands, record.owner) == (
        "华夏良子",
        ["良子健身"],
        None,
    )


@pytest.mark.parametrize(
    "models",
    [
        ["demo"],
        ["Demo"],
        [{"name": "demo", "checked": True}],
        [{"name": "demo", "checked": False}],
        [{"id": "demo"}],
        [{"value": "demo"}],
        [{"label": "demo"}],
        [{"name": "", "id": "demo", "label": "nosuch"}],
        ["demo", {"name": "demo"}],
    ],
)
def test_start_accepts_string_and_object_models(client, models):
    response = post_json(client, {"brand_list": ["华夏良子"], "selectedModels": models})
    assert response.status_code == 200, response.json()
    assert TestRecord.objects.get().platforms == ["demo"]


def test_start_maps_chinese_display_names_to_platform_ids(client, platform_env):
    for platform in ("deepseek", "doubao", "qwen", "kimi", "zhipu", "chatgpt", "gemini", "wenxin"):
        platform_env({f"{platform.upper()}_API_KEY": "test-key"})
    models = [
        "豆包",
        {"name": "通义千问", "checked": True},
        {"id": "智谱AI"},
        {"value": "ChatGPT"},
        {"label": "文心一言"},
        "月之暗面",
        "DeepSeek",
        "Gemini",
        "千问",
    ]
    response = post_json(client, {"brand_list": ["华夏良子"], "selectedModels": models})
    assert response.status_code == 200, response.json()
    assert TestRecord.objects.get().platforms == [
        "doubao",
        "qwen",
        "zhipu",
        "chatgpt",
        "wenxin",
        "kimi",
        "deepseek",
        "gemini",
    ]


def test_start_splits_custom_question_the_legacy_way(client):
    body = {
        "brand_list": ["华夏良子"],
        "selectedModels": ["demo"],
        "custom_question": "北京推拿哪家好？上海按摩\n推荐吗? 价格.",
    }
    assert post_json(client, body).status_code == 200
    assert TestRecord.objects.get().questions == [
        "北京推拿哪家好?",
        "上海按摩?",
        "推荐吗?",
        "价格?",
    ]


@pytest.mark.parametrize("field", ["customQuestions", "questions"])
def test_question_arrays_are_taken_as_they_are_over_custom_question(client, field):
    body = {
        "brand_list": ["华夏良子"],
        "selectedModels": ["demo"],
        "custom_question": "ignored? yes",
        field: [" ERNIE 4.0 和 {brandName} 哪个好？ ", "", "{brandName}怎么样"],
    }
    assert post_json(client, body).status_code == 200
    assert TestRecord.objects.get().questions == [
        "ERNIE 4.0 和 {brandName} 哪个好？",
        "{brandName}怎么样",
    ]


def test_an_empty_question_array_falls_back_to_custom_question(client):
    body = {
        "brand_list": ["华夏良子"],
        "selectedModels": ["demo"],
        "customQuestions": [],
        "custom_question": "推拿哪家好",
    }
    assert post_json(client, body).status_code == 200
    assert TestRecord.objects.get().questions == ["推拿哪家好?"]


@pytest.mark.parametrize("extra", [{}, {"custom_question": ""}, {"customQuestions": None}])
def test_start_without_questions_asks_the_defaults(client, extra):
    body = {"brand_list": ["华夏良子", "良子健身"], "selectedModels": ["demo"], **extra}
    assert post_json(client, body).status_code == 200
    record = TestRecord.objects.get()
    assert record.questions == list(services.DEFAULT_QUESTIONS)
    # {brandName} questions are asked once per brand.
    assert record.total_tasks == 3 * 2


def test_start_uses_the_default_repeats(client, settings):
    settings.BRANDTEST_DEFAULT_REPEATS = 2
    assert (
        post_json(client, {"brand_list": ["华夏良子"], "selectedModels": ["demo"]}).status_code
        == 200
    )
    assert TestRecord.objects.get().repeats == 2


def test_start_ignores_and_never_stores_client_keys_and_judges(client):
    body = {
        "brand_list": ["华夏良子"],
        "selectedModels": ["demo"],
        "userOpenid": "openid-from-client",
        "userLevel": "vip",
        "judgePlatform": "deepseek",
        "judgeModel": "deepseek-chat",
        "judgeApiKey": "sk-judge-secret",
        "apiKey": "sk-client-secret",
    }
    response = post_json(client, body, HTTP_X_USER_OPENID="openid-from-header")
    assert response.status_code == 200
    stored_row = json.dumps(list(TestRecord.objects.values()), default=str, ensure_ascii=False)
    for value in ("sk-judge-secret", "sk-client-secret", "openid-from-client", "vip"):
        assert value not in stored_row
    assert TestRecord.objects.get().owner is None


def test_a_start_re_sent_by_the_same_device_names_the_same_run(client):
    body = {"brand_list": ["华夏良子"], "selectedModels": ["demo"], "custom_question": "推拿哪家好"}
    first = post_json(client, body, HTTP_X_DEVICE_ID="device-1").json()
    again = post_json(client, body, HTTP_X_DEVICE_ID="device-1").json()
    other = post_json(client, body, HTTP_X_DEVICE_ID="device-2").json()
    assert first == again
    assert other["execution_id"] != first["execution_id"]
    assert TestRecord.objects.count() == 2


# --- POST /api/perform-brand-test: rejected input --------------------------------------------


def test_unknown_model_is_400_naming_it(client):
    response = post_json(client, {"brand_list": ["华夏良子"], "selectedModels": ["demo", "grok"]})
    assert response.status_code == 400
    message = (
        "Unknown model 'grok'; expected one of deepseek, doubao, qwen, kimi, zhipu, chatgpt, "
        "gemini, wenxin, demo."
    )
    assert response.json() == {
        "status": "error",
        "error": f"Invalid selectedModels: {message}",
        "code": 400,
        "fields": {"selectedModels": {"1": [message]}},
    }
    assert TestRecord.objects.count() == 0


def test_a_known_but_unconfigured_model_is_400_naming_it(client, monkeypatch):
    monkeypatch.delenv("KIMI_API_KEY", raising=False)
    response = post_json(client, {"brand_list": ["华夏良子"], "selectedModels": ["月之暗面"]})
    assert response.status_code == 400
    message = "Platform 'kimi' is not configured on this server (set KIMI_API_KEY)."
    assert response.json() == {
        "status": "error",
        "error": f"Invalid selectedModels: {message}",
        "code": 400,
        "fields": {"selectedModels": [message]},
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"selectedModels": ["demo"]}, "brand_list"),
        ({"brand_list": [], "selectedModels": ["demo"]}, "brand_list"),
        ({"brand_list": ["  "], "selectedModels": ["demo"]}, "brand_list"),
        ({"brand_list": ["华夏良子", ""], "selectedModels": ["demo"]}, "brand_list"),
        ({"brand_list": ["x" * 101], "selectedModels": ["demo"]}, "brand_list"),
        ({"brand_list": "华夏良子", "selectedModels": ["demo"]}, "brand_list"),
        ({"brand_list": None, "selectedModels": ["demo"]}, "brand_list"),
        ({"brand_list": [{"name": "华夏良子"}], "selectedModels": ["demo"]}, "brand_list"),
        ({"brand_list": ["华夏良子"]}, "selectedModels"),
        ({"brand_list": ["华夏良子"], "selectedModels": []}, "selectedModels"),
        ({"brand_list": ["华夏良子"], "selectedModels": "demo"}, "selectedModels"),
        ({"brand_list": ["华夏良子"], "selectedModels": [7]}, "selectedModels"),
        ({"brand_list": ["华夏良子"], "selectedModels": [{"checked": True}]}, "selectedModels"),
        ({"brand_list": ["华夏良子"], "selectedModels": [["demo"]]}, "selectedModels"),
        (
            {"brand_list": ["华夏良子"], "selectedModels": ["demo"], "custom_question": ["q"]},
            "custom_question",
        ),
        (
            {"brand_list": ["华夏良子"], "selectedModels": ["demo"], "customQuestions": "推拿?"},
            "customQuestions",
        ),
        (
            {"brand_list": ["华夏良子"], "selectedModels": ["demo"], "questions": [{"q": 1}]},
            "questions",
        ),
        (
            {"brand_list": ["华夏良子"], "selectedModels": ["demo"], "customQuestions": ["好"]},
            "customQuestions",
        ),
        (
            {"brand_list": ["华夏良子"], "selectedModels": ["demo"], "questions": ["q?"] * 6},
            "questions",
        ),
        (
            {
                "brand_list": ["华夏良子"],
                "selectedModels": ["demo"],
                "custom_question": "a b c d e f",
            },
            "custom_question",
        ),
        (
            {"brand_list": ["主", *[f"竞品{i}" for i in range(11)]], "selectedModels": ["demo"]},
            "brand_list",
        ),
    ],
)
def test_bad_start_is_400_naming_the_field_and_creates_nothing(client, body, field):
    response = post_json(client, body)
    assert response.status_code == 400
    data = response.json()
    assert (data["status"], data["code"], list(data["fields"])) == ("error", 400, [field])
    assert data["error"].startswith(f"Invalid {field}: ")
    assert TestRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("[1, 2]", "Invalid data. Expected a dictionary, but got list."),
        ("null", "No data provided"),
        ('"brand"', "Invalid data. Expected a dictionary, but got str."),
    ],
)
def test_a_body_that_is_not_an_object_is_400(client, raw, error):
    response = client.post(START_URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "error": error,
        "code": 400,
        "fields": {"non_field_errors": [error]},
    }


def test_malformed_json_is_400_in_the_legacy_shape(client):
    response = client.post(START_URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"]) == ("error", 400)
    assert "JSON" in body["error"]


# --- The whole flow, as the mini-program walks it --------------------------------------------


def test_the_mini_program_flow_from_start_to_report(client, run_worker):
    body = {
        "brand_list": ["华夏良子", "良子健身"],
        "selectedModels": [{"name": "demo", "checked": True}],
        "custom_question": "北京中医推拿哪家好？",
        "apiKey": "sk-never-stored",
    }
    start = post_json(client, body, HTTP_X_DEVICE_ID="phone-1")
    assert start.status_code == 200
    execution_id = start.json()["execution_id"]
    run_worker()
    status = client.get(f"/test/status/{execution_id}").json()
    assert status["is_completed"] is True and status["status"] == "completed"
    assert status["progress"] == 100 and len(status["results"]) == 1
    report = client.get(f"/api/diagnosis/report/{execution_id}").json()
    assert report["report"]["status"] == "completed"
    assert report["report"]["custom_questions"] == ["北京中医推拿哪家好?"]
    assert report["results"] == status["results"]
    assert report["brand_scores"] == status["brand_scores"]
    assert report["report"]["synthetic"] is True
