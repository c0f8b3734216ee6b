"""Every platform's adapter against the fake platform server, over real HTTP."""

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from records.engine.adapters import build_adapter
from records.engine.base import PlatformError, Prompt
from records.engine.config import DEFAULTS, PLATFORMS, platform_configs
from records.engine.retry import RetryPolicy, RetryResult
from tests.fakes.platform_server import Behaviour, hang, ok, rate_limited, server_error

QUESTION = "中医推拿哪家好？"
OPENAI_PLATFORMS = tuple(p for p in PLATFORMS if p != "gemini")


def ask(config, *, sleeps=None, max_retries=3) -> RetryResult:
    """Ask QUESTION through the platform's adapter with the standard retry policy."""
    policy = RetryPolicy(
        max_retries=max_retries,
        base_delay=0.01,
        max_delay=5,
        jitter="none",
        sleep=(sleeps if sleeps is not None else []).append,
    )
    with build_adapter(config.platform, config) as adapter:
        return policy.call(lambda: adapter.ask(Prompt(QUESTION)), platform=config.platform)


def ask_once(config):
    with build_adapter(config.platform, config) as adapter:
        return adapter.ask(Prompt(QUESTION, brands=("松鹤堂", "康复之家")))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_question_is_sent_verbatim_alone_with_the_key_in_the_protocols_header(
    platform, fake_server, fake_configs
):
    ask_once(fake_configs[platform])

    [request] = fake_server.requests
    model = DEFAULTS[platform][1]
    if platform == "gemini":
        assert request.path == f"/gemini/models/{model}:generateContent"
        assert request.headers["x-goog-api-key"] == "test-key-gemini"
        assert "authorization" not in request.headers
        assert request.body == {"contents": [{"role": "user", "parts": [{"text": QUESTION}]}]}
    else:
        assert request.path == f"/{platform}/chat/completions"
        assert request.headers["authorization"] == f"Bearer test-key-{platform}"
        # The whole body: no system prompt, no brands, no format instructions.
        assert request.body == {"model": model, "messages": [{"role": "user", "content": QUESTION}]}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_success_records_answer_model_latency_and_usage(platform, fake_server, fake_configs):
    fake_server.script(platform, ok("1. 松鹤堂\n2. 康复之家", seconds=0.05))

    reply = ask_once(fake_configs[platform])

    assert reply.text == "1. 松鹤堂\n2. 康复之家"
    assert reply.model == DEFAULTS[platform][1]
    assert 50 <= reply.latency_ms < 1000
    assert (reply.prompt_tokens, reply.completion_tokens) == (len(QUESTION), len(reply.text))
    assert reply.sources == []
    assert not reply.synthetic


SOURCES = (("https://www.zhihu.com/question/1", "知乎"), ("https://www.dianping.com/shop/2", ""))


@pytest.mark.parametrize(
    ("platform", "style"),
    [
        ("kimi", "citations"),
        ("qwen", "search_results"),
        ("chatgpt", "annotations"),
        ("gemini", "grounding"),
    ],
)
def test_platform_sources_are_normalised_to_url_and_title(
    platform, style, fake_server, fake_configs
):
    fake_server.script(platform, ok(sources=SOURCES, style=style))

    reply = ask_once(fake_configs[platform])

    expected_titles = ["", ""] if style == "citations" else ["知乎", ""]
    assert reply.sources == [
        {"url": url, "title": title}
        for (url, _), title in zip(SOURCES, expected_titles, strict=True)
    ]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_rate_limit_is_retried_after_the_retry_after_delay(platform, fake_server, fake_configs):
    fake_server.script(platform, rate_limited("0.05"), ok())
    sleeps = []

    result = ask(fake_configs[platform], sleeps=sleeps)

    assert result.reply is not None and result.error is None
    assert (result.retries, result.attempts) == (1, 2)
    assert sleeps == [0.05]
    assert len(fake_server.requests) == 2


def test_retry_after_as_an_http_date_is_honoured(fake_server, fake_configs):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    fake_server.script("deepseek", rate_limited(when), ok())
    sleeps = []

    result = ask(fake_configs["deepseek"], sleeps=sleeps)

    assert result.reply is not None
    assert 1.0 <= sleeps[0] <= 3.0  # HTTP dates have one-second precision


