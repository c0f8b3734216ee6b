"""Whole runs against a fake AI platform over real HTTP: every failure kind ends right."""

import threading
import time

import pytest

from records import execution, services
from records.models import TestRecord
from tests.fakes.platform_server import Behaviour, FakePlatformServer, hang, ok, rate_limited

pytestmark = pytest.mark.django_db(transaction=True)

ALL_PLATFORMS = ("deepseek", "doubao", "qwen", "kimi", "zhipu", "chatgpt", "gemini", "wenxin")


@pytest.fixture
def platform_server(platform_env, settings):
    settings.BRANDTEST_RETRY_BASE_DELAY = 0.01
    settings.BRANDTEST_RETRY_MAX_DELAY = 0.05
    with FakePlatformServer() as server:
        platform_env(server.environ(ALL_PLATFORMS))
        yield server


def run(platforms, *, questions=("北京中医推拿哪家好？",), repeats=1) -> TestRecord:
    data = services.clean_execution_input(
        brand="华夏良子",
        competitors=["良子健身"],
        questions=list(questions),
        platforms=list(platforms),
        repeats=repeats,
    )
    record = services.start_execution(owner=None, data=data, enqueue=False).record
    execution.run_execution(execution_id=str(record.execution_id))
    record.refresh_from_db()
    return record


def test_every_platform_answers_and_the_run_completes(platform_server):
    platform_server.default = ok(
        "1. 华夏良子：口碑好，推荐。\n2. 良子健身：一般。\n参考 https://www.dianping.com/shop/1",
        sources=(("https://www.zhihu.com/question/1", "知乎"),),
    )
    record = run(ALL_PLATFORMS)
    assert record.status == "completed" and record.completed_tasks == 8
    answers = {a.platform: a for a in record.answers.all()}
    assert set(answers) == set(ALL_PLATFORMS)
    for answer in answers.values():
        assert answer.model_name and answer.latency_ms is not None
        assert answer.prompt_tokens and answer.completion_tokens
        assert answer.analysis["brands"]["华夏良子"]["rank"] == 1
    assert [s["url"] for s in answers["deepseek"].sources] == ["https://www.zhihu.com/question/1"]
    # The question went out verbatim, alone, with no system prompt.
    assert {r.question for r in platform_server.requests} == {"北京中医推拿哪家好？"}
    scores = record.scores.get(brand="华夏良子", platform="")
    assert scores.visibility_score > 0 and scores.mention_rate == 1.0


@pytest.mark.parametrize(
    ("behaviour", "error_type", "retries", "requests"),
    [
        (Behaviour("server_error", status=500), "network_error", 3, 4),
        (Behaviour("malformed"), "bad_response", 3, 4),
        (Behaviour("auth_error"), "auth_failed", 0, 1),
        (Behaviour("quota_deepseek"), "quota_exhausted", 0, 1),
        (Behaviour("quota_openai"), "quota_exhausted", 0, 1),
        (rate_limited("0"), "rate_limited", 3, 4),
    ],
)
def test_failures_end_with_their_error_type_retries_and_run_status(
    platform_server, behaviour, error_type, retries, requests
):
    platform_server.script("deepseek", *[behaviour] * 4)
    record = run(["deepseek", "kimi"])
    failed = record.answers.get(platform="deepseek")
    assert (failed.status, failed.error_type, failed.retries) == ("failed", error_type, retries)
    assert len([r for r in platform_server.requests if r.prefix == "deepseek"]) == requests
    assert record.status == "partial_completed"
    assert record.error_type == error_type
    assert record.error.startswith("deepseek: ")
    assert record.answers.get(platform="kimi").status == "success"


def test_timeouts_are_retried_then_fail(platform_server, platform_env, settings):
    settings.BRANDTEST_MAX_RETRIES = 1
    platform_env({"DEEPSEEK_TIMEOUT": "0.2"})
    platform_server.script("deepseek", hang(2), hang(2))
    record = run(["deepseek"])
    answer = record.answers.get()
    assert (answer.error_type, answer.retries) == ("timeout", 1)
    assert record.status == "failed"
    assert record.error == (
        "All calls failed. deepseek: timed out; raise DEEPSEEK_TIMEOUT or try again later (1 call)"
    )


def test_rate_limit_then_success_is_one_retry_and_honours_retry_after(platform_server, settings):
    settings.BRANDTEST_RETRY_MAX_DELAY = 5
    platform_server.script("deepseek", rate_limited("0.3"), ok("1. 华夏良子"))
    started = time.monotonic()
    record = run(["deepseek"])
    assert time.monotonic() - started >= 0.3
    answer = record.answers.get()
    assert (answer.status, answer.retries) == ("success", 1)
    assert record.status == "completed"


def test_quota_on_every_call_fails_the_run_with_advice(platform_server):
    platform_server.default = Behaviour("quota_deepseek")
    record = run(["deepseek"], repeats=2)
    assert record.status == "failed" and record.error_type == "quota_exhausted"
    assert "deepseek: quota exhausted; check the account's balance (2 calls)" in record.error
    assert "test-key" not in record.error


def test_keys_never_reach_stored_errors(platform_server):
    platform_server.default = Behaviour("auth_error")  # echoes the key back, as some platforms do
    record = run(["kimi"])
    answer = record.answers.get()
    assert "test-key-kimi" not in answer.error and "test-key-kimi" not in record.error


def test_cancel_stops_new_calls_within_a_call_timeout(platform_server, settings):
    settings.BRANDTEST_GLOBAL_CONCURRENCY = 1
    platform_server.default = ok("1. 华夏良子", seconds=0.3)
    data = services.clean_execution_input(
        brand="华夏良子", competitors=[], questions=["推拿哪家好？"], platforms=["deepseek"],
        repeats=5,
    )  # fmt: skip
    record = services.start_execution(owner=None, data=data, enqueue=False).record
    worker = threading.Thread(
        target=execution.run_execution, kwargs={"execution_id": str(record.execution_id)}
    )
    worker.start()
    deadline = time.monotonic() + 10
    while TestRecord.objects.get(pk=record.pk).completed_tasks < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    services.cancel_execution(record=record)
    cancelled_at = time.monotonic()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < 1.5
    asked = len(platform_server.requests)
    time.sleep(0.5)
    assert len(platform_server.requests) == asked < 5
    record.refresh_from_db()
    assert record.status == "cancelled" and record.progress == 100
