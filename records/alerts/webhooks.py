"""Webhook endpoints: URL checks, secrets, signatures, and one delivery attempt.

A delivery POSTs a JSON body (the batch of alerts and links) with three headers:

``X-Brandtest-Timestamp``  Unix seconds when the attempt was signed
``X-Brandtest-Signature``  ``sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>``
``X-Brandtest-Delivery``   the batch's id, the same on every attempt (receivers deduplicate)

as Stripe signs (the timestamp inside the signed bytes, so a captured request cannot be replayed
later with a fresh timestamp). A receiver recomputes the HMAC over the raw bytes it received and
compares in constant time, and refuses timestamps older than a few minutes.

Each attempt is one ``WebhookDelivery`` row (the log). A failed attempt (network error, timeout,
non-2xx) schedules the next one ``BRANDTEST_WEBHOOK_RETRY_BASE * 2**(n-1)`` seconds later
(capped), up to ``BRANDTEST_WEBHOOK_MAX_ATTEMPTS``; the worker runs each as its own task, so one
slow or failing endpoint never holds up the run or another endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from records.alerts.bodies import absolute, alert_body
from records.models import (
    Alert,
    DeliveryState,
    Monitor,
    WebhookDelivery,
    WebhookEndpoint,
)
from records.renderers import iso

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Brandtest-Signature"
TIMESTAMP_HEADER = "X-Brandtest-Timestamp"
DELIVERY_HEADER = "X-Brandtest-Delivery"
SECRET_PREFIX = "whsec_"


class WebhookURLError(ValueError):
    """A webhook URL the service will not call; the message says why."""


# --- URLs --------------------------------------------------------------------------------------


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not ip.is_global or ip.is_multicast


def _addresses(host: str) -> list[str]:
    try:
        return [info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
    except (socket.gaierror, UnicodeError):
        raise WebhookURLError(f"The host {host!r} does not resolve.") from None


def check_public_host(host: str) -> None:
    """Refuse a host at a private, loopback, link-local or reserved address (every address it
    resolves to), unless BRANDTEST_WEBHOOKS_ALLOW_PRIVATE (development, tests)."""
    if settings.BRANDTEST_WEBHOOKS_ALLOW_PRIVATE:
        return
    if any(_is_private(a) for a in _addresses(host)):
        raise WebhookURLError(
            "The URL points at a private, loopback or link-local address; use a public one."
        )


def _own_hosts(request_host: str) -> set[str]:
    """host:port pairs that are this service: the public URL's and the request's own."""
    own = set()
    for netloc in (urlsplit(settings.BRANDTEST_PUBLIC_URL).netloc, request_host):
        if netloc:
            own.add(netloc.lower())
    return own


def _netloc(host: str, port: int | None, scheme: str) -> str:
    port = port or (443 if scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"


def clean_webhook_url(url: str, *, request_host: str = "") -> str:
    """The URL to store, or WebhookURLError: http(s) with a host, no credentials, not this
    service (its public URL, the host:port the request came to, or a name in ALLOWED_HOSTS on
    a public address), not a private address in production settings."""
    url = (url or "").strip()
    if len(url) > 2000:
        raise WebhookURLError("The URL is longer than 2000 characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookURLError("Not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookURLError("The URL must be http:// or https:// with a host.")
    if parts.username or parts.password:
        raise WebhookURLError("The URL must not carry a user name or password.")
    host = parts.hostname.lower().rstrip(".")
    own = {_netloc(*_split(n), parts.scheme) for n in _own_hosts(request_host)}
    if _netloc(host, port, parts.scheme) in own:
        raise WebhookURLError("The URL points at this service itself.")
    allowed = {h.lower().lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"}
    if host in allowed or any(host.endswith(f".{h}") for h in allowed):
        loopback = _is_ip(host) and _is_private(host) or host == "localhost"
        if not (loopback and settings.BRANDTEST_WEBHOOKS_ALLOW_PRIVATE):
            raise WebhookURLError("The URL points at this service itself.")
    check_public_host(host)
    return url


def _split(netloc: str) -> tuple[str, int | None]:
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# --- Signing -----------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: ``sha256=`` + HMAC-SHA256(secret, "<timestamp>." + body)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and tests do): recompute and compare in constant time."""
    try:
        expected = sign(secret, int(timestamp), body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, signature)


# --- Delivery ----------------------------------------------------------------------------------


