"""One renderer per response shape: the status body and an answer.

Every interface calls these or maps their fields: the status body is sent by the v1 poll (its
plain view and the DRF action) and mapped by the legacy poll; an answer is rendered the same in
``GET …/answers/``, the results report's ``items`` and the legacy result items. Two renderers of
one shape drift (they did: ``brand`` ``""`` vs the main brand, ``Z`` vs ``+00:00``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from django.conf import settings

from records.models import Answer

# The row the status body is rendered from, in this order (the poll selects exactly these).
STATUS_COLUMNS = (
    "status",
    "stage",
    "progress",
    "total_tasks",
    "completed_tasks",
    "failed_tasks",
    "error",
    "error_type",
    "created_at",
    "started_at",
    "finished_at",
    "updated_at",
    "resumed",
    "access_mode",
)
# orjson writes datetimes as DRF does: ISO 8601, UTC as "Z" (raw SQLite rows are naive UTC).
JSON_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def iso(value: datetime | None) -> str | None:
    """ISO 8601 as DRF writes it (UTC as 'Z'), so every endpoint agrees."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def encode(body: dict[str, Any]) -> bytes:
    """A rendered body as JSON bytes, datetimes as DRF writes them."""
    return orjson.dumps(body, option=JSON_OPTIONS)


def status_body(execution_id: uuid.UUID, row: Sequence[Any], *, terminal: bool) -> dict[str, Any]:
    """The v1 status poll body from a ``STATUS_COLUMNS`` row; datetimes stay objects for
    ``encode`` (building iso strings here would cost the hot path ~7 µs a poll)."""
    (status, stage, progress, total, completed, failed, error, error_type) = row[:8]
    created_at, started_at, finished_at, updated_at, resumed, access_mode = row[8:14]
    return {
        "execution_id": str(execution_id),
        "status": status,
        "stage": stage,
        "progress": progress,
        "is_completed": terminal,
        "total_tasks": total,
        "completed_tasks": completed,
        "failed_tasks": failed,
        "error": error or None,
        "error_type": error_type or None,
        "created_at": created_at,
        "started_at": started_at,
        "finished_at": finished_at,
        "updated_at": updated_at,
        "next_poll_ms": None if terminal else settings.BRANDTEST_POLL_INTERVAL_MS,
        "resumed": resumed,
        "access_mode": access_mode,
    }


# The keys of an answer, in the order it is rendered.
ANSWER_FIELDS = (
    "question_index",
    "question",
    "brand",
    "platform",
    "run_index",
    "status",
    "response",
    "model",
    "synthetic",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "sources",
    "access_mode",
    "web_queries",
    "search_calls",
    "error",
    "error_type",
    "retries",
    "created_at",
    "analysis",
)


def answer_body(answer: Answer, *, main_brand: str) -> dict[str, Any]:
    """One stored answer. ``brand`` is the brand the item describes: the substituted one of a
    {brandName} question, else the main brand (docs/legacy-contract.md);
    absent values are null, never ""."""
    return {
        "question_index": answer.question_index,
        "question": answer.question,
        "brand": answer.brand or main_brand,
        "platform": answer.platform,
        "run_index": answer.run_index,
        "status": answer.status,
        "response": answer.text,
        "model": answer.model_name,
        "synthetic": answer.synthetic,
        "latency_ms": answer.latency_ms,
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "sources": answer.sources,
        "access_mode": answer.access_mode,
        "web_queries": answer.web_queries,
        "search_calls": answer.search_calls,
        "error": answer.error or None,
        "error_type": answer.error_type or None,
        "retries": answer.retries,
        "created_at": iso(answer.created_at),
        "analysis": answer.analysis or None,
    }
