"""The deterministic bench dataset, seeded once per size and reused across runs.

``rows`` TestRecords (owned by 1,000 users or anonymous, ~98% terminal, realistic field sizes,
a ~200 B ``results_summary`` carrying the execution id as the legacy system stored it), plus:

- ``L3_ROWS`` running anonymous runs that the L3 writer advances (their progress is reset before
  each L3 run, so repeated benchmarks see the same starting state);
- answers for the first ``ANSWERED_ROWS`` of them (the legacy poll reads answers while active);
- three finished runs whose stored result documents are ~10 KB, ~200 KB and ~2 MB, built by the
  project's own analysis and report code from synthetic answers.

Rows are written with one multi-row ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) in one
transaction: 1M rows take about a minute either way.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from django.core.management import call_command
from django.db import connection, transaction

from records.engine.config import PLATFORMS

SEED_VERSION = "5"
SEED = 20240601
USERS = 1_000
L3_ROWS = 200
ANSWERED_ROWS = 50
# The mini-program's poll: one running run owned by user 1 with 72 answers of ~1,500 characters.
POLL_ANSWERS = 72
POLL_OWNER = 1
# Every KEYED_EVERY-th run was started with an Idempotency-Key; every LEGACY_EVERY-th was imported
# from the legacy system (legacy_key): the keyed-start and import lookups search a full index.
KEYED_EVERY = 10
LEGACY_EVERY = 20
# The owner whose history is measured: every 50th run is theirs (20,000 at 1M rows).
HEAVY_OWNER = 2
HEAVY_EVERY = 50
DOC_SIZES = {"10k": 10_000, "200k": 200_000, "2m": 2_000_000}
TOKEN_KEY = "bench0000000000000000000000000000000001"[:40]
BATCH = 20_000

BRANDS = [
    f"{a}{b}"
    for a in ("华夏", "良子", "康源", "仁和", "悦康", "百草", "同仁", "养生", "御足", "泰和")
    for b in ("良子", "推拿", "健身", "足疗", "中医馆", "理疗", "按摩", "养生堂", "国医", "SPA")
]
QUESTIONS = [
    "北京中医推拿哪家好？",
    "{brandName}的核心竞争优势是什么？",
    "{brandName}在目标用户群体中的认知度如何？",
    "{brandName}与竞品的主要差异化体现在哪里？",
    "上海哪家足疗店口碑最好，适合周末带父母去？",
    "推拿和按摩有什么区别，哪家更专业？",
    "颈椎不舒服应该去哪里做理疗比较靠谱？",
    "连锁养生馆哪个品牌的技师最专业？",
    "What are the best massage chains in Beijing for office workers?",
    "Which brand offers the best value for traditional Chinese massage?",
]
ERRORS = (
    ("quota_exhausted", "deepseek: quota exhausted; check the account's balance (3 calls)"),
    ("timeout", "kimi: timed out after 60 s (2 calls)"),
    ("auth_failed", "qwen: the API key was rejected; check QWEN_API_KEY (4 calls)"),
)
# (status, weight): most stored runs are finished.
STATUSES = (
    ("completed", 900),
    ("partial_completed", 45),
    ("failed", 30),
    ("cancelled", 10),
    ("running", 12),
    ("queued", 3),
)
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=700)


@dataclass(frozen=True)
class Layout:
    """Where the special rows of a seeded dataset are (ids are 1..rows in creation order)."""

    rows: int

    @property
    def l3_ids(self) -> range:
        """Running anonymous runs with 1,000 calls each: the L3 writer advances them."""
        first = self.rows - len(DOC_SIZES) - L3_ROWS + 1
        return range(first, first + L3_ROWS)

    @property
    def poll_id(self) -> int:
        """The running run with POLL_ANSWERS long answers, owned by POLL_OWNER."""
        return self.l3_ids[0] - 1

    @property
    def done_id(self) -> int:
        """A completed run like ``poll_id`` (72 long answers, POLL_OWNER) with stored documents:
        the legacy poll of a finished run."""
        return self.poll_id - 1

    @property
    def doc_ids(self) -> dict[str, int]:
        first = self.rows - len(DOC_SIZES) + 1
        return {name: first + i for i, name in enumerate(DOC_SIZES)}


def ensure_database() -> None:
    """Create the bench database (PostgreSQL) or its folder (SQLite) if missing."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        return
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")


