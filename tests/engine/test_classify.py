"""Error classification over response shapes the platforms really send."""

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from records.engine.classify import error_from_response, parse_retry_after
from records.engine.errors import describe_failure, scrub


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return httpx.Response(status, text=content, headers=headers)


def openai_error(message: str, code: str = "") -> dict:
    return {"error": {"message": message, "type": code, "code": code}}


def google_error(status: int, message: str) -> dict:
    return {"error": {"code": status, "message": message, "status": "RESOURCE_EXHAUSTED"}}


QUOTA = ("quota_exhausted", False)
RATE = ("rate_limited", True)
AUTH = ("auth_failed", False)
REJECTED = ("bad_response", False)
FAILING = ("network_error", True)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        # DeepSeek, OpenAI, Kimi, DashScope (Qwen), Zhipu and Ark (Doubao) out of money.
        (402, openai_error("Insufficient Balance"), QUOTA),
        (429, openai_error("You exceeded your current quota", "insufficient_quota"), QUOTA),
        (429, openai_error("Account suspended", "exceeded_current_quota_error"), QUOTA),
        (
            400,
            {"code": "Arrearage", "message": "Access denied, account not in good standing"},
            QUOTA,
        ),
        (429, openai_error("您的账户已欠费，请充值后重试。", "1113"), QUOTA),
        (403, openai_error("Your account has an overdue balance.", "AccountOverdueError"), QUOTA),
        # Plain rate limits, though DashScope's and Gemini's mention "quota".
        (429, openai_error("Requests rate limit exceeded", "Throttling.RateQuota"), RATE),
        (429, openai_error("rate limit reached: please try again after 1 seconds"), RATE),
        (429, google_error(429, "Resource has been exhausted (e.g. check quota)."), RATE),
        (401, openai_error("Incorrect API key provided", "invalid_api_key"), AUTH),
        (403, openai_error("Permission denied"), AUTH),
        (400, google_error(400, "API key not valid. Please pass a valid API key."), AUTH),
        (404, openai_error("The model `gpt-9` does not exist", "model_not_found"), REJECTED),
        (
            400,
            openai_error("Input may contain inappropriate content", "data_inspection_failed"),
            REJECTED,
        ),
        (408, "", ("timeout", True)),
        (500, openai_error("The server had an error"), FAILING),
        (502, "<html>Bad Gateway</html>", FAILING),
        (503, "", FAILING),
    ],
)
def test_statuses_and_bodies_map_to_the_taxonomy(status, body, expected):
    error = error_from_response("qwen", response(status, body))

    assert (error.error_type, error.retryable) == expected
    assert error.status_code == status
    assert error.message.startswith("qwen: ")
    assert f"HTTP {status}" in error.message


def test_retry_after_is_read_from_the_header_or_googles_retry_info():
    header = error_from_response(
        "kimi", response(429, openai_error("slow down"), {"Retry-After": "7"})
    )
    body = google_error(429, "Quota exceeded for metric: requests per minute")
    body["error"]["details"] = [{"retryDelay": "2.5s"}]
    google = error_from_response("gemini", response(429, body))

    assert header.retry_after == 7.0
    assert (google.error_type, google.retry_after) == ("rate_limited", 2.5)


def test_a_daily_gemini_quota_is_exhausted_even_with_a_retry_delay():
    body = google_error(429, "You exceeded your current quota.")
    body["error"]["details"] = [
        {"violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
        {"retryDelay": "40s"},
    ]

    error = error_from_response("gemini", response(429, body))

    assert (error.error_type, error.retryable, error.retry_after) == (
        "quota_exhausted",
        False,
        None,
    )


def test_parse_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)

    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(later, now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_error_messages_mask_the_key_and_anything_key_shaped():
    body = openai_error("Incorrect API key provided: my-secret-123. Other: sk-abcdefghijklmnop")

    error = error_from_response("chatgpt", response(401, body), secret="my-secret-123")

    assert "my-secret-123" not in error.message
    assert "sk-abcdefghijklmnop" not in error.message
    assert error.message == (
        "chatgpt: authentication failed (HTTP 401: Incorrect API key provided: ***. Other: ***); "
        "check CHATGPT_API_KEY"
    )


def test_describe_failure_says_what_to_do():
    assert describe_failure("deepseek", "quota_exhausted") == (
        "deepseek: quota exhausted; check the account's balance"
    )
    assert (
        describe_failure("kimi", "auth_failed") == "kimi: authentication failed; check KIMI_API_KEY"
    )
    assert describe_failure("qwen", "rate_limited", retries=3) == (
        "qwen: rate limited after 3 retries; lower the per-platform concurrency or try again later"
    )
    assert describe_failure("zhipu", "timeout", retries=1, detail="no answer within 60 s") == (
        "zhipu: timed out after 1 retry (no answer within 60 s); raise ZHIPU_TIMEOUT or try again "
        "later"
    )
    assert describe_failure("gemini", "cancelled") == "gemini: cancelled"


def test_scrub_shortens_to_one_line():
    assert scrub("a\n  b") == "a b"
    assert len(scrub("x" * 1000)) == 200
