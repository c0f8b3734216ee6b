"""The v1 alerts API, nested under a monitor: its alerts (list, acknowledge), webhook endpoints
(create, list, delete) and alert settings (rules on/off, e-mail recipients).

Every view first finds the monitor among those the caller may open (staff: all); anything else
is a 404, so another user's monitor, alerts and webhooks look the same as missing ones.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from records import alerts
from records.api.serializers import ErrorSerializer
from records.models import Alert, AlertKind, Monitor, WebhookEndpoint
from records.renderers import iso

# Ids beyond a 64-bit integer name no row (and SQLite cannot even bind them).
MAX_ID = 2**63 - 1
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Unknown, or not yours")
BAD_INPUT = OpenApiResponse(ErrorSerializer, description="A bad field, named in the body")


def visible_monitor(request, monitor_id: int) -> Monitor:
    if monitor_id > MAX_ID:
        raise Http404("unknown monitor")
    monitor = Monitor.objects.visible_to(request.user).filter(pk=monitor_id).first()
    if monitor is None:
        raise Http404("unknown monitor")
    return monitor


class AlertLinksSerializer(serializers.Serializer):
    alerts = serializers.CharField()
    acknowledge = serializers.CharField()
    execution = serializers.CharField(allow_null=True)
    answers = serializers.CharField(allow_null=True)
    report = serializers.CharField()


class AlertSerializer(serializers.Serializer):
    """The shape of records.alerts.alert_body (documentation; the body is built there)."""

    id = serializers.IntegerField()
    monitor = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AlertKind.choices)
    brand = serializers.CharField()
    platform = serializers.CharField(help_text="A platform id, or 'overall'")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    execution = serializers.UUIDField(allow_null=True)
    evidence = serializers.DictField()
    created_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(allow_null=True)
    links = AlertLinksSerializer()


class AlertFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AlertKind.choices, required=False)
    platform = serializers.CharField(max_length=30, required=False)
    acknowledged = serializers.BooleanField(required=False, allow_null=True, default=None)


class MonitorAlertsView(generics.GenericAPIView):
    """A monitor's alerts, newest first."""

    permission_classes = (permissions.IsAuthenticated,)
    serializer_class = AlertSerializer
    queryset = Alert.objects.none()  # for the schema; rows are read per monitor below

    @extend_schema(
        summary="A monitor's alerts, newest first",
        parameters=[
            OpenApiParameter("kind", str, enum=list(AlertKind.values)),
            OpenApiParameter("platform", str, description="A platform id, or 'overall'"),
            OpenApiParameter("acknowledged", bool),
        ],
        responses={200: AlertSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def get(self, request, monitor_id: int):
        monitor = visible_monitor(request, monitor_id)
        filters = AlertFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        rows = Alert.objects.filter(monitor=monitor).select_related("execution", "acknowledged_by")
        if "kind" in wanted:
            rows = rows.filter(kind=wanted["kind"])
        if "platform" in wanted:
            platform = wanted["platform"]
            rows = rows.filter(platform="" if platform == alerts.OVERALL else platform)
        if wanted.get("acknowledged") is not None:
            rows = rows.filter(acknowledged_at__isnull=not wanted["acknowledged"])
        page = self.paginate_queryset(rows.order_by("-created_at", "-id"))
        return self.get_paginated_response([alerts.alert_body(a) for a in page])


class AlertAcknowledgeView(APIView):
    """Acknowledge one alert (idempotent: the first acknowledgement is kept)."""

    permission_classes = (permissions.IsAuthenticated,)
    serializer_class = AlertSerializer

    @extend_schema(
        request=None,
        summary="Acknowledge an alert",
        responses={200: AlertSerializer, 404: NOT_FOUND},
    )
    def post(self, request, monitor_id: int, alert_id: int):
        monitor = visible_monitor(request, monitor_id)
        alert = Alert.objects.filter(monitor=monitor, pk=min(alert_id, MAX_ID)).first()
        if alert is None:
            raise Http404("unknown alert")
        alert = alerts.acknowledge_alert(alert=alert, user=request.user)
        return Response(alerts.alert_body(alert))


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.CharField(max_length=2000)
    active = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Signs every delivery; shown only in this response."
    )


def webhook_body(endpoint: WebhookEndpoint) -> dict:
    """An endpoint as lists show it: never its secret."""
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "active": endpoint.active,
        "created_at": iso(endpoint.created_at),
    }


