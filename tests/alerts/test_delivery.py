"""Webhook delivery attempts: the log, backoff, the last attempt, re-delivered tasks, and the
address check made again at delivery time."""

from __future__ import annotations

import socket
from datetime import date

import pytest

from records import alerts, monitoring
from records.alerts import webhooks
from records.models import Alert, WebhookDelivery, WebhookEndpoint
from tests.alerts.conftest import monitor_definition
from tests.fakes.webhook_receiver import FakeWebhookReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitor(user):
    data = monitoring.clean_monitor_input(**monitor_definition(platforms=["demo"]))
    return monitoring.create_monitor(owner=user, data=data)


def batch(monitor, url):
    endpoint = WebhookEndpoint.objects.create(monitor=monitor, url=url, secret="whsec_test")
    alert = Alert.objects.create(
        monitor=monitor,
        kind="run_problem",
        brand="华夏良子",
        period_start=date(2026, 3, 11),
        period_end=date(2026, 3, 11),
    )
    (delivery_id,) = webhooks.queue_deliveries(monitor, [alert])
    return endpoint, delivery_id


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_endpoint_is_retried_with_backoff_then_failed(monitor, settings):
    settings.BRANDTEST_WEBHOOK_MAX_ATTEMPTS = 3
    settings.BRANDTEST_WEBHOOK_RETRY_BASE = 10
    endpoint, first = batch(monitor, f"http://127.0.0.1:{closed_port()}/hook")
    ids = [first]
    while True:
        attempted = alerts.attempt_delivery(ids[-1])
        if attempted.retry_id is None:
            break
        ids.append(attempted.retry_id)
    log = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("attempt"))
    assert [(d.attempt, d.state, d.status_code) for d in log] == [
        (1, "retrying", None),
        (2, "retrying", None),
        (3, "failed", None),
    ]
    assert all("ConnectError" in d.error for d in log)
    assert len({d.event_id for d in log}) == 1
    assert [alerts.backoff_delay(n) for n in (1, 2, 3)] == [10, 20, 40]
    settings.BRANDTEST_WEBHOOK_RETRY_MAX = 15
    assert alerts.backoff_delay(3) == 15
    assert all(list(d.alerts.values_list("kind", flat=True)) == ["run_problem"] for d in log)


def test_a_redelivered_task_does_not_post_twice(monitor):
    with FakeWebhookReceiver() as receiver:
        _, delivery_id = batch(monitor, receiver.url)
        assert alerts.attempt_delivery(delivery_id).state == "delivered"
        assert alerts.attempt_delivery(delivery_id) is None
        assert len(receiver.received) == 1


def test_the_address_is_checked_again_at_delivery(monitor, settings):
    """A host that resolved to a public address when stored and to a private one now (DNS
    rebinding), or settings that changed, gets no request."""
    with FakeWebhookReceiver() as receiver:
        _, delivery_id = batch(monitor, receiver.url)
        settings.BRANDTEST_WEBHOOKS_ALLOW_PRIVATE = False
        settings.BRANDTEST_WEBHOOK_MAX_ATTEMPTS = 1
        attempted = alerts.attempt_delivery(delivery_id)
        assert attempted.state == "failed" and receiver.received == []
        assert "private" in WebhookDelivery.objects.get(pk=delivery_id).error


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    # Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_x
    expected = "sha256=b3438763ab46d9634b9844c8722818eaf523f803db1327484c6067462a5fd6d1"
    signature = alerts.sign("whsec_x", 1700000000, b'{"a":1}')
    assert signature == expected
    assert alerts.verify("whsec_x", "1700000000", b'{"a":1}', signature)
    assert not alerts.verify("whsec_x", "1700000001", b'{"a":1}', signature)
    assert not alerts.verify("whsec_y", "1700000000", b'{"a":1}', signature)
    assert not alerts.verify("whsec_x", "not-a-time", b'{"a":1}', signature)