def ensure_seeded(rows: int, *, log=print) -> Layout:
    """Migrate the bench database and seed it unless it already holds this dataset."""
    ensure_database()
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_meta (key VARCHAR(50) PRIMARY KEY, value TEXT)"
        )
        cursor.execute("SELECT value FROM bench_meta WHERE key = 'seed'")
        found = cursor.fetchone()
    wanted = f"{SEED_VERSION}:{rows}"
    layout = Layout(rows)
    if found and found[0] == wanted:
        return layout
    started = time.perf_counter()
    log(f"seeding {rows:,} rows into {connection.settings_dict['NAME']} ...")
    with transaction.atomic():
        _clear()
        _seed_users()
        _seed_records(rows, layout)
        _seed_answers_and_documents(layout)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM bench_meta WHERE key = 'seed'")
            cursor.execute("INSERT INTO bench_meta (key, value) VALUES ('seed', %s)", [wanted])
    with connection.cursor() as cursor:
        # PostgreSQL: VACUUM sets the visibility map, without which index-only scans (the ids-first
        # pages, the capped counts) visit the heap for every row of a freshly COPYed table.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    log(f"seeded in {time.perf_counter() - started:.0f} s")
    return layout


def _clear() -> None:
    from records.models import (
        Answer,
        BrandScore,
        CellScore,
        LegacyDocument,
        ResultDocument,
        TestRecord,
    )

    with connection.cursor() as cursor:
        for model in (LegacyDocument, ResultDocument, CellScore, BrandScore, Answer, TestRecord):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
        cursor.execute("DELETE FROM authtoken_token")
        cursor.execute("DELETE FROM auth_user")


def _seed_users() -> None:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    user_model.objects.bulk_create(
        user_model(id=i, username=f"bench{i}", password="!", date_joined=START)
        for i in range(1, USERS + 1)
    )
    Token.objects.create(user_id=1, key=TOKEN_KEY)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('auth_user', 'id'), %s)", [USERS])


