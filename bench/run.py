"""Run the benchmark protocol (docs/benchmarks.md) and write the Markdown table.

    .venv/bin/python -m bench.run --rows 1000000 [--levels L0,M,L1,L2,L3,L4] [--quick]

Every endpoint is measured in the same process, on the same database, in the same run; claims
are ratios between them. L1-L4 serve the project's WSGI application with granian (one worker
pinned to CPU 0, persistent connections, DEBUG off, no access log) and load it from CPU 1.
The table goes to stdout and to docs/benchmarks.md (its own section per database, so the SQLite
and PostgreSQL runs sit side by side); --quick writes bench/data/benchmarks-quick.md instead.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEVELS = ("L0", "M", "L1", "L2", "L3", "L4")
UNKNOWN_SHARE = 0.05
L2_RATES = (200, 1_000, 3_000, 4_500, 6_000)
L3_RATES = (200, 1_000, 3_000)
L3_WRITES = (50, 200)
LATENCY_BAR_US = 5_000
# L3 polls and advances 20 running runs of 100 calls each: 1,200 writes move them well along.
L3_POLLED = 20
L1_IDS_PER_RUN = 50_000
L3_TASKS = 100


@dataclass
class Endpoint:
    """One measured URL family: a path per id, the ids to cycle through, extra headers."""

    name: str
    template: str
    ids: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""
    cursor: int = 0

    def paths(self, count: int | None = None) -> list[str]:
        """The next ``count`` paths (all when None). Each run takes fresh ids, so no run is
        helped by the terminal-state cache warmed by an earlier one (when the pool is large
        enough: every endpoint sharing a pool sees the same ids in the same order)."""
        if count is None:
            return [self.template.format(id=i) for i in self.ids]
        start, n = self.cursor, len(self.ids)
        self.cursor = (start + count) % n
        return [self.template.format(id=self.ids[(start + k) % n]) for k in range(count)]


# --- in process (L0) ---------------------------------------------------------------------------


def _environ(path: str, headers: dict[str, str]) -> dict:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for key, value in headers.items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    return environ


def call_wsgi(app, path: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = int(status[:3])
        captured["headers"] = dict(response_headers)

    iterable = app(_environ(path, headers), start_response)
    try:
        body = b"".join(iterable)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    return captured["status"], captured["headers"], body


def time_in_process(app, endpoint: Endpoint, requests: int, warmup: int = 200) -> dict:
    """Per-request wall time of the WSGI call, µs."""
    for path in endpoint.paths(warmup):
        call_wsgi(app, path, endpoint.headers)
    paths = endpoint.paths(requests)
    times, statuses, size = [], Counter(), 0
    clock = time.perf_counter_ns
    for n in range(requests):
        path = paths[n % len(paths)]
        started = clock()
        status, _, body = call_wsgi(app, path, endpoint.headers)
        times.append((clock() - started) / 1_000)
        statuses[status] += 1
        size += len(body)
    times.sort()
    return {
        "requests": requests,
        "p50": times[len(times) // 2],
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "mean": statistics.fmean(times),
        "statuses": dict(statuses),
        "bytes": size // max(1, requests),
    }


# --- the dataset -------------------------------------------------------------------------------


def sample_ids(layout, count: int, *, seed: int) -> list[str]:
    """Random existing anonymous runs (not the L3/document rows), shuffled, with 5% unknown
    ids mixed in."""
    from records.models import TestRecord

    rng = random.Random(seed)
    pool = [
        str(e)
        for e in TestRecord.objects.filter(id__lt=layout.l3_ids[0], owner__isnull=True).values_list(
            "execution_id", flat=True
        )
    ]
    pool.sort()
    found = rng.sample(pool, min(count, len(pool))) or ["00000000-0000-4000-8000-000000000000"]
    unknown = max(1, round(len(found) * UNKNOWN_SHARE))
    found += [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(unknown)]
    rng.shuffle(found)
    return found


def owned_ids(owner_id: int, count: int) -> list[str]:
    from records.models import TestRecord

    return [
        str(e)
        for e in TestRecord.objects.filter(owner_id=owner_id).values_list(
            "execution_id", flat=True
        )[:count]
    ]


def record_uuid(record_id: int) -> str:
    from records.models import TestRecord

    return str(TestRecord.objects.values_list("execution_id", flat=True).get(id=record_id))


# --- versions and checks -----------------------------------------------------------------------


def versions() -> dict[str, str]:
    import django
    import granian
    import orjson
    import rest_framework
    from django.db import connection

    found = {
        "Python": platform.python_version(),
        "Django": django.__version__,
        "DRF": rest_framework.__version__,
        "granian": granian.__version__,
        "orjson": orjson.__version__,
    }
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            found["SQLite"] = cursor.fetchone()[0]
        else:
            cursor.execute("SHOW server_version")
            found["PostgreSQL"] = cursor.fetchone()[0]
            import psycopg

            found["psycopg"] = psycopg.__version__
    if load.have_wrk():
        found["load generator"] = (
            subprocess.run(["wrk", "-v"], capture_output=True, text=True)
            .stdout.split("[")[0]
            .strip()
            + " (closed loop), Python asyncio (open loop)"
        )
    else:
        found["load generator"] = "Python asyncio (closed and open loop; wrk not installed)"
    found["CPUs"] = str(os.cpu_count())
    return found


def connection_checks() -> dict[str, str]:
    """The settings each new database connection really has (not what settings.py says)."""
    from django.db import connection

    connection.close()
    connection.ensure_connection()
    found = {
        "CONN_MAX_AGE": str(connection.settings_dict["CONN_MAX_AGE"]),
        "CONN_HEALTH_CHECKS": str(connection.settings_dict["CONN_HEALTH_CHECKS"]),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for pragma in ("journal_mode", "synchronous", "busy_timeout", "mmap_size"):
                cursor.execute(f"PRAGMA {pragma}")
                found[pragma] = str(cursor.fetchone()[0])
            found["transaction_mode"] = str(connection.transaction_mode)
        else:
            found["pool"] = str(bool(connection.pool))
    return found


# --- HTTP levels -------------------------------------------------------------------------------


def l1(base: str, endpoint: Endpoint, *, seconds: float, runs: int, connections: int) -> dict:
    """Closed loop: 3 runs, the median by rps."""
    results = []
    for _ in range(runs):
        if load.have_wrk():
            r = load.closed_loop_wrk(
                base,
                endpoint.paths(L1_IDS_PER_RUN),
                endpoint.headers,
                connections=connections,
                seconds=seconds,
            )
        else:
            r = load.closed_loop_python(
                base,
                load.request_list(endpoint.paths(L1_IDS_PER_RUN), endpoint.headers),
                connections=connections,
                seconds=seconds,
            )
        results.append(r)
    results.sort(key=lambda r: r.rps)
    median = results[len(results) // 2]
    return {
        "rps": median.rps,
        "rps_runs": [round(r.rps) for r in results],
        "p50": median.percentile(50),
        "p99": median.percentile(99),
        "requests": median.completed,
        "non_2xx": median.count(lambda s: not 200 <= s < 400),
        "errors": median.errors,
        "bytes_per_response": median.bytes_received / max(1, median.completed),
    }


def l2(base: str, endpoint: Endpoint, rate: float, seconds: float, keep: bool = False):
    r = load.open_loop(
        base,
        load.request_list(endpoint.paths(int(rate * seconds) + 1), endpoint.headers),
        rate=rate,
        seconds=seconds,
        keep_bodies=keep,
    )
    return r, {
        "rate": rate,
        "achieved": r.completed / r.duration if r.duration else 0,
        "p50": r.percentile(50),
        "p99": r.percentile(99),
        "p999": r.percentile(99.9),
        "requests": r.completed,
        "errors": r.errors,
        "non_2xx": r.count(lambda s: not 200 <= s < 300),
        "5xx": r.count(lambda s: s >= 500),
        "lag_p99": sorted(r.lag)[int(len(r.lag) * 0.99)] if r.lag else float("nan"),
    }


def knee(rows: list[dict]) -> str:
    """The highest rate before the first one that misses p99 <= 5 ms or falls behind."""
    ok = []
    for r in rows:
        if r["p99"] > LATENCY_BAR_US or r["achieved"] < 0.95 * r["rate"]:
            held = f"p99 <= 5 ms up to {fmt(ok[-1])} req/s" if ok else "p99 > 5 ms at every rate"
            return (
                f"{held}; first miss at {fmt(r['rate'])} req/s (p99 {fmt(r['p99'] / 1000, 1)} ms)"
            )
        ok.append(r["rate"])
    return f"p99 <= 5 ms at every rate measured, up to {fmt(ok[-1])} req/s"


def drain(base: str, poll: str, ids: list[str]) -> None:
    """Wait until the server has finished what a closed-loop run left queued (a legacy scan
    takes ~0.5 s), so the next run does not start behind it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        started = time.perf_counter()
        call_http(base, poll.format(id=ids[0]))
        if time.perf_counter() - started < 0.01:
            return


