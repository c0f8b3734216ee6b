"""Messages for failed calls that a person can act on, and scrubbing secrets out of them."""

from __future__ import annotations

import re

from records.engine.config import env_var

_WHAT = {
    "timeout": "timed out",
    "rate_limited": "rate limited",
    "quota_exhausted": "quota exhausted",
    "auth_failed": "authentication failed",
    "bad_response": "unusable response",
    "network_error": "unreachable or failing",
    "cancelled": "cancelled",
    "worker_lost": "worker lost mid-call",
    "internal": "internal error",
}

# "{P}" becomes the platform's env prefix, so the advice names the exact variable to fix.
_ADVICE = {
    "timeout": "raise {P}_TIMEOUT or try again later",
    "rate_limited": "lower the per-platform concurrency or try again later",
    "quota_exhausted": "check the account's balance",
    "auth_failed": "check {P}_API_KEY",
    "bad_response": "check {P}_MODEL and {P}_BASE_URL",
    "network_error": "check {P}_BASE_URL and the platform's status page",
    "cancelled": "",
    "worker_lost": "retry the run",
    "internal": "see the server logs",
}

DETAIL_LIMIT = 200

# Shapes of API keys the platforms we call use (OpenAI-style sk-..., Qianfan bce-v3/...,
# Google AIza...), masked even when they are not ours, e.g. echoed back in an error body.
_KEYLIKE = re.compile(r"\b(?:sk-[\w\-]{8,}|bce-v3/[\w\-/]{8,}|AIza[\w\-]{20,})")


def describe_failure(platform: str, error_type: str, *, retries: int = 0, detail: str = "") -> str:
    """One line for people: ``"deepseek: quota exhausted; check the account's balance"``.

    ``retries`` adds "after N retries"; ``detail`` (what the platform said) goes in parentheses.
    """
    parts = [f"{platform}: {_WHAT.get(error_type, error_type)}"]
    if retries:
        parts.append(f" after {retries} {'retry' if retries == 1 else 'retries'}")
    if detail:
        parts.append(f" ({detail})")
    advice = _ADVICE.get(error_type, "").format(P=env_var(platform, "").rstrip("_"))
    if advice:
        parts.append(f"; {advice}")
    return "".join(parts)


def scrub(text: str, secret: str = "") -> str:
    """``text`` on one line, shortened, with ``secret`` and anything key-shaped masked."""
    if secret and len(secret) >= 4:
        text = text.replace(secret, "***")
    text = _KEYLIKE.sub("***", text)
    text = " ".join(text.split())
    if len(text) > DETAIL_LIMIT:
        text = text[: DETAIL_LIMIT - 1] + "…"
    return text
