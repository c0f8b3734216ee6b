import threading
import time

import pytest

from records.engine.adapters import build_adapter
from records.engine.base import Prompt, Reply
from records.engine.config import platform_configs
from records.engine.retry import RetryPolicy
from records.engine.runner import Cell, MatrixRunner, Outcome
from tests.fakes.platform_server import FakePlatformServer, ok, rate_limited

NO_RETRY = RetryPolicy(max_retries=0)


def cells_for(platforms, count):
    return [
        Cell((platform, i), platform, Prompt(f"question {i}"))
        for i in range(count)
        for platform in platforms
    ]


def outcomes(iterator) -> list[Outcome]:
    return [item for item in iterator if item is not None]


@pytest.fixture
def slow_server():
    with FakePlatformServer(latency_ms=100) as server:
        yield server


def adapters_for(server, platforms):
    configs = platform_configs(server.environ(platforms))
    return {platform: build_adapter(platform, configs[platform]) for platform in platforms}


def test_concurrency_stays_within_the_global_and_per_platform_limits(slow_server):
    platforms = ("deepseek", "kimi", "gemini", "wenxin")
    runner = MatrixRunner(
        adapters_for(slow_server, platforms),
        global_limit=5,
        per_platform_limit=2,
        retry=NO_RETRY,
    )

    results = outcomes(runner.run(cells_for(platforms, 6)))

    assert len(results) == 24 and all(o.ok for o in results)
    assert slow_server.peak_in_flight() == 5
    assert [slow_server.peak_in_flight(p) for p in platforms] == [2, 2, 2, 2]


def test_one_busy_platform_does_not_hold_back_the_others(slow_server):
    # 8 deepseek cells first in the input, then 2 kimi ones: kimi must not wait behind them.
    cells = cells_for(("deepseek",), 8) + cells_for(("kimi",), 2)
    runner = MatrixRunner(
        adapters_for(slow_server, ("deepseek", "kimi")),
        global_limit=4,
        per_platform_limit=2,
        retry=NO_RETRY,
    )

    results = outcomes(runner.run(cells))

    assert [o.platform for o in results[:4]].count("kimi") == 2
    assert slow_server.peak_in_flight() == 4


def test_outcomes_stream_to_the_caller_as_calls_finish(fake_server):
    fake_server.script("qwen", ok(seconds=1.0))
    cells = [Cell("slow", "qwen", Prompt("slow")), Cell("fast", "kimi", Prompt("fast"))]
    runner = MatrixRunner(
        adapters_for(fake_server, ("qwen", "kimi")),
        global_limit=2,
        per_platform_limit=1,
        retry=NO_RETRY,
    )
    started = time.monotonic()
    arrivals = []
    caller = threading.current_thread()

    for item in runner.run(cells):
        assert threading.current_thread() is caller
        if item is not None:
            arrivals.append((item.key, time.monotonic() - started))

    assert [key for key, _ in arrivals] == ["fast", "slow"]
    assert arrivals[0][1] < 0.5 <= arrivals[1][1]


def test_ticks_yield_none_while_nothing_finishes(fake_server):
    fake_server.script("zhipu", ok(seconds=0.5))
    runner = MatrixRunner(
        adapters_for(fake_server, ("zhipu",)),
        global_limit=1,
        per_platform_limit=1,
        retry=NO_RETRY,
        tick_seconds=0.05,
    )

    items = list(runner.run([Cell(1, "zhipu", Prompt("q"))]))

    assert 5 <= items.count(None) <= 11
    assert isinstance(items[-1], Outcome) and items[-1].ok


def test_stop_starts_nothing_new_and_yields_the_calls_in_flight(slow_server):
    runner = MatrixRunner(
        adapters_for(slow_server, ("doubao",)),
        global_limit=4,
        per_platform_limit=2,
        retry=NO_RETRY,
    )
    results = []

    for item in runner.run(cells_for(("doubao",), 20)):
        if item is not None:
            results.append(item)
            runner.stop()

    # At stop: at most 2 in flight (one maybe started by the worker that just finished).
    assert 1 <= len(results) <= 3
    assert len(slow_server.requests) == len(results)
    assert all(o.ok for o in results)


