"""The mini-program's request bodies, read once at the boundary into the v1 service's terms."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from records import services
from records.platforms import KNOWN_PLATFORMS, canonical_platform

# The legacy system cut custom_question apart on runs of these (so "4.0" or a space splits a
# question: a known flaw kept for this field only; the question arrays are taken as they are).
_LEGACY_QUESTION_SPLIT = re.compile(r"[？?.\s]+")
# Keys an object in selectedModels may carry the platform in, first present wins.
_MODEL_KEYS = ("name", "id", "value", "label")
# C0 controls, DEL and C1 controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def split_legacy_questions(text: str) -> list[str]:
    """The legacy split of ``custom_question``: parts between separators, each ending in '?'."""
    return [f"{part}?" for part in _LEGACY_QUESTION_SPLIT.split(text) if part]


class PlatformNameField(serializers.Field):
    """A selectedModels item: "DeepSeek" or {"name": "豆包", "checked": true} -> canonical id."""

    default_error_messages = {
        "invalid": "Each model must be a name or an object with a name, id, value or label.",
        "unknown": "Unknown model {name!r}; expected one of {known}.",
        "control": "Model names must not contain control characters.",
    }

    def to_internal_value(self, data):
        name = data
        if isinstance(data, dict):
            name = next(
                (data[k] for k in _MODEL_KEYS if isinstance(data.get(k), str) and data[k].strip()),
                None,
            )
        if not isinstance(name, str) or not name.strip():
            self.fail("invalid")
        if _CONTROL.search(name):
            # "demo\u0000" is not "demo": a name with control characters names no platform.
            self.fail("control")
        platform = canonical_platform(name)
        if platform is None:
            self.fail("unknown", name=name.strip(), known=", ".join(KNOWN_PLATFORMS))
        return platform

    def to_representation(self, value):
        return value


class LegacyStartSerializer(serializers.Serializer):
    """POST /api/perform-brand-test. userOpenid, userLevel, judge*, apiKey are not fields here,
    so they are dropped unread (a client-sent API key is never stored)."""

    brand_list = serializers.ListField(
        child=serializers.CharField(max_length=100), allow_empty=False
    )
    selectedModels = serializers.ListField(child=PlatformNameField(), allow_empty=False)  # noqa: N815
    custom_question = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=5000
    )
    customQuestions = serializers.ListField(  # noqa: N815
        child=serializers.CharField(allow_blank=True, max_length=500),
        required=False,
        allow_null=True,
    )
    questions = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=500),
        required=False,
        allow_null=True,
    )

    def questions_and_field(self) -> tuple[list[str], str]:
        """The questions asked, and the request field they came from (for error messages).

        The arrays take precedence over ``custom_question``; none given leaves the list empty,
        and the start service asks its default questions.
        """
        data = self.validated_data
        for field in ("customQuestions", "questions"):
            asked = [q.strip() for q in data.get(field) or [] if q.strip()]
            if asked:
                return asked, field
        return split_legacy_questions(data.get("custom_question") or ""), "custom_question"

    def execution_input(self) -> services.ExecutionInput:
        """The validated request in the service's terms; its errors named by legacy field."""
        brands = self.validated_data["brand_list"]
        questions, questions_field = self.questions_and_field()
        legacy_field = {
            "brand": "brand_list",
            "competitors": "brand_list",
            "questions": questions_field,
            "platforms": "selectedModels",
        }
        try:
            return services.clean_execution_input(
                brand=brands[0],
                competitors=brands[1:],
                questions=questions,
                platforms=self.validated_data["selectedModels"],
                repeats=None,
            )
        except DjangoValidationError as exc:
            errors: dict[str, list[str]] = {}
            for field, messages in exc.message_dict.items():
                errors.setdefault(legacy_field.get(field, field), []).extend(messages)
            raise serializers.ValidationError(errors) from None


class LoginSerializer(serializers.Serializer):
    """POST /api/login {code}: the code from wx.login()."""

    code = serializers.CharField(max_length=256)


class RefreshTokenSerializer(serializers.Serializer):
    """POST /api/refresh-token {refresh_token}."""

    refresh_token = serializers.CharField(max_length=4096)
