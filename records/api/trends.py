"""``GET /api/v1/monitors/{id}/trend/``: a monitor's trend (records/trends.py), read-only."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from records import trends
from records.analysis.trends import INTERVALS, METRICS
from records.engine.base import ACCESS_MODES
from records.models import Monitor


class MonitorTrendView(APIView):
    """Points per period and access mode for the visibility score and each component, the
    change of each mode's last period versus its previous one (on common cells, with its SE
    and ``beyond_noise``), and the prompts added or retired in the range (docs/metrics.md §9)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("metric", str, description=f"One or a comma list of {METRICS}"),
            OpenApiParameter("brand", str, description="Tracked brand names, comma-separated"),
            OpenApiParameter("platform", str, description="Platform ids or 'overall'"),
            OpenApiParameter("interval", str, enum=list(INTERVALS)),
            OpenApiParameter("from", str, description="YYYY-MM-DD in the monitor's time zone"),
            OpenApiParameter("to", str, description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("branded", bool, description="Only branded / unbranded prompts"),
            OpenApiParameter(
                "access_mode",
                str,
                description=(
                    f"One or a comma list of {ACCESS_MODES}; default every mode, each its own "
                    "series (a point's access_mode; changes compare like with like)"
                ),
            ),
        ],
        responses={200: dict},
    )
    def get(self, request, monitor_id: int):
        monitor = Monitor.objects.visible_to(request.user).filter(pk=monitor_id).first()
        if monitor is None:
            raise exceptions.NotFound("No monitor with that id is visible to you.")
        try:
            query = trends.clean_trend_params(request.query_params, monitor=monitor)
        except trends.TrendParamError as error:
            raise exceptions.ValidationError({error.field: [error.message]}) from None
        return Response(trends.monitor_trend(monitor, query))
