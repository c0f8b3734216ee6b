"""Search mode of every platform that has one, against the fake platform server over real HTTP.

The fake answers in each platform's documented search shape (tests/fakes/search_platforms.py);
these tests check the request carries the platform's own search switch and that the reply's
sources, cited flags, web queries and billed search calls are read from that shape."""

import json

import httpx
import pytest

from records.engine.adapters import access_modes, build_adapter
from records.engine.base import PlatformError, Prompt
from records.engine.config import platform_configs
from records.engine.retry import RetryPolicy
from tests.fakes.platform_server import ok
from tests.fakes.search_platforms import GEMINI_REDIRECT, WEB_SEARCH

QUESTION = "北京中医推拿哪家好？"
SEARCH_PLATFORMS = ("qwen", "kimi", "zhipu", "chatgpt", "gemini", "wenxin")
WITH_SOURCES = ("qwen", "zhipu", "chatgpt", "gemini", "wenxin")  # Kimi documents none
SOURCES = (
    ("https://www.zhihu.com/question/1", "北京推拿哪家好？", "知乎"),
    ("https://www.huaxialiangzi.com/about", "华夏良子官网", "华夏良子"),
    ("https://www.dianping.com/shop/2", "大众点评榜单"),
)
ANSWER = "1. 华夏良子：口碑好[2]。\n2. 良子健身：一般[1][3]。"
USER = {"role": "user", "content": QUESTION}


def ask(config, mode="search"):
    with build_adapter(config.platform, config) as adapter:
        return adapter.ask(Prompt(QUESTION, brands=("华夏良子",), access_mode=mode))


def test_each_platform_lists_its_access_modes():
    assert {p: access_modes(p) for p in (*SEARCH_PLATFORMS, "deepseek", "doubao")} == {
        **dict.fromkeys(SEARCH_PLATFORMS, ("plain", "search")),
        "deepseek": ("plain",),
        "doubao": ("plain",),
    }
    with pytest.raises(ValueError, match="no adapter for platform 'nope'"):
        access_modes("nope")


@pytest.mark.parametrize("platform", ["deepseek", "doubao"])
def test_a_platform_without_search_refuses_it_before_any_request(
    platform, fake_server, fake_configs
):
    with pytest.raises(ValueError, match=f"{platform} has no 'search' access mode"):
        ask(fake_configs[platform])
    assert fake_server.requests == []


def test_an_unknown_access_mode_is_refused_by_every_adapter(fake_server, fake_configs):
    for platform in (*SEARCH_PLATFORMS, "deepseek"):
        with pytest.raises(ValueError, match=f"{platform} has no 'web' access mode"):
            ask(fake_configs[platform], mode="web")
    assert fake_server.requests == []


SEARCH_OPTIONS = {
    "forced_search": True,
    "enable_source": True,
    "enable_citation": True,
    "citation_format": "[<number>]",
}
REQUESTS = {
    "qwen": (
        "/qwen/api/v1/services/aigc/text-generation/generation",
        {
            "model": "qwen-plus",
            "input": {"messages": [USER]},
            "parameters": {
                "result_format": "message",
                "enable_search": True,
                "search_options": SEARCH_OPTIONS,
            },
        },
    ),
    "kimi": (
        "/kimi/chat/completions",
        {
            "model": "moonshot-v1-8k",
            "messages": [USER],
            "tools": [{"type": "builtin_function", "function": {"name": "$web_search"}}],
        },
    ),
    "zhipu": (
        "/zhipu/chat/completions",
        {
            "model": "glm-4-flash",
            "messages": [USER],
            "tools": [
                {
                    "type": "web_search",
                    "web_search": {
                        "enable": True,
                        "search_result": True,
                        "search_engine": "search_std",
                    },
                }
            ],
        },
    ),
    "wenxin": (
        "/wenxin/chat/completions",
        {
            "model": "ernie-4.0-8k",
            "messages": [USER],
            "web_search": {"enable": True, "enable_citation": True, "enable_trace": True},
        },
    ),
    "chatgpt": (
        "/chatgpt/chat/completions",
        {"model": "gpt-4o-mini-search-preview", "messages": [USER], "web_search_options": {}},
    ),
    "gemini": (
        "/gemini/models/gemini-2.0-flash:generateContent",
        {
            "contents": [{"role": "user", "parts": [{"text": QUESTION}]}],
            "tools": [{"google_search": {}}],
        },
    ),
}


