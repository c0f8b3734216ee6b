"""Filters for the execution history."""

from datetime import UTC

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator

from records.models import Status, TestRecord


class UTCDateTimeField(forms.DateTimeField):
    """An ISO 8601 date-time, handed to the database in UTC. One that does not exist in UTC
    (0001-01-01T00:00+14:00 is in year 0; SQLite's conversion overflows) is a 400 naming the
    field; converting also spares PostgreSQL offsets beyond its ±15:59 (Python allows ±23:59)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is not None and parsed.tzinfo is not None:
            try:
                return parsed.astimezone(UTC)
            except OverflowError:
                raise forms.ValidationError(
                    "Enter a date-time between 0001-01-01 and 9999-12-31 in UTC.", code="invalid"
                ) from None
        return parsed


class IsoDateTimeField(django_filters.fields.IsoDateTimeField, UTCDateTimeField):
    pass


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = IsoDateTimeField


class ExecutionFilter(django_filters.FilterSet):
    """?status=completed&brand=华夏良子&created_after=2026-01-01&created_before=2026-12-31"""

    # No DISTINCT (the filter's default): there is no join to de-duplicate, and DISTINCT over
    # every column made the page's COUNT read and compare each matching row.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    brand = django_filters.CharFilter(
        field_name="brand_name",
        lookup_expr="exact",
        max_length=100,
        validators=[ProhibitNullCharactersValidator()],
    )
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = TestRecord
        fields = ["status", "brand", "created_after", "created_before"]
