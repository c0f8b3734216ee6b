"""Level M: the mini-program's path and the other hot queries of issue 12, in process (L0),
side by side in one run on the seeded dataset.

- the legacy poll (GET /test/status/<id>) of the running run with 72 answers of ~1,500
  characters: anonymous and with the owner's Bearer JWT, plain and gzip, and the 304 of a
  client that holds the version; the v1 poll of the same run (anonymous, JWT, Token);
- the legacy poll of a completed 72-answer run, the first poll of a process (caches cleared
  before every request) and cached;
- the old system's json_extract lookup (``/bench/legacy/<id>``), the ratio's denominator;
- starts with an Idempotency-Key and X-Device-ID against starts without a key;
- the v1 and legacy history of the owner with 20,000 runs, with filters, first and far pages;
- one reaper pass and the admin changelist (every filter, the search) and dashboard
  (bench/admin_pages.py).

``python -m bench.run --levels M`` (also part of ``make bench``) writes the tables into this
database's section of docs/benchmarks.md; ``python -m bench.mini --rows N`` prints them.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

# The anonymous copy of the 72-answer running run (the poll without a JWT).
ANON_POLL = uuid.UUID("00000000-0000-4000-8000-00000000a770")


def timed(call: Callable[[], object], requests: int, warmup: int) -> dict:
    """p50 / p99 / mean in µs of ``requests`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(requests):
        started = time.perf_counter_ns()
        call()
        times.append((time.perf_counter_ns() - started) / 1_000)
    times.sort()
    return {
        "p50": times[len(times) // 2],
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
        "mean": statistics.fmean(times),
        "requests": requests,
    }


def ensure_anonymous_poll(layout) -> None:
    """An anonymous copy of the 72-answer running run (idempotent): the legacy poll of a
    not-logged-in client reads a run nobody owns."""
    from records.models import Answer, TestRecord

    if TestRecord.objects.filter(execution_id=ANON_POLL).exists():
        return
    record = TestRecord.objects.get(pk=layout.poll_id)
    answers = list(record.answers.all())
    record.pk, record.execution_id, record.owner_id = None, ANON_POLL, None
    record.caller_key = "device:bench-anonymous-poll"
    record.save(force_insert=True)
    for answer in answers:
        answer.pk, answer.record = None, record
    Answer.objects.bulk_create(answers)


class Get:
    """A GET through the production WSGI application; keeps the last status and body."""

    def __init__(self, app, path: str, headers: dict[str, str] | None = None) -> None:
        self.app, self.path, self.headers = app, path, headers or {}
        self.status, self.body, self.response_headers = 0, b"", {}

    def __call__(self) -> None:
        from bench.run import _environ

        path, _, query = self.path.partition("?")
        environ = _environ(path, self.headers) | {"QUERY_STRING": query}
        captured = []
        chunks = self.app(
            environ, lambda status, headers, exc=None: captured.append((status, headers))
        )
        try:
            self.body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        self.status = int(captured[0][0][:3])
        self.response_headers = dict(captured[0][1])


def polls(app, layout, *, requests: int, quick: bool, legacy_us: float | None) -> list[dict]:
    from django.contrib.auth import get_user_model

    from bench.run import record_uuid, sample_ids
    from bench.seed import POLL_OWNER, TOKEN_KEY
    from records.legacy.auth import issue_tokens
    from records.legacy.views import clear_poll_caches

    owned, done = record_uuid(layout.poll_id), record_uuid(layout.done_id)
    jwt = issue_tokens(get_user_model().objects.get(pk=POLL_OWNER))["token"]
    bearer = {"Authorization": f"Bearer {jwt}"}
    gz = {"Accept-Encoding": "gzip"}
    v1, legacy = "/api/v1/executions/{}/status/", "/test/status/{}"
    rows = []

    def row(key: str, what: str, get: Get, n: int = requests, warmup: int = 50, **extra):
        result = timed(get, n, warmup)
        rows.append(
            {"key": key, "what": what, "status": get.status, "bytes": len(get.body)}
            | result
            | extra
        )
        return get

    row("v1_anon", "v1 poll, running 72-answer run, anonymous", Get(app, v1.format(ANON_POLL)))
    row("v1_jwt", "v1 poll, same run, owner's Bearer JWT", Get(app, v1.format(owned), bearer))
    token = {"Authorization": f"Token {TOKEN_KEY}"}
    row("v1_token", "v1 poll, same run, owner's Token", Get(app, v1.format(owned), token))
    anon = row(
        "legacy_anon", "legacy poll, same run, anonymous", Get(app, legacy.format(ANON_POLL))
    )
    plain = row(
        "legacy_jwt", "legacy poll, same run, owner's JWT", Get(app, legacy.format(owned), bearer)
    )
    zipped = row(
        "legacy_jwt_gzip",
        "legacy poll, same run, owner's JWT, Accept-Encoding: gzip",
        Get(app, legacy.format(owned), bearer | gz),
    )
    etag = {"If-None-Match": zipped.response_headers.get("ETag", "")}
    row(
        "legacy_304",
        "legacy poll, same run, JWT, If-None-Match (client holds the version)",
        Get(app, legacy.format(owned), bearer | gz | etag),
    )
    first = Get(app, legacy.format(done), bearer)

    def cold():
        clear_poll_caches()
        first()

    result = timed(cold, 5 if quick else 100, 2)
    rows.append(
        {"key": "legacy_done_first", "what": "legacy poll, completed 72-answer run, first poll"}
        | {"status": first.status, "bytes": len(first.body)}
        | result
    )
    row(
        "legacy_done_cached",
        "legacy poll, completed run, cached, owner's JWT",
        Get(app, legacy.format(done), bearer),
    )
    row(
        "legacy_done_cached_jwt",
        "legacy poll, completed run, cached, owner's JWT, gzip",
        Get(app, legacy.format(done), bearer | gz),
    )
    if legacy_us is None:
        ids = sample_ids(layout, 20, seed=7)
        lookups = [Get(app, f"/bench/legacy/{i}") for i in ids]
        cursor = iter(lookups * 10)
        result = timed(lambda: next(cursor)(), 3 if quick else 15, 1)
        rows.append(
            {"key": "json_extract", "what": "the old json_extract lookup", "status": 200}
            | {"bytes": len(lookups[0].body)}
            | result
        )
    else:
        rows.append(
            {"key": "json_extract", "what": "the old json_extract lookup (L0 of this run)"}
            | {"status": 200, "bytes": 0, "p50": legacy_us, "p99": None, "mean": None}
            | {"requests": None}
        )
    rows.append(
        {
            "key": "wire",
            "what": "bytes per poll: plain / gzip / 304 (anonymous poll plain)",
            "plain": len(plain.body),
            "gzip": len(zipped.body),
            "anon_plain": len(anon.body),
        }
    )
    return rows


def starts(layout, *, requests: int) -> list[dict]:
    """POST /api/v1/executions/ with and without an Idempotency-Key (each from a new device
    and address, so neither the duplicate check nor the throttles answer early); the runs,
    task rows and throttle hits made are deleted afterwards."""
    from django.core.handlers.wsgi import WSGIHandler
    from django_tasks_db.models import DBTaskResult

    from records.models import TestRecord, ThrottleHit

    handler = WSGIHandler()
    body = orjson.dumps(
        {"brand": "华夏良子", "competitors": ["良子健身"], "questions": ["北京中医推拿哪家好？"]}
        | {"platforms": ["demo"]}
    )
    made: list[str] = []
    since = time.time()
    counter = iter(range(10**9))

    def start(keyed: bool) -> Callable[[], None]:
        def call() -> None:
            n = next(counter)
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": "/api/v1/executions/",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "80",
                "HTTP_HOST": "127.0.0.1",
                "REMOTE_ADDR": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
                "CONTENT_TYPE": "application/json",
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_X_DEVICE_ID": f"bench-device-{since:.0f}-{n}",
                "wsgi.input": io.BytesIO(body),
                "wsgi.url_scheme": "http",
            }
            if keyed:
                environ["HTTP_IDEMPOTENCY_KEY"] = f"bench-start-{since:.0f}-{n}"
            status = []
            chunks = handler(environ, lambda s, h, e=None: status.append(s))
            payload = b"".join(chunks)
            assert status[0].startswith("202"), (status, payload[:300])
            made.append(orjson.loads(payload)["execution_id"])

        return call

    rows = []
    try:
        for keyed, what in ((False, "start without a key"), (True, "start, Idempotency-Key")):
            result = timed(start(keyed), requests, 5)
            rows.append({"key": f"start_{'keyed' if keyed else 'plain'}", "what": what} | result)
    finally:
        TestRecord.objects.filter(execution_id__in=made).delete()
        DBTaskResult.objects.filter(enqueued_at__gte=since_datetime(since)).delete()
        ThrottleHit.objects.filter(at__gte=since_datetime(since)).delete()
    return rows


def since_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch - 1, tz=UTC)


def measure(layout, *, quick: bool, legacy_us: float | None = None) -> dict:
    """Every level-M table of this database."""
    from bench import admin_pages
    from bench.wsgi import application

    ensure_anonymous_poll(layout)
    requests = 300 if quick else 3_000
    print("M: polls ...", file=sys.stderr, flush=True)
    results = {
        "polls": polls(application, layout, requests=requests, quick=quick, legacy_us=legacy_us)
    }
    print("M: starts ...", file=sys.stderr, flush=True)
    results["starts"] = starts(layout, requests=10 if quick else 200)
    print("M: history, reaper, admin ...", file=sys.stderr, flush=True)
    results["history"] = admin_pages.history(application, layout, quick=quick)
    results["reaper"] = admin_pages.reaper(quick=quick)
    results["admin"] = admin_pages.admin(layout, quick=quick)
    results["bars"] = admin_pages.bars(results)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    os.environ["BENCH_ROWS"] = str(args.rows)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from bench import admin_pages
    from bench.seed import ensure_seeded

    layout = ensure_seeded(args.rows)
    print(admin_pages.render(measure(layout, quick=args.quick), rows=args.rows))


if __name__ == "__main__":
    main()
