"""Legacy result items of both generations mapped to one shape, and their questions.

A G2 answer ends with the ``{"geo_analysis": ...}`` block the old prompt asked for; ``text`` is the
answer without it (what is analysed and served as ``response``), ``raw_text`` the answer as the
legacy app stored it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from records.engine.base import ERROR_TYPES
from records.engine.classify import error_type_from_text
from records.engine.plan import BRAND_PLACEHOLDER
from records.legacy.importer.read import as_text, names_in, parse_timestamp
from records.models import AnswerStatus

# Timestamps inside G2 items are naive local time of the legacy server.
LEGACY_LOCAL_TZ = dt_timezone(timedelta(hours=8), "UTC+08:00")
# Item statuses the legacy app wrote for a call that produced no answer.
FAILED_ITEM_STATUSES = frozenset({"failed", "failure", "error", "timeout", "cancelled"})
NO_MESSAGE_ERROR = "The legacy run recorded this call as failed without a message."
EMPTY_ANSWER_ERROR = "The platform returned an empty answer."

_GEO_BLOCK_START = re.compile(r'\{\s*"geo_analysis"\s*:')
_OPENING_FENCE = re.compile(r"```[\w-]*[ \t]*\n?[ \t]*\Z")
_CLOSING_FENCE = re.compile(r"\s*```")


@dataclass(slots=True)
class LegacyItem:
    """One legacy result item, normalised across generations."""

    question: str
    brand: str
    model: str
    raw_text: str
    text: str
    status: str
    error: str = ""
    error_type: str = ""
    timestamp: datetime | None = None
    # Has an answer text or a recorded failure message; a row with none of these is a fixture.
    carries_answer: bool = True
    competitors: list[str] = field(default_factory=list)


def item_dicts(detailed: Any) -> list[dict[str, Any]] | None:
    """The item objects of a decoded ``detailed_results`` (a list, or one wrapped in a dict)."""
    if isinstance(detailed, dict):
        wrapped = detailed.get("results")
        detailed = wrapped if isinstance(wrapped, list) else [detailed]
    if not isinstance(detailed, list):
        return None
    return [item for item in detailed if isinstance(item, dict) and item]


def g1_item(data: dict[str, Any]) -> LegacyItem:
    """``{success, brand, aiModel, question, response, error_message?, error_type?, ...}``."""
    response = as_text(data.get("response"))
    error = as_text(data.get("error_message") or data.get("error"))
    is_error_text = response.lstrip().startswith("Error:")
    if is_error_text:
        # Failures stored their message as the response: "Error: ...".
        error = error or response.strip().removeprefix("Error:").strip()
        response = ""
    return _finish_item(
        question=as_text(data.get("question")),
        brand=as_text(data.get("brand")),
        model=as_text(data.get("aiModel") or data.get("model")),
        raw_text=response,
        failed=data.get("success") is False or is_error_text,
        error=error,
        error_type=as_text(data.get("error_type")),
    )


def g2_item(data: dict[str, Any]) -> LegacyItem:
    """``{question_text, main_brand, competitor_brands, model, platform, content, status, ...}``."""
    status = as_text(data.get("status")).strip().lower()
    return _finish_item(
        question=as_text(data.get("question_text") or data.get("question")),
        brand=as_text(data.get("brand") or data.get("main_brand")),
        model=as_text(data.get("platform") or data.get("model")),
        raw_text=as_text(data.get("content") or data.get("response")),
        failed=status in FAILED_ITEM_STATUSES,
        error=as_text(data.get("error")),
        error_type=as_text(data.get("error_type")),
        timestamp=parse_timestamp(data.get("timestamp"), naive_tz=LEGACY_LOCAL_TZ),
        competitors=names_in(data.get("competitor_brands")),
    )


def _finish_item(
    *,
    question: str,
    brand: str,
    model: str,
    raw_text: str,
    failed: bool,
    error: str,
    error_type: str,
    timestamp: datetime | None = None,
    competitors: list[str] | None = None,
) -> LegacyItem:
    text = strip_geo_block(raw_text).strip() if raw_text.strip() else ""
    item = LegacyItem(
        question=question.strip(),
        brand=brand.strip(),
        model=model.strip(),
        raw_text=raw_text,
        text=text,
        status=AnswerStatus.SUCCESS,
        timestamp=timestamp,
        carries_answer=bool(raw_text.strip() or error.strip()),
        competitors=competitors or [],
    )
    if failed or error.strip() or not text:
        item.status = AnswerStatus.FAILED
        if failed or error.strip():
            item.error = error.strip() or NO_MESSAGE_ERROR
            item.error_type = legacy_error_type(error_type, item.error)
        else:
            item.error, item.error_type = EMPTY_ANSWER_ERROR, "bad_response"
    return item


def legacy_error_type(error_type: str, error: str) -> str:
    """The taxonomy's error type for a legacy failure: kept when it already is one, else what
    its type name or text names ("Read timed out" -> timeout), else the legacy label itself."""
    label = error_type.strip()
    if label in ERROR_TYPES:
        return label
    return (error_type_from_text(f"{label} {error}") or label or "internal")[:30]


def strip_geo_block(content: str) -> str:
    """The answer without the ``{"geo_analysis": ...}`` block the legacy prompt asked for.

    The block may sit in a code fence. A block that does not parse (the model's output was cut
    off) runs to the end of the answer.
    """
    matches = list(_GEO_BLOCK_START.finditer(content))
    if not matches:
        return content
    start = matches[-1].start()
    fence = _OPENING_FENCE.search(content, 0, start)
    cut = fence.start() if fence else start
    try:
        _, end = json.JSONDecoder().raw_decode(content, start)
    except json.JSONDecodeError:
        end = len(content)
    else:
        closing = _CLOSING_FENCE.match(content, end)
        if fence and closing:
            end = closing.end()
    before, after = content[:cut].rstrip(), content[end:].strip()
    return f"{before}\n\n{after}" if before and after else before or after


def question_cells(items: list[LegacyItem], main: str) -> tuple[list[str], list[tuple[int, str]]]:
    """The run's questions and each item's (question_index, brand), as plan.expand_questions
    would have made them.

    A question asked once per brand with the brand substituted becomes a ``{brandName}`` template
    whose answers carry their brand (the main brand's included, as in new runs); any other
    question is kept as asked, with brand ''.
    """
    candidates = [
        item.question.replace(item.brand, BRAND_PLACEHOLDER)
        if item.brand and item.brand in item.question
        else None
        for item in items
    ]
    brands_of: dict[str, set[str]] = defaultdict(set)
    for item, candidate in zip(items, candidates, strict=True):
        if candidate is not None:
            brands_of[candidate].add(item.brand)
    questions: dict[str, int] = {}
    cells = []
    for item, candidate in zip(items, candidates, strict=True):
        templated = candidate is not None and brands_of[candidate] != {main}
        text = candidate if templated else item.question
        cells.append((questions.setdefault(text, len(questions)), item.brand if templated else ""))
    return list(questions), cells
