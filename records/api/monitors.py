"""The v1 monitors API: owner-scoped CRUD with nested brands and prompts, run now, runs."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from records import monitoring, services
from records.api.serializers import EXECUTION_LIST_ONLY, ExecutionSerializer
from records.models import DEFAULT_SCHEDULE, DEFAULT_TIMEZONE, Monitor, TestRecord
from records.renderers import iso


class MonitorWriteSerializer(serializers.Serializer):
    """The shape of a monitor definition; the rules live in records.monitoring."""

    name = serializers.CharField(max_length=200)
    platforms = serializers.ListField(child=serializers.CharField(max_length=50))
    repeats = serializers.IntegerField(default=1)
    access_mode = serializers.CharField(
        max_length=20,
        required=False,
        help_text="plain or search for every platform; default BRANDTEST_DEFAULT_ACCESS_MODE.",
    )
    schedule = serializers.CharField(max_length=100, default=DEFAULT_SCHEDULE)
    timezone = serializers.CharField(max_length=64, default=DEFAULT_TIMEZONE)
    monthly_call_budget = serializers.IntegerField(allow_null=True, required=False, default=None)
    weekly_digest = serializers.BooleanField(required=False, default=False)
    brands = serializers.ListField(child=serializers.DictField())
    prompts = serializers.ListField(child=serializers.JSONField())


def monitor_body(monitor: Monitor, *, detail: bool = False) -> dict:
    """A monitor as the API shows it; the detail adds this month's estimated spend."""
    body = {
        "id": monitor.pk,
        "name": monitor.name,
        "platforms": monitor.platforms,
        "repeats": monitor.repeats,
        "access_mode": monitor.access_mode,
        "schedule": monitor.schedule,
        "timezone": monitor.timezone,
        "status": monitor.status,
        "paused_reason": monitor.paused_reason or None,
        "next_run_at": iso(monitor.next_run_at),
        "last_scheduled_for": iso(monitor.last_scheduled_for),
        "monthly_call_budget": monitor.monthly_call_budget,
        "weekly_digest": monitor.weekly_digest,
        "last_skip_reason": monitor.last_skip_reason or None,
        "last_skipped_at": iso(monitor.last_skipped_at),
        "created_at": iso(monitor.created_at),
        "updated_at": iso(monitor.updated_at),
        "brands": [
            {"name": b.name, "is_main": b.is_main, "aliases": b.aliases, "domains": b.domains}
            for b in monitor.brands.all()
        ],
        "prompts": [
            {
                "id": p.pk,
                "text": p.text,
                "tags": p.tags,
                "branded": p.branded,
                "branded_overridden": p.branded_overridden,
                "active_from": iso(p.active_from),
                "retired_at": iso(p.retired_at),
            }
            for p in monitor.prompts.all()
        ],
    }
    if detail:
        body["estimated_spend_this_month"] = monitoring.monitor_month_spend(monitor)
    return body


class MonitorViewSet(viewsets.GenericViewSet):
    """Monitors of the caller (staff: everyone's). Another user's monitor is a 404."""

    permission_classes = (permissions.IsAuthenticated,)
    serializer_class = MonitorWriteSerializer

    @property
    def starts_execution(self) -> bool:
        # Only "run" starts an execution and counts against the start limits; creating a
        # monitor does not (the throttles otherwise treat every viewset create as a start).
        return getattr(self, "action", None) == "run"

    def get_queryset(self):
        return Monitor.objects.visible_to(self.request.user).prefetch_related("brands", "prompts")

    def monitor(self, pk) -> Monitor:
        try:
            return self.get_queryset().get(pk=int(pk))
        except (ValueError, Monitor.DoesNotExist):
            raise Http404("unknown monitor") from None

    def clean(self, request, *, partial_of: Monitor | None = None):
        serializer = MonitorWriteSerializer(data=request.data, partial=partial_of is not None)
        serializer.is_valid(raise_exception=True)
        definition = monitoring.monitor_definition(partial_of) if partial_of else {}
        definition |= {k: v for k, v in serializer.validated_data.items()}
        return monitoring.clean_monitor_input(**definition)

    @extend_schema(summary="List monitors", responses={200: MonitorWriteSerializer(many=True)})
    def list(self, request):
        monitors = self.get_queryset().order_by("-created_at", "-id")
        page = self.paginate_queryset(monitors)
        return self.get_paginated_response([monitor_body(m) for m in page])

    @extend_schema(
        summary="Create a monitor with its brands and prompts",
        request=MonitorWriteSerializer,
        responses={201: MonitorWriteSerializer, 400: OpenApiResponse(description="Bad field")},
    )
    def create(self, request):
        data = self.clean(request)
        monitor = monitoring.create_monitor(owner=request.user, data=data)
        return Response(
            monitor_body(self.monitor(monitor.pk), detail=True), status=status.HTTP_201_CREATED
        )

    @extend_schema(summary="A monitor, with this month's estimated spend")
    def retrieve(self, request, pk=None):
        return Response(monitor_body(self.monitor(pk), detail=True))

    @extend_schema(
        summary="Replace a monitor's definition (changed prompts are retired and re-added)",
        request=MonitorWriteSerializer,
    )
    def update(self, request, pk=None):
        monitor = self.monitor(pk)
        monitoring.update_monitor(monitor=monitor, data=self.clean(request))
        return Response(monitor_body(self.monitor(pk), detail=True))

    @extend_schema(summary="Change some of a monitor's fields", request=MonitorWriteSerializer)
    def partial_update(self, request, pk=None):
        monitor = self.monitor(pk)
        monitoring.update_monitor(monitor=monitor, data=self.clean(request, partial_of=monitor))
        return Response(monitor_body(self.monitor(pk), detail=True))

    @extend_schema(summary="Delete a monitor (its executions stay, unlinked)")
    def destroy(self, request, pk=None):
        self.monitor(pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        summary="Start one run of the monitor now",
        responses={202: ExecutionSerializer, 409: OpenApiResponse(description="Over budget")},
    )
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        monitor = self.monitor(pk)
        try:
            record = monitoring.start_monitor_run(
                monitor=monitor, device_id=request.headers.get("X-Device-ID", "")
            ).record
        except monitoring.BudgetExceeded as exc:
            raise services.InvalidTransition(str(exc)) from None
        body = ExecutionSerializer(record).data
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(body["links"]["self"])},
        )

    @extend_schema(
        summary="The monitor's executions, newest first", responses=ExecutionSerializer(many=True)
    )
    @action(detail=True, methods=["get"])
    def executions(self, request, pk=None):
        monitor = self.monitor(pk)
        records = (
            TestRecord.objects.filter(monitor=monitor)
            .select_related("retry_of")
            .only(*EXECUTION_LIST_ONLY)
            .order_by("-created_at", "-id")
        )
        page = self.paginate_queryset(records)
        return self.get_paginated_response(ExecutionSerializer(page, many=True).data)
