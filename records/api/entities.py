"""``GET /api/v1/monitors/{id}/entities/``: who a monitor's answers recommend instead
(records/discovered.py), read-only."""

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from records import discovered
from records.api.serializers import ErrorSerializer
from records.models import Monitor
from records.trend_params import TrendParamError, clean_trend_params


class DiscoveredEntitySerializer(serializers.Serializer):
    """One untracked entity over the range (docs/metrics.md §5b)."""

    name = serializers.CharField(help_text="The entity's key: normalised, suffixes removed.")
    answers = serializers.IntegerField(help_text="Valid answers recommending it.")
    share = serializers.FloatField(help_text="answers / valid answers in the range.")
    platforms = serializers.ListField(child=serializers.CharField())
    mean_rank = serializers.FloatField(
        allow_null=True, help_text="Mean list rank over the answers that rank it."
    )
    ranked_n = serializers.IntegerField(help_text="Answers behind mean_rank.")
    mentions = serializers.IntegerField(help_text="Answers naming it in any role.")
    executions = serializers.IntegerField(help_text="Runs with an answer recommending it.")
    first_seen = serializers.DateField(help_text="Day of the first such run (monitor time zone).")
    last_seen = serializers.DateField(help_text="Day of the last such run.")
    surfaces = serializers.ListField(
        child=serializers.CharField(),
        help_text="Its spellings in the answers, most frequent first.",
    )
    tracked = serializers.CharField(allow_null=True, help_text="Always null: untracked only.")


ENTITY_REPORT = inline_serializer(
    "MonitorEntities",
    fields={
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "executions": serializers.IntegerField(help_text="The monitor's runs in the range."),
        "answers": serializers.IntegerField(help_text="Their valid answers."),
        "entities": DiscoveredEntitySerializer(many=True),
    },
)


class MonitorEntitiesView(APIView):
    """The untracked entities a monitor's answers recommended in a range of days, most
    recommending answers first (at most 50), read from the stored analyses; a name leaves the
    list once the monitor tracks it."""

    @extend_schema(
        summary="Who the monitor's answers recommend instead",
        parameters=[
            OpenApiParameter("from", str, description="YYYY-MM-DD in the monitor's time zone"),
            OpenApiParameter("to", str, description="YYYY-MM-DD, inclusive (default today)"),
        ],
        responses={
            200: ENTITY_REPORT,
            400: OpenApiResponse(ErrorSerializer, description="A bad date (field named)"),
            404: OpenApiResponse(ErrorSerializer, description="Unknown or not yours"),
        },
    )
    def get(self, request, monitor_id: int):
        monitor = Monitor.objects.visible_to(request.user).filter(pk=monitor_id).first()
        if monitor is None:
            raise exceptions.NotFound("No monitor with that id is visible to you.")
        # The trend's date rules (default: the 30 days up to today; at most 731 days).
        dates = {k: request.query_params[k] for k in ("from", "to") if k in request.query_params}
        try:
            query = clean_trend_params(dates, monitor=monitor)
        except TrendParamError as error:
            raise exceptions.ValidationError({error.field: [error.message]}) from None
        return Response(discovered.monitor_entity_report(monitor, query.start, query.end))