@pytest.mark.parametrize("platform", SEARCH_PLATFORMS)
def test_the_request_carries_the_platforms_documented_search_switch_and_nothing_else(
    platform, fake_server, fake_configs
):
    ask(fake_configs[platform])

    first = fake_server.requests[0]
    assert (first.path, first.body) == REQUESTS[platform]
    assert first.search == platform  # the fake recognised the platform's switch
    assert "test-key-" + platform in (
        first.headers.get("authorization", "") + first.headers.get("x-goog-api-key", "")
    )


def test_qwen_search_goes_to_dashscope_beside_the_compatible_mode_base_url(fake_server):
    environ = {
        "QWEN_API_KEY": "test-key-qwen",
        "QWEN_BASE_URL": f"{fake_server.base_url}/qwen/compatible-mode/v1",
    }

    ask(platform_configs(environ)["qwen"])

    assert fake_server.requests[0].path == "/qwen/api/v1/services/aigc/text-generation/generation"


def source(index, url, title, site="", cited=None):
    return {"index": index, "url": url, "title": title, "site_name": site, "cited": cited}


(ZHIHU, ZHIHU_TITLE, _), (OWN, OWN_TITLE, _), (DIANPING, DIANPING_TITLE) = SOURCES
EXPECTED = {
    # DashScope: index, title, url and site_name of every result; no cited flag.
    "qwen": [
        source(1, ZHIHU, ZHIHU_TITLE, "知乎"),
        source(2, OWN, OWN_TITLE, "华夏良子"),
        source(3, DIANPING, DIANPING_TITLE, "www.dianping.com"),
    ],
    # Zhipu: refer "ref_N" is the index, media the site name.
    "zhipu": [
        source(1, ZHIHU, ZHIHU_TITLE, "知乎"),
        source(2, OWN, OWN_TITLE, "华夏良子"),
        source(3, DIANPING, DIANPING_TITLE, "www.dianping.com"),
    ],
    # Qianfan: index, url, title only.
    "wenxin": [
        source(1, ZHIHU, ZHIHU_TITLE),
        source(2, OWN, OWN_TITLE),
        source(3, DIANPING, DIANPING_TITLE),
    ],
    # OpenAI returns only the cited sources (1 and 3), numbered by first citation.
    "chatgpt": [
        source(1, ZHIHU, ZHIHU_TITLE, cited=True),
        source(2, DIANPING, DIANPING_TITLE, cited=True),
    ],
    # Gemini: every chunk, its redirect uri, the domain as title and site; cited by supports.
    "gemini": [
        source(1, f"{GEMINI_REDIRECT}1-www.zhihu.com", "zhihu.com", "zhihu.com", cited=True),
        source(
            2,
            f"{GEMINI_REDIRECT}2-www.huaxialiangzi.com",
            "huaxialiangzi.com",
            "huaxialiangzi.com",
            cited=False,
        ),
        source(
            3, f"{GEMINI_REDIRECT}3-www.dianping.com", "dianping.com", "dianping.com", cited=True
        ),
    ],
}


@pytest.mark.parametrize("platform", WITH_SOURCES)
def test_sources_carry_index_url_title_site_name_and_cited_flag(
    platform, fake_server, fake_configs
):
    queries = ("北京 中医推拿 推荐",)
    fake_server.script(platform, ok(ANSWER, sources=SOURCES, cited=(1, 3), queries=queries))

    reply = ask(fake_configs[platform])

    assert reply.text == ANSWER
    assert reply.sources == EXPECTED[platform]
    assert reply.search_calls == 1
    # Of these, only Gemini reports the queries it ran.
    assert reply.web_queries == (list(queries) if platform == "gemini" else [])
    assert reply.prompt_tokens == len(QUESTION) and reply.completion_tokens == len(ANSWER)


@pytest.mark.parametrize("platform", SEARCH_PLATFORMS)
def test_an_answer_without_sources_still_parses(platform, fake_server, fake_configs):
    fake_server.script(platform, ok("1. 华夏良子"))

    reply = ask(fake_configs[platform])

    assert (reply.text, reply.sources, reply.web_queries) == ("1. 华夏良子", [], [])
    # Gemini bills a grounded prompt only when it searched; the others searched regardless.
    assert reply.search_calls == (0 if platform == "gemini" else 1)


@pytest.mark.parametrize("platform", WITH_SOURCES)
def test_junk_results_are_skipped_and_the_good_ones_kept(platform, fake_server, fake_configs):
    fake_server.script(platform, ok(ANSWER, sources=SOURCES, cited=(1, 3), fault="bad_items"))

    reply = ask(fake_configs[platform])

    assert reply.sources == EXPECTED[platform]


