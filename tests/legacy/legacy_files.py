"""Synthetic legacy SQLite databases of both schema generations (LEGACY_CONTRACT.md §2).

Values are written the way the legacy app wrote them: ``json.dumps`` with its default
``ensure_ascii=True`` (Chinese is ``\\uXXXX``-escaped); G2 blobs gzip-compressed with their flags.
``python -m tests.legacy.legacy_files g1|g2 PATH`` writes a realistic file for manual checks.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

_COMMON_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    openid TEXT UNIQUE,
    nickname TEXT,
    avatar_url TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP{user_extra}
);
CREATE TABLE task_statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT UNIQUE,
    progress INTEGER,
    stage TEXT,
    status_text TEXT,
    is_completed BOOLEAN,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE brands (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE audit_logs (id INTEGER PRIMARY KEY, action TEXT, created_at TIMESTAMP);
"""

G1_SCHEMA = (
    _COMMON_SCHEMA.format(user_extra="")
    + """
CREATE TABLE test_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    brand_name TEXT NOT NULL,
    test_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    ai_models_used TEXT,
    questions_used TEXT,
    overall_score REAL,
    total_tests INTEGER,
    results_summary TEXT,
    detailed_results TEXT,
    FOREIGN KEY (user_id) REFERENCES users (id)
);
"""
)

G2_SCHEMA = (
    _COMMON_SCHEMA.format(user_extra=",\n    phone TEXT,\n    password_hash TEXT")
    + """
CREATE TABLE test_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    brand_name TEXT NOT NULL,
    test_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    ai_models_used TEXT,
    questions_used TEXT,
    overall_score REAL,
    total_tests INTEGER,
    results_summary BLOB,
    detailed_results BLOB,
    is_summary_compressed INTEGER DEFAULT 0,
    is_detailed_compressed INTEGER DEFAULT 0,
    FOREIGN KEY (user_id) REFERENCES users (id)
);
"""
)

# The legacy app looked runs up through this index, so its summaries were stored as JSON text (an
# uncompressed value in the BLOB column); a gzip summary cannot be inserted while it exists.
G2_EXECUTION_ID_INDEX = """
CREATE INDEX idx_test_records_execution_id
    ON test_records (json_extract(results_summary, '$.execution_id'));
"""

GEO_PROMPT_BLOCK = '{{"geo_analysis": {geo}}}'


def dumps(value: Any) -> str:
    """JSON as the legacy app wrote it (ASCII-escaped)."""
    return json.dumps(value)


def gz(value: Any) -> bytes:
    return gzip.compress(dumps(value).encode())


def geo_block(
    *, mentioned: bool = True, rank: int = 1, interception: str = "", fenced: bool = False
) -> str:
    """The trailing JSON the legacy prompt asked the model to append to its answer."""
    geo = dumps(
        {
            "brand_mentioned": mentioned,
            "rank": rank,
            "sentiment": 0.6,
            "cited_sources": [{"url": "https://example.com/a", "site_name": "例子", "attitude": 1}],
            "interception": interception,
        }
    )
    block = GEO_PROMPT_BLOCK.format(geo=geo)
    return f"```json\n{block}\n```" if fenced else block


def g1_item(
    *,
    brand: str,
    model: str,
    question: str,
    response: str,
    success: bool = True,
    error_message: str | None = None,
    error_type: str | None = None,
) -> dict[str, Any]:
    """A G1 result item, with the self-reported scores the legacy app stored."""
    item: dict[str, Any] = {
        "success": success,
        "brand": brand,
        "aiModel": model,
        "question": question,
        "response": response,
        "authority_score": 80,
        "visibility_score": 70,
        "sentiment_score": 60,
        "purity_score": 54,
        "consistency_score": 76,
        "score": 71,
    }
    if error_message is not None:
        item["error_message"] = error_message
    if error_type is not None:
        item["error_type"] = error_type
    return item


def g2_item(
    *,
    question: str,
    main_brand: str,
    competitors: list[str],
    model: str,
    platform: str,
    answer: str,
    timestamp: str,
    geo: str | None = None,
    status: str = "success",
    error: str | None = None,
    question_id: int = 0,
) -> dict[str, Any]:
    """A G2 result item; ``content`` is the answer followed by ``geo`` (the JSON block)."""
    item: dict[str, Any] = {
        "question_id": question_id,
        "question_text": question,
        "main_brand": main_brand,
        "competitor_brands": competitors,
        "model": model,
        "platform": platform,
        "content": f"{answer}\n\n{geo}" if geo else answer,
        "geo_data": {"brand_mentioned": True, "rank": 1, "sentiment": 0.6},
        "status": status,
        "timestamp": timestamp,
    }
    if error is not None:
        item["error"] = error
    return item


