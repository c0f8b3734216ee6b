"""The mini-program's levels in process (L0), side by side: the legacy poll of the seeded running
run with 72 long answers (anonymous, with the owner's JWT, gzip or not), the v1 poll of the same
run (anonymous, JWT, Token), and keyed vs unkeyed starts. ``python -m bench.mini --rows N``
prints a Markdown table; not yet wired into ``bench.run``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=3_000)
    args = parser.parse_args(argv)
    os.environ["BENCH_ROWS"] = str(args.rows)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from bench.run import call_wsgi, record_uuid
    from bench.seed import POLL_OWNER, TOKEN_KEY, ensure_seeded
    from bench.wsgi import application
    from records.legacy.auth import issue_tokens

    layout = ensure_seeded(args.rows)
    poll = record_uuid(layout.poll_id)
    jwt = issue_tokens(get_user_model().objects.get(pk=POLL_OWNER))["token"]
    bearer = {"Authorization": f"Bearer {jwt}"}
    token = {"Authorization": f"Token {TOKEN_KEY}"}
    gz = {"Accept-Encoding": "gzip"}
    cases = [
        ("v1 poll, anonymous view of the run's status", f"/api/v1/executions/{poll}/status/", {}),
        ("v1 poll, owner's Bearer JWT", f"/api/v1/executions/{poll}/status/", bearer),
        ("v1 poll, Token (user 1)", f"/api/v1/executions/{poll}/status/", token),
        ("legacy poll, owner's JWT", f"/test/status/{poll}", bearer),
        ("legacy poll, owner's JWT, gzip", f"/test/status/{poll}", bearer | gz),
    ]
    rows = []
    for name, path, headers in cases:
        for _ in range(50):
            status, _, body = call_wsgi(application, path, headers)
        times = []
        for _ in range(args.requests):
            started = time.perf_counter_ns()
            status, _, body = call_wsgi(application, path, headers)
            times.append((time.perf_counter_ns() - started) / 1_000)
        times.sort()
        rows.append((name, status, times[len(times) // 2], statistics.fmean(times), len(body)))
    print(f"| what ({args.rows:,} rows, L0) | status | p50 µs | mean µs | bytes |")
    print("|---|---|---|---|---|")
    for name, status, p50, mean, size in rows:
        print(f"| {name} | {status} | {p50:,.1f} | {mean:,.1f} | {size:,} |")


if __name__ == "__main__":
    main()
