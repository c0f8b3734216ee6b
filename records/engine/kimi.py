"""Kimi (Moonshot): chat completions, with the built-in ``$web_search`` tool in search mode."""

from __future__ import annotations

import json
from typing import Any

from records.engine.base import Prompt, Reply
from records.engine.classify import bad_response
from records.engine.openai_compat import OpenAICompatAdapter
from records.engine.sources import normalise_sources, text_list

WEB_SEARCH = "$web_search"
# Requests per answer: the question, then one tool-result round per search the model asks for.
# The documented flow needs two; a model still asking for tools after this many is stuck.
MAX_ROUNDS = 3


class KimiAdapter(OpenAICompatAdapter):
    """Search mode follows https://platform.moonshot.ai/docs/guide/use-web-search: declare
    ``{"type": "builtin_function", "function": {"name": "$web_search"}}``; the model answers
    ``finish_reason: "tool_calls"`` with a ``$web_search`` call, whose ``arguments`` go back
    unchanged as a ``role: "tool"`` message (``tool_call_id``, ``name``); Moonshot runs the
    search itself and the next response is the answer. Each ``$web_search`` call is billed.
    """

    access_modes = ("plain", "search")

    def search_switch(self) -> dict[str, Any]:
        return {"tools": [{"type": "builtin_function", "function": {"name": WEB_SEARCH}}]}

    def converse(self, prompt: Prompt) -> Reply:
        if prompt.access_mode != "search":
            return super().converse(prompt)
        url, headers, body = self.request(prompt)
        messages = body["messages"]
        queries: list[str] = []
        calls = 0
        prompt_tokens: int | None = None
        completion_tokens: int | None = None
        for _ in range(MAX_ROUNDS):
            data = self.post(url, headers, {**body, "messages": messages})
            usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
            # Every round is billed: the answer's tokens are the sum over its rounds.
            prompt_tokens = _add(prompt_tokens, usage.get("prompt_tokens"))
            completion_tokens = _add(completion_tokens, usage.get("completion_tokens"))
            message, tool_calls = self._tool_calls(data)
            if not tool_calls:
                reply = self.read(data, prompt)
                reply.prompt_tokens, reply.completion_tokens = prompt_tokens, completion_tokens
                reply.search_calls, reply.web_queries = calls, queries
                return reply
            messages = [*messages, message]
            for call in tool_calls:
                arguments = self._check_call(call)
                calls += 1
                queries += _queries(arguments)
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call["id"],
                        "name": WEB_SEARCH,
                        "content": call["function"]["arguments"],  # unchanged, as documented
                    }
                )
        raise bad_response(
            self.platform, f"still asking for tools after {MAX_ROUNDS} rounds", retryable=False
        )

    def read_search(self, reply: Reply, data: dict[str, Any], message: dict[str, Any]) -> None:
        # Moonshot documents no structured source list for $web_search answers; any it adds in
        # the OpenAI styles is kept, numbered in its order.
        reply.sources = [
            {**source, "index": n, "site_name": "", "cited": None}
            for n, source in enumerate(
                normalise_sources(data.get("search_results"), message.get("annotations")), 1
            )
        ]

    def _tool_calls(self, data: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """The assistant message and its tool calls when the model asks for tools, else []."""
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return {}, []  # read() reports the missing answer
        choice = choices[0]
        message = choice.get("message")
        if choice.get("finish_reason") != "tool_calls":
            return {}, []
        if not isinstance(message, dict):
            raise bad_response(self.platform, "a tool_calls answer without a message")
        tool_calls = message.get("tool_calls")
        if not isinstance(tool_calls, list) or not tool_calls:
            raise bad_response(self.platform, "finish_reason tool_calls without tool calls")
        return message, tool_calls

    def _check_call(self, call: Any) -> dict[str, Any]:
        """The parsed arguments of a well-formed ``$web_search`` call; else ``bad_response``."""
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(call.get("id"), str) or not call["id"]:
            raise bad_response(self.platform, "a malformed tool call", retryable=False)
        if function.get("name") != WEB_SEARCH:
            name = str(function.get("name"))[:40]
            raise bad_response(self.platform, f"asked for unknown tool {name!r}", retryable=False)
        raw = function.get("arguments")
        try:
            arguments = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            raise bad_response(
                self.platform, "$web_search arguments are not a JSON object", retryable=False
            )
        return arguments


def _queries(arguments: dict[str, Any]) -> list[str]:
    """The search's queries, where the arguments carry them (``query`` or ``queries``)."""
    found = [arguments["query"]] if isinstance(arguments.get("query"), str) else []
    if isinstance(arguments.get("queries"), list):
        found += text_list(arguments["queries"], where="queries")
    return [q.strip() for q in found if q.strip()]


def _add(total: int | None, value: Any) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return total
    return (total or 0) + value
