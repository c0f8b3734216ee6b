"""The legacy mini-program's response bodies, built from the same rows and report as v1."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from records.analysis.legacy import legacy_geo_data, legacy_item_scores
from records.models import TERMINAL_STATUSES, Stage, Status, TestRecord
from records.renderers import iso

# v1 status (and stage while running) -> the legacy `status` string.
_LEGACY_STATUS = {
    Status.QUEUED: "initializing",
    Status.COMPLETED: "completed",
    Status.PARTIAL_COMPLETED: "partial_completed",
    Status.FAILED: "failed",
    Status.CANCELLED: "failed",
}
FINISHED_KEYS = (
    "competitive_analysis",
    "brand_scores",
    "negative_sources",
    "recommendation_data",
    "quality_score",
    "overall_score",
)
# The finished fields the results page reads at the report's top level as well.
REPORT_TOP_LEVEL_KEYS = (
    "competitive_analysis",
    "brand_scores",
    "negative_sources",
    "recommendation_data",
)
# The v1 report's sections the legacy report's `analysis` carries beside the legacy ones.
REPORT_ANALYSIS_KEYS = (
    "summary",
    "competitor_comparison",
    "question_breakdown",
    "top_cited_domains",
)
REPORT_DATA_SCHEMA_VERSION = "1.0"
# The rebuild; the Flask system reported 1.x.
SERVER_VERSION = "2.0.0"
# The columns a history row reads.
HISTORY_FIELDS = (
    "execution_id",
    "brand_name",
    "status",
    "stage",
    "progress",
    "error",
    "created_at",
    "finished_at",
    "overall_score",
)


def legacy_status(status: str, stage: str) -> str:
    """The legacy status string; a running run reads as its stage."""
    if status == Status.RUNNING:
        return "analyzing" if stage == Stage.ANALYZING else "ai_fetching"
    if status == Status.QUEUED and stage == Stage.AI_FETCHING:
        return "ai_fetching"  # handed back by a worker that stopped, waiting to be resumed
    return _LEGACY_STATUS[status]


def legacy_error(status: str, error: str | None) -> str | None:
    """The legacy error string: a cancelled run reads as failed with error "cancelled"."""
    if status == Status.CANCELLED:
        return "cancelled"
    return error or None


def legacy_item(item: dict[str, Any], *, main_brand: str, competitors: list[str]) -> dict[str, Any]:
    """One result item with the union of old and new keys the mini-program reads."""
    brand = item["brand"] or main_brand
    others = [b for b in [main_brand, *competitors] if b != brand]
    analysis = item.get("analysis") or {}
    succeeded = item["status"] == "success"
    geo = legacy_geo_data(analysis, brand, others) if succeeded and analysis else None
    if geo is None:
        geo = {
            "brand_mentioned": False,
            "rank": -1,
            "sentiment": 0.0,
            "cited_sources": [],
            "interception": "",
        }
    scores = (
        legacy_item_scores(analysis, brand, others)
        if succeeded and analysis
        # No answer to score: zero scores, and no grade (as brand_scores says for no answers).
        else dict.fromkeys(_SCORE_KEYS, 0) | {"quality_level": "N/A"}
    )
    latency = item.get("latency_ms")
    return {
        "brand": brand,
        "question": item["question"],
        "model": item["platform"],
        "aiModel": item["platform"],
        "response": item.get("response") or "",
        "response_latency": round(latency / 1000, 3) if latency is not None else None,
        "status": item["status"],
        "error": item.get("error"),
        "error_type": item.get("error_type"),
        "geo_data": geo,
        **scores,
    }


_SCORE_KEYS = (
    "score",
    "authority_score",
    "visibility_score",
    "sentiment_score",
    "purity_score",
    "consistency_score",
    "quality_score",
    "quality_level",
)


def legacy_status_body(
    status: dict[str, Any], items: list[dict[str, Any]], finished: dict[str, Any] | None
) -> dict[str, Any]:
    """The body of GET /test/status/<id> and /api/test-progress: the fields of the v1 status
    body (``records.renderers.status_body``) mapped to the legacy names, with the result items
    and, once the run has ended, its legacy sections."""
    terminal = status["is_completed"]
    total = status["total_tasks"]
    done = status["completed_tasks"] + status["failed_tasks"]
    body = {
        "task_id": status["execution_id"],
        "progress": status["progress"],
        "stage": status["stage"],
        "status": legacy_status(status["status"], status["stage"]),
        "is_completed": terminal,
        "should_stop_polling": terminal,
        "results": items,
        "detailed_results": items,
        "error": legacy_error(status["status"], status["error"]),
        "created_at": status["created_at"],
        "updated_at": status["updated_at"],
        "total_tasks": total,
        "completed_tasks": status["completed_tasks"],
        "completion_rate": round(done / total, 4) if total else 0.0,
    }
    if terminal:
        finished = finished or {}
        for key in FINISHED_KEYS:
            body[key] = finished.get(key)
    return body


def legacy_items(
    answers: list[dict[str, Any]], *, main_brand: str, competitors: list[str]
) -> list[dict[str, Any]]:
    """Rendered answers (``records.renderers.answer_body``) as legacy result items."""
    return [legacy_item(a, main_brand=main_brand, competitors=competitors) for a in answers]


def legacy_report_body(
    record: TestRecord,
    report: dict[str, Any],
    sections: dict[str, Any],
    *,
    retrieved_at: datetime,
) -> dict[str, Any]:
    """The body of GET /api/diagnosis/report/<id> from a (stored or live) v1 report and its
    legacy sections."""
    finished = {key: sections.get(key) for key in FINISHED_KEYS}
    return {
        "report": {
            "execution_id": str(record.execution_id),
            "brand_name": record.brand_name,
            "competitor_brands": record.competitor_brands,
            "selected_models": record.platforms,
            "custom_questions": record.questions,
            "status": legacy_status(record.status, record.stage),
            "progress": record.progress,
            "stage": record.stage,
            "is_completed": record.status in TERMINAL_STATUSES,
            "error": legacy_error(record.status, record.error),
            "created_at": iso(record.created_at),
            "completed_at": iso(record.finished_at),
            "overall_score": record.overall_score,
            # Answers written by the offline demo platform, not a real AI.
            "synthetic": bool(report.get("synthetic")),
        },
        "results": legacy_items(
            report.get("items") or [],
            main_brand=record.brand_name,
            competitors=record.competitor_brands,
        ),
        "analysis": finished | {key: report.get(key) for key in REPORT_ANALYSIS_KEYS},
        "meta": {
            "data_schema_version": REPORT_DATA_SCHEMA_VERSION,
            "server_version": SERVER_VERSION,
            "retrieved_at": iso(retrieved_at),
        },
        **{key: finished[key] for key in REPORT_TOP_LEVEL_KEYS},
    }


def legacy_history_item(row: dict[str, Any]) -> dict[str, Any]:
    """One run in GET /api/diagnosis/history, from a HISTORY_FIELDS row.

    ``id`` is the execution id too: the legacy integer row id named a run in the old database
    only, and whichever of the two the client passes to the report endpoint must work.
    """
    execution_id = str(row["execution_id"])
    return {
        "id": execution_id,
        "execution_id": execution_id,
        "brand_name": row["brand_name"],
        "status": legacy_status(row["status"], row["stage"]),
        "progress": row["progress"],
        "stage": row["stage"],
        "is_completed": row["status"] in TERMINAL_STATUSES,
        "error": legacy_error(row["status"], row["error"]),
        "created_at": iso(row["created_at"]),
        "completed_at": iso(row["finished_at"]),
        "overall_score": row["overall_score"],
    }


def legacy_history_body(
    rows: list[dict[str, Any]], *, page: int, limit: int, total: int
) -> dict[str, Any]:
    """The body of GET /api/diagnosis/history."""
    return {
        "reports": [legacy_history_item(row) for row in rows],
        "pagination": {
            "page": page,
            "limit": limit,
            "total": total,
            "has_more": page * limit < total,
        },
    }
