import random
import threading
import time

import pytest

from records.engine.base import PlatformError, Reply
from records.engine.retry import RetryPolicy


def failing(*errors: PlatformError, then: Reply | None = None):
    """An ``ask`` raising ``errors`` in turn, then answering ``then``; counts its calls."""
    queue = list(errors)

    def ask() -> Reply:
        ask.calls += 1
        if queue:
            raise queue.pop(0)
        assert then is not None
        return then

    ask.calls = 0
    return ask


def retryable(error_type: str = "network_error", retry_after: float | None = None):
    return PlatformError(error_type, f"x: {error_type}", retryable=True, retry_after=retry_after)


def test_full_jitter_stays_under_the_exponential_ceiling():
    policy = RetryPolicy(base_delay=0.5, max_delay=3, rng=random.Random(7))
    error = retryable()

    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        delays = [policy.delay(retry, error, previous=0.5) for _ in range(500)]
        assert 0 <= min(delays) and max(delays) <= ceiling
        assert max(delays) > ceiling * 0.9  # spread over the whole range


def test_decorrelated_jitter_stays_between_base_delay_and_max_delay():
    policy = RetryPolicy(base_delay=0.5, max_delay=4, jitter="decorrelated", rng=random.Random(1))
    previous = 0.5
    for retry in range(1, 50):
        previous = policy.delay(retry, retryable(), previous)
        assert 0.5 <= previous <= 4


def test_retry_after_replaces_the_backoff_and_is_capped_by_max_delay():
    policy = RetryPolicy(base_delay=0.5, max_delay=20, jitter="none")

    assert policy.delay(1, retryable("rate_limited", retry_after=7), 0.5) == 7
    assert policy.delay(1, retryable("rate_limited", retry_after=120), 0.5) == 20
    assert policy.delay(3, retryable("rate_limited"), 0.5) == 2.0


def test_retryable_errors_are_retried_until_an_answer():
    sleeps = []
    ask = failing(retryable("timeout"), retryable("rate_limited", 0.2), then=Reply("ok"))

    result = RetryPolicy(base_delay=0.1, jitter="none", sleep=sleeps.append).call(
        ask, platform="qwen"
    )

    assert result.reply == Reply("ok")
    assert (result.error, result.attempts, result.retries, ask.calls) == (None, 3, 2, 3)
    assert sleeps == [0.1, 0.2]


def test_errors_not_marked_retryable_are_returned_at_once():
    quota = PlatformError("quota_exhausted", "deepseek: quota exhausted")
    ask = failing(quota, then=Reply("never"))

    result = RetryPolicy(sleep=lambda s: None).call(ask, platform="deepseek")

    assert result.error is quota
    assert (result.attempts, result.retries, ask.calls) == (1, 0, 1)


def test_retries_stop_at_max_retries_and_the_message_counts_them():
    ask = failing(*[retryable("rate_limited")] * 5)

    result = RetryPolicy(max_retries=3, sleep=lambda s: None).call(ask, platform="qwen")

    assert ask.calls == 4
    assert result.retries == 3
    assert result.error.error_type == "rate_limited"
    assert result.error.message == (
        "qwen: rate limited after 3 retries; lower the per-platform concurrency or try again later"
    )


def test_other_exceptions_become_internal_errors_and_are_not_retried():
    def ask() -> Reply:
        raise ZeroDivisionError("division by zero")

    result = RetryPolicy(sleep=lambda s: None).call(ask, platform="kimi")

    assert (result.error.error_type, result.attempts) == ("internal", 1)
    assert result.error.message == (
        "kimi: internal error (ZeroDivisionError: division by zero); see the server logs"
    )


def test_cancelling_wakes_a_backoff_wait_at_once():
    cancel = threading.Event()
    ask = failing(*[retryable("rate_limited", retry_after=30)] * 2, then=Reply("late"))
    threading.Timer(0.1, cancel.set).start()
    started = time.monotonic()

    result = RetryPolicy(max_delay=60).call(ask, platform="doubao", cancel=cancel)

    assert time.monotonic() - started < 1
    assert (result.error.error_type, result.attempts, ask.calls) == ("cancelled", 1, 1)
    assert result.error.message == "doubao: cancelled (while waiting to retry after rate limited)"


def test_a_cancelled_call_never_starts():
    cancel = threading.Event()
    cancel.set()
    ask = failing(then=Reply("never"))

    result = RetryPolicy().call(ask, platform="zhipu", cancel=cancel)

    assert (result.attempts, ask.calls, result.error.error_type) == (0, 0, "cancelled")


@pytest.mark.parametrize(
    "kwargs", [{"max_retries": -1}, {"base_delay": 5, "max_delay": 1}, {"jitter": "some"}]
)
def test_nonsense_policies_are_refused(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)