def reset_l3_rows(layout) -> None:
    """Put the L3 runs back to 0 progress so every benchmark run starts the same."""
    from django.db.models import F

    from records.models import Answer, TestRecord

    ids = list(layout.l3_ids)
    Answer.objects.filter(record_id__in=ids, model_name="bench-writer").delete()
    TestRecord.objects.filter(id__in=ids).update(
        status="running",
        stage="ai_fetching",
        total_tasks=L3_TASKS,
        progress=0,
        completed_tasks=0,
        failed_tasks=0,
        version=F("version") + 1,
    )


def l3(base: str, layout, rate: float, writes: float, seconds: float, env: dict) -> dict:
    import orjson

    from records.models import TestRecord

    reset_l3_rows(layout)
    by_uuid = {
        str(execution_id): record_id
        for record_id, execution_id in TestRecord.objects.filter(
            id__in=layout.l3_ids[:L3_POLLED]
        ).values_list("id", "execution_id")
    }
    endpoint = Endpoint("new", "/api/v1/executions/{id}/status/", list(by_uuid))
    writer = subprocess.Popen(
        [
            # On the server's core, as a worker on the web machine would be: its cost shows in
            # the server's latency, not as stalls of the load generator.
            *load._pinned(load.SERVER_CPU),
            sys.executable,
            "-m",
            "bench.writer",
            "--rate",
            str(writes),
            "--seconds",
            str(seconds + 1),
            "--ids",
            ",".join(str(i) for i in by_uuid.values()),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)
    result, row = l2(base, endpoint, rate, seconds, keep=True)
    out, _ = writer.communicate(timeout=seconds + 60)
    written = json.loads(out.strip().splitlines()[-1])
    # The check: each polled body is one consistent row (progress agrees with its counts),
    # progress never goes back as counts grow, and a final poll equals the database.
    from records.execution import FETCH_PROGRESS_CEILING

    seen: dict[str, list[tuple[int, int]]] = {}
    inconsistent = 0
    for _path, body in result.bodies:
        data = orjson.loads(body)
        done = data["completed_tasks"] + data["failed_tasks"]
        if data["progress"] != done * FETCH_PROGRESS_CEILING // data["total_tasks"]:
            inconsistent += 1
        seen.setdefault(data["execution_id"], []).append((done, data["progress"]))
    regressions = sum(
        1
        for pairs in seen.values()
        for (_, p1), (_, p2) in zip(sorted(pairs), sorted(pairs)[1:], strict=False)
        if p2 < p1
    )
    final = {}
    for execution_id in by_uuid:
        _, _, body = call_http(base, endpoint.template.format(id=execution_id))
        final[execution_id] = orjson.loads(body)["progress"]
    database = {
        str(e): p
        for e, p in TestRecord.objects.filter(id__in=layout.l3_ids[:L3_POLLED]).values_list(
            "execution_id", "progress"
        )
    }
    mismatched = sum(1 for k, v in final.items() if database[k] != v)
    row.update(
        writes_per_s=writes,
        writes=written["writes"],
        locked=written["locked"],
        write_errors=written["errors"],
        polled_inconsistent=inconsistent,
        progress_regressions=regressions,
        final_mismatches=mismatched,
        max_polled_progress=max((p for pairs in seen.values() for _, p in pairs), default=0),
    )
    return row


def call_http(base: str, path: str, headers: dict[str, str] | None = None):
    import http.client

    host, port = base.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.title(): v for k, v in response.getheaders()}, body


