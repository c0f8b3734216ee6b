"""Google's Gemini ``generateContent`` protocol, with Google Search grounding in search mode."""

from __future__ import annotations

from typing import Any

from records.engine.base import Prompt, Reply
from records.engine.classify import bad_response
from records.engine.http_adapter import HTTPAdapter
from records.engine.sources import (
    indexed_source,
    normalise_sources,
    search_list,
    search_object,
    text_list,
)

# Finish reasons meaning Gemini refused; asking the same question again gets the same refusal.
_REFUSALS = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"})


class GeminiAdapter(HTTPAdapter):
    """POST ``{base_url}/models/{model}:generateContent`` with ``x-goog-api-key``.

    The question is the only content, sent verbatim; no system instruction. Search mode follows
    https://ai.google.dev/gemini-api/docs/google-search: ``tools: [{"google_search": {}}]``;
    the candidate's ``groundingMetadata`` lists ``webSearchQueries``, ``groundingChunks``
    ({web: {uri, title}}; the uri is a Google redirect and the title the site's domain) and
    ``groundingSupports`` (answer segments with the ``groundingChunkIndices`` backing them).
    """

    access_modes = ("plain", "search")

    def request(self, prompt: Prompt) -> tuple[str, dict[str, str], dict[str, Any]]:
        model = self.config.model_for(prompt.access_mode).removeprefix("models/")
        body: dict[str, Any] = {
            "contents": [{"role": "user", "parts": [{"text": prompt.question}]}]
        }
        if prompt.access_mode == "search":
            body["tools"] = [{"google_search": {}}]
        return (
            f"{self.config.base_url}/models/{model}:generateContent",
            {"x-goog-api-key": self.config.api_key},
            body,
        )

    def parse(self, data: dict[str, Any], prompt: Prompt) -> Reply:
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
        reply = Reply(
            text=text,
            model=str(data.get("modelVersion") or self.config.model_for(prompt.access_mode)),
            prompt_tokens=usage.get("promptTokenCount"),
            completion_tokens=usage.get("candidatesTokenCount"),
        )
        if prompt.access_mode == "search":
            _read_grounding(reply, candidate)
        else:
            grounding = candidate.get("groundingMetadata") or {}
            reply.sources = normalise_sources(grounding.get("groundingChunks"))
        return reply


def _read_grounding(reply: Reply, candidate: dict[str, Any]) -> None:
    """Sources from grounding chunks (index = chunk position + 1), cited when a support uses
    them; the queries Google ran; one billed grounded prompt when it searched."""
    grounding = search_object(candidate, "groundingMetadata", where="candidate")
    if grounding is None:
        return  # the model answered without searching: no sources, nothing billed
    chunks = search_list(grounding, "groundingChunks", where="groundingMetadata")
    supports = search_list(grounding, "groundingSupports", where="groundingMetadata")
    cited: set[int] = set()
    for support in supports:
        indices = support.get("groundingChunkIndices") if isinstance(support, dict) else None
        if isinstance(indices, list):
            cited.update(i for i in indices if isinstance(i, int) and not isinstance(i, bool))
    # Without groundingSupports Gemini does not say which chunks the answer used.
    says = "groundingSupports" in grounding
    sources = []
    for position, chunk in enumerate(chunks):
        web = chunk.get("web") if isinstance(chunk, dict) else None
        if not isinstance(web, dict):
            continue  # not a web chunk (e.g. retrieved context); its position still counts
        title = web.get("title")
        site = web.get("domain") if isinstance(web.get("domain"), str) else title
        flag = (position in cited) if says else None
        sources.append(indexed_source(position + 1, web.get("uri"), title, site, cited=flag))
    reply.sources = [s for s in sources if s is not None]
    reply.web_queries = text_list(grounding.get("webSearchQueries"), where="webSearchQueries")
    # Gemini 2.x bills grounding per prompt that searched, whatever its number of queries.
    reply.search_calls = 1 if reply.web_queries or reply.sources else 0
