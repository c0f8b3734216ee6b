"""The OpenAI chat-completions protocol: deepseek, doubao (Ark), qwen, kimi, zhipu, chatgpt and
wenxin (Qianfan v2) all speak it."""

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
    that question would see.
    """

    def request(self, prompt: Prompt) -> tuple[str, dict[str, str], dict[str, Any]]:
        return (
            f"{self.config.base_url}/chat/completions",
            {"Authorization": f"Bearer {self.config.api_key}"},
            {
                "model": self.config.model,
                "messages": [{"role": "user", "content": prompt.question}],
            },
        )

    def parse(self, data: dict[str, Any]) -> Reply:
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices:
            said = scrub(_error_message(data), self.config.api_key)
            raise bad_response(self.platform, said or "no choices in the response")
        choice = choices[0]
        message = choice.get("message") or {}
        text = _text(message.get("content"))
        if not text.strip():
            if choice.get("finish_reason") in ("content_filter", "sensitive"):
                # The platform refused this question; asking again gets the same refusal.
                raise bad_response(self.platform, "the answer was filtered", retryable=False)
            raise bad_response(self.platform, "empty answer")
        usage = data.get("usage") or {}
        search_info = data.get("search_info") or {}
        return Reply(
            text=text,
            model=str(data.get("model") or self.config.model),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            sources=normalise_sources(
                data.get("citations"),  # Perplexity-style: a list of URLs
                data.get("search_results"),
                message.get("annotations"),  # OpenAI url_citation annotations
                data.get("web_search"),  # Zhipu's web_search tool results
                search_info.get("search_results"),  # Qwen's enable_search results
            ),
        )


def _text(content: Any) -> str:
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
