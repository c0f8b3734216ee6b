"""The legacy mini-program's response bodies, built from the same rows and report as v1."""

from __future__ import annotations

from typing import Any

from records.analysis.legacy import legacy_geo_data, legacy_item_scores
from records.api.serializers import iso
from records.models import Stage, Status

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


def legacy_status(status: str, stage: str) -> str:
    """The legacy status string; a running run reads as its stage."""
    if status == Status.RUNNING:
        return "analyzing" if stage == Stage.ANALYZING else "ai_fetching"
    return _LEGACY_STATUS[status]


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
        else dict.fromkeys(_SCORE_KEYS, 0)
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
    row: dict[str, Any], items: list[dict[str, Any]], finished: dict[str, Any] | None
) -> dict[str, Any]:
    """The body of GET /test/status/<id> and /api/test-progress."""
    terminal = row["status"] in (
        Status.COMPLETED,
        Status.PARTIAL_COMPLETED,
        Status.FAILED,
        Status.CANCELLED,
    )
    total = row["total_tasks"]
    done = row["completed_tasks"] + row["failed_tasks"]
    error = row["error"] or None
    if row["status"] == Status.CANCELLED:
        error = "cancelled"
    body = {
        "task_id": str(row["execution_id"]),
        "progress": row["progress"],
        "stage": row["stage"],
        "status": legacy_status(row["status"], row["stage"]),
        "is_completed": terminal,
        "should_stop_polling": terminal,
        "results": items,
        "detailed_results": items,
        "error": error,
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "total_tasks": total,
        "completed_tasks": row["completed_tasks"],
        "completion_rate": round(done / total, 4) if total else 0.0,
    }
    if terminal:
        finished = finished or {}
        for key in FINISHED_KEYS:
            body[key] = finished.get(key)
    return body
