"""Serializers of the v1 API."""

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from records.models import TERMINAL_STATUSES, Answer, TestRecord

# The fields the status poll reads; one indexed query selects exactly these.
STATUS_FIELDS = (
    "execution_id",
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
    "version",
    "resumed",
)


class ExecutionCreateSerializer(serializers.Serializer):
    """The input of a new brand test; domain rules are checked by the start service."""

    brand = serializers.CharField(max_length=100, help_text="The main brand, e.g. 华夏良子.")
    competitors = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        help_text="Competitor brands (at most 10).",
    )
    questions = serializers.ListField(
        child=serializers.CharField(max_length=500),
        required=False,
        default=list,
        help_text=(
            "1-5 buyer questions, asked verbatim. {brandName} is asked once per brand; "
            "none given uses three default questions."
        ),
    )
    platforms = serializers.ListField(
        child=serializers.CharField(max_length=50),
        allow_empty=False,
        help_text="Platform ids (see /api/v1/platforms/), e.g. deepseek, kimi, demo.",
    )
    repeats = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Runs per (question, platform); default from BRANDTEST_DEFAULT_REPEATS.",
    )


def execution_links(execution_id: str) -> dict[str, str]:
    """Where a client goes next for an execution."""
    kwargs = {"execution_id": execution_id}
    return {
        "self": reverse("execution-detail", kwargs=kwargs),
        "status": reverse("execution-status", kwargs=kwargs),
        "results": reverse("execution-results", kwargs=kwargs),
        "answers": reverse("execution-answers", kwargs=kwargs),
        "cancel": reverse("execution-cancel", kwargs=kwargs),
        "retry": reverse("execution-retry", kwargs=kwargs),
    }


class ExecutionSerializer(serializers.ModelSerializer):
    """An execution: its input, lifecycle and summary."""

    brand = serializers.CharField(source="brand_name")
    competitors = serializers.JSONField(source="competitor_brands")
    is_completed = serializers.SerializerMethodField()
    retry_of = serializers.SlugRelatedField(slug_field="execution_id", read_only=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = TestRecord
        fields = (
            "execution_id",
            "status",
            "stage",
            "progress",
            "is_completed",
            "brand",
            "competitors",
            "questions",
            "platforms",
            "repeats",
            "source",
            "retry_of",
            "total_tasks",
            "completed_tasks",
            "failed_tasks",
            "overall_score",
            "error",
            "error_type",
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
            "links",
        )
        read_only_fields = fields

    def get_is_completed(self, record) -> bool:
        return record.status in TERMINAL_STATUSES

    def get_links(self, record) -> dict[str, str]:
        return execution_links(str(record.execution_id))


# Model fields the history list and detail read (the serializer's own, by source); large JSON
# columns such as brand_aliases and results_summary stay out of the query.
EXECUTION_LIST_ONLY = (
    "id",
    "retry_of__execution_id",
    *(
        {"brand": "brand_name", "competitors": "competitor_brands"}.get(name, name)
        for name in ExecutionSerializer.Meta.fields
        if name not in ("is_completed", "links", "retry_of")
    ),
)


def status_payload(row: dict) -> dict:
    """The v1 status poll body from the STATUS_FIELDS row."""
    terminal = row["status"] in TERMINAL_STATUSES
    return {
        "execution_id": str(row["execution_id"]),
        "status": row["status"],
        "stage": row["stage"],
        "progress": row["progress"],
        "is_completed": terminal,
        "total_tasks": row["total_tasks"],
        "completed_tasks": row["completed_tasks"],
        "failed_tasks": row["failed_tasks"],
        "error": row["error"] or None,
        "error_type": row["error_type"] or None,
        "created_at": iso(row["created_at"]),
        "started_at": iso(row["started_at"]),
        "finished_at": iso(row["finished_at"]),
        "updated_at": iso(row["updated_at"]),
        "next_poll_ms": None if terminal else settings.BRANDTEST_POLL_INTERVAL_MS,
        "resumed": row["resumed"],
    }


def iso(value) -> str | None:
    """ISO 8601 as DRF writes it (UTC as 'Z'), so every endpoint agrees."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class AnswerSerializer(serializers.ModelSerializer):
    """One stored platform answer."""

    response = serializers.CharField(source="text")
    model = serializers.CharField(source="model_name")

    class Meta:
        model = Answer
        fields = (
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
            "error",
            "error_type",
            "retries",
            "created_at",
            "analysis",
        )
        read_only_fields = fields


class PlatformSerializer(serializers.Serializer):
    """A platform and whether runs may use it (never its key)."""

    id = serializers.CharField()
    name = serializers.CharField()
    configured = serializers.BooleanField()
    synthetic = serializers.BooleanField()
