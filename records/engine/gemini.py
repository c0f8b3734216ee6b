"""Google's Gemini ``generateContent`` protocol."""

from __future__ import annotations

from typing import Any

from records.engine.base import Prompt, Reply
from records.engine.classify import bad_response
from records.engine.http_adapter import HTTPAdapter
from records.engine.sources import normalise_sources

# Finish reasons meaning Gemini refused; asking the same question again gets the same refusal.
_REFUSALS = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"})


class GeminiAdapter(HTTPAdapter):
    """POST ``{base_url}/models/{model}:generateContent`` with ``x-goog-api-key``.

    The question is the only content, sent verbatim; no system instruction.
    """

    def request(self, prompt: Prompt) -> tuple[str, dict[str, str], dict[str, Any]]:
        model = self.config.model.removeprefix("models/")
        return (
            f"{self.config.base_url}/models/{model}:generateContent",
            {"x-goog-api-key": self.config.api_key},
            {"contents": [{"role": "user", "parts": [{"text": prompt.question}]}]},
        )

    def parse(self, data: dict[str, Any]) -> Reply:
        candidates = data.get("candidates")
        if not isinstance(candidates, list) or not candidates:
            blocked = (data.get("promptFeedback") or {}).get("blockReason")
            if blocked:
                raise bad_response(
                    self.platform, f"the question was blocked ({blocked})", retryable=False
                )
            raise bad_response(self.platform, "no candidates in the response")
        candidate = candidates[0]
        parts = (candidate.get("content") or {}).get("parts") or []
        # Thinking models return their reasoning as parts flagged "thought"; not the answer.
        text = "".join(
            str(part.get("text", ""))
            for part in parts
            if isinstance(part, dict) and not part.get("thought")
        )
        if not text.strip():
            reason = candidate.get("finishReason")
            if reason in _REFUSALS:
                raise bad_response(
                    self.platform, f"the answer was withheld ({reason})", retryable=False
                )
            raise bad_response(self.platform, "empty answer")
        usage = data.get("usageMetadata") or {}
        grounding = candidate.get("groundingMetadata") or {}
        return Reply(
            text=text,
            model=str(data.get("modelVersion") or self.config.model),
            prompt_tokens=usage.get("promptTokenCount"),
            completion_tokens=usage.get("candidatesTokenCount"),
            sources=normalise_sources(grounding.get("groundingChunks")),
        )
