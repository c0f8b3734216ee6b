"""Benchmark of the trend query (level T of `make bench`): one monitor with a year of daily runs,
among ``--rows`` BrandScore rows in all, on the configured database (SQLite or PostgreSQL).

    .venv/bin/python -m bench.trends --rows 1000000 [--quick]

The dataset lives in its own bench database (``bench_trend_<rows>``), seeded once. The target
monitor has 365 daily executions × 5 tracked brands × (3 platforms + overall) = 7,300 BrandScore
rows and 365 × 5 × 3 × 20 prompts = 109,500 CellScore rows; filler monitors' daily executions
fill BrandScore up to ``--rows`` (CellScore holds the target's rows only: the change query
reads it by record id through its unique index, whatever else the table holds). Measured:
``monitor_trend`` (the service behind the API: BrandScore points for every metric, brand and
platform, the change on CellScore, prompt changes) for day/week/month over the year, median
and p95 of repeated calls, with the query plan. The section goes to docs/benchmarks.md
(``bench:trend-<database>``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRANDS = ["华夏良子", "通透堂", "良子健身", "足疗大师", "康复堂"]
PLATFORMS = ["deepseek", "doubao", "demo"]
PROMPTS = 20
DAYS = 365
SEED_VERSION = "trend-1"
START = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)


BRANDSCORE_SQL = (
    "INSERT INTO records_brandscore (record_id, brand, platform, is_main_brand, mention_rate,"
    " mention_rate_se, mrr, top1_rate, share_of_voice, nss, visibility_score, coverage,"
    " valid_answers, components, scoring_version, created_at, avg_rank_n, nss_n)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0)"
)
CELLSCORE_SQL = (
    "INSERT INTO records_cellscore (record_id, brand, platform, prompt_id, question_index,"
    " subject, n_valid, n_mentioned, rr_sum, n_top1, sentiment_sum, sentiment_n,"
    " n_all_mentions, n_sourced, n_owned_cited)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _seed(rows: int, log) -> int:
    """Seed the dataset unless present; returns the target monitor's id."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from bench.seed import ensure_database
    from records.models import (
        BrandScore,
        CellScore,
        Monitor,
        MonitorStatus,
        Prompt,
        TestRecord,
        TrackedBrand,
    )

    ensure_database()
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_meta (key VARCHAR(50) PRIMARY KEY, value TEXT)"
        )
        cursor.execute("SELECT value FROM bench_meta WHERE key = 'trend'")
        found = cursor.fetchone()
    wanted = f"{SEED_VERSION}:{rows}"
    if found and found[0] == wanted:
        return Monitor.objects.order_by("pk").values_list("pk", flat=True).first()
    started = time.perf_counter()
    log(f"seeding {rows:,} BrandScore rows into {connection.settings_dict['NAME']} ...")
    per_run = len(BRANDS) * (len(PLATFORMS) + 1)
    runs_total = rows // per_run
    with transaction.atomic():
        CellScore.objects.all().delete()
        BrandScore.objects.all().delete()
        TestRecord.objects.all().delete()
        Monitor.objects.all().delete()
        user, _ = get_user_model().objects.get_or_create(username="bench-trend")
        monitors = []
        for m in range(-(-runs_total // DAYS)):
            monitor = Monitor.objects.create(
                owner=user, name=f"bench {m}", platforms=PLATFORMS, status=MonitorStatus.PAUSED
            )
            for i, name in enumerate(BRANDS):
                TrackedBrand.objects.create(monitor=monitor, name=name, is_main=i == 0)
            monitors.append(monitor)
        target = monitors[0]
        prompts = [
            Prompt.objects.create(monitor=target, text=f"问题{q}", active_from=START)
            for q in range(PROMPTS)
        ]
        prompt_ids = [p.pk for p in prompts]
        done = 0
        for m, monitor in enumerate(monitors):
            count = min(DAYS, runs_total - m * DAYS)
            records = TestRecord.objects.bulk_create(
                [
                    TestRecord(
                        owner=user,
                        monitor=monitor,
                        brand_name=BRANDS[0],
                        competitor_brands=BRANDS[1:],
                        questions=[f"问题{q}" for q in range(PROMPTS)],
                        prompt_ids=prompt_ids if m == 0 else [],
                        platforms=PLATFORMS,
                        status="completed",
                        stage="completed",
                        progress=100,
                        created_at=START + timedelta(days=d),
                    )
                    for d in range(count)
                ],
                batch_size=2000,
            )
            scores, cells = [], []
            for d, record in enumerate(records):
                for b, brand in enumerate(BRANDS):
                    for p, platform in enumerate(["", *PLATFORMS]):
                        mr = ((d * 7 + b * 13 + p * 5) % 100) / 100
                        scores.append(
                            (
                                record.pk,
                                brand,
                                platform,
                                b == 0,
                                mr,
                                0.05,
                                mr / 2,
                                mr / 3,
                                0.2,
                                0.1,
                                60 * mr,
                                1.0,
                                PROMPTS,
                                "{}",
                                "vs-1.0",
                                record.created_at,
                            )
                        )
                    if m == 0:
                        for platform in PLATFORMS:
                            for q in range(PROMPTS):
                                hit = (d + b + q) % 3 != 0
                                cells.append(
                                    (
                                        record.pk,
                                        brand,
                                        platform,
                                        prompt_ids[q],
                                        q,
                                        BRANDS[0],
                                        1,
                                        int(hit),
                                        0.5 if hit else 0.0,
                                        0,
                                        0.0,
                                        0,
                                        3,
                                        0,
                                        0,
                                    )
                                )
            with connection.cursor() as cursor:
                cursor.executemany(BRANDSCORE_SQL, scores)
                if cells:
                    cursor.executemany(CELLSCORE_SQL, cells)
            done += len(records)
            if m % 20 == 0:
                log(f"  monitor {m + 1}/{len(monitors)}: {done * per_run:,} rows")
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM bench_meta WHERE key = 'trend'")
            cursor.execute("INSERT INTO bench_meta (key, value) VALUES ('trend', %s)", [wanted])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"seeded in {time.perf_counter() - started:.0f} s")
    return target.pk


def _time(fn, repeats: int) -> dict:
    fn()  # warm-up
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p95_ms": samples[min(len(samples) - 1, int(len(samples) * 0.95))],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "BENCH_ROWS": str(args.rows),
            "BENCH_DB_NAME": f"bench_trend_{args.rows}",
        }
    )
    import django

    django.setup()
    from django.db import connection

    from bench.run import versions, write_section
    from records.models import BrandScore, CellScore, Monitor
    from records.trends import clean_trend_params, monitor_trend, trend_query

    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    target = Monitor.objects.get(pk=_seed(args.rows, log))
    repeats = 3 if args.quick else 15
    year = {"from": "2025-01-01", "to": "2025-12-31"}
    rows = []
    for interval in ("day", "week", "month"):
        query = clean_trend_params({**year, "interval": interval}, monitor=target)
        body = monitor_trend(target, query)
        timing = _time(lambda q=query: monitor_trend(target, q), repeats)
        rows.append((f"interval={interval}, all metrics", body, timing))
    query = clean_trend_params(
        {**year, "metric": "mention_rate", "brand": BRANDS[0]}, monitor=target
    )
    body = monitor_trend(target, query)
    rows.append(
        (
            "interval=day, mention_rate, main brand",
            body,
            _time(lambda: monitor_trend(target, query), repeats),
        )
    )
    query = clean_trend_params(
        {**year, "metric": "mention_rate", "branded": "false"}, monitor=target
    )
    body = monitor_trend(target, query)
    rows.append(
        (
            "interval=day, mention_rate, branded=false (CellScore)",
            body,
            _time(lambda: monitor_trend(target, query), repeats),
        )
    )
    plan = trend_query(target, clean_trend_params(year, monitor=target)).explain()
    vendor = connection.vendor
    lines = [
        f"### Trend query, {vendor} ({time.strftime('%Y-%m-%d', time.gmtime())})",
        "",
        f"`python -m bench.trends --rows {args.rows}`{' --quick' if args.quick else ''}: "
        f"{BrandScore.objects.count():,} BrandScore rows, {CellScore.objects.count():,} CellScore "
        f"rows; the monitor has {DAYS} daily executions × {len(BRANDS)} brands × "
        f"({len(PLATFORMS)} platforms + overall). Each figure: median / p95 of {repeats} calls of "
        "`records.trends.monitor_trend` (query + Python aggregation, no HTTP), one process.",
        "",
        "| request (one year) | points | changes | median ms | p95 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, body, timing in rows:
        lines.append(
            f"| {name} | {len(body['points']):,} | {len(body['changes'])} | "
            f"{timing['median_ms']:.1f} | {timing['p95_ms']:.1f} |"
        )
    lines += ["", "Plan of the BrandScore query:", "", "```", plan, "```", ""]
    lines.append(f"Versions: {versions()}")
    text = "\n".join(lines)
    print(text)
    path = ROOT / ("bench/data/benchmarks-quick.md" if args.quick else "docs/benchmarks.md")
    write_section(path, f"trend-{vendor}", text)


if __name__ == "__main__":
    main()
