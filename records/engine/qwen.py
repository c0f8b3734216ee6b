"""Qwen (Alibaba Cloud Model Studio / DashScope): chat completions in plain mode, DashScope's own
text-generation protocol in search mode."""

from __future__ import annotations

from typing import Any

from records.engine.base import Prompt, Reply
from records.engine.classify import bad_response
from records.engine.openai_compat import OpenAICompatAdapter, message_text
from records.engine.sources import (
    indexed_source,
    search_list,
    search_object,
    unique_indexes,
)

# The compatible-mode suffix of QWEN_BASE_URL; what precedes it is the DashScope host.
COMPATIBLE_SUFFIX = "/compatible-mode/v1"
GENERATION_PATH = "/api/v1/services/aigc/text-generation/generation"

# Docs: https://help.aliyun.com/zh/model-studio/web-search (联网搜索). ``enable_search`` turns
# search on; ``forced_search`` makes every answer search (as the app does for such questions),
# ``enable_source`` lists the results in ``output.search_info.search_results`` ({index, title,
# url, site_name, icon}) and ``enable_citation`` marks them in the answer as [1], [2].
SEARCH_OPTIONS = {
    "forced_search": True,
    "enable_source": True,
    "enable_citation": True,
    "citation_format": "[<number>]",
}


class QwenAdapter(OpenAICompatAdapter):
    """Plain mode: ``{base_url}/chat/completions`` like every OpenAI-compatible platform.

    Search mode: POST ``{host}/api/v1/services/aigc/text-generation/generation`` (DashScope's
    protocol, same key), because the page above says the OpenAI-compatible protocol does not
    return the search sources; ``{host}`` is QWEN_BASE_URL without ``/compatible-mode/v1``.
    """

    access_modes = ("plain", "search")

    def request(self, prompt: Prompt) -> tuple[str, dict[str, str], dict[str, Any]]:
        if prompt.access_mode != "search":
            return super().request(prompt)
        host = self.config.base_url.removesuffix(COMPATIBLE_SUFFIX)
        body = {
            "model": self.config.model_for("search"),
            "input": {"messages": [{"role": "user", "content": prompt.question}]},
            "parameters": {
                "result_format": "message",
                "enable_search": True,
                "search_options": SEARCH_OPTIONS,
            },
        }
        return (
            f"{host}{GENERATION_PATH}",
            {"Authorization": f"Bearer {self.config.api_key}"},
            body,
        )

    def parse(self, data: dict[str, Any], prompt: Prompt) -> Reply:
        if prompt.access_mode != "search":
            return super().parse(data, prompt)
        output = data.get("output")
        if not isinstance(output, dict):
            raise bad_response(self.platform, str(data.get("message") or "no output"))
        choices = output.get("choices")
        if not isinstance(choices, list) or not choices:
            raise bad_response(self.platform, "no choices in the output")
        choice = choices[0]
        text = message_text((choice.get("message") or {}).get("content"))
        if not text.strip():
            if choice.get("finish_reason") in ("content_filter", "sensitive"):
                raise bad_response(self.platform, "the answer was filtered", retryable=False)
            raise bad_response(self.platform, "empty answer")
        usage = data.get("usage") or {}
        info = search_object(output, "search_info", where="output")
        results = search_list(info, "search_results", where="output.search_info")
        sources = unique_indexes(
            indexed_source(r.get("index"), r.get("url"), r.get("title"), r.get("site_name"))
            for r in results
            if isinstance(r, dict)
        )
        return Reply(
            text=text,
            model=self.config.model_for("search"),
            prompt_tokens=usage.get("input_tokens"),
            completion_tokens=usage.get("output_tokens"),
            sources=sources,
            search_calls=_search_count(usage, searched=info is not None),
        )


def _search_count(usage: dict[str, Any], *, searched: bool) -> int:
    """``usage.plugins.search.count`` (the billed searches), else 1 when results came back."""
    plugins = usage.get("plugins")
    search = plugins.get("search") if isinstance(plugins, dict) else None
    count = search.get("count") if isinstance(search, dict) else None
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return count
    return 1 if searched else 0