class MonitorWebhooksView(generics.GenericAPIView):
    """A monitor's webhook endpoints."""

    permission_classes = (permissions.IsAuthenticated,)
    serializer_class = WebhookSerializer
    queryset = WebhookEndpoint.objects.none()  # for the schema; rows are read per monitor below

    @extend_schema(
        summary="A monitor's webhook endpoints (secrets are never listed)",
        responses={200: WebhookSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request, monitor_id: int):
        monitor = visible_monitor(request, monitor_id)
        page = self.paginate_queryset(WebhookEndpoint.objects.filter(monitor=monitor))
        return self.get_paginated_response([webhook_body(e) for e in page])

    @extend_schema(
        summary="Add a webhook endpoint; the response holds its secret, shown only once",
        request=WebhookSerializer,
        responses={201: WebhookCreatedSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def post(self, request, monitor_id: int):
        monitor = visible_monitor(request, monitor_id)
        given = WebhookSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        endpoint = alerts.create_webhook(
            monitor=monitor, url=given.validated_data["url"], request_host=request.get_host()
        )
        return Response(
            webhook_body(endpoint) | {"secret": endpoint.secret}, status=status.HTTP_201_CREATED
        )


class WebhookDetailView(APIView):
    """One webhook endpoint of a monitor."""

    permission_classes = (permissions.IsAuthenticated,)
    serializer_class = WebhookSerializer

    @extend_schema(summary="Delete a webhook endpoint", responses={204: None, 404: NOT_FOUND})
    def delete(self, request, monitor_id: int, webhook_id: int):
        monitor = visible_monitor(request, monitor_id)
        endpoint = WebhookEndpoint.objects.filter(monitor=monitor, pk=min(webhook_id, MAX_ID))
        if not endpoint.exists():
            raise Http404("unknown webhook")
        alerts.delete_webhook(endpoint=endpoint.get())
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlertSettingsSerializer(serializers.Serializer):
    rules = serializers.DictField(
        child=serializers.BooleanField(),
        required=False,
        help_text=f"Rule -> on/off; rules: {', '.join(AlertKind.values)}",
    )
    email_recipients = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, max_length=50
    )


def settings_body(row) -> dict:
    return {
        "rules": {kind: row.enabled(kind) for kind in AlertKind.values},
        "email_recipients": list(row.email_recipients),
    }


class AlertSettingsView(APIView):
    """Which rules a monitor evaluates (all on by default) and who gets its alert e-mail."""

    permission_classes = (permissions.IsAuthenticated,)
    serializer_class = AlertSettingsSerializer

    @extend_schema(
        summary="A monitor's alert rules and e-mail recipients",
        responses={200: AlertSettingsSerializer, 404: NOT_FOUND},
    )
    def get(self, request, monitor_id: int):
        monitor = visible_monitor(request, monitor_id)
        return Response(settings_body(alerts.rule_settings(monitor)))

    @extend_schema(
        summary="Turn rules on or off and replace the e-mail recipients (fields left out stay)",
        request=AlertSettingsSerializer,
        responses={200: AlertSettingsSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def put(self, request, monitor_id: int):
        monitor = visible_monitor(request, monitor_id)
        given = AlertSettingsSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        row = alerts.update_alert_settings(
            monitor=monitor,
            rules_on=given.validated_data.get("rules"),
            recipients=given.validated_data.get("email_recipients"),
        )
        return Response(settings_body(row))
