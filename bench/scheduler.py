"""Monitors: one scheduler tick with 10,000 monitors of which 100 are due (docs/benchmarks.md).

    .venv/bin/python -m bench.scheduler [--monitors 10000] [--due 100] [--runs 20]

Seeds a fresh bench database (``bench/data/bench_monitors.sqlite3``, or
``brandtest_bench_monitors`` when DATABASE_URL points at PostgreSQL) with bulk_create: monitors
owned by 100 users, each with a main brand, a competitor, 3 prompts, platforms ["demo"], a
daily schedule and a monthly call budget (so every start also runs the budget query), all with
``next_run_at`` a day ahead. Each run moves a fresh set of ``--due`` monitors into the past and
times ``records.monitoring.tick()``: the due SELECT, one claim UPDATE per monitor, the start
service (TestRecord insert, budget query) and, on commit, the enqueue of the task row into the
database task backend (the production default). No worker runs, so no task executes: the start
cost up to the queued task is part of the tick. The due SELECT alone is timed separately.
The section goes to docs/benchmarks.md (``<!-- bench:monitors-<database> -->``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERS = 100
PROMPTS = ("best massage chain in Beijing", "{brandName} reviews", "华夏良子 vs 良子健身")


def fresh_database() -> None:
    """Drop and recreate the bench database, then migrate it."""
    from django.core.management import call_command
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        connection.close()
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
    else:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    call_command("migrate", verbosity=0, interactive=False)


def seed(monitors: int, now) -> float:
    """Bulk-create the users, monitors, brands and prompts; seconds taken."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from records.models import Monitor, Prompt, TrackedBrand

    started = time.perf_counter()
    future = now + timedelta(days=1)
    user_model = get_user_model()
    with transaction.atomic():
        users = user_model.objects.bulk_create(
            user_model(username=f"owner{i}", password="!") for i in range(USERS)
        )
        if connection.vendor == "sqlite" or not users[0].pk:
            users = list(user_model.objects.order_by("id"))
        created = Monitor.objects.bulk_create(
            (
                Monitor(
                    owner=users[i % USERS],
                    name=f"monitor {i}",
                    platforms=["demo"],
                    schedule="0 9 * * *",
                    timezone="Asia/Shanghai",
                    monthly_call_budget=10_000,
                    next_run_at=future,
                    created_at=now,
                    updated_at=now,
                )
                for i in range(monitors)
            ),
            batch_size=1_000,
        )
        if not created[0].pk:
            created = list(Monitor.objects.order_by("id"))
        ids = [m.pk for m in created]
        TrackedBrand.objects.bulk_create(
            (
                TrackedBrand(monitor_id=pk, name=name, is_main=main)
                for pk in ids
                for name, main in (("华夏良子", True), ("良子健身", False))
            ),
            batch_size=2_000,
        )
        Prompt.objects.bulk_create(
            (
                Prompt(
                    monitor_id=pk, text=text, branded="{" in text or "华" in text, active_from=now
                )
                for pk in ids
                for text in PROMPTS
            ),
            batch_size=3_000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def due_plan(now) -> str:
    """The database's plan of the due SELECT (shows whether monitor_due_idx is used)."""
    from django.conf import settings

    from records.models import Monitor

    query = (
        Monitor.objects.due(now)
        .select_related("owner")
        .order_by("next_run_at")[: settings.BRANDTEST_SCHEDULER_BATCH]
    )
    return " / ".join(line.strip() for line in query.explain().splitlines() if line.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    if args.due * (args.runs + 1) > args.monitors:
        parser.error("--due x (--runs + 1) must not exceed --monitors (each tick takes fresh ones)")

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_DB_NAME"] = "bench_monitors"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("TASK_BACKEND", "db")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from bench.run import write_section
    from records.models import Monitor, TestRecord
    from records.monitoring import tick

    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    fresh_database()
    now = timezone.now()
    log(f"seeding {args.monitors:,} monitors into {connection.settings_dict['NAME']} ...")
    seed_seconds = seed(args.monitors, now)
    ids = list(Monitor.objects.order_by("id").values_list("id", flat=True))

    ticks, selects = [], []
    for run in range(args.runs):
        due_ids = ids[run * args.due : (run + 1) * args.due]
        now = timezone.now()
        Monitor.objects.filter(pk__in=due_ids).update(next_run_at=now - timedelta(minutes=1))
        batch = settings.BRANDTEST_SCHEDULER_BATCH
        for _ in range(5):
            started = time.perf_counter()
            found = list(
                Monitor.objects.due(now).select_related("owner").order_by("next_run_at")[:batch]
            )
            selects.append((time.perf_counter() - started) * 1000)
        assert len(found) == args.due, f"{len(found)} due, expected {args.due}"
        if run == 0:
            plan = due_plan(now)
        started = time.perf_counter()
        result = tick(now=now)
        ticks.append((time.perf_counter() - started) * 1000)
        assert len(result.started) == args.due and not result.skipped and not result.lost, (
            f"run {run}: started {len(result.started)}, skipped {result.skipped}, "
            f"lost {result.lost}"
        )
        log(f"run {run + 1}/{args.runs}: tick {ticks[-1]:.1f} ms")
    # One more tick, not timed, counting its queries (capturing them slows the tick).
    due_ids = ids[args.runs * args.due : (args.runs + 1) * args.due]
    now = timezone.now()
    Monitor.objects.filter(pk__in=due_ids).update(next_run_at=now - timedelta(minutes=1))
    with CaptureQueriesContext(connection) as captured:
        assert len(tick(now=now).started) == args.due
    queries = len(captured.captured_queries)
    records = TestRecord.objects.filter(monitor__isnull=False).count()
    tasks = DBTaskResult.objects.filter(status="READY").count()
    assert records == args.due * (args.runs + 1) == tasks, (records, tasks)

    load = os.getloadavg()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    vendor = connection.vendor
    command = " ".join(["python -m bench.scheduler", *(sys.argv[1:] if argv is None else argv)])
    text = "\n".join(
        [
            f"### Monitors: scheduler tick - {vendor} - {stamp}",
            "",
            f"`{command}`"
            f" — {args.monitors:,} monitors ({USERS} owners, 2 brands and 3 prompts each, "
            f'platforms ["demo"]), {args.due} due per tick, {args.runs} ticks, each on a fresh '
            f"set of due monitors; seeded in {seed_seconds:.1f} s. Load average at the end "
            f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min).",
            "",
            "| measure | median ms | p95 ms | min ms | max ms |",
            "|---|---|---|---|---|",
            f"| one tick ({args.due} due: SELECT, claim, start, enqueue on commit) | "
            f"{statistics.median(ticks):.1f} | {percentile(ticks, 0.95):.1f} | "
            f"{min(ticks):.1f} | {max(ticks):.1f} |",
            f"| per started monitor | {statistics.median(ticks) / args.due:.2f} | "
            f"{percentile(ticks, 0.95) / args.due:.2f} | | |",
            f"| the due SELECT alone ({len(selects)} times) | "
            f"{statistics.median(selects):.2f} | {percentile(selects, 0.95):.2f} | "
            f"{min(selects):.2f} | {max(selects):.2f} |",
            "",
            f"Every tick started exactly {args.due} executions (none skipped or lost); "
            f"{records:,} executions and {tasks:,} queued task rows at the end (one more, "
            f"untimed tick counted its statements: {queries:,}, {queries / args.due:.1f} per "
            "started monitor, savepoints included). "
            f"Plan of the due SELECT: `{plan}`.",
        ]
    )
    print(text)
    write_section(args.output, f"monitors-{vendor}", text)
    log(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
