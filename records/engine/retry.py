"""Retrying one platform call: exponential backoff with jitter, honouring Retry-After."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from records.engine.base import PlatformError, Reply
from records.engine.errors import describe_failure, scrub

logger = logging.getLogger(__name__)

Jitter = Literal["full", "decorrelated", "none"]


@dataclass(frozen=True, slots=True)
class RetryResult:
    """How one call ended: a reply or the final error, and how many attempts it took.

    ``attempts`` is 0 when the call was cancelled before its first attempt.
    """

    reply: Reply | None
    error: PlatformError | None
    attempts: int

    @property
    def retries(self) -> int:
        """Attempts after the first."""
        return max(0, self.attempts - 1)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries errors marked ``retryable`` up to ``max_retries`` times.

    The n-th retry waits ``min(max_delay, base_delay * 2**(n-1))`` scaled by ``jitter``: "full"
    draws uniformly from [0, that] (AWS "full jitter"), "decorrelated" draws from
    [base_delay, 3 x the previous wait], "none" waits exactly that. A ``retry_after`` the platform
    sent replaces the computed wait, capped at ``max_delay``.

    Waits block on the caller's cancel event, so cancelling wakes them at once. ``sleep``
    replaces that wait (tests record delays with it); the cancel event is then checked after it.
    """

    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: Jitter = "full"
    sleep: Callable[[float], object] | None = None
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("need max_retries >= 0 and 0 <= base_delay <= max_delay")
        if self.jitter not in ("full", "decorrelated", "none"):
            raise ValueError(f"unknown jitter {self.jitter!r}")

    def delay(self, retry: int, error: PlatformError, previous: float) -> float:
        """Seconds to wait before retry number ``retry`` (1-based) after ``error``."""
        if error.retry_after is not None:
            return min(self.max_delay, max(0.0, error.retry_after))
        if self.jitter == "decorrelated":
            return min(self.max_delay, self.rng.uniform(self.base_delay, max(previous, 1e-9) * 3))
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return self.rng.uniform(0, ceiling) if self.jitter == "full" else ceiling

    def call(
        self,
        ask: Callable[[], Reply],
        *,
        platform: str,
        cancel: threading.Event | None = None,
    ) -> RetryResult:
        """Call ``ask`` until it answers, fails for good, runs out of retries or is cancelled.

        Never raises for a failed call: exceptions other than ``PlatformError`` become
        ``internal`` errors (logged with their traceback) and are not retried.
        """
        cancel = cancel if cancel is not None else threading.Event()
        attempts = 0
        previous = self.base_delay
        error: PlatformError | None = None
        while True:
            if cancel.is_set():
                return RetryResult(None, _cancelled(platform, attempts, error), attempts)
            attempts += 1
            try:
                return RetryResult(ask(), None, attempts)
            except PlatformError as exc:
                error = exc
            except Exception as exc:
                logger.exception("%s: the adapter raised %s", platform, type(exc).__name__)
                detail = scrub(f"{type(exc).__name__}: {exc}")
                error = PlatformError(
                    "internal", describe_failure(platform, "internal", detail=detail), detail=detail
                )
            retries = attempts - 1
            if not error.retryable or retries >= self.max_retries:
                return RetryResult(None, _final(platform, error, retries), attempts)
            previous = self.delay(retries + 1, error, previous)
            logger.info(
                "%s: %s; retry %d/%d in %.2f s",
                platform,
                error.error_type,
                retries + 1,
                self.max_retries,
                previous,
            )
            self._wait(previous, cancel)

    def _wait(self, seconds: float, cancel: threading.Event) -> None:
        """Wait ``seconds``, returning early if ``cancel`` is set (unless ``sleep`` is injected)."""
        if self.sleep is None:
            cancel.wait(seconds)
        else:
            self.sleep(seconds)


def _cancelled(platform: str, attempts: int, last: PlatformError | None) -> PlatformError:
    if last is None:
        detail = "before the first attempt"
    else:
        detail = f"while waiting to retry after {last.error_type.replace('_', ' ')}"
    return PlatformError(
        "cancelled",
        describe_failure(platform, "cancelled", retries=max(0, attempts - 1), detail=detail),
        status_code=last.status_code if last else None,
        detail=detail,
    )


def _final(platform: str, error: PlatformError, retries: int) -> PlatformError:
    """The last error, its message restated with the retries spent on it."""
    if not retries:
        return error
    return PlatformError(
        error.error_type,
        describe_failure(platform, error.error_type, retries=retries, detail=error.detail),
        retryable=error.retryable,
        retry_after=error.retry_after,
        status_code=error.status_code,
        detail=error.detail,
    )