def backoff_delay(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1`` after attempt ``attempt`` failed."""
    base = settings.BRANDTEST_WEBHOOK_RETRY_BASE
    return min(settings.BRANDTEST_WEBHOOK_RETRY_MAX, base * 2 ** (attempt - 1))


def queue_deliveries(monitor: Monitor, alerts: list[Alert]) -> list[int]:
    """One first attempt per active endpoint of the monitor for a batch of new alerts; returns
    the delivery ids for the caller to enqueue (after commit)."""
    if not alerts:
        return []
    ids = []
    for endpoint in WebhookEndpoint.objects.filter(monitor=monitor, active=True):
        delivery = WebhookDelivery.objects.create(endpoint=endpoint)
        delivery.alerts.set(alerts)
        ids.append(delivery.pk)
    return ids


def payload(delivery: WebhookDelivery) -> bytes:
    """The body of a delivery: the batch's alerts with absolute links (the same bytes on every
    attempt apart from ``attempt``)."""
    endpoint = delivery.endpoint
    monitor = endpoint.monitor
    alerts = delivery.alerts.select_related("execution", "acknowledged_by").order_by("id")
    body = {
        "id": str(delivery.event_id),
        "type": "alerts",
        "attempt": delivery.attempt,
        "monitor": {
            "id": monitor.pk,
            "name": monitor.name,
            "alerts": absolute(f"/api/v1/monitors/{monitor.pk}/alerts/"),
        },
        "alerts": [alert_body(a, absolute_links=True) for a in alerts],
        "sent_at": iso(timezone.now()),
    }
    return orjson.dumps(body)


@dataclass(frozen=True, slots=True)
class Attempted:
    """What one attempt did; ``retry_id``/``retry_at`` name the next attempt, if any."""

    delivery_id: int
    state: str
    retry_id: int | None = None
    retry_at: datetime | None = None


def attempt_delivery(delivery_id: int) -> Attempted | None:
    """Make one attempt: claim the row (a re-delivered task does nothing), POST, log the
    outcome, and on failure create the next attempt. None if the row was not pending."""
    if not WebhookDelivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING).update(
        state=DeliveryState.SENDING, attempted_at=timezone.now()
    ):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint__monitor").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = payload(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "brandtest-webhooks/1",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
        DELIVERY_HEADER: str(delivery.event_id),
    }
    status_code, error, started = None, "", None
    try:
        check_public_host(urlsplit(endpoint.url).hostname or "")  # again: DNS may have changed
        with httpx.Client(timeout=settings.BRANDTEST_WEBHOOK_TIMEOUT) as http:
            started = time.monotonic()  # the request's latency, not the client's set-up
            response = http.post(endpoint.url, content=body, headers=headers)
        status_code = response.status_code
        if not response.is_success:
            error = f"HTTP {status_code}: {response.text[:200]}"
    except WebhookURLError as exc:
        error = str(exc)
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    latency = None if started is None else round((time.monotonic() - started) * 1000)
    return _log_attempt(delivery, status_code=status_code, latency=latency, error=error[:500])


@transaction.atomic
def _log_attempt(
    delivery: WebhookDelivery, *, status_code, latency: int | None, error: str
) -> Attempted:
    fields = {"status_code": status_code, "latency_ms": latency, "error": error}
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.DELIVERED, **fields
        )
        return Attempted(delivery.pk, DeliveryState.DELIVERED)
    if delivery.attempt >= settings.BRANDTEST_WEBHOOK_MAX_ATTEMPTS:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, **fields)
        logger.warning(
            "webhook delivery %s to endpoint %s failed for good after %d attempts: %s",
            delivery.event_id,
            delivery.endpoint_id,
            delivery.attempt,
            error,
        )
        return Attempted(delivery.pk, DeliveryState.FAILED)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.RETRYING, **fields)
    retry_at = timezone.now() + timedelta(seconds=backoff_delay(delivery.attempt))
    retry = WebhookDelivery.objects.create(
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        attempt=delivery.attempt + 1,
        next_attempt_at=retry_at,
    )
    retry.alerts.set(delivery.alerts.all())
    logger.info(
        "webhook delivery %s attempt %d failed (%s); attempt %d at %s",
        delivery.event_id,
        delivery.attempt,
        error,
        retry.attempt,
        retry_at.isoformat(),
    )
    return Attempted(delivery.pk, DeliveryState.RETRYING, retry.pk, retry_at)
