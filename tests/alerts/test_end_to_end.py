"""The issue's acceptance path over real HTTP: the API served by a live server, a local fake
platform whose answers change between runs, two local webhook receivers (one answering 500
twice), the scheduler and the real worker. Nothing of ours is mocked."""

from __future__ import annotations

import time
from datetime import timedelta
from itertools import pairwise

import httpx
import pytest
from django.core import mail
from rest_framework.authtoken.models import Token

from records import alerts, monitoring, tasks
from records.models import Alert, DeliveryState, Monitor, TestRecord, WebhookDelivery
from tests.alerts.conftest import MAIN, MAIN_ABSENT, MAIN_ON_TOP, RIVAL, monitor_definition
from tests.fakes.platform_server import ok
from tests.fakes.webhook_receiver import FakeWebhookReceiver

RETRY_BASE = 0.3


@pytest.fixture
def receivers():
    with FakeWebhookReceiver() as healthy, FakeWebhookReceiver() as flaky:
        flaky.script(500, 500)
        yield healthy, flaky


def drain(run_worker, rounds: int = 60) -> None:
    """Run the worker until no webhook attempt is waiting (retries are deferred)."""
    for _ in range(rounds):
        run_worker()
        waiting = WebhookDelivery.objects.filter(
            state__in=(DeliveryState.PENDING, DeliveryState.SENDING)
        )
        if not waiting.exists():
            return
        time.sleep(RETRY_BASE / 2)
    raise AssertionError("webhook deliveries still pending")


def tick_next_period(monitor_id: int) -> None:
    monitor = Monitor.objects.get(pk=monitor_id)
    started = monitoring.tick(now=monitor.next_run_at + timedelta(seconds=5)).started
    assert [m for m, _, _ in started] == [monitor_id]


def test_a_drop_between_scheduled_runs_is_alerted_signed_retried_and_mailed(
    live_server, run_worker, fake_platform, receivers, user, settings, request
):
    settings.BRANDTEST_WEBHOOK_RETRY_BASE = RETRY_BASE
    settings.BRANDTEST_PUBLIC_URL = live_server.url
    healthy, flaky = receivers
    token = Token.objects.create(user=user)
    api = httpx.Client(
        base_url=f"{live_server.url}/api/v1",
        headers={"Authorization": f"Token {token.key}"},
        timeout=30,
    )
    # Closed at the end: a kept-alive connection keeps its server thread (and its database
    # session) alive past the test.
    request.addfinalizer(api.close)
    created = api.post("/monitors/", json=monitor_definition())
    assert created.status_code == 201, created.text
    monitor_id = created.json()["id"]
    hooks = {}
    for receiver in (healthy, flaky):
        response = api.post(f"/monitors/{monitor_id}/webhooks/", json={"url": receiver.url})
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"id", "url", "active", "created_at", "secret"}
        hooks[receiver.url] = body
    listed = api.get(f"/monitors/{monitor_id}/webhooks/").json()["results"]
    assert len(listed) == 2 and all("secret" not in hook for hook in listed)
    recipients = {"email_recipients": ["owner@example.com"]}
    assert api.put(f"/monitors/{monitor_id}/alert-settings/", json=recipients).status_code == 200

    # Period 1: the main brand tops every answer. Nothing to compare yet: no alert, no POST.
    fake_platform.default = ok(MAIN_ON_TOP)
    tick_next_period(monitor_id)
    drain(run_worker)
    assert Alert.objects.count() == 0 and healthy.received == [] and flaky.received == []

    # Period 2: the main brand is not named at all.
    fake_platform.default = ok(MAIN_ABSENT)
    tick_next_period(monitor_id)
    drain(run_worker)

    listed = api.get(f"/monitors/{monitor_id}/alerts/", params={"kind": "visibility_drop"})
    assert listed.status_code == 200
    (drop,) = listed.json()["results"]
    assert (drop["brand"], drop["platform"]) == (MAIN, "deepseek")
    evidence = drop["evidence"]
    assert evidence["beyond_noise"] is True and evidence["delta"] < 0
    assert evidence["se"] is not None and evidence["n_before"] == evidence["n_after"] == 3
    kinds = sorted(a["kind"] for a in api.get(f"/monitors/{monitor_id}/alerts/").json()["results"])
    assert kinds == ["overtaken", "visibility_drop"]

    # The healthy receiver got exactly one POST, signed with its secret, with both alerts.
    (post,) = healthy.received
    assert post.signature_valid(hooks[healthy.url]["secret"])
    assert not post.signature_valid(hooks[flaky.url]["secret"])
    assert alerts.verify(
        hooks[healthy.url]["secret"],
        post.headers["x-brandtest-timestamp"],
        post.body,
        post.headers["x-brandtest-signature"],
    )
    payload = post.json
    assert payload["monitor"]["id"] == monitor_id
    assert sorted(a["kind"] for a in payload["alerts"]) == ["overtaken", "visibility_drop"]
    overtaken = next(a for a in payload["alerts"] if a["kind"] == "overtaken")
    assert overtaken["brand"] == RIVAL
    assert overtaken["links"]["execution"].startswith(f"{live_server.url}/api/v1/executions/")

    # The flaky one answered 500 twice, then 200: three attempts of one delivery, all logged.
    assert [r.status for r in flaky.received] == [500, 500, 200]
    assert len({r.headers["x-brandtest-delivery"] for r in flaky.received}) == 1
    assert all(r.signature_valid(hooks[flaky.url]["secret"]) for r in flaky.received)
    log = list(
        WebhookDelivery.objects.filter(endpoint_id=hooks[flaky.url]["id"]).order_by("attempt")
    )
    assert [(d.attempt, d.state, d.status_code) for d in log] == [
        (1, "retrying", 500),
        (2, "retrying", 500),
        (3, "delivered", 200),
    ]
    assert all(d.latency_ms is not None for d in log) and "HTTP 500" in log[0].error
    # Exponential backoff: base, then 2 x base, after each failed attempt (measured from the
    # attempt's claim, so each wait also holds that attempt's own time, about the same twice).
    waits = [(b.next_attempt_at - a.attempted_at).total_seconds() for a, b in pairwise(log)]
    assert waits[0] >= RETRY_BASE and waits[1] >= 2 * RETRY_BASE
    assert waits[1] - waits[0] == pytest.approx(RETRY_BASE, abs=0.15)

    # One e-mail for the batch, plain text and HTML.
    (message,) = mail.outbox
    assert message.to == ["owner@example.com"] and "2 alert(s)" in message.subject
    assert "Visibility of 华夏良子 on deepseek dropped" in message.body
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html" and "华夏良子" in html

    # Evaluating the run again (here: its task once more, through the worker) adds nothing.
    second = TestRecord.objects.filter(monitor_id=monitor_id).order_by("-scheduled_for").first()
    tasks.evaluate_alerts.enqueue(str(second.execution_id))
    drain(run_worker)
    assert Alert.objects.count() == 2
    assert len(healthy.received) == 1 and len(mail.outbox) == 1


def test_the_console_backend_prints_the_alert_email(
    run_worker, fake_platform, alert_monitor, run_period, settings, capsys
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    monitor = alert_monitor()
    alerts.update_alert_settings(monitor=monitor, recipients=["Owner@Example.com"])
    run_period(monitor, 0, MAIN_ON_TOP)
    second = run_period(monitor, 1, MAIN_ABSENT)
    tasks.evaluate_alerts.enqueue(str(second.execution_id))
    run_worker()
    printed = capsys.readouterr().out
    assert "To: owner@example.com" in printed
    assert "Subject: [brandtest]" in printed and "text/html" in printed
