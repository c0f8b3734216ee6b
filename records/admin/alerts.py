"""Staff views of alerts (list, filters, acknowledge), alert settings, and webhook endpoints with
their delivery log. Secrets are never shown: endpoints are created through the API, which shows
the secret once."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from records import alerts
from records.models import Alert, AlertSettings, WebhookDelivery, WebhookEndpoint

# One delivery attempt as the endpoint's inline and the delivery log show it.
ATTEMPT_FIELDS = (
    "event_id",
    "attempt",
    "state",
    "status_code",
    "latency_ms",
    "error",
    "attempted_at",
    "next_attempt_at",
)


class AcknowledgedFilter(admin.SimpleListFilter):
    title = _("acknowledged")
    parameter_name = "acknowledged"

    def lookups(self, request, model_admin):
        return (("no", _("Not yet")), ("yes", _("Yes")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(acknowledged_at__isnull=self.value() == "no")
        return queryset


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Alerts, newest first; the action acknowledges the selected ones."""

    list_display = (
        "created_at",
        "monitor",
        "kind",
        "brand",
        "platform_label",
        "period_start",
        "period_end",
        "acknowledged_at",
    )
    list_filter = ("kind", AcknowledgedFilter, "platform", "period_start")
    list_select_related = ("monitor", "execution", "acknowledged_by")
    search_fields = ("brand", "monitor__name")
    readonly_fields = (
        "monitor",
        "kind",
        "brand",
        "platform",
        "period_start",
        "period_end",
        "execution",
        "evidence",
        "created_at",
        "acknowledged_at",
        "acknowledged_by",
    )
    actions = ("acknowledge",)
    show_full_result_count = False
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False  # alerts are raised by the rules, never typed in

    @admin.display(description=_("platform"), ordering="platform")
    def platform_label(self, obj):
        return obj.platform or alerts.OVERALL

    @admin.action(description=_("Acknowledge the selected alerts"))
    def acknowledge(self, request, queryset):
        done = [alerts.acknowledge_alert(alert=a, user=request.user) for a in queryset]
        self.message_user(request, f"{len(done)} alert(s) acknowledged.", messages.SUCCESS)


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    """Per monitor: which rules are on, and the e-mail recipients."""

    list_display = (
        "monitor",
        "visibility_drop",
        "overtaken",
        "negative_mention",
        "owned_citation_lost",
        "run_problem",
        "email_recipients",
    )
    list_select_related = ("monitor",)
    readonly_fields = ("updated_at",)


class DeliveryInline(admin.TabularInline):
    """The endpoint's delivery log, newest first: every attempt."""

    model = WebhookDelivery
    extra = 0
    can_delete = False
    ordering = ("-created_at", "-id")
    fields = ATTEMPT_FIELDS
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Endpoints and their delivery log. The secret is excluded from every form and list."""

    list_display = ("url", "monitor", "active", "created_at")
    list_filter = ("active",)
    list_select_related = ("monitor",)
    fields = ("monitor", "url", "active", "created_at")
    readonly_fields = ("monitor", "url", "created_at")
    inlines = (DeliveryInline,)

    def has_add_permission(self, request):
        return False  # created through the API, the only place the secret is shown


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Every delivery attempt of every endpoint."""

    list_display = (
        "created_at",
        "endpoint",
        "event_id",
        "attempt",
        "state",
        "status_code",
        "latency_ms",
        "error",
        "next_attempt_at",
    )
    list_filter = ("state",)
    list_select_related = ("endpoint",)
    readonly_fields = ("endpoint", "alerts", *ATTEMPT_FIELDS, "created_at")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
