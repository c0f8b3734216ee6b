"""Turns HTTP failures into ``PlatformError``s of docs/architecture.md's taxonomy.

Decisions:
- 5xx is ``network_error`` (retryable): the platform could not produce an answer, like a dropped
  connection; ``bad_response`` is kept for answers we received but cannot use.
- Other 4xx (400, 404, 422: unknown model or endpoint id, rejected or filtered input) are
  ``bad_response`` and not retryable: asking again sends the same request.
- A 2xx we cannot parse, or with no answer in it, is ``bad_response`` and retryable (gateways
  truncate bodies; models occasionally return nothing), except an explicit content refusal,
  which the adapters raise as not retryable.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from records.engine.base import PlatformError
from records.engine.errors import describe_failure, scrub

# Lower-cased fragments of error bodies meaning "the account is out of money or quota", which
# no retry fixes. Bare "quota" is not one: Gemini's and Qwen's plain rate limits mention quota.
_QUOTA_MARKERS = (
    "insufficient_quota",
    "insufficient quota",
    "exceeded your current quota",
    "exceeded_current_quota",
    "balance",
    "arrearage",
    "overdue",
    "freetieronly",
    "欠费",
    "余额不足",
)
# Gemini says "You exceeded your current quota" for per-minute limits too; those pass.
_WAITABLE_MARKERS = ("perminute", "per minute", "retrydelay")
_DAILY_MARKERS = ("perday", "per day")
_BAD_KEY_MARKERS = ("api key not valid", "api_key_invalid", "invalid api key", "invalid_api_key")

_RETRY_DELAY = re.compile(r'"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"')


def error_from_response(
    platform: str, response: httpx.Response, *, secret: str = ""
) -> PlatformError:
    """Classify a non-2xx response; ``secret`` is masked out of the message."""
    status = response.status_code
    body = response.text[:4000]
    lowered = body.lower()
    detail = scrub(f"HTTP {status}: {_platform_message(body)}", secret)
    retry_after = parse_retry_after(response.headers.get("retry-after")) or _retry_delay(body)

    def error(error_type: str, retryable: bool) -> PlatformError:
        return PlatformError(
            error_type,
            describe_failure(platform, error_type, detail=detail),
            retryable=retryable,
            retry_after=retry_after if retryable else None,
            status_code=status,
            detail=detail,
        )

    if status == 402 or (status in (400, 403, 429) and _is_quota(lowered)):
        return error("quota_exhausted", retryable=False)
    if status in (401, 403) or (status == 400 and any(m in lowered for m in _BAD_KEY_MARKERS)):
        return error("auth_failed", retryable=False)
    if status == 429:
        return error("rate_limited", retryable=True)
    if status == 408:
        return error("timeout", retryable=True)
    if status >= 500:
        return error("network_error", retryable=True)
    return error("bad_response", retryable=False)


def error_from_exception(
    platform: str, exc: httpx.HTTPError, *, timeout: float, secret: str = ""
) -> PlatformError:
    """Classify a failure to get any response (timeouts, refused or dropped connections)."""
    if isinstance(exc, httpx.TimeoutException):
        detail = f"no answer within {timeout:g} s"
        return PlatformError(
            "timeout",
            describe_failure(platform, "timeout", detail=detail),
            retryable=True,
            detail=detail,
        )
    detail = scrub(f"{type(exc).__name__}: {exc}", secret)
    if isinstance(exc, httpx.TransportError):
        # A malformed base URL fails the same way every time.
        retryable = not isinstance(exc, httpx.UnsupportedProtocol)
        return PlatformError(
            "network_error",
            describe_failure(platform, "network_error", detail=detail),
            retryable=retryable,
            detail=detail,
        )
    return bad_response(platform, detail, retryable=False)


# Error text as other clients wrote it (the legacy service: requests, the openai SDK), by type,
# checked in this order; the quota and bad-key markers above come first.
_TEXT_MARKERS = (
    (
        "auth_failed",
        (
            "401",
            "unauthorized",
            "authenticationerror",
            "authentication fails",
            "permissiondenied",
            "incorrect api key",
        ),
    ),
    ("rate_limited", ("429", "rate limit", "ratelimit", "too many requests", "rate_limit")),
    ("timeout", ("timed out", "timeout", "408", "deadline exceeded", "超时")),
    (
        "network_error",
        (
            "connection",
            "max retries exceeded",
            "name or service not known",
            "temporary failure in name resolution",
            "remotedisconnected",
            "bad gateway",
            "service unavailable",
            "502",
            "503",
            "504",
        ),
    ),
    (
        "bad_response",
        (
            "jsondecodeerror",
            "expecting value",
            "invalid json",
            "keyerror",
            "empty response",
            "no choices",
        ),
    ),
)


def error_type_from_text(text: str) -> str | None:
    """The taxonomy's error type that an error message written by another client names, e.g.
    ``"HTTPSConnectionPool(...): Read timed out."`` -> ``timeout``; None when it names none."""
    lowered = text.lower()
    if _is_quota(lowered):
        return "quota_exhausted"
    if any(marker in lowered for marker in _BAD_KEY_MARKERS):
        return "auth_failed"
    for error_type, markers in _TEXT_MARKERS:
        if any(_names(lowered, marker) for marker in markers):
            return error_type
    return None


def _names(lowered: str, marker: str) -> bool:
    """``marker`` in the text; a status code only as a whole number ("4010 tokens" is none)."""
    if marker.isdigit():
        return re.search(rf"(?<!\d){marker}(?!\d)", lowered) is not None
    return marker in lowered


def bad_response(platform: str, detail: str, *, retryable: bool = True) -> PlatformError:
    """A response we received but cannot use (see the module docstring for retryability)."""
    return PlatformError(
        "bad_response",
        describe_failure(platform, "bad_response", detail=detail),
        retryable=retryable,
        detail=detail,
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are always UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _retry_delay(body: str) -> float | None:
    """Google's RetryInfo (``"retryDelay": "37s"``), Gemini's stand-in for Retry-After."""
    match = _RETRY_DELAY.search(body)
    return float(match.group(1)) if match else None


def _is_quota(lowered: str) -> bool:
    if any(m in lowered for m in _DAILY_MARKERS):
        return True  # a daily limit cannot be waited out within a run
    if any(m in lowered for m in _WAITABLE_MARKERS):
        return False
    return any(m in lowered for m in _QUOTA_MARKERS)


def _platform_message(body: str) -> str:
    """The human part of an error body: OpenAI/Google ``error.message`` and common variants."""
    try:
        data = json.loads(body)
    except ValueError:
        return body or "empty body"
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str) and error:
            return error
        for key in ("message", "error_msg", "msg"):
            if data.get(key):
                return str(data[key])
    return body
