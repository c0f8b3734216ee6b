"""Alerts on a monitor's runs, and their delivery: webhook endpoints, the delivery log, settings.

An ``Alert`` is written when a monitor's execution ends (``records.alerts``), from stored scores
and answers only. The database holds the rule "one alert per kind, monitor, brand, platform and
period" (``alert_unique_period``), so re-evaluating or re-analysing a run never duplicates one.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from records.models.executions import TestRecord
from records.models.monitors import Monitor


class AlertKind(models.TextChoices):
    VISIBILITY_DROP = "visibility_drop", "Visibility dropped beyond noise"
    OVERTAKEN = "overtaken", "A competitor overtook the main brand"
    NEGATIVE_MENTION = "negative_mention", "Negative mention of the main brand"
    OWNED_CITATION_LOST = "owned_citation_lost", "An owned domain is no longer cited"
    RUN_PROBLEM = "run_problem", "A run was skipped or ended failed/partial"


class AlertQuerySet(models.QuerySet):
    """Reads over alerts."""

    def visible_to(self, user) -> AlertQuerySet:
        """Alerts of the monitors a caller may open (staff: all)."""
        return self.filter(monitor__in=Monitor.objects.visible_to(user))

    def between(self, monitor: Monitor, start: date, end: date) -> AlertQuerySet:
        """A monitor's alerts whose period overlaps ``start``..``end`` (dates, inclusive),
        oldest first: what a report of that range lists."""
        return self.filter(monitor=monitor, period_start__lte=end, period_end__gte=start).order_by(
            "period_start", "created_at", "id"
        )

    def unacknowledged(self) -> AlertQuerySet:
        return self.filter(acknowledged_at__isnull=True)


class Alert(models.Model):
    """Something changed in a monitor's period that its owner should hear about."""

    monitor = models.ForeignKey(
        Monitor,
        on_delete=models.CASCADE,
        related_name="alerts",
        db_index=False,  # alert_monitor_created_idx leads with monitor_id.
    )
    kind = models.CharField(max_length=30, choices=AlertKind)
    brand = models.CharField(max_length=100)
    platform = models.CharField(max_length=30, blank=True, help_text="Blank for overall.")
    period_start = models.DateField()
    period_end = models.DateField()
    # The run whose end raised it; null for a skipped run (there is none).
    execution = models.ForeignKey(
        TestRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    evidence = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The API's and admin's list of a monitor's alerts: WHERE monitor_id = ? ORDER BY
            # created_at DESC.
            models.Index(fields=["monitor", "-created_at"], name="alert_monitor_created_idx"),
        ]
        constraints = [
            # One alert per rule, monitor, brand, platform and period, whatever re-runs. Its
            # index also serves a report's range: WHERE monitor_id = ? AND period_start <= ?.
            models.UniqueConstraint(
                fields=["monitor", "kind", "brand", "platform", "period_start"],
                name="alert_unique_period",
            ),
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="alert_kind_valid"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="alert_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.brand}@{self.platform or 'overall'} {self.period_start}"

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None


def alerts_between(monitor: Monitor, start: date, end: date) -> AlertQuerySet:
    """The alerts of a report's range (the name the report code imports)."""
    return Alert.objects.between(monitor, start, end)


class AlertSettings(models.Model):
    """A monitor's alert rules (each on unless turned off) and its e-mail recipients; a
    monitor without a row has every rule on and no recipients."""

    monitor = models.OneToOneField(Monitor, on_delete=models.CASCADE, related_name="alert_settings")
    visibility_drop = models.BooleanField(default=True)
    overtaken = models.BooleanField(default=True)
    negative_mention = models.BooleanField(default=True)
    owned_citation_lost = models.BooleanField(default=True)
    run_problem = models.BooleanField(default=True)
    email_recipients = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "alert settings"
        verbose_name_plural = "alert settings"

    def __str__(self) -> str:
        return f"alert settings of monitor {self.monitor_id}"

    def enabled(self, kind: str) -> bool:
        return bool(getattr(self, kind))


class WebhookEndpoint(models.Model):
    """A URL that receives a monitor's alerts, signed with its secret."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    # HMAC key of the signatures: shown once, in the create response; never listed, logged or
    # shown in the admin. Stored as is, because signing needs it.
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["monitor", "created_at", "id"]

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.pk} {self.url}>"  # never the secret


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its time (next_attempt_at)
    SENDING = "sending", "Sending"  # claimed by a worker
    DELIVERED = "delivered", "Delivered"
    RETRYING = "retrying", "Failed; retried"  # this attempt failed, a later attempt follows
    FAILED = "failed", "Failed"  # the last attempt failed


class WebhookDelivery(models.Model):
    """One attempt to POST a batch of alerts to an endpoint: the delivery log."""

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,  # webhookdelivery_endpoint_idx leads with endpoint_id.
    )
    alerts = models.ManyToManyField(Alert, related_name="deliveries")
    # The same for every attempt of one batch (sent as X-Brandtest-Delivery: receivers dedupe).
    event_id = models.UUIDField(default=uuid.uuid4)
    attempt = models.PositiveSmallIntegerField(default=1)
    state = models.CharField(max_length=10, choices=DeliveryState, default=DeliveryState.PENDING)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempted_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # An endpoint's log, newest first (admin inline): WHERE endpoint_id = ?.
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_endpoint_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="webhookdelivery_state_valid"
            ),
            models.UniqueConstraint(
                fields=["event_id", "attempt"], name="webhookdelivery_unique_attempt"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} attempt {self.attempt}: {self.state}"
