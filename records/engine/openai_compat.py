"""The OpenAI chat-completions protocol: deepseek, doubao (Ark), qwen, kimi, zhipu, chatgpt and
wenxin (Qianfan v2) all speak it. Platforms with a search mode subclass it (search_compat.py,
qwen.py, kimi.py)."""

from __future__ import annotations

from typing import Any

from records.engine.base import Prompt, Reply
from records.engine.classify import bad_response
from records.engine.errors import scrub
from records.engine.http_adapter import HTTPAdapter
from records.engine.sources import normalise_sources


class OpenAICompatAdapter(HTTPAdapter):
    """POST ``{base_url}/chat/completions`` with a bearer key and the question as the only message.

    No system prompt, no injected brands, no format instructions: we measure what a buyer asking
    that question would see. Search adapters add only the platform's own search switch.
    """

    def request(self, prompt: Prompt) -> tuple[str, dict[str, str], dict[str, Any]]:
        body = {
            "model": self.config.model_for(prompt.access_mode),
            "messages": [{"role": "user", "content": prompt.question}],
        }
        if prompt.access_mode == "search":
            body |= self.search_switch()
        return (
            f"{self.config.base_url}/chat/completions",
            {"Authorization": f"Bearer {self.config.api_key}"},
            body,
        )

    def search_switch(self) -> dict[str, Any]:
        """The body fields that turn the platform's web search on (search adapters only)."""
        raise NotImplementedError

    def parse(self, data: dict[str, Any], prompt: Prompt) -> Reply:
        reply, message = self.parse_chat(data)
        if not data.get("model"):
            reply.model = self.config.model_for(prompt.access_mode)
        if prompt.access_mode == "search":
            self.read_search(reply, data, message)
        else:
            search_info = data.get("search_info") or {}
            reply.sources = normalise_sources(
                data.get("citations"),  # Perplexity-style: a list of URLs
                data.get("search_results"),
                message.get("annotations"),  # OpenAI url_citation annotations
                data.get("web_search"),  # Zhipu's web_search tool results
                search_info.get("search_results"),  # Qwen's enable_search results
            )
        return reply

    def read_search(self, reply: Reply, data: dict[str, Any], message: dict[str, Any]) -> None:
        """Fill ``reply.sources``/``web_queries``/``search_calls`` from a search response."""
        raise NotImplementedError

    def parse_chat(self, data: dict[str, Any]) -> tuple[Reply, dict[str, Any]]:
        """The answer in a chat-completions body, and its message (for platform extras)."""
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices:
            said = scrub(_error_message(data), self.config.api_key)
            raise bad_response(self.platform, said or "no choices in the response")
        choice = choices[0]
        message = choice.get("message") or {}
        text = message_text(message.get("content"))
        if not text.strip():
            if choice.get("finish_reason") in ("content_filter", "sensitive"):
                # The platform refused this question; asking again gets the same refusal.
                raise bad_response(self.platform, "the answer was filtered", retryable=False)
            raise bad_response(self.platform, "empty answer")
        usage = data.get("usage") or {}
        reply = Reply(
            text=text,
            model=str(data.get("model") or self.config.model),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
        )
        return reply, message


def message_text(content: Any) -> str:
    """Message content is a string, or (some gateways) a list of ``{"type": "text"}`` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _error_message(data: dict[str, Any]) -> str:
    """Some gateways answer 200 with an error object instead of choices."""
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(data.get("error_msg") or "")
