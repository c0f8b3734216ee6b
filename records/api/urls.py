"""Routes of the v1 API."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from records.api.alerts import (
    AlertAcknowledgeView,
    AlertSettingsView,
    MonitorAlertsView,
    MonitorWebhooksView,
    WebhookDetailView,
)
from records.api.entities import MonitorEntitiesView
from records.api.hot_views import execution_results, execution_status
from records.api.monitors import MonitorViewSet
from records.api.trends import MonitorTrendView
from records.api.views import ExecutionViewSet, PlatformViewSet

router = DefaultRouter()
router.register("executions", ExecutionViewSet, basename="execution")
router.register("monitors", MonitorViewSet, basename="monitor")
router.register("platforms", PlatformViewSet, basename="platform")

urlpatterns = [
    # The hot reads are plain views (DRF would cost several times them); the router's routes
    # behind them document them in the OpenAPI schema and serve every other method.
    path("executions/<str:execution_id>/status/", execution_status),
    path("executions/<str:execution_id>/results/", execution_results),
    path("monitors/<int:monitor_id>/trend/", MonitorTrendView.as_view(), name="monitor-trend"),
    path(
        "monitors/<int:monitor_id>/entities/",
        MonitorEntitiesView.as_view(),
        name="monitor-entities",
    ),
    path("monitors/<int:monitor_id>/alerts/", MonitorAlertsView.as_view(), name="monitor-alerts"),
    path(
        "monitors/<int:monitor_id>/alerts/<int:alert_id>/acknowledge/",
        AlertAcknowledgeView.as_view(),
        name="alert-acknowledge",
    ),
    path(
        "monitors/<int:monitor_id>/webhooks/",
        MonitorWebhooksView.as_view(),
        name="monitor-webhooks",
    ),
    path(
        "monitors/<int:monitor_id>/webhooks/<int:webhook_id>/",
        WebhookDetailView.as_view(),
        name="monitor-webhook-detail",
    ),
    path(
        "monitors/<int:monitor_id>/alert-settings/",
        AlertSettingsView.as_view(),
        name="monitor-alert-settings",
    ),
    *router.urls,
]