def test_geminis_per_minute_quota_429_is_a_rate_limit_with_its_retry_delay(
    fake_server, fake_configs
):
    fake_server.script("gemini", Behaviour("gemini_rate_limited"), ok())
    sleeps = []

    result = ask(fake_configs["gemini"], sleeps=sleeps)

    assert result.reply is not None
    assert sleeps == [0.05]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_server_errors_are_retried_then_reported_as_network_errors(
    platform, fake_server, fake_configs
):
    fake_server.script(platform, *[server_error(500)] * 4)
    sleeps = []

    result = ask(fake_configs[platform], sleeps=sleeps)

    assert result.reply is None
    assert result.error.error_type == "network_error"
    assert result.error.status_code == 500
    assert (result.retries, result.attempts) == (3, 4)
    assert sleeps == [0.01, 0.02, 0.04]  # exponential, jitter off
    assert result.error.message.startswith(f"{platform}: unreachable or failing after 3 retries")
    assert len(fake_server.requests) == 4


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_call_slower_than_the_timeout_is_retried_then_times_out(platform, fake_server):
    configs = platform_configs({**fake_server.environ(), f"{platform.upper()}_TIMEOUT": "0.2"})
    fake_server.script(platform, hang(5), hang(5))

    result = ask(configs[platform], max_retries=1)

    assert result.error.error_type == "timeout"
    assert (result.retries, result.attempts) == (1, 2)
    assert result.error.message == (
        f"{platform}: timed out after 1 retry (no answer within 0.2 s); "
        f"raise {platform.upper()}_TIMEOUT or try again later"
    )


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("kind", ["malformed", "empty"])
def test_a_2xx_without_a_usable_answer_is_a_retryable_bad_response(
    platform, kind, fake_server, fake_configs
):
    fake_server.script(platform, Behaviour(kind))

    with pytest.raises(PlatformError) as caught:
        ask_once(fake_configs[platform])

    assert (caught.value.error_type, caught.value.retryable) == ("bad_response", True)
    assert caught.value.message.startswith(f"{platform}: unusable response (")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_auth_errors_are_not_retried_and_never_show_the_key(platform, fake_server, fake_configs):
    # The fake echoes the key back in its 401 body, as OpenAI does (partly masked).
    fake_server.script(platform, Behaviour("auth_error"), ok())

    result = ask(fake_configs[platform])

    assert result.error.error_type == "auth_failed"
    assert result.attempts == 1
    assert len(fake_server.requests) == 1
    assert f"test-key-{platform}" not in result.error.message
    assert result.error.message.endswith(f"; check {platform.upper()}_API_KEY")


QUOTA_CASES = [(p, kind) for p in OPENAI_PLATFORMS for kind in ("quota_deepseek", "quota_openai")]


@pytest.mark.parametrize(("platform", "kind"), [*QUOTA_CASES, ("gemini", "quota_gemini")])
def test_quota_errors_are_not_retried(platform, kind, fake_server, fake_configs):
    fake_server.script(platform, Behaviour(kind), ok())

    result = ask(fake_configs[platform])

    assert result.error.error_type == "quota_exhausted"
    assert result.attempts == 1
    assert len(fake_server.requests) == 1
    assert result.error.message.endswith("; check the account's balance")


def test_deepseek_insufficient_balance_reads_as_quota_exhausted(fake_server, fake_configs):
    fake_server.script("deepseek", Behaviour("quota_deepseek"))

    with pytest.raises(PlatformError) as caught:
        ask_once(fake_configs["deepseek"])

    assert caught.value.message == (
        "deepseek: quota exhausted (HTTP 402: Insufficient Balance); check the account's balance"
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_unconfigured_platform_fails_without_a_request(platform, fake_server):
    config = platform_configs({f"{platform.upper()}_BASE_URL": fake_server.base_url})[platform]

    with pytest.raises(PlatformError) as caught:
        ask_once(config)

    assert (caught.value.error_type, caught.value.retryable) == ("auth_failed", False)
    assert f"{platform.upper()}_API_KEY is not set" in caught.value.message
    assert fake_server.requests == []


def test_a_refused_connection_is_a_retryable_network_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    environ = {"QWEN_API_KEY": "k-secret", "QWEN_BASE_URL": f"http://127.0.0.1:{port}/v1"}

    with pytest.raises(PlatformError) as caught:
        ask_once(platform_configs(environ)["qwen"])

    assert (caught.value.error_type, caught.value.retryable) == ("network_error", True)
    assert caught.value.message.startswith("qwen: unreachable or failing (ConnectError")


def test_one_adapter_reuses_its_connection(fake_server, fake_configs):
    with build_adapter("kimi", fake_configs["kimi"]) as adapter:
        for _ in range(3):
            adapter.ask(Prompt(QUESTION))

    assert len({request.client_port for request in fake_server.requests}) == 1
