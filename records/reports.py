"""The results document: built once when a run finishes, stored gzip-compressed."""

from __future__ import annotations

import gzip
import hashlib
from collections import defaultdict
from typing import Any

import orjson
from django.utils import timezone

from records.models import Answer, AnswerStatus, ResultDocument, TestRecord

REPORT_SCHEMA_VERSION = "1"


def answer_item(record: TestRecord, answer: Answer) -> dict[str, Any]:
    """One answer as it appears in reports and the answers list."""
    return {
        "question_index": answer.question_index,
        "question": answer.question,
        "brand": answer.brand or record.brand_name,
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
        "error": answer.error or None,
        "error_type": answer.error_type or None,
        "retries": answer.retries,
        "created_at": answer.created_at.isoformat(),
        "analysis": answer.analysis or None,
    }


def build_summary(record: TestRecord, answers: list[Answer]) -> dict[str, Any]:
    """Counts per platform and overall; small enough to live on the execution row."""
    per_platform: dict[str, dict[str, int]] = defaultdict(lambda: {"succeeded": 0, "failed": 0})
    for answer in answers:
        key = "succeeded" if answer.status == AnswerStatus.SUCCESS else "failed"
        per_platform[answer.platform][key] += 1
    succeeded = sum(p["succeeded"] for p in per_platform.values())
    return {
        "total_tasks": record.total_tasks,
        "answered": len(answers),
        "succeeded": succeeded,
        "failed": len(answers) - succeeded,
        "coverage": round(succeeded / record.total_tasks, 4) if record.total_tasks else None,
        "platforms": {p: dict(counts) for p, counts in sorted(per_platform.items())},
        "synthetic": any(a.synthetic for a in answers),
        "overall_score": None,
    }


def build_report(record: TestRecord, answers: list[Answer]) -> dict[str, Any]:
    """The whole results document for an execution."""
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "execution_id": str(record.execution_id),
        "brand": record.brand_name,
        "competitors": record.competitor_brands,
        "questions": record.questions,
        "platforms": record.platforms,
        "repeats": record.repeats,
        "generated_at": timezone.now().isoformat(),
        "summary": build_summary(record, answers),
        "items": [answer_item(record, a) for a in answers],
    }


def encode_report(report: dict[str, Any]) -> tuple[bytes, str, int]:
    """JSON-encode and gzip a report; returns (gzip bytes, etag, uncompressed size)."""
    body = orjson.dumps(report)
    etag = hashlib.sha256(body).hexdigest()[:32]
    return gzip.compress(body, compresslevel=6, mtime=0), etag, len(body)


def store_report(record: TestRecord, report: dict[str, Any]) -> ResultDocument:
    """Store (or replace) an execution's report."""
    body_gzip, etag, size = encode_report(report)
    document, _ = ResultDocument.objects.update_or_create(
        record=record,
        defaults={"body_gzip": body_gzip, "etag": etag, "size": size, "created_at": timezone.now()},
    )
    return document
