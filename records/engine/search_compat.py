"""Search modes of chat-completions platforms that answer in one call: Zhipu (BigModel), Baidu
Qianfan v2 (wenxin) and OpenAI (chatgpt). Each follows its platform's published documentation;
the page is named beside the code."""

from __future__ import annotations

import re
from typing import Any

from records.engine.base import Reply
from records.engine.openai_compat import OpenAICompatAdapter
from records.engine.sources import indexed_source, search_list, unique_indexes

_REFER = re.compile(r"(?:ref_)?(\d+)$")


class ZhipuAdapter(OpenAICompatAdapter):
    """Zhipu's ``web_search`` tool on chat completions.

    Docs: https://docs.bigmodel.cn/cn/guide/tools/web-search (Web Search in Chat) — ``tools:
    [{"type": "web_search", "web_search": {"enable": true, "search_result": true}}]``; with
    ``search_result`` the response carries a top-level ``web_search`` list ({title, link, media,
    icon, content, refer: "ref_1", publish_date}); ``refer`` is the source's marker number.
    """

    access_modes = ("plain", "search")

    def search_switch(self) -> dict[str, Any]:
        tool = {"enable": True, "search_result": True, "search_engine": "search_std"}
        return {"tools": [{"type": "web_search", "web_search": tool}]}

    def read_search(self, reply: Reply, data: dict[str, Any], message: dict[str, Any]) -> None:
        results = search_list(data, "web_search", where="response")
        sources = []
        for position, item in enumerate(results, start=1):
            if not isinstance(item, dict):
                continue
            # "refer" ("ref_3") is the marker's number; results come in refer order, so the
            # position stands in when a result has none.
            match = _REFER.match(str(item.get("refer") or "").strip())
            index = int(match.group(1)) if match else position
            sources.append(
                indexed_source(index, item.get("link"), item.get("title"), item.get("media"))
            )
        reply.sources = unique_indexes(sources)
        # The web_search list is present exactly when the tool ran (search_std is billed per call).
        reply.search_calls = 1 if "web_search" in data else 0


class QianfanAdapter(OpenAICompatAdapter):
    """Qianfan v2 chat's ``web_search`` option.

    Docs: https://cloud.baidu.com/doc/qianfan-docs/s/Wm8r4sw29 (联网搜索) — ``web_search:
    {"enable": true, "enable_citation": true, "enable_trace": true}``; with ``enable_trace``
    the response lists ``search_results`` ({index, url, title}) and ``enable_citation`` marks
    them in the answer as ``^[1]^``.
    """

    access_modes = ("plain", "search")

    def search_switch(self) -> dict[str, Any]:
        return {"web_search": {"enable": True, "enable_citation": True, "enable_trace": True}}

    def read_search(self, reply: Reply, data: dict[str, Any], message: dict[str, Any]) -> None:
        results = search_list(data, "search_results", where="response")
        reply.sources = unique_indexes(
            indexed_source(item.get("index"), item.get("url"), item.get("title"))
            for item in results
            if isinstance(item, dict)
        )
        reply.search_calls = 1 if "search_results" in data else 0


class OpenAISearchAdapter(OpenAICompatAdapter):
    """OpenAI web search on chat completions: a search model with ``web_search_options``.

    Docs: https://platform.openai.com/docs/guides/tools-web-search (chat completions tab) —
    search models (``gpt-4o-mini-search-preview``, CHATGPT_SEARCH_MODEL) always search before
    answering; the message's ``annotations`` are ``url_citation``s ({url, title, start_index,
    end_index}) of the sources the answer cites. Chosen over the Responses API's web_search
    tool so search keeps the chat-completions protocol, its error handling and its tests; the
    Responses API would add its search queries but needs a second parser for one platform.
    """

    access_modes = ("plain", "search")

    def search_switch(self) -> dict[str, Any]:
        return {"web_search_options": {}}

    def read_search(self, reply: Reply, data: dict[str, Any], message: dict[str, Any]) -> None:
        annotations = search_list(message, "annotations", where="message")
        by_url: dict[str, dict[str, Any]] = {}
        for item in annotations:
            if not isinstance(item, dict) or item.get("type") != "url_citation":
                continue
            cited = item.get("url_citation")
            if not isinstance(cited, dict):
                continue
            # Numbered by first citation: the answer links sources inline, without numbers.
            source = indexed_source(
                len(by_url) + 1, cited.get("url"), cited.get("title"), cited=True
            )
            if source is not None and source["url"] not in by_url:
                by_url[source["url"]] = source
        reply.sources = list(by_url.values())
        reply.search_calls = 1  # a search model searches on every request
