"""Serializers of the v1 API."""

import functools

from django.conf import settings
from django.core.validators import RegexValidator
from django.urls import get_script_prefix, reverse
from rest_framework import serializers

from records.engine.base import ACCESS_MODES
from records.models import TERMINAL_STATUSES, Answer, TestRecord
from records.platforms import KNOWN_PLATFORMS
from records.renderers import ANSWER_FIELDS, answer_body
from records.services import MAX_COMPETITORS, MAX_QUESTIONS


class ExecutionCreateSerializer(serializers.Serializer):
    """The input of a new brand test; domain rules are checked by the start service."""

    brand = serializers.CharField(
        min_length=1, max_length=100, help_text="The main brand, e.g. 华夏良子."
    )
    competitors = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        max_length=MAX_COMPETITORS,
        help_text=f"Competitor brands (at most {MAX_COMPETITORS}).",
    )
    questions = serializers.ListField(
        child=serializers.CharField(min_length=2, max_length=500),
        required=False,
        default=list,
        max_length=MAX_QUESTIONS,
        help_text=(
            "1-5 buyer questions, asked verbatim. {brandName} is asked once per brand; "
            "none given uses three default questions."
        ),
    )
    platforms = serializers.ListField(
        child=serializers.CharField(
            max_length=50,
            validators=[
                RegexValidator(
                    r"[\x00-\x1f\x7f-\x9f]",
                    inverse_match=True,
                    message="Platform ids must not contain control characters.",
                )
            ],
        ),
        allow_empty=False,
        max_length=len(KNOWN_PLATFORMS),
        help_text="Platform ids (see /api/v1/platforms/), e.g. deepseek, kimi, demo.",
    )
    repeats = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=settings.BRANDTEST_MAX_REPEATS,
        help_text="Runs per (question, platform); default from BRANDTEST_DEFAULT_REPEATS.",
    )
    access_mode = serializers.CharField(
        required=False,
        max_length=20,
        help_text=(
            f"One of {', '.join(ACCESS_MODES)}: web search off (plain) or on (search), for every "
            "platform of the run (each platform's access_modes at /api/v1/platforms/); default "
            "from BRANDTEST_DEFAULT_ACCESS_MODE (plain unless the server says otherwise)."
        ),
    )


# The links of an execution: (key, URL name). Reversed once per script prefix with a placeholder
# id, then filled in per execution (a history page would otherwise reverse 6 URLs per row).
EXECUTION_LINKS = (
    ("self", "execution-detail"),
    ("status", "execution-status"),
    ("results", "execution-results"),
    ("answers", "execution-answers"),
    ("cancel", "execution-cancel"),
    ("retry", "execution-retry"),
)
_PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000"


@functools.lru_cache(maxsize=16)
def _link_templates(script_prefix: str) -> tuple[tuple[str, str], ...]:
    kwargs = {"execution_id": _PLACEHOLDER_ID}
    return tuple((key, reverse(name, kwargs=kwargs)) for key, name in EXECUTION_LINKS)


def execution_links(execution_id: str) -> dict[str, str]:
    """Where a client goes next for an execution."""
    return {
        key: url.replace(_PLACEHOLDER_ID, execution_id)
        for key, url in _link_templates(get_script_prefix())
    }


