"""Alerts: evaluate a monitor's rules when a run ends or a period is skipped, and deliver them.

The services every interface calls. Evaluation reads stored scores and answers only
(``rules``); a batch of new alerts becomes one webhook delivery per active endpoint
(``webhooks``) and one e-mail to the monitor's recipients (``emails``), both sent by the worker
(``records.tasks``), which enqueues what a :class:`Notifications` names once its transaction
commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from records.alerts import rules, webhooks
from records.alerts.bodies import OVERALL, alert_body, summary_line
from records.alerts.emails import send_alert_email
from records.alerts.rules import rule_settings
from records.alerts.webhooks import (
    WebhookURLError,
    attempt_delivery,
    backoff_delay,
    sign,
    verify,
)
from records.models import Alert, AlertKind, AlertSettings, Monitor, TestRecord, WebhookEndpoint

MAX_RECIPIENTS = 20


@dataclass(slots=True)
class Notifications:
    """New alerts and what to send about them once committed."""

    alerts: list[Alert] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)  # WebhookDelivery ids, first attempts
    email: list[int] = field(default_factory=list)  # alert ids of the one e-mail (or none)


def _notifications(monitor: Monitor, alerts: list[Alert]) -> Notifications:
    if not alerts:
        return Notifications()
    recipients = rule_settings(monitor).email_recipients
    return Notifications(
        alerts=alerts,
        deliveries=webhooks.queue_deliveries(monitor, alerts),
        email=[a.pk for a in alerts] if recipients else [],
    )


@transaction.atomic
def evaluate_execution(*, execution_id: str | UUID) -> Notifications:
    """Evaluate the rules for an ended monitor run. Evaluating it again (a re-delivered task,
    a re-analyse) adds nothing: the period's alerts exist."""
    record = TestRecord.objects.select_related("monitor").filter(execution_id=execution_id).first()
    if record is None or record.monitor is None:
        return Notifications()
    return _notifications(record.monitor, rules.evaluate_execution(record))


@transaction.atomic
def record_skipped_run(*, monitor: Monitor, scheduled_for: datetime, reason: str) -> Notifications:
    """A scheduled period the monitor did not run (budget, paused): a run_problem alert."""
    alerts = rules.skipped_run(monitor, scheduled_for=scheduled_for, reason=reason)
    return _notifications(monitor, alerts)


def acknowledge_alert(*, alert: Alert, user) -> Alert:
    """Mark an alert seen; acknowledging it again keeps the first time and person."""
    Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    )
    alert.refresh_from_db()
    return alert


def create_webhook(*, monitor: Monitor, url: str, request_host: str = "") -> WebhookEndpoint:
    """Store an endpoint with a new secret (the caller shows it once). Raises ValidationError
    naming ``url`` for a URL the service will not call."""
    try:
        url = webhooks.clean_webhook_url(url, request_host=request_host)
    except WebhookURLError as exc:
        raise ValidationError({"url": [str(exc)]}) from None
    return WebhookEndpoint.objects.create(monitor=monitor, url=url, secret=webhooks.new_secret())


def delete_webhook(*, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log; pending attempts find no row and stop."""
    endpoint.delete()


RULES = tuple(AlertKind.values)


@transaction.atomic
def update_alert_settings(
    *, monitor: Monitor, rules_on: dict[str, bool] | None = None, recipients: list | None = None
) -> AlertSettings:
    """Turn rules on or off and replace the e-mail recipients (each checked; at most 20)."""
    row, _ = AlertSettings.objects.select_for_update().get_or_create(monitor=monitor)
    errors: dict[str, list[str]] = {}
    for name, value in (rules_on or {}).items():
        if name not in RULES:
            errors.setdefault("rules", []).append(f"Unknown rule {name!r}; one of {RULES}.")
        elif not isinstance(value, bool):
            errors.setdefault("rules", []).append(f"{name} must be true or false.")
        else:
            setattr(row, name, value)
    if recipients is not None:
        cleaned = []
        for address in recipients:
            try:
                validate_email(address)
            except (ValidationError, TypeError):
                errors.setdefault("email_recipients", []).append(
                    f"{str(address)[:100]!r} is not an e-mail address."
                )
            else:
                cleaned.append(address.strip().lower())
        if len(cleaned) > MAX_RECIPIENTS:
            errors.setdefault("email_recipients", []).append(
                f"At most {MAX_RECIPIENTS} recipients."
            )
        row.email_recipients = sorted(set(cleaned))
    if errors:
        raise ValidationError(errors)
    row.updated_at = timezone.now()
    row.save()
    return row


__all__ = [
    "OVERALL",
    "RULES",
    "Notifications",
    "WebhookURLError",
    "acknowledge_alert",
    "alert_body",
    "attempt_delivery",
    "backoff_delay",
    "create_webhook",
    "delete_webhook",
    "evaluate_execution",
    "record_skipped_run",
    "rule_settings",
    "send_alert_email",
    "sign",
    "summary_line",
    "update_alert_settings",
    "verify",
]
