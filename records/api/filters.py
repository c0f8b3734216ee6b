"""Filters for the execution history."""

import django_filters

from records.models import Status, TestRecord


class ExecutionFilter(django_filters.FilterSet):
    """?status=completed&brand=华夏良子&created_after=2026-01-01&created_before=2026-12-31"""

    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    brand = django_filters.CharFilter(field_name="brand_name", lookup_expr="exact")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = TestRecord
        fields = ["status", "brand", "created_after", "created_before"]