MALFORMED = {
    "qwen": "output.search_info.search_results is not a list",
    "zhipu": "response.web_search is not a list",
    "wenxin": "response.search_results is not a list",
    "chatgpt": "message.annotations is not a list",
    "gemini": "groundingMetadata.groundingChunks is not a list",
}


@pytest.mark.parametrize("platform", WITH_SOURCES)
def test_a_search_list_of_the_wrong_type_is_a_bad_response_not_retried(
    platform, fake_server, fake_configs
):
    fake_server.script(platform, *[ok(ANSWER, sources=SOURCES, fault="not_a_list")] * 2)
    policy = RetryPolicy(max_retries=1, base_delay=0, max_delay=0, jitter="none", sleep=[].append)

    with build_adapter(platform, fake_configs[platform]) as adapter:
        result = policy.call(
            lambda: adapter.ask(Prompt(QUESTION, access_mode="search")), platform=platform
        )

    assert result.error.error_type == "bad_response"
    assert result.error.message.startswith(f"{platform}: unusable response ({MALFORMED[platform]})")
    assert result.attempts == 1  # each retry of a search is billed, and gets the same shape


def test_kimi_sends_the_tool_call_back_unchanged_and_returns_the_final_answer(
    fake_server, fake_configs
):
    fake_server.script("kimi", ok("华夏良子口碑好。"))

    reply = ask(fake_configs["kimi"])

    first, second = fake_server.requests  # the fake answers a wrong tool message with a 400
    [call] = second.body["messages"][1]["tool_calls"]
    assert call["function"]["name"] == WEB_SEARCH
    assert json.loads(call["function"]["arguments"])["search_result"]["search_id"]
    assert first.body == REQUESTS["kimi"][1]
    assert second.body == {
        **REQUESTS["kimi"][1],
        "messages": [
            USER,
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {
                "role": "tool",
                "tool_call_id": call["id"],
                "name": WEB_SEARCH,
                "content": call["function"]["arguments"],
            },
        ],
    }
    assert reply.text == "华夏良子口碑好。"
    assert reply.search_calls == 1
    # Both rounds are billed: the tokens are their sum.
    assert reply.prompt_tokens == 2 * len(QUESTION)
    assert reply.completion_tokens == len("华夏良子口碑好。") * 2


def test_kimi_reports_the_query_when_the_tool_arguments_carry_one(fake_server, fake_configs):
    fake_server.script("kimi", ok("好。", queries=("北京 推拿",)))

    assert ask(fake_configs["kimi"]).web_queries == ["北京 推拿"]


def test_kimi_arguments_that_are_not_json_are_a_bad_response(fake_server, fake_configs):
    fake_server.script("kimi", ok("好。", fault="bad_tool_call"))

    with pytest.raises(PlatformError) as caught:
        ask(fake_configs["kimi"])

    assert caught.value.error_type == "bad_response" and not caught.value.retryable
    assert "$web_search arguments are not a JSON object" in caught.value.message
    assert len(fake_server.requests) == 1


def test_kimi_asking_for_tools_forever_stops_after_three_rounds(fake_server, fake_configs):
    fake_server.script("kimi", ok("好。", fault="tool_loop"))

    with pytest.raises(PlatformError) as caught:
        ask(fake_configs["kimi"])

    assert "still asking for tools after 3 rounds" in caught.value.message
    assert len(fake_server.requests) == 3


def test_the_kimi_fake_rejects_a_tool_message_that_changed_the_arguments(fake_server):
    url = f"{fake_server.base_url}/kimi/chat/completions"
    body = REQUESTS["kimi"][1]
    with httpx.Client() as client:
        message = client.post(url, json=body).json()["choices"][0]["message"]
        [call] = message["tool_calls"]
        tool = {"role": "tool", "tool_call_id": call["id"], "name": WEB_SEARCH, "content": "{}"}
        rejected = client.post(url, json={**body, "messages": [USER, message, tool]})

    assert rejected.status_code == 400
    assert (
        rejected.json()["error"]["message"] == "the tool message must carry the arguments unchanged"
    )


def test_plain_mode_sends_no_search_switch(fake_server, fake_configs):
    for platform in SEARCH_PLATFORMS:
        ask(fake_configs[platform], mode="plain")

    assert [r.search for r in fake_server.requests] == [None] * len(SEARCH_PLATFORMS)
    assert all("tools" not in r.body and "web_search" not in r.body for r in fake_server.requests)
