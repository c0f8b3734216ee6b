"""Search-mode answers stored by the run pipeline, against the fake platforms over real HTTP.

``test_search_answers_are_stored_*`` drive an execution's own pieces (claim, pending calls,
the platforms' adapters, the matrix runner, ``store_outcome``, finish) with search prompts, as
``run_pending_calls`` does; ``test_a_search_run_*`` start the execution in search mode through
``services`` and run it whole, once ``ExecutionInput`` carries ``access_mode`` (until then they
are skipped)."""

import dataclasses

import pytest

from records import execution, services
from records.engine.base import Prompt
from records.engine.retry import RetryPolicy
from records.engine.runner import Cell, MatrixRunner
from records.platforms import build_adapters
from records.reports import Analyser
from tests.fakes.platform_server import FakePlatformServer, ok

pytestmark = pytest.mark.django_db(transaction=True)

BRAND, COMPETITOR = "华夏良子", "良子健身"
OWN_DOMAIN = "huaxialiangzi.com"
QUESTION = "北京中医推拿哪家好？"
SOURCES = (
    ("https://www.zhihu.com/question/1", "北京推拿哪家好？", "知乎"),
    ("https://www.huaxialiangzi.com/about", "华夏良子官网", BRAND),
    ("https://www.dianping.com/shop/2", "大众点评榜单", "大众点评"),
)
ANSWER = f"1. {BRAND}：口碑好，推荐[2]。\n2. {COMPETITOR}：一般[1][3]。"
KIMI_ANSWER = f"1. {BRAND}：口碑好，见[官网](https://www.{OWN_DOMAIN}/about)。"
WITH_SOURCES = ("qwen", "zhipu", "chatgpt", "wenxin")
ACCEPTS_MODE = "access_mode" in {f.name for f in dataclasses.fields(services.ExecutionInput)}
# Gemini's grounding chunks link through Google redirects; their site is in site_name only.
# Gemini's sources are Google redirect URLs; the analysis classifies them by their site name.
GEMINI = "gemini"


@pytest.fixture
def platforms(platform_env, settings):
    settings.BRANDTEST_RETRY_BASE_DELAY = 0.01
    settings.BRANDTEST_RETRY_MAX_DELAY = 0.05
    with FakePlatformServer() as server:
        platform_env(server.environ())
        yield server


def start(platform, **extra):
    data = services.clean_execution_input(
        brand=BRAND, competitors=[COMPETITOR], questions=[QUESTION], platforms=[platform], repeats=1
    )
    aliases = {BRAND: {"domains": [OWN_DOMAIN]}}
    data = dataclasses.replace(data, brand_aliases=aliases, **extra)
    return services.start_execution(owner=None, data=data, enqueue=False).record


def run_in_search_mode(record):
    """What ``run_pending_calls`` does, with every prompt in search mode."""
    assert execution.claim_execution(execution_id=record.execution_id)
    record.refresh_from_db()
    calls = {call.key: call for call in execution.pending_calls(record)}
    runner = MatrixRunner(
        build_adapters(record.platforms),
        global_limit=2,
        per_platform_limit=2,
        retry=RetryPolicy(max_retries=0),
        tick_seconds=0.05,
    )
    cells = [
        Cell(key, call.platform, Prompt(call.question.text, access_mode="search"))
        for key, call in calls.items()
    ]
    analyser = Analyser(record)
    for outcome in runner.run(cells):
        if outcome is not None:
            execution.store_outcome(record, calls[outcome.key], outcome, analyser)
    execution.finish_execution(execution_id=record.execution_id)
    record.refresh_from_db()
    return record


def owned(answer):
    return [c for c in answer.analysis["citations"] if c["owner"] == "own"]


def assert_stored_with_indexes_and_owned_domain(record):
    assert record.status == "completed"
    answer = record.answers.get()
    assert answer.text == ANSWER
    assert [s["index"] for s in answer.sources] == list(range(1, len(answer.sources) + 1))
    assert all({"url", "title", "site_name", "cited"} <= set(s) for s in answer.sources)
    assert answer.analysis["has_structured_sources"]
    assert [(c["domain"], c["owner_brand"]) for c in owned(answer)] == [(OWN_DOMAIN, BRAND)]


@pytest.mark.parametrize("platform", [*WITH_SOURCES, GEMINI])
def test_search_answers_are_stored_with_indexed_sources_and_the_owned_domain(platforms, platform):
    platforms.script(platform, ok(ANSWER, sources=SOURCES, queries=("北京 推拿",)))

    record = run_in_search_mode(start(platform))

    assert platforms.requests[0].search == platform
    assert_stored_with_indexes_and_owned_domain(record)


def test_a_kimi_search_answer_is_stored_after_the_tool_round_trip(platforms):
    platforms.script("kimi", ok(KIMI_ANSWER))

    record = run_in_search_mode(start("kimi"))

    assert [r.search for r in platforms.requests] == ["kimi", "kimi"]
    assert platforms.requests[1].body["messages"][-1]["role"] == "tool"
    answer = record.answers.get()
    assert (record.status, answer.text) == ("completed", KIMI_ANSWER)
    assert [(c["domain"], c["kind"]) for c in owned(answer)] == [(OWN_DOMAIN, "markdown_link")]


needs_access_mode = pytest.mark.skipif(
    not ACCEPTS_MODE, reason="needs H15b: ExecutionInput.access_mode"
)


@needs_access_mode
@pytest.mark.parametrize("platform", [*WITH_SOURCES, GEMINI])
def test_a_search_run_stores_indexed_sources_and_the_owned_domain(platforms, platform):
    platforms.script(platform, ok(ANSWER, sources=SOURCES))
    record = start(platform, access_mode="search")

    execution.run_execution(execution_id=str(record.execution_id))
    record.refresh_from_db()

    assert platforms.requests[0].search == platform
    assert_stored_with_indexes_and_owned_domain(record)


@needs_access_mode
def test_a_kimi_search_run_sends_the_tool_result_back_and_stores_the_answer(platforms):
    platforms.script("kimi", ok(KIMI_ANSWER))
    record = start("kimi", access_mode="search")

    execution.run_execution(execution_id=str(record.execution_id))
    record.refresh_from_db()

    assert [r.search for r in platforms.requests] == ["kimi", "kimi"]
    assert record.answers.get().text == KIMI_ANSWER
