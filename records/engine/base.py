"""The small interface every platform adapter implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

# How a platform is asked: ``plain`` is the chat API with web search off; ``search`` has the
# platform search the web before it answers (where its API offers that). A run and a monitor
# use one mode; answers, scores and trends of different modes are never compared.
ACCESS_MODES = ("plain", "search")

# Wire strings of docs/architecture.md's error taxonomy.
ERROR_TYPES = (
    "timeout",
    "rate_limited",
    "quota_exhausted",
    "auth_failed",
    "bad_response",
    "network_error",
    "cancelled",
    "worker_lost",
    "internal",
)


@dataclass(frozen=True, slots=True)
class Prompt:
    """One question as sent to a platform, plus the run's tracked brands.

    Real adapters send ``question`` verbatim and never look at ``brands``; only the offline
    ``demo`` platform uses them to synthesise a plausible answer.
    """

    question: str
    brands: tuple[str, ...] = ()
    seed: str = ""
    # The day a monitor's run stands for (its scheduled period); None for a one-off test. Only
    # the demo platform reads it, to let a demo monitor's history move over time.
    day: date | None = None
    # One of ACCESS_MODES; an adapter asked for a mode it does not offer raises ValueError.
    access_mode: str = "plain"


@dataclass(slots=True)
class Reply:
    """A successful platform answer."""

    text: str
    model: str = ""
    latency_ms: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    # Structured sources the platform returned, in its order: [{"index": 1, "url": ...,
    # "title": ..., "site_name": ..., "cited": bool | None}, ...]. ``index`` is the number the
    # answer's inline markers ([1], [citation:1], 【1】, ^1) refer to; ``cited`` is True when the
    # platform marks the source as cited, False when only retrieved, None when it does not say.
    sources: list[dict[str, Any]] = field(default_factory=list)
    # The web queries the platform ran for this answer, where it reports them.
    web_queries: list[str] = field(default_factory=list)
    # Billable web-search calls this answer made (0 in plain mode); priced by settings.
    search_calls: int = 0
    synthetic: bool = False


class PlatformError(Exception):
    """A failed platform call, classified by ``error_type``."""

    def __init__(
        self,
        error_type: str,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status_code: int | None = None,
        detail: str = "",
    ) -> None:
        assert error_type in ERROR_TYPES, error_type
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.status_code = status_code
        # What the platform said (e.g. "HTTP 402: Insufficient Balance"), already free of secrets;
        # kept apart from ``message`` so a final message can be rebuilt after retries.
        self.detail = detail


class Adapter(Protocol):
    """Asks one platform one question."""

    platform: str
    # The ACCESS_MODES this adapter can ask in; "plain" always.
    access_modes: tuple[str, ...]

    def ask(self, prompt: Prompt) -> Reply:
        """Return the answer or raise ``PlatformError``."""
        ...
