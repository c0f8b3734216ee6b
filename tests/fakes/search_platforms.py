"""Search-mode answers of the fake platform server, each in its platform's documented shape.

Which platform a request is for comes from its body, as on the real services: DashScope's
``enable_search`` (qwen), Kimi's ``$web_search`` builtin tool, Zhipu's ``web_search`` tool,
Qianfan's ``web_search`` option (wenxin), OpenAI's ``web_search_options`` (chatgpt) and
Gemini's ``google_search`` tool. A plain request gets no search fields at all.

``Behaviour.sources`` are the search results as (url, title[, site name]) tuples, in the
platform's order (index 1, 2, ...); ``Behaviour.cited`` the indexes the answer cites (None: all);
``Behaviour.queries`` the web queries the platform reports; ``Behaviour.fault`` one documented-
shape violation: ``not_a_list`` (the results container has the wrong type), ``bad_items``
(junk results among the good ones), ``bad_tool_call`` (Kimi arguments that are not JSON) or
``tool_loop`` (Kimi asks for the tool again and again).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

WEB_SEARCH = "$web_search"
GEMINI_REDIRECT = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/"
# A junk result of each kind adapters must skip: not an object, no URL, a URL of the wrong type,
# a URL that is not http(s), an index that is not a number; appended after the good results
# when the fault is "bad_items".
JUNK = (
    "junk",
    {"title": "no url"},
    {"url": 42, "title": "wrong type"},
    {"url": "javascript:x"},
    {"index": "x", "url": "https://bad-index.example.com/", "title": "bad index"},
)


def search_platform(protocol: str, body: Any) -> str | None:
    """The platform whose search switch ``body`` carries, or None for a plain request."""
    if not isinstance(body, dict):
        return None
    if protocol == "dashscope":
        return "qwen"
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    if protocol == "gemini":
        return (
            "gemini" if any(isinstance(t, dict) and "google_search" in t for t in tools) else None
        )
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        if (
            tool.get("type") == "builtin_function"
            and (tool.get("function") or {}).get("name") == WEB_SEARCH
        ):
            return "kimi"
        if tool.get("type") == "web_search":
            return "zhipu"
    if isinstance(body.get("web_search"), dict) and body["web_search"].get("enable"):
        return "wenxin"
    if "web_search_options" in body:
        return "chatgpt"
    return None


def tool_call_id(body: Any) -> str | None:
    """The tool call a Kimi tool-result round answers (its last message's tool_call_id)."""
    try:
        last = body["messages"][-1]
    except (KeyError, IndexError, TypeError):
        return None
    return (
        last.get("tool_call_id") if isinstance(last, dict) and last.get("role") == "tool" else None
    )


def _results(behaviour: Any) -> list[tuple[int, str, str, str]]:
    """(index, url, title, site name) of each scripted source."""
    rows = []
    for index, source in enumerate(behaviour.sources, start=1):
        url, title = source[0], source[1]
        site = source[2] if len(source) > 2 else urlsplit(url).hostname or ""
        rows.append((index, url, title, site))
    return rows


def _cited(behaviour: Any, index: int) -> bool:
    return behaviour.cited is None or index in behaviour.cited


def _container(behaviour: Any, items: list[Any]) -> Any:
    if behaviour.fault == "not_a_list":
        return {"results": items}  # an object where the documents promise a list
    if behaviour.fault == "bad_items":
        return [*items, *JUNK]
    return items


def respond(platform: str, behaviour: Any, record: Any, data: Any, state: Any) -> tuple[int, Any]:
    """The platform's documented search answer (or Kimi's tool call, or its 400)."""
    answer = (
        data["candidates"][0]["content"]["parts"][0]["text"]
        if platform == "gemini"
        else (data["choices"][0]["message"]["content"])
    )
    if platform == "qwen":
        return 200, qwen(behaviour, answer, data)
    if platform == "zhipu":
        return 200, zhipu(behaviour, data)
    if platform == "wenxin":
        return 200, wenxin(behaviour, data)
    if platform == "chatgpt":
        return 200, chatgpt(behaviour, answer, data)
    if platform == "gemini":
        return 200, gemini(behaviour, answer, data)
    # kimi: a first round (or, looping, every round) asks for $web_search; a tool-result round
    # must send that call's arguments back unchanged, then gets the answer.
    answering = tool_call_id(record.body)
    with state.lock:
        sent = state.tool_calls.pop(answering, None) if answering else None
        if answering and sent is None:
            return 400, {"error": {"message": "unknown tool_call_id", "type": "invalid_request"}}
        if sent is None or behaviour.fault == "tool_loop":
            call_id = f"call_web_search_{len(state.requests)}_{int(record.started * 1e6)}"
            payload = kimi_tool_call(behaviour, data, call_id)
            state.tool_calls[call_id] = (behaviour, json.loads(json.dumps(payload)))
            return 200, payload
    problem = kimi_tool_result_error(record.body, sent[1])
    if problem:
        return 400, {"error": {"message": problem, "type": "invalid_request_error"}}
    return 200, data


def qwen(behaviour: Any, answer: str, data: dict[str, Any]) -> dict[str, Any]:
    """DashScope text-generation with ``enable_source``: ``output.search_info.search_results``
    (https://help.aliyun.com/zh/model-studio/web-search)."""
    results = [
        {"index": i, "title": title, "url": url, "site_name": site, "icon": ""}
        for i, url, title, site in _results(behaviour)
    ]
    usage = data["usage"]
    return {
        "request_id": data["id"],
        "output": {
            "choices": [
                {"finish_reason": "stop", "message": {"role": "assistant", "content": answer}}
            ],
            "search_info": {"search_results": _container(behaviour, results)},
        },
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "output_tokens": usage["completion_tokens"],
            "total_tokens": usage["total_tokens"],
            "plugins": {"search": {"count": 1, "strategy": "turbo"}},
        },
    }