class LegacyDB:
    """Writes one legacy database; use as a context manager (closes and checkpoints)."""

    def __init__(
        self,
        path: str | Path,
        generation: str = "g1",
        *,
        wal: bool = False,
        execution_id_index: bool = True,
    ) -> None:
        self.path = Path(path)
        self.generation = generation
        self.connection = sqlite3.connect(self.path)
        if wal:
            self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.executescript(G1_SCHEMA if generation == "g1" else G2_SCHEMA)
        if generation == "g2" and execution_id_index:
            self.connection.executescript(G2_EXECUTION_ID_INDEX)
        self.connection.commit()

    def __enter__(self) -> LegacyDB:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.connection.commit()
        self.connection.close()

    def user(self, openid: str | None, *, nickname: str = "", created_at: str = "") -> int:
        cursor = self.connection.execute(
            "INSERT INTO users (openid, nickname, avatar_url, created_at) VALUES (?, ?, ?, ?)",
            (
                openid,
                nickname,
                "https://thirdwx.qlogo.cn/avatar.png",
                created_at or "2024-12-01 08:00:00",
            ),
        )
        return cursor.lastrowid

    def task_status(self, task_id: str, *, created_at: str, updated_at: str) -> None:
        self.connection.execute(
            "INSERT INTO task_statuses (task_id, progress, stage, status_text, is_completed, "
            "created_at, updated_at) VALUES (?, 100, 'completed', '完成', 1, ?, ?)",
            (task_id, created_at, updated_at),
        )

    def run(
        self,
        *,
        user_id: int,
        brand: str,
        test_date: str | None,
        models: Any,
        items: Any = None,
        summary: Any = None,
        detailed_raw: Any = None,
        summary_raw: Any = None,
        compress: bool = True,
        compress_summary: bool = False,
        flags: tuple[int, int] | None = None,
        overall_score: float | None = 71.0,
    ) -> int:
        """Insert a test_records row. ``items``/``summary`` are encoded the generation's way;
        ``*_raw`` store a value exactly as given (for corrupt, null and empty values).
        G2 compresses ``detailed_results`` (``compress``) and, only when asked, the summary;
        ``flags`` overrides G2's (is_summary_compressed, is_detailed_compressed)."""
        models_value = models if isinstance(models, str) or models is None else dumps(models)
        g2 = self.generation == "g2"
        if detailed_raw is None:
            detailed_raw = gz(items) if g2 and compress else dumps(items)
        if summary_raw is None:
            summary_raw = gz(summary) if g2 and compress_summary else dumps(summary)
        columns = {
            "user_id": user_id,
            "brand_name": brand,
            "test_date": test_date,
            "ai_models_used": models_value,
            "questions_used": dumps(sorted({i.get("question", "") for i in items or []})),
            "overall_score": overall_score,
            "total_tests": len(items or []),
            "results_summary": summary_raw,
            "detailed_results": detailed_raw,
        }
        if g2:
            default = (int(compress_summary), int(compress))
            columns["is_summary_compressed"], columns["is_detailed_compressed"] = flags or default
        cursor = self.connection.execute(
            f"INSERT INTO test_records ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            list(columns.values()),
        )
        return cursor.lastrowid


# ---------------------------------------------------------------------------------------------
# Realistic files for manual checks

BRAND = "华夏良子"
COMPETITORS = ["良子健身", "足疗大师"]
ANSWER = (
    "北京中医推拿推荐如下：\n"
    "1. 华夏良子：老字号连锁，手法专业，口碑很好，值得推荐。\n"
    "2. 良子健身：门店多，价格适中。\n"
    "3. 足疗大师：环境一般，服务还可以。\n"
    "参考：https://www.dianping.com/beijing/tuina"
)
ANSWER_B = (
    "如果看重专业度，可以考虑：\n1. 良子健身：技师培训体系完善。\n2. 华夏良子：历史悠久。\n"
    "足疗大师近期有不少差评。"
)