class ExecutionSerializer(serializers.ModelSerializer):
    """An execution: its input, lifecycle and summary."""

    brand = serializers.CharField(source="brand_name")
    competitors = serializers.JSONField(source="competitor_brands")
    is_completed = serializers.SerializerMethodField()
    retry_of = serializers.SlugRelatedField(
        slug_field="execution_id",
        read_only=True,
        allow_null=True,
        help_text="The execution this one retries; null for a first attempt.",
    )
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
            "access_mode",
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

    def to_representation(self, record) -> dict:
        """The body DRF's generic path builds from the fields above (a test holds the two
        equal), written out: a page of 20 in the history costs ~0.8 ms instead of ~2.4 ms of
        per-field dispatch. The declarations above stay the schema and the reference."""
        execution_id = str(record.execution_id)
        retry_of = record.retry_of
        score = record.overall_score
        return {
            "execution_id": execution_id,
            "status": record.status,
            "stage": record.stage,
            "progress": record.progress,
            "is_completed": self.get_is_completed(record),
            "brand": record.brand_name,
            "competitors": record.competitor_brands,
            "questions": record.questions,
            "platforms": record.platforms,
            "repeats": record.repeats,
            "access_mode": record.access_mode,
            "source": record.source,
            "retry_of": None if retry_of is None else retry_of.execution_id,
            "total_tasks": record.total_tasks,
            "completed_tasks": record.completed_tasks,
            "failed_tasks": record.failed_tasks,
            "overall_score": None if score is None else float(score),
            "error": record.error,
            "error_type": record.error_type,
            "created_at": _datetime(record.created_at),
            "started_at": _datetime(record.started_at),
            "finished_at": _datetime(record.finished_at),
            "updated_at": _datetime(record.updated_at),
            "links": self.get_links(record),
        }


_datetime_field = serializers.DateTimeField()


def _datetime(value):
    """A datetime as DRF's DateTimeField writes it (settings' format and time zone)."""
    return None if value is None else _datetime_field.to_representation(value)


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


# The body is written by records.renderers.status_body; this serializer gives the OpenAPI schema
# (a test holds the two field lists equal).
class ExecutionStatusSerializer(serializers.Serializer):
    """An execution's progress, as the status poll sends it."""

    execution_id = serializers.UUIDField()
    status = serializers.CharField()
    stage = serializers.CharField()
    progress = serializers.IntegerField()
    is_completed = serializers.BooleanField()
    total_tasks = serializers.IntegerField()
    completed_tasks = serializers.IntegerField()
    failed_tasks = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)
    error_type = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    next_poll_ms = serializers.IntegerField(
        allow_null=True, help_text="When to poll again; null once the run has ended."
    )
    resumed = serializers.IntegerField(
        min_value=0,
        help_text="How often the run was handed back to the queue (its worker shut down or was "
        "lost) and resumed; answers already stored are kept.",
    )
    access_mode = serializers.ChoiceField(
        choices=ACCESS_MODES, help_text="plain (web search off) or search, for every call."
    )


# Rendered by records.renderers.answer_body, as the report's items are; the view passes the
# run's main brand as context["main_brand"].
class AnswerSerializer(serializers.ModelSerializer):
    """One stored platform answer."""

    brand = serializers.CharField(
        help_text="The brand the answer describes: the substituted one, else the main brand."
    )
    response = serializers.CharField(source="text")
    model = serializers.CharField(source="model_name")
    error = serializers.CharField(allow_null=True)
    error_type = serializers.CharField(allow_null=True)
    analysis = serializers.JSONField(allow_null=True)

    class Meta:
        model = Answer
        fields = ANSWER_FIELDS
        read_only_fields = fields

    def to_representation(self, instance):
        main_brand = self.context.get("main_brand") or instance.record.brand_name
        return answer_body(instance, main_brand=main_brand)


class PlatformSerializer(serializers.Serializer):
    """A platform and whether runs may use it (never its key)."""

    id = serializers.CharField()
    name = serializers.CharField()
    configured = serializers.BooleanField()
    synthetic = serializers.BooleanField()
    access_modes = serializers.ListField(
        child=serializers.ChoiceField(choices=ACCESS_MODES),
        help_text='The modes a run may ask it in, e.g. ["plain", "search"].',
    )


class ErrorSerializer(serializers.Serializer):
    """The error shape of every v1 response with a 4xx status (records/errors.py)."""

    error = serializers.CharField(help_text="What is wrong, for a person.")
    code = serializers.CharField(help_text="invalid, not_found, conflict, throttled, ...")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=(
            "Per request field (or header), what is wrong with it: a list of messages, or for "
            'a list field its items\' messages by index ({"0": ["…"]}).'
        ),
    )
