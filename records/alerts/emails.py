"""Alert e-mail: one message per batch of new alerts to the monitor's recipients, plain text and
HTML, through Django's e-mail backend (console by default, SMTP by settings)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from records.alerts.bodies import absolute, alert_body, summary_line
from records.alerts.rules import rule_settings
from records.models import Alert

logger = logging.getLogger(__name__)


def send_alert_email(alert_ids: list[int]) -> int:
    """Send one message for these alerts (one monitor's batch); returns the messages sent
    (0: no recipients, or the alerts are gone)."""
    alerts = list(
        Alert.objects.filter(pk__in=alert_ids)
        .select_related("monitor", "execution", "acknowledged_by")
        .order_by("id")
    )
    if not alerts:
        return 0
    monitor = alerts[0].monitor
    recipients = list(rule_settings(monitor).email_recipients)
    if not recipients:
        return 0
    context = {
        "monitor": monitor,
        "alerts": [
            {"summary": summary_line(a), **alert_body(a, absolute_links=True)} for a in alerts
        ],
        "alerts_url": absolute(f"/api/v1/monitors/{monitor.pk}/alerts/"),
    }
    subject = f"[brandtest] {monitor.name}: {len(alerts)} alert(s)"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("alerts/email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(render_to_string("alerts/email.html", context), "text/html")
    sent = message.send()
    logger.info("alert e-mail for monitor %s sent to %d recipient(s)", monitor.pk, len(recipients))
    return sent