def test_stop_wakes_a_call_waiting_to_retry(fake_server):
    fake_server.script("chatgpt", rate_limited("30"))
    runner = MatrixRunner(
        adapters_for(fake_server, ("chatgpt",)),
        global_limit=1,
        per_platform_limit=1,
        retry=RetryPolicy(max_delay=60),
        tick_seconds=0.05,
    )
    items = []
    stopped_at = None

    for item in runner.run([Cell(1, "chatgpt", Prompt("q")), Cell(2, "chatgpt", Prompt("q"))]):
        items.append(item)
        if item is None and stopped_at is None and fake_server.requests:
            runner.stop()
            stopped_at = time.monotonic()

    assert time.monotonic() - stopped_at < 0.5
    [outcome] = [item for item in items if item is not None]
    assert (outcome.key, outcome.error.error_type, outcome.attempts) == (1, "cancelled", 1)
    assert len(fake_server.requests) == 1


def test_leaving_the_loop_abandons_calls_in_flight(fake_server):
    fake_server.script("kimi", ok(seconds=2))
    runner = MatrixRunner(
        adapters_for(fake_server, ("kimi",)), global_limit=1, per_platform_limit=1, retry=NO_RETRY
    )
    started = time.monotonic()

    for item in runner.run(cells_for(("kimi",), 3)):
        assert item is None
        break

    assert time.monotonic() - started < 1.5
    assert runner.cancel_event.is_set()


def test_an_adapter_raising_anything_gives_an_internal_outcome_and_the_run_goes_on():
    def broken(prompt: Prompt) -> Reply:
        raise KeyError("surprise")

    def working(prompt: Prompt) -> Reply:
        return Reply(f"answer to {prompt.question}")

    runner = MatrixRunner(
        {"broken": broken, "working": working},
        global_limit=2,
        per_platform_limit=1,
        retry=RetryPolicy(sleep=lambda s: None),
    )

    results = {o.key: o for o in outcomes(runner.run(cells_for(("broken", "working"), 2)))}

    assert len(results) == 4
    assert results[("broken", 0)].error.error_type == "internal"
    assert results[("broken", 0)].attempts == 1
    assert results[("working", 1)].reply == Reply("answer to question 1")


def test_objects_with_an_ask_method_plug_in_like_the_demo_adapter():
    class Offline:
        platform = "demo"

        def ask(self, prompt: Prompt) -> Reply:
            return Reply(prompt.question.upper(), synthetic=True)

    runner = MatrixRunner({"demo": Offline()}, global_limit=3, per_platform_limit=3, retry=NO_RETRY)

    [outcome] = outcomes(runner.run([Cell("k", "demo", Prompt("hi"))]))

    assert outcome.reply == Reply("HI", synthetic=True)
    assert (outcome.retries, outcome.attempts) == (0, 1)
    assert outcome.started <= outcome.finished


def test_a_cell_for_a_platform_without_adapter_gives_an_internal_outcome():
    runner = MatrixRunner({}, global_limit=1, per_platform_limit=1, retry=NO_RETRY)

    [outcome] = outcomes(runner.run([Cell("k", "nowhere", Prompt("q"))]))

    assert outcome.error.error_type == "internal"
    assert outcome.error.message == (
        "nowhere: internal error (no adapter for this platform); see the server logs"
    )


def test_retries_are_counted_on_the_outcome(fake_server):
    fake_server.script("deepseek", rate_limited("0"), rate_limited("0"), ok())
    runner = MatrixRunner(
        adapters_for(fake_server, ("deepseek",)),
        global_limit=1,
        per_platform_limit=1,
        retry=RetryPolicy(sleep=lambda s: None),
    )

    [outcome] = outcomes(runner.run([Cell("k", "deepseek", Prompt("q"))]))

    assert outcome.ok and (outcome.retries, outcome.attempts) == (2, 3)


def test_a_runner_runs_once():
    runner = MatrixRunner({}, global_limit=1, per_platform_limit=1, retry=NO_RETRY)
    list(runner.run([]))

    with pytest.raises(RuntimeError):
        list(runner.run([]))