# --- report ------------------------------------------------------------------------------------


def fmt(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render(results: dict) -> str:
    out = []
    meta = results["meta"]
    out.append(f"### {meta['database']} - {meta['rows']:,} rows - {meta['date']}")
    out.append("")
    out.append(f"Command: `{meta['command']}`")
    if meta.get("note"):
        out.append("")
        out.append(f"**{meta['note']}**")
    out.append("")
    out.append("| component | version |")
    out.append("|---|---|")
    out += [f"| {k} | {v} |" for k, v in meta["versions"].items()]
    out.append("")
    out.append(
        "Every figure below comes from this one run: same process, same database, same ids "
        f"({UNKNOWN_SHARE:.0%} unknown). Ratios are what the bars judge; absolute numbers drift "
        "with the shared VM."
    )
    out.append("")
    if results.get("bars"):
        out.append("#### Bars")
        out.append("")
        out.append("| check | bar | measured | result |")
        out.append("|---|---|---|---|")
        for bar in results["bars"]:
            verdict = {True: "**pass**", False: "**FAIL**", None: "n/a (set at 1M rows)"}[
                bar["pass"]
            ]
            out.append(f"| {bar['check']} | {bar['bar']} | {bar['measured']} | {verdict} |")
        out.append("")
    if results.get("checks"):
        out.append(
            "Connection as opened: " + ", ".join(f"`{k}={v}`" for k, v in results["checks"].items())
        )
        out.append("")
    if results.get("L0"):
        out.append("#### L0 in process (WSGI handler called directly), µs per request")
        out.append("")
        out.append("| endpoint | what | requests | p50 | p99 | mean | statuses | bytes |")
        out.append("|---|---|---|---|---|---|---|---|")
        for name, r in results["L0"].items():
            out.append(
                f"| {name} | {r.get('note', '')} | {fmt(r['requests'])} | {fmt(r['p50'], 1)} | "
                f"{fmt(r['p99'], 1)} | {fmt(r['mean'], 1)} | "
                f"{' '.join(f'{k}:{v}' for k, v in sorted(r['statuses'].items()))} | "
                f"{fmt(r['bytes'])} |"
            )
        out.append("")
    if results.get("middleware"):
        out.append(
            "#### Middleware cost on the poll (L0 p50, µs): the poll view through Django's "
            "handler with the chain built up in settings order"
        )
        out.append("")
        out.append("| middleware chain | p50 | + vs previous | + vs none |")
        out.append("|---|---|---|---|")
        base = previous = results["middleware"]["(none)"]
        for name, p50 in results["middleware"].items():
            step = p50 - previous if name.startswith("+") or name == "(none)" else float("nan")
            out.append(f"| {name} | {fmt(p50, 1)} | {fmt(step, 1)} | {fmt(p50 - base, 1)} |")
            previous = p50 if name.startswith("+") or name == "(none)" else previous
        out.append("")
    if results.get("L1"):
        out.append(
            "#### L1 throughput over HTTP (closed loop, median of 3 runs by rps; closed-loop "
            "latency is not a latency bar)"
        )
        out.append("")
        out.append("| endpoint | rps | runs | p50 µs | p99 µs | requests | non-2xx/3xx | errors |")
        out.append("|---|---|---|---|---|---|---|---|")
        for name, r in results["L1"].items():
            out.append(
                f"| {name} | {fmt(r['rps'])} | {r['rps_runs']} | {fmt(r['p50'])} | "
                f"{fmt(r['p99'])} | {fmt(r['requests'])} | {fmt(r['non_2xx'])} | "
                f"{fmt(r['errors'])} |"
            )
        out.append("")
        out.append("non-2xx/3xx includes the expected 404s of the unknown ids.")
        out.append("")
    if results.get("L2"):
        out.append("#### L2 latency at a fixed rate (open loop, from the intended send time), µs")
        out.append("")
        out.append(
            "| endpoint | target rps | achieved | p50 | p99 | p99.9 | 5xx | errors | "
            "client send lag p99 |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|")
        for name, rows in results["L2"].items():
            for r in rows:
                out.append(
                    f"| {name} | {fmt(r['rate'])} | {fmt(r['achieved'])} | {fmt(r['p50'])} | "
                    f"{fmt(r['p99'])} | {fmt(r['p999'])} | {fmt(r['5xx'])} | "
                    f"{fmt(r['errors'])} | {fmt(r['lag_p99'])} |"
                )
        out.append("")
        if results.get("gc"):
            out.append(
                f"Server full garbage collections over 1 ms during the HTTP levels: "
                f"{results['gc']['count']} (longest {results['gc']['max_ms']:.1f} ms; "
                "brandtest/wsgi.py freezes the startup heap)."
            )
            out.append("")
        for name, text in results.get("knee", {}).items():
            out.append(f"Knee of `{name}`: {text}.")
        out.append("")
    if results.get("L3"):
        out.append(
            "#### L3 the poll while a writer advances progress (the worker's transaction), µs"
        )
        out.append("")
        out.append(
            "| rps | writes/s | achieved | p50 | p99 | p99.9 | L2 p99 | writes | locked | "
            "non-2xx | client lag p99 | check |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in results["L3"]:
            ok = not (
                r["polled_inconsistent"] or r["progress_regressions"] or r["final_mismatches"]
            )
            check = (
                "ok"
                if ok
                else (
                    f"inconsistent {r['polled_inconsistent']}, regressions "
                    f"{r['progress_regressions']}, final mismatches {r['final_mismatches']}"
                )
            )
            out.append(
                f"| {fmt(r['rate'])} | {fmt(r['writes_per_s'])} | {fmt(r['achieved'])} | "
                f"{fmt(r['p50'])} | {fmt(r['p99'])} | {fmt(r['p999'])} | "
                f"{fmt(r.get('l2_p99'))} | {fmt(r['writes'])} | {fmt(r['locked'])} | "
                f"{fmt(r['non_2xx'] + r['errors'])} | {fmt(r['lag_p99'])} | {check} (max progress "
                f"{r['max_polled_progress']}) |"
            )
        out.append("")
        out.append(
            "check: every polled body agrees with itself (progress = counts), progress never "
            "goes back as counts grow, and a poll after the writer stops equals the database."
        )
        out.append("")
    if results.get("L4"):
        out.append("#### L4 results document")
        out.append("")
        out.append(
            "| size (JSON) | variant | bytes on the wire | Content-Encoding | L0 p50 µs | L1 rps |"
        )
        out.append("|---|---|---|---|---|---|")
        for r in results["L4"]:
            out.append(
                f"| {r['size']} | {r['variant']} | {fmt(r['wire'])} | {r['encoding']} | "
                f"{fmt(r.get('p50'), 1)} | {fmt(r.get('rps'))} |"
            )
        out.append("")
    return "\n".join(out)


def write_section(path: Path, key: str, text: str) -> None:
    """Replace this database's section of the Markdown file, keeping the others."""
    header = (
        "# Benchmarks\n\nThe sections below are generated by `python -m bench.run` "
        "(bench/run.py); each is one run, replaced by the next run on the same database.\n"
    )
    current = path.read_text() if path.exists() else header
    begin, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    block = f"{begin}\n{text}\n{end}"
    if begin in current:
        current = re.sub(
            re.escape(begin) + ".*?" + re.escape(end), lambda _: block, current, flags=re.S
        )
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(current)


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--levels", default=",".join(LEVELS))
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("--threads", type=int, default=1, help="granian blocking threads")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument(
        "--endpoints", default="", help="only these L0/L1 endpoints (comma-separated)"
    )
    args = parser.parse_args(argv)
    levels = [level.strip().upper() for level in args.levels.split(",") if level.strip()]
    unknown = set(levels) - set(LEVELS)
    if unknown:
        parser.error(f"unknown levels {sorted(unknown)}")

    env = {"DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_ROWS": str(args.rows)}
    os.environ.update(env)
    import django

    django.setup()
    from bench.seed import DOC_SIZES, TOKEN_KEY, ensure_seeded

    layout = ensure_seeded(args.rows, log=lambda m: print(m, file=sys.stderr, flush=True))
    from django.db import connection

    quick = args.quick
    n_l0 = 2_000 if quick else 20_000
    # Enough distinct ids that no L0/L1/L2 run of `new` repeats an id (at 1M rows).
    ids = sample_ids(layout, 250_000 if not quick else n_l0 + 1_000, seed=1)
    token_ids = owned_ids(1, 2_000)
    docs = {name: record_uuid(i) for name, i in layout.doc_ids.items()}
    mode = os.environ.get("BENCH_DB_MODE", "default")
    database = connection.vendor + ("" if mode == "default" else f" ({mode})")
    results: dict = {
        "meta": {
            "database": database,
            "rows": args.rows,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": "python -m bench.run "
            + " ".join(argv if argv is not None else sys.argv[1:]),
            "versions": versions(),
        },
        "checks": connection_checks(),
    }
    poll = "/api/v1/executions/{id}/status/"
    endpoints = {
        "new": Endpoint("new", poll, ids, note="our poll, anonymous (production path)"),
        "floor": Endpoint("floor", "/bench/floor/{id}", ids, note="raw lookup, no middleware"),
        "drf_default": Endpoint("drf_default", "/bench/drf/{id}", ids, note="stock DRF"),
        "legacy": Endpoint("legacy", "/bench/legacy/{id}", ids, note="json_extract scan"),
        "legacy_poll": Endpoint(
            "legacy_poll", "/test/status/{id}", ids, note="records/legacy GET /test/status/<id>"
        ),
        "new_token": Endpoint(
            "new_token",
            poll,
            token_ids,
            {"Authorization": f"Token {TOKEN_KEY}"},
            note="our poll, Token auth, owner's runs",
        ),
        "new_cached": Endpoint(
            "new_cached", poll, [docs["10k"]], note="our poll, finished run, cache hit"
        ),
    }
    if args.endpoints:
        wanted = {e.strip() for e in args.endpoints.split(",")}
        endpoints = {k: v for k, v in endpoints.items() if k in wanted}
    from bench.wsgi import application, bare_application
    from brandtest.wsgi import django_application

    if "L0" in levels:
        print("L0 ...", file=sys.stderr, flush=True)
        l0 = {}
        for name, endpoint in endpoints.items():
            if not endpoint.ids:
                continue
            count = (5 if quick else 30) if name == "legacy" else n_l0
            l0[name] = time_in_process(
                application, endpoint, count, warmup=2 if name == "legacy" else 200
            )
            l0[name]["note"] = endpoint.note
        if "new" in endpoints and not args.endpoints:
            l0["new_full_mw"] = time_in_process(django_application, endpoints["new"], n_l0) | {
                "note": "our poll through the full middleware chain"
            }
            results["middleware"] = middleware_costs(endpoints["new"], 500 if quick else 5_000)
        results["L0"] = l0
    if "M" in levels:
        # The mini-program's levels (bench/mini.py); the json_extract figure is L0's when run.
        legacy_us = results.get("L0", {}).get("legacy", {}).get("p50")
        results["M"] = mini.measure(layout, quick=quick, legacy_us=legacy_us)

    need_server = any(level in levels for level in ("L1", "L2", "L3", "L4"))
    if need_server:
        log = ROOT / "bench" / "data" / "granian.log"
        with load.granian(env, threads=args.threads, log=log) as base:
            # Warm the server (imports, connection, page cache) before anything is timed.
            for path in Endpoint("warm", poll, ids[-200:]).paths():
                call_http(base, path)
            seconds = 1.0 if quick else 5.0
            runs = 1 if quick else 3
            if "L1" in levels:
                print("L1 ...", file=sys.stderr, flush=True)
                results["L1"] = {}
                for name in ("new", "floor", "drf_default", "new_token", "legacy_poll", "legacy"):
                    endpoint = endpoints.get(name)
                    if endpoint is None or not endpoint.ids:
                        continue
                    conns = 2 if name == "legacy" else 8
                    secs = seconds * (2 if name == "legacy" else 1)
                    results["L1"][name] = l1(
                        base, endpoint, seconds=secs, runs=runs, connections=conns
                    )
                drain(base, poll, ids)
            if "L2" in levels:
                print("L2 ...", file=sys.stderr, flush=True)
                results["L2"], results["knee"] = {}, {}
                rates = L2_RATES[:3] if quick else L2_RATES
                for name in [n for n in ("new", "floor") if n in endpoints]:
                    rows = [l2(base, endpoints[name], rate, seconds)[1] for rate in rates]
                    results["L2"][name] = rows
                    results["knee"][name] = knee(rows)
            if "L3" in levels:
                print("L3 ...", file=sys.stderr, flush=True)
                results["L3"] = []
                l2_p99 = {r["rate"]: r["p99"] for r in results.get("L2", {}).get("new", [])}
                for rate in L3_RATES[:2] if quick else L3_RATES:
                    for writes in L3_WRITES:
                        row = l3(base, layout, rate, writes, seconds, env)
                        row["l2_p99"] = l2_p99.get(rate)
                        results["L3"].append(row)
                reset_l3_rows(layout)
            if "L4" in levels:
                print("L4 ...", file=sys.stderr, flush=True)
                results["L4"] = l4(base, application, docs, DOC_SIZES, quick=quick)
    if need_server:
        pauses = [
            float(m[1])
            for m in re.finditer(
                r"bench-gc-pause gen2 ([\d.]+) ms", log.read_text(errors="replace")
            )
        ]
        results["gc"] = {"count": len(pauses), "max_ms": max(pauses, default=0.0)}
    results["bars"] = bars(results)
    if args.rows < 1_000_000:
        for bar in results["bars"]:
            if "legacy" in bar["check"]:
                bar["pass"] = None  # the legacy bar is set at 1M rows
    if quick:
        results["meta"]["note"] = (
            "Quick run (short, few requests): a smoke test, not a measurement."
        )
    output = args.output or (
        ROOT / "bench" / "data" / "benchmarks-quick.md"
        if quick
        else ROOT / "docs" / "benchmarks.md"
    )
    if "M" in results:
        # Level M has its own section per database, so a run of M alone keeps the others.
        meta = results["meta"]
        mini_text = (
            f"### Level M, {meta['database']} - {meta['rows']:,} rows - {meta['date']}\n\n"
            f"Command: `{meta['command']}`\n\n" + admin_pages.render(results["M"], rows=args.rows)
        )
        print(mini_text)
        write_section(output, "mini-" + database.replace(" ", "-"), mini_text)
    if set(levels) - {"M"}:
        text = render(results)
        print(text)
        write_section(output, database.replace(" ", "-"), text)
    (ROOT / "bench" / "data").mkdir(exist_ok=True)
    (ROOT / "bench" / "data" / f"results-{database.replace(' ', '-')}.json").write_text(
        json.dumps(results, indent=1, default=str)
    )
    print(f"\nwritten to {output}", file=sys.stderr)
    del bare_application


def middleware_costs(endpoint: Endpoint, requests: int) -> dict[str, float]:
    """The poll view through Django's handler, the middleware chain built up in settings order
    (cumulative: auth needs sessions, messages need both), and through FastHandler."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    from brandtest.fastpath import FastHandler
    from records.api.hot_views import execution_status

    chains = {"(none)": []}
    for i, path in enumerate(settings.MIDDLEWARE):
        chains["+ " + path.rsplit(".", 1)[1]] = list(settings.MIDDLEWARE[: i + 1])
    costs = {}
    for name, chain in chains.items():
        with override_settings(MIDDLEWARE=chain):
            handler = WSGIHandler()
        costs[name] = time_in_process(handler, endpoint, requests)["p50"]
    fast = FastHandler()

    def fast_path(environ, start_response):
        environ["brandtest.fast_route"] = (execution_status, environ["PATH_INFO"].split("/")[4])
        return fast(environ, start_response)

    name = "FastHandler (production: no chain, route pre-matched)"
    costs[name] = time_in_process(fast_path, endpoint, requests)["p50"]
    return costs


def l4(base: str, app, docs: dict[str, str], sizes: dict[str, int], *, quick: bool) -> list:
    from bench.load import have_wrk  # noqa: F401  (the L1 path picks wrk or Python)

    rows = []
    for name, execution_id in docs.items():
        big = name == "2m"
        n = (20 if big else 100) if quick else (200 if big else 2_000)
        variants = (
            (
                "doc_pass (gzip)",
                f"/api/v1/executions/{execution_id}/results/",
                {"Accept-Encoding": "gzip"},
            ),
            ("doc_pass (no gzip: decompressed)", f"/api/v1/executions/{execution_id}/results/", {}),
            ("doc_roundtrip", f"/bench/doc-roundtrip/{execution_id}", {"Accept-Encoding": "gzip"}),
            (
                "doc_roundtrip (stdlib json)",
                f"/bench/doc-roundtrip-json/{execution_id}",
                {"Accept-Encoding": "gzip"},
            ),
        )
        for variant, path, headers in variants:
            endpoint = Endpoint(
                variant, path.replace("{", "{{").replace("}", "}}"), [execution_id], headers
            )
            status, response_headers, body = call_http(base, path, headers)
            assert status == 200, (path, status)
            timing = time_in_process(app, endpoint, n, warmup=5)
            throughput = l1(
                base, endpoint, seconds=1.0 if quick else 3.0, runs=1 if quick else 3, connections=4
            )
            rows.append(
                {
                    "size": f"{name} ({sizes[name]:,} B target)",
                    "variant": variant,
                    "wire": len(body),
                    "encoding": response_headers.get("Content-Encoding", "-")
                    + ("; Vary: " + response_headers["Vary"] if "Vary" in response_headers else ""),
                    "p50": timing["p50"],
                    "rps": throughput["rps"],
                    "name": name,
                }
            )
    return rows


def bars(results: dict) -> list[dict]:
    out = []
    l0, l1_ = results.get("L0", {}), results.get("L1", {})

    def ratio(check, bar, minimum, value, detail):
        out.append(
            {
                "check": check,
                "bar": bar,
                "measured": detail if value is None else f"{value:,.1f}x ({detail})",
                "pass": None if value is None else value >= minimum,
            }
        )

    if "new" in l0 and "legacy" in l0:
        v = l0["legacy"]["p50"] / l0["new"]["p50"]
        ratio(
            "new vs legacy, L0 p50",
            ">= 1,000x",
            1_000,
            v,
            f"{l0['legacy']['p50']:,.0f} vs {l0['new']['p50']:,.1f} µs",
        )
    if "new" in l1_ and "legacy" in l1_:
        v = l1_["new"]["rps"] / max(l1_["legacy"]["rps"], 1e-9)
        ratio(
            "new vs legacy, L1 rps",
            ">= 1,000x",
            1_000,
            v,
            f"{l1_['new']['rps']:,.0f} vs {l1_['legacy']['rps']:,.1f} rps",
        )
    if "new" in l1_ and "floor" in l1_:
        v = l1_["new"]["rps"] / l1_["floor"]["rps"]
        ratio(
            "new vs floor, L1 rps",
            ">= 0.8x",
            0.8,
            v,
            f"{l1_['new']['rps']:,.0f} vs {l1_['floor']['rps']:,.0f} rps",
        )
    if "new" in l0 and "drf_default" in l0:
        v = l0["drf_default"]["p50"] / l0["new"]["p50"]
        ratio(
            "new vs drf_default, L0 p50",
            ">= 4x faster",
            4,
            v,
            f"{l0['drf_default']['p50']:,.0f} vs {l0['new']['p50']:,.1f} µs",
        )
    l2_new = {r["rate"]: r for r in results.get("L2", {}).get("new", [])}
    if 1_000 in l2_new:
        r = l2_new[1_000]
        out.append(
            {
                "check": "L2 at 1,000 req/s, p99",
                "bar": "<= 5 ms",
                "measured": f"{r['p99'] / 1000:.2f} ms (p50 {r['p50'] / 1000:.2f} ms, "
                f"achieved {r['achieved']:,.0f} req/s)",
                "pass": r["p99"] <= LATENCY_BAR_US and r["achieved"] >= 950,
            }
        )
    if results.get("L3"):
        locked = sum(r["locked"] for r in results["L3"])
        non_2xx = sum(r["non_2xx"] + r["errors"] for r in results["L3"])
        checks = sum(
            r["polled_inconsistent"] + r["progress_regressions"] + r["final_mismatches"]
            for r in results["L3"]
        )
        out.append(
            {
                "check": "L3, writer at 50 and 200/s",
                "bar": "0 lock errors, 0 non-2xx",
                "measured": f"{locked} locked, {non_2xx} non-2xx, {checks} progress check failures "
                f"over {sum(r['requests'] for r in results['L3']):,} polls and "
                f"{sum(r['writes'] for r in results['L3']):,} writes",
                "pass": locked == 0 and non_2xx == 0 and checks == 0,
            }
        )
    l4_rows = {(r["name"], r["variant"]): r for r in results.get("L4", [])}
    passed = l4_rows.get(("200k", "doc_pass (gzip)"))
    roundtrip = l4_rows.get(("200k", "doc_roundtrip"))
    if passed and roundtrip:
        v = passed["rps"] / max(roundtrip["rps"], 1e-9)
        ratio(
            "doc_pass vs doc_roundtrip (orjson) at ~200 KB, rps",
            ">= 20x",
            20,
            v,
            f"{passed['rps']:,.0f} vs {roundtrip['rps']:,.0f} rps",
        )
    stdlib = l4_rows.get(("200k", "doc_roundtrip (stdlib json)"))
    if passed and stdlib:
        v = passed["rps"] / max(stdlib["rps"], 1e-9)
        ratio(
            "doc_pass vs doc_roundtrip with stdlib json (as DRF would), ~200 KB, rps",
            ">= 20x",
            20,
            v,
            f"{passed['rps']:,.0f} vs {stdlib['rps']:,.0f} rps",
        )
    return out


from bench import admin_pages, load, mini  # noqa: E402

if __name__ == "__main__":
    main()
