"""A whole brand-test execution against the fake platform: 3 questions x 6 platforms x 3 repeats
(54 calls) answering in 200 ms each, with a global concurrency bound of 9.

Unlike ``bench.engine_concurrency`` (the runner alone), this times the real service path: claim,
concurrent calls, every answer analysed and stored with its progress UPDATE as it lands, then
scoring and the stored report. The ideal is 54 / 9 x 0.2 s = 1.2 s; the bar is <= 1.3x.

    .venv/bin/python -m bench.execution_concurrency [--runs 3] [--latency-ms 200]

Uses a throwaway SQLite file, or ``DATABASE_URL`` if set (a scratch database is best).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from bench.engine_concurrency import PLATFORMS, QUESTIONS, fake_platforms, ideal_seconds

BAR = 1.3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--global-limit", type=int, default=9)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    scratch = tempfile.mkdtemp(prefix="brandtest-bench-")
    os.environ.setdefault("SQLITE_PATH", os.path.join(scratch, "bench.sqlite3"))
    os.environ.setdefault("BRANDTEST_VAR_DIR", scratch)
    os.environ["BRANDTEST_GLOBAL_CONCURRENCY"] = str(args.global_limit)
    os.environ["BRANDTEST_PLATFORM_CONCURRENCY"] = "3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brandtest.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    with fake_platforms(args.latency_ms) as (server, environ):
        os.environ.update(environ)
        import django

        django.setup()
        from django.core.management import call_command

        from records import execution, services

        call_command("migrate", verbosity=0)
        rows = []
        for _ in range(args.runs):
            data = services.clean_execution_input(
                brand="华夏良子",
                competitors=["良子健身", "足疗大师"],
                questions=list(QUESTIONS),
                platforms=list(PLATFORMS),
                repeats=3,
            )
            record = services.start_execution(owner=None, data=data, enqueue=False).record
            started = time.perf_counter()
            execution.run_execution(execution_id=str(record.execution_id))
            elapsed = time.perf_counter() - started
            record.refresh_from_db()
            ideal = ideal_seconds(record.total_tasks, args.global_limit, args.latency_ms / 1000)
            rows.append((record, elapsed, ideal, server.peak_in_flight()))
            server.reset()

    print("| run | status | answers stored | elapsed s | ideal s | ratio | peak in flight |")
    print("|---|---|---|---|---|---|---|")
    for n, (record, elapsed, ideal, peak) in enumerate(rows, 1):
        print(
            f"| {n} | {record.status} | {record.answers.count()}/{record.total_tasks} | "
            f"{elapsed:.3f} | {ideal:.3f} | {elapsed / ideal:.3f}x | {peak} |"
        )
    median = statistics.median(elapsed / ideal for _, elapsed, ideal, _ in rows)
    ok = median <= BAR and all(r.status == "completed" for r, *_ in rows)
    print(f"\nmedian ratio {median:.3f}x (bar <= {BAR}x): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
