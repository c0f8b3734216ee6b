"""Engine concurrency: a 3 questions x 6 platforms x 3 repeats matrix (54 calls) through
``MatrixRunner`` and the real HTTP adapters, against the fake platform answering in 200 ms.

With a global bound of 9 the ideal is 54 / 9 x 0.2 s = 1.2 s; the bar is elapsed <= 1.3x ideal.
Run from the project root::

    .venv/bin/python -m bench.engine_concurrency [--latency-ms 200] [--runs 3]

``fake_platforms()`` is reusable to drive a full Django execution against the same fake::

    with fake_platforms(latency_ms=200) as (server, environ):
        os.environ.update(environ)  # before the worker reads platform settings
        ...start and run a brand test...
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from records.engine.adapters import build_adapter
from records.engine.base import Prompt
from records.engine.config import platform_configs
from records.engine.retry import RetryPolicy
from records.engine.runner import Cell, MatrixRunner, Outcome
from tests.fakes.platform_server import FakePlatformServer

PLATFORMS = ("deepseek", "doubao", "qwen", "kimi", "zhipu", "gemini")  # both protocols
QUESTIONS = ("中医推拿哪家好？", "北京哪家推拿店口碑最好？", "推拿和按摩有什么区别，哪家更专业？")
BAR = 1.3


@contextmanager
def fake_platforms(
    latency_ms: float = 200, platforms: Sequence[str] = PLATFORMS
) -> Iterator[tuple[FakePlatformServer, dict[str, str]]]:
    """The fake platform server, running, and the environment that points ``platforms`` at it."""
    with FakePlatformServer(latency_ms=latency_ms) as server:
        yield server, server.environ(tuple(platforms))


def ideal_seconds(calls: int, global_limit: int, latency_s: float) -> float:
    """The fastest a run can be: full waves of ``global_limit`` calls, each ``latency_s`` long."""
    return math.ceil(calls / global_limit) * latency_s


@dataclass(frozen=True, slots=True)
class BenchResult:
    """One timed run of the matrix."""

    calls: int
    failures: int
    elapsed: float
    ideal: float
    peak_in_flight: int
    peak_per_platform: int

    @property
    def ratio(self) -> float:
        return self.elapsed / self.ideal


def run_matrix(
    environ: dict[str, str],
    *,
    platforms: Sequence[str] = PLATFORMS,
    questions: Sequence[str] = QUESTIONS,
    repeats: int = 3,
    global_limit: int = 9,
    per_platform_limit: int = 3,
) -> tuple[float, list[Outcome]]:
    """Ask every question ``repeats`` times on every platform; seconds taken and the outcomes."""
    configs = platform_configs(environ)
    cells = [
        Cell((q, platform, run), platform, Prompt(question))
        for q, question in enumerate(questions)
        for run in range(repeats)
        for platform in platforms
    ]
    # One shared client, as a worker would hold for a run; its pool must not be the bottleneck.
    limits = httpx.Limits(max_connections=global_limit, max_keepalive_connections=global_limit)
    with httpx.Client(limits=limits) as client:
        adapters = {p: build_adapter(p, configs[p], client) for p in platforms}
        runner = MatrixRunner(
            adapters,
            global_limit=global_limit,
            per_platform_limit=per_platform_limit,
            retry=RetryPolicy(),
        )
        started = time.perf_counter()
        outcomes = [item for item in runner.run(cells) if item is not None]
        elapsed = time.perf_counter() - started
    return elapsed, outcomes


def bench(
    *, latency_ms: float = 200, global_limit: int = 9, per_platform_limit: int = 3, repeats: int = 3
) -> BenchResult:
    """Time one run of the matrix against a fresh fake server."""
    with fake_platforms(latency_ms) as (server, environ):
        elapsed, outcomes = run_matrix(
            environ,
            repeats=repeats,
            global_limit=global_limit,
            per_platform_limit=per_platform_limit,
        )
        return BenchResult(
            calls=len(outcomes),
            failures=sum(not outcome.ok for outcome in outcomes),
            elapsed=elapsed,
            ideal=ideal_seconds(len(outcomes), global_limit, latency_ms / 1000),
            peak_in_flight=server.peak_in_flight(),
            peak_per_platform=max(server.peak_in_flight(p) for p in PLATFORMS),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--global-limit", type=int, default=9)
    parser.add_argument("--per-platform-limit", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    results = [
        bench(
            latency_ms=args.latency_ms,
            global_limit=args.global_limit,
            per_platform_limit=args.per_platform_limit,
        )
        for _ in range(args.runs)
    ]
    print("| run | calls | failures | elapsed s | ideal s | ratio | peak global | peak platform |")
    print("|---|---|---|---|---|---|---|---|")
    for n, r in enumerate(results, 1):
        print(
            f"| {n} | {r.calls} | {r.failures} | {r.elapsed:.3f} | {r.ideal:.3f} | "
            f"{r.ratio:.3f}x | {r.peak_in_flight} | {r.peak_per_platform} |"
        )
    median = statistics.median(r.ratio for r in results)
    verdict = "PASS" if median <= BAR and not any(r.failures for r in results) else "FAIL"
    print(f"\nmedian ratio {median:.3f}x (bar <= {BAR}x): {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