def build_g1(path: str | Path) -> Path:
    """A G1 file: two users and the anonymous one, per-brand template questions, a failure,
    an unknown model, a fixture row and a corrupt row."""
    with LegacyDB(path, "g1") as db:
        alice = db.user("oAlice_openid_000000000000001", nickname="爱丽丝")
        bob = db.user("oBob_openid_00000000000000002", nickname="Bob")
        anonymous = db.user("anonymous")
        questions = ["{b}的核心竞争优势是什么？", "{b}在目标用户群体中的认知度如何？"]
        items = [
            g1_item(brand=b, model=m, question=q.format(b=b), response=ANSWER)
            for q in questions
            for b in [BRAND, *COMPETITORS]
            for m in ("DeepSeek", "豆包")
        ]
        db.run(
            user_id=alice,
            brand=BRAND,
            test_date="2025-01-10 02:15:00",
            models=["DeepSeek", "豆包"],
            items=items,
            summary={"total_tests": len(items), "brands_tested": [BRAND, *COMPETITORS]},
        )
        items = [
            g1_item(
                brand=BRAND, model="通义千问", question="北京中医推拿哪家好？", response=ANSWER_B
            ),
            g1_item(
                brand=BRAND,
                model="智谱AI",
                question="北京中医推拿哪家好？",
                response="Error: 调用智谱AI失败: 429 Too Many Requests",
                success=False,
                error_type="rate_limited",
            ),
            g1_item(
                brand=BRAND, model="MysteryBot", question="北京中医推拿哪家好？", response=ANSWER
            ),
        ]
        db.run(
            user_id=bob,
            brand=BRAND,
            test_date="2025-01-11 09:00:00",
            models="通义千问,智谱AI,MysteryBot",
            items=items,
            summary="just testing",
        )
        db.run(
            user_id=anonymous,
            brand=BRAND,
            test_date="2025-01-12 12:00:00",
            models=["DeepSeek"],
            items=[
                g1_item(brand=BRAND, model="DeepSeek", question="北京推拿推荐", response=ANSWER_B)
            ],
            summary=None,
        )
        db.run(
            user_id=anonymous,
            brand="测试品牌",
            test_date="2025-01-12 12:30:00",
            models=["DeepSeek"],
            items=[g1_item(brand="测试品牌", model="DeepSeek", question="测试问题", response="")],
            summary={"total_tests": 1},
        )
        db.run(
            user_id=alice,
            brand=BRAND,
            test_date="2025-01-13 08:00:00",
            models=["DeepSeek"],
            detailed_raw='[{"success": true, "brand": "',
            summary={},
        )
    return Path(path)


def build_g2(path: str | Path) -> Path:
    """A G2 file (WAL mode): gzip blobs, kept execution ids, UTC+8 item timestamps, trailing
    geo_analysis blocks (fenced and bare), a partial run, a null row and a corrupt blob."""
    with LegacyDB(path, "g2", wal=True) as db:
        carol = db.user("oCarol_openid_0000000000000003", nickname="卡罗尔")
        anonymous = db.user("anonymous")
        question = "北京中医推拿哪家好？"
        items = [
            g2_item(
                question=question,
                main_brand=BRAND,
                competitors=COMPETITORS,
                model=model,
                platform=platform,
                answer=ANSWER if n % 2 == 0 else ANSWER_B,
                geo=geo_block(interception="良子健身", fenced=n % 2 == 0),
                timestamp=f"2025-02-20T10:0{n}:00.{n:06d}",
            )
            for n, (model, platform) in enumerate(
                [("deepseek-chat", "DeepSeek"), ("doubao-pro", "豆包"), ("qwen-max", "通义千问")]
            )
        ]
        execution_id = "2b6f5a0e-8f0b-4e9a-9d7c-1a2b3c4d5e6f"
        summary = {
            "execution_id": execution_id,
            "total_tests": 3,
            "successful_tests": 3,
            "competitor_brands": COMPETITORS,
            "formula": "legacy",
            "overall_score": 88,
        }
        db.run(
            user_id=carol,
            brand=BRAND,
            test_date="2025-02-20 02:05:00",
            models=["DeepSeek", "豆包", "通义千问"],
            items=items,
            summary=summary,
        )
        db.task_status(
            execution_id, created_at="2025-02-20 02:00:00", updated_at="2025-02-20 02:05:00"
        )
        failed = g2_item(
            question=question,
            main_brand=BRAND,
            competitors=COMPETITORS,
            model="glm-4",
            platform="智谱AI",
            answer="",
            status="failed",
            error="API调用超时",
            timestamp="2025-02-21T09:30:00.500000",
        )
        db.run(
            user_id=anonymous,
            brand=BRAND,
            test_date="2025-02-21 01:31:00",
            models=["DeepSeek", "智谱AI"],
            items=[items[0] | {"timestamp": "2025-02-21T09:29:00.000001"}, failed],
            summary=summary | {"execution_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
        )
        db.run(
            user_id=carol,
            brand=BRAND,
            test_date="2025-02-22 00:00:00",
            models=[],
            detailed_raw="null",
            summary_raw="null",
            compress=False,
            flags=(0, 0),
        )
        db.run(
            user_id=carol,
            brand=BRAND,
            test_date="2025-02-22 00:10:00",
            models=["DeepSeek"],
            detailed_raw=b"\x1f\x8b\x08\x00corrupt",
            summary=summary,
            flags=(0, 1),
        )
    return Path(path)


if __name__ == "__main__":
    generation, target = sys.argv[1], Path(sys.argv[2])
    target.unlink(missing_ok=True)
    print((build_g1 if generation == "g1" else build_g2)(target))
