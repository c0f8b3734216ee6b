"""What every HTTP platform adapter shares: one JSON POST per question, timed and classified."""

from __future__ import annotations

import time
from typing import Any, Self

import httpx

from records.engine.base import PlatformError, Prompt, Reply
from records.engine.classify import bad_response, error_from_exception, error_from_response
from records.engine.config import PlatformConfig, env_var
from records.engine.errors import describe_failure
from records.engine.sources import SearchShapeError


class HTTPAdapter:
    """Base for adapters that POST one JSON request per question and parse one JSON reply.

    One ``httpx.Client`` serves every call (connection reuse; httpx clients are thread-safe), so
    one adapter can be shared by all of a run's worker threads. Pass ``client`` to share a client
    between adapters; an adapter closes only a client it created.
    """

    # The access modes (records.engine.base.ACCESS_MODES) this adapter can ask in.
    access_modes: tuple[str, ...] = ("plain",)

    def __init__(self, config: PlatformConfig, *, client: httpx.Client | None = None) -> None:
        self.platform = config.platform
        self.config = config
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client()

    def ask(self, prompt: Prompt) -> Reply:
        """Send ``prompt.question`` verbatim; return the answer or raise ``PlatformError``.

        Raises ``ValueError`` for an access mode this adapter does not offer: the services
        refuse such a request before any call, so reaching here is a bug, not a platform error.
        """
        if prompt.access_mode not in self.access_modes:
            raise ValueError(
                f"{self.platform} has no {prompt.access_mode!r} access mode "
                f"(it offers {', '.join(self.access_modes)})"
            )
        config = self.config
        if not config.configured:
            detail = f"{env_var(self.platform, 'API_KEY')} is not set"
            raise PlatformError(
                "auth_failed", describe_failure(self.platform, "auth_failed", detail=detail)
            )
        started = time.perf_counter()
        reply = self.converse(prompt)
        reply.latency_ms = round((time.perf_counter() - started) * 1000)
        return reply

    def converse(self, prompt: Prompt) -> Reply:
        """One request and its reply; adapters needing a round trip (Kimi's tool call) loop."""
        url, headers, body = self.request(prompt)
        return self.read(self.post(url, headers, body), prompt)

    def post(self, url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body``; the 2xx JSON object, or a classified ``PlatformError``."""
        config = self.config
        try:
            response = self._client.post(
                url, headers=headers, json=body, timeout=httpx.Timeout(config.timeout)
            )
        except httpx.HTTPError as exc:
            raise error_from_exception(
                self.platform, exc, timeout=config.timeout, secret=config.api_key
            ) from exc
        if not response.is_success:
            raise error_from_response(self.platform, response, secret=config.api_key)
        try:
            data = response.json()
        except ValueError:
            raise bad_response(self.platform, "the body is not JSON") from None
        if not isinstance(data, dict):
            raise bad_response(self.platform, "the body is not a JSON object")
        return data

    def read(self, data: dict[str, Any], prompt: Prompt) -> Reply:
        """``parse`` with any shape it did not expect turned into a ``bad_response``."""
        try:
            return self.parse(data, prompt)
        except SearchShapeError as exc:
            # Not retried: the same question gets the same documented-or-not shape, and each
            # retry of a search call is billed.
            raise bad_response(self.platform, str(exc), retryable=False) from exc
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
            raise bad_response(self.platform, f"unexpected shape ({type(exc).__name__})") from exc

    def request(self, prompt: Prompt) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The URL, headers and JSON body that ask ``prompt``."""
        raise NotImplementedError

    def parse(self, data: dict[str, Any], prompt: Prompt) -> Reply:
        """The reply in a 2xx JSON body; raises ``PlatformError`` when it holds no answer."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the HTTP client if this adapter created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"