def zhipu(behaviour: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The chat response's top-level ``web_search`` list
    (https://docs.bigmodel.cn/cn/guide/tools/web-search)."""
    results = [
        {
            "refer": f"ref_{i}",
            "title": title,
            "link": url,
            "media": site,
            "icon": "",
            "content": f"{title} 的摘要",
            "publish_date": "2026-11-30",
        }
        for i, url, title, site in _results(behaviour)
    ]
    return {**data, "web_search": _container(behaviour, results)}


def wenxin(behaviour: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Qianfan v2 with ``enable_trace``: top-level ``search_results``
    (https://cloud.baidu.com/doc/qianfan-docs/s/Wm8r4sw29)."""
    results = [{"index": i, "url": url, "title": title} for i, url, title, _ in _results(behaviour)]
    return {**data, "search_results": _container(behaviour, results)}


def chatgpt(behaviour: Any, answer: str, data: dict[str, Any]) -> dict[str, Any]:
    """A search model's ``url_citation`` annotations, one per cited source
    (https://platform.openai.com/docs/guides/tools-web-search)."""
    annotations = [
        {
            "type": "url_citation",
            "url_citation": {
                "start_index": 0,
                "end_index": len(answer),
                "url": url,
                "title": title,
            },
        }
        for i, url, title, _ in _results(behaviour)
        if _cited(behaviour, i)
    ]
    message = data["choices"][0]["message"]
    message["annotations"] = _container(behaviour, annotations)
    return data


def gemini(behaviour: Any, answer: str, data: dict[str, Any]) -> dict[str, Any]:
    """``groundingMetadata`` of a Google Search grounded answer: chunk uris are Google redirects,
    titles the sites' domains (https://ai.google.dev/gemini-api/docs/google-search)."""
    # As the documentation's example shows, a chunk's title is the site's domain ("uefa.com").
    chunks = [
        {
            "web": {
                "uri": f"{GEMINI_REDIRECT}{i}-{urlsplit(url).hostname}",
                "title": (urlsplit(url).hostname or "").removeprefix("www."),
            }
        }
        for i, url, _, _ in _results(behaviour)
    ]
    supports = [
        {
            "segment": {"startIndex": 0, "endIndex": len(answer.encode()), "text": answer},
            "groundingChunkIndices": [i - 1],
            "confidenceScores": [0.9],
        }
        for i, *_ in _results(behaviour)
        if _cited(behaviour, i)
    ]
    candidate = data["candidates"][0]
    candidate["groundingMetadata"] = {
        "webSearchQueries": list(behaviour.queries),
        "searchEntryPoint": {"renderedContent": "<div>Google Search suggestions</div>"},
        "groundingChunks": _container(behaviour, chunks),
        "groundingSupports": supports,
    }
    return data


def kimi_tool_call(behaviour: Any, data: dict[str, Any], call_id: str) -> dict[str, Any]:
    """First round: ``finish_reason: "tool_calls"`` with one ``$web_search`` call whose
    arguments the client must send back unchanged
    (https://platform.moonshot.ai/docs/guide/use-web-search)."""
    arguments: dict[str, Any] = {
        "search_result": {"search_id": f"fake-search-{call_id}"},
        "usage": {"total_tokens": 321},
    }
    if behaviour.queries:
        arguments["query"] = behaviour.queries[0]
    raw = "{search_result: oops" if behaviour.fault == "bad_tool_call" else json.dumps(arguments)
    message = {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "index": 0,
                "id": call_id,
                "type": "builtin_function",
                "function": {"name": WEB_SEARCH, "arguments": raw},
            }
        ],
    }
    data["choices"] = [{"index": 0, "message": message, "finish_reason": "tool_calls"}]
    return data


def kimi_tool_result_error(body: Any, sent: dict[str, Any]) -> str | None:
    """Why a tool-result round does not match the call it answers, or None when it does."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or len(messages) < 3:
        return "the tool result must follow the assistant's tool call"
    assistant, tool = messages[-2], messages[-1]
    call = sent["choices"][0]["message"]["tool_calls"][0]
    if not isinstance(assistant, dict) or assistant.get("tool_calls") != [call]:
        return "the assistant message with the tool call is missing"
    if tool.get("name") != WEB_SEARCH:
        return "the tool message must name $web_search"
    if tool.get("content") != call["function"]["arguments"]:
        return "the tool message must carry the arguments unchanged"
    return None


# DashScope's own text-generation path (qwen's search mode), under the platform's prefix.
GENERATION_PATH = "/api/v1/services/aigc/text-generation/generation"