def _record_rows(rows: int, layout: Layout):
    """Yield one dict per TestRecord, deterministic for a given ``rows``."""
    rng = random.Random(SEED)
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    l3 = layout.l3_ids
    step = SPAN / rows
    for i in range(1, rows - len(DOC_SIZES) + 1):
        execution_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        created = START + step * i + timedelta(seconds=rng.random() * 30)
        owner = None if rng.random() < 0.4 else rng.randint(1, USERS)
        status = rng.choices(statuses, weights)[0]
        repeats = rng.choice((1, 1, 1, 2, 3))
        questions = rng.sample(QUESTIONS, rng.randint(1, 5))
        platforms = rng.sample(PLATFORMS, rng.randint(1, 6))
        brand, *competitors = rng.sample(BRANDS, rng.randint(2, 5))
        total = len(questions) * len(platforms) * repeats
        if i % HEAVY_EVERY == 0:
            owner = HEAVY_OWNER
        elif owner == HEAVY_OWNER:
            owner = HEAVY_OWNER + 1
        if i in l3:
            owner, status, total = None, "running", 1_000
        if i in (layout.poll_id, layout.done_id):
            status = "running" if i == layout.poll_id else "completed"
            owner, repeats = POLL_OWNER, 3
            questions, platforms = QUESTIONS[:5], list(PLATFORMS[:6])
            total = 5 * 6 * 3
        row = {
            "execution_id": execution_id,
            "owner_id": owner,
            "brand_name": brand,
            "competitor_brands": competitors,
            "questions": questions,
            "platforms": platforms,
            "repeats": repeats,
            "status": status,
            "total_tasks": total,
            "created_at": created,
            "updated_at": created,
            "caller_key": f"user:{owner}" if owner else f"device:{rng.getrandbits(64):016x}",
            "request_fingerprint": f"{rng.getrandbits(256):064x}",
            "idempotency_key": f"key-{i:08d}" if i % KEYED_EVERY == 0 else "",
            "legacy_key": f"legacy-{i:08d}" if i % LEGACY_EVERY == 0 else "",
        }
        _lifecycle(row, rng)
        if i == layout.poll_id:
            row.update(completed_tasks=POLL_ANSWERS, progress=POLL_ANSWERS * 100 // total)
            row["version"] = POLL_ANSWERS + 2
        failed = row["failed_tasks"]
        row["results_summary"] = {
            "execution_id": str(execution_id),
            "total_tasks": total,
            "answered": row["completed_tasks"] + failed,
            "succeeded": row["completed_tasks"],
            "failed": failed,
            "overall_score": row["overall_score"],
            "scoring_version": row["scoring_version"] or None,
            "platforms": platforms[:2],
        }
        yield row


def _lifecycle(row: dict, rng: random.Random) -> None:
    status, total, created = row["status"], row["total_tasks"], row["created_at"]
    started = created + timedelta(seconds=rng.random() * 3)
    row.update(
        stage="completed",
        progress=100,
        completed_tasks=total,
        failed_tasks=0,
        error="",
        error_type="",
        started_at=started,
        finished_at=started + timedelta(seconds=5 + rng.random() * total * 4),
        overall_score=round(rng.uniform(20, 95), 2),
        scoring_version="vs-1.0",
        version=total + 4,
    )
    row["heartbeat_at"] = row["updated_at"] = row["finished_at"]
    if status == "partial_completed":
        row["failed_tasks"] = max(1, total // 4)
        row["completed_tasks"] = total - row["failed_tasks"]
        row["error_type"], row["error"] = rng.choice(ERRORS)
    elif status == "failed":
        row.update(stage="failed", completed_tasks=0, failed_tasks=total, overall_score=None)
        row["error_type"], row["error"] = rng.choice(ERRORS)
    elif status == "cancelled":
        row.update(completed_tasks=total // 2, overall_score=None, error_type="cancelled")
        row["error"] = "cancelled by the user"
    elif status in ("running", "queued"):
        running = status == "running"
        done = rng.randint(0, total - 1) if running and total < 1_000 else 0
        row.update(
            stage="ai_fetching" if running else "init",
            progress=done * 100 // total,
            completed_tasks=done,
            finished_at=None,
            overall_score=None,
            scoring_version="",
            version=done + 2,
        )
        row["started_at"] = started if running else None
        row["heartbeat_at"] = row["updated_at"] = started if running else created


def _columns():
    from records.models import TestRecord

    return [f for f in TestRecord._meta.concrete_fields if f.column != "id"]


def _seed_records(rows: int, layout: Layout) -> None:
    fields = _columns()
    defaults = {f.attname: f.get_default() for f in fields}
    postgres = connection.vendor == "postgresql"
    json_columns = {f.attname for f in fields if f.get_internal_type() == "JSONField"}

    def values(row: dict) -> tuple:
        out = []
        for field in fields:
            name = field.attname
            value = row.get(name, defaults[name])
            if name in json_columns:
                value = orjson.dumps(value).decode()
            elif value is None:
                pass
            elif isinstance(value, uuid.UUID):
                value = value if postgres else value.hex
            elif isinstance(value, datetime) and not postgres:
                value = value.replace(tzinfo=None).isoformat(" ")
            out.append(value)
        return tuple(out)

    table = "records_testrecord"
    names = ", ".join(f.column for f in fields)
    connection.ensure_connection()
    raw = connection.connection
    if postgres:
        with raw.cursor() as cursor:
            # Ids are 1..rows (Layout): a rolled-back earlier attempt still moved the sequence.
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false)")
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in _record_rows(rows, layout):
                    copy.write_row(values(row))
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [rows])
        return
    marks = ", ".join("?" for _ in fields)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    cursor = raw.cursor()
    batch = []
    for row in _record_rows(rows, layout):
        batch.append(values(row))
        if len(batch) == BATCH:
            cursor.executemany(sql, batch)
            batch.clear()
    cursor.executemany(sql, batch)
    cursor.close()


def _seed_answers_and_documents(layout: Layout) -> None:
    """Answers for a sample of running runs; three finished runs with stored documents."""
    from records.engine.base import Prompt
    from records.engine.demo import synthesise_answer
    from records.models import Answer, TestRecord
    from records.reports import (
        Analyser,
        build_report,
        build_results,
        build_scores,
        store_report,
    )

    rng = random.Random(SEED + 1)

    def answers_for(record: TestRecord, count: int, paragraphs: int = 3) -> list[Answer]:
        analyser = Analyser(record)
        brands = (record.brand_name, *record.competitor_brands)
        made = []
        cells = [
            (q, p, r)
            for r in range(-(-count // (len(record.questions) * len(record.platforms))))
            for q in range(len(record.questions))
            for p in record.platforms
        ]
        for q, platform, run in cells[:count]:
            question = record.questions[q]
            # Real answers run to a few KB: several synthetic paragraphs.
            text = "\n\n".join(
                synthesise_answer(Prompt(question, brands), rng) for _ in range(paragraphs)
            )
            made.append(
                Answer(
                    record=record,
                    question_index=q,
                    platform=platform,
                    run_index=run,
                    question=question,
                    text=text,
                    model_name=f"{platform}-chat",
                    latency_ms=rng.randint(800, 9_000),
                    prompt_tokens=len(question),
                    completion_tokens=len(text),
                    status="success",
                    analysis=analyser.analyse(text),
                    created_at=record.created_at,
                )
            )
        return made

    for record in TestRecord.objects.filter(id__in=layout.l3_ids[:ANSWERED_ROWS]):
        record.repeats = 3
        Answer.objects.bulk_create(answers_for(record, 12))
    # Real answers run to ~1,500 characters: five synthetic paragraphs.
    poll = TestRecord.objects.get(id=layout.poll_id)
    Answer.objects.bulk_create(answers_for(poll, POLL_ANSWERS, paragraphs=5))
    done = TestRecord.objects.get(id=layout.done_id)
    answers = Answer.objects.bulk_create(answers_for(done, POLL_ANSWERS, paragraphs=5))
    done.total_tasks = done.completed_tasks = POLL_ANSWERS
    done.save(update_fields=["total_tasks", "completed_tasks"])
    _seed_scores(layout)
    build_results(done, answers).store(done)

    now = START + SPAN
    for name, target in DOC_SIZES.items():
        small = target < 50_000
        record = TestRecord(
            id=layout.doc_ids[name],
            brand_name="华夏良子",
            competitor_brands=["良子健身"] if small else ["良子健身", "足疗大师", "康源堂"],
            questions=QUESTIONS[:1] if small else QUESTIONS[:5],
            platforms=list(PLATFORMS[:1] if small else PLATFORMS),
            status="completed",
            stage="completed",
            progress=100,
            created_at=now,
            started_at=now,
            finished_at=now,
            updated_at=now,
        )
        # Size the document by measuring: scale the answer count until within 10% of target.
        count, paragraphs = (1, 1) if small else (40, 2)
        for _ in range(4):
            answers = answers_for(record, count, paragraphs)
            record.total_tasks = record.completed_tasks = count
            record.repeats = -(-count // (len(record.questions) * len(record.platforms)))
            report = build_report(record, answers, build_scores(record, answers))
            size = len(orjson.dumps(report))
            if abs(size - target) < target / 10:
                break
            if small and size > target:
                paragraphs = 1
                break
            if small:
                paragraphs += 1
            else:
                count = max(1, round(count * target / size))
        record.version = count + 4
        record.results_summary = report["summary"] | {"execution_id": str(record.execution_id)}
        record.overall_score = report["summary"]["overall_score"]
        record.save(force_insert=True)
        Answer.objects.bulk_create(answers)
        store_report(record, report)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('records_testrecord', 'id'), %s)",
                [layout.rows],
            )


def _seed_scores(layout: Layout) -> None:
    """Main-brand BrandScores (overall and per platform) of every 4th finished run: what the
    admin dashboard averages."""
    from records.models import BrandScore

    table = BrandScore._meta.db_table
    postgres = connection.vendor == "postgresql"
    rng = random.Random(SEED + 2)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, brand_name, platforms, created_at, finished_at FROM records_testrecord "
            "WHERE status = 'completed' AND id %% 4 = 0 AND id <> %s",
            [layout.done_id],
        )
        records = cursor.fetchall()
    rows = []
    for record_id, brand, platforms, created, finished in records:
        at = finished or created
        for platform in ["", *orjson.loads(platforms)[:2]]:
            rows.append(
                (record_id, brand, platform, True, round(rng.uniform(5, 95), 2), "vs-1.0", at)
            )
    sql = (
        f"INSERT INTO {table} (record_id, brand, platform, is_main_brand, visibility_score, "
        "scoring_version, created_at, avg_rank_n, nss_n, valid_answers, components) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, 0, 0, 0, '{}')"
    )
    if not postgres:
        sql = sql.replace("%s", "?")
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    for start in range(0, len(rows), BATCH):
        cursor.executemany(sql, rows[start : start + BATCH])
    cursor.close()
