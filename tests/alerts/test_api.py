"""The alerts API: lists and filters, acknowledge, webhooks (secret once, URL checks), settings,
and ownership (another user's monitor, alerts and webhooks are 404; staff see all)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from records import monitoring
from records.models import Alert, WebhookEndpoint
from tests.alerts.conftest import monitor_definition

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitor(user):
    data = monitoring.clean_monitor_input(**monitor_definition(platforms=["demo"]))
    return monitoring.create_monitor(owner=user, data=data)


def make_alert(monitor, kind="visibility_drop", platform="demo", day=date(2026, 3, 11), **extra):
    return Alert.objects.create(
        monitor=monitor,
        kind=kind,
        brand="华夏良子",
        platform=platform,
        period_start=day,
        period_end=day,
        evidence={"delta": -12.5, "se": 2.0, "cells": 3, "n_before": 3, "n_after": 3},
        **extra,
    )


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_alert_list_body_and_filters(user_client, monitor):
    drop = make_alert(monitor)
    make_alert(monitor, kind="run_problem", platform="")
    url = f"/api/v1/monitors/{monitor.pk}/alerts/"
    body = user_client.get(url, {"kind": "visibility_drop"}).json()
    assert body["count"] == 1
    assert body["results"][0] == {
        "id": drop.pk,
        "monitor": monitor.pk,
        "kind": "visibility_drop",
        "brand": "华夏良子",
        "platform": "demo",
        "period_start": "2026-03-11",
        "period_end": "2026-03-11",
        "execution": None,
        "evidence": {"delta": -12.5, "se": 2.0, "cells": 3, "n_before": 3, "n_after": 3},
        "created_at": body["results"][0]["created_at"],
        "acknowledged_at": None,
        "acknowledged_by": None,
        "links": {
            "alerts": url,
            "acknowledge": f"{url}{drop.pk}/acknowledge/",
            "execution": None,
            "answers": None,
            "report": f"/reports/monitors/{monitor.pk}/?from=2026-03-11&to=2026-03-11",
        },
    }
    assert [a["kind"] for a in user_client.get(url, {"platform": "overall"}).json()["results"]] == [
        "run_problem"
    ]
    assert user_client.get(url, {"acknowledged": "true"}).json()["count"] == 0
    assert user_client.get(url, {"acknowledged": "false"}).json()["count"] == 2


@pytest.mark.parametrize(
    "params, field", [({"kind": "nope"}, "kind"), ({"acknowledged": "maybe"}, "acknowledged")]
)
def test_a_bad_filter_is_a_400_naming_it(user_client, monitor, params, field):
    response = user_client.get(f"/api/v1/monitors/{monitor.pk}/alerts/", params)
    assert response.status_code == 400 and field in response.json()["fields"]


def test_acknowledge_keeps_the_first_time_and_person(user, user_client, monitor, staff_user):
    alert = make_alert(monitor)
    url = f"/api/v1/monitors/{monitor.pk}/alerts/{alert.pk}/acknowledge/"
    first = user_client.post(url).json()
    assert first["acknowledged_by"] == user.username and first["acknowledged_at"]
    again = client_for(staff_user).post(url).json()
    assert again["acknowledged_at"] == first["acknowledged_at"]
    assert again["acknowledged_by"] == user.username


def test_one_alert_per_rule_brand_platform_and_period_in_the_database(monitor):
    make_alert(monitor)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_alert(monitor)
    make_alert(monitor, platform="")  # another platform (overall) is another alert


def test_webhook_secret_is_shown_once_and_delete_removes_it(user_client, monitor):
    url = f"/api/v1/monitors/{monitor.pk}/webhooks/"
    created = user_client.post(url, {"url": "http://127.0.0.1:9/hook"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert WebhookEndpoint.objects.get(pk=body["id"]).secret == body["secret"]
    listed = user_client.get(url).json()["results"]
    assert listed == [
        {"id": body["id"], "url": body["url"], "active": True, "created_at": body["created_at"]}
    ]
    assert body["secret"] not in repr(WebhookEndpoint.objects.get()) + str(
        WebhookEndpoint.objects.get()
    )
    assert user_client.delete(f"{url}{body['id']}/").status_code == 204
    assert user_client.get(url).json()["count"] == 0
    assert user_client.delete(f"{url}{body['id']}/").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "javascript:alert(1)",
        "example.com/hook",
        "",
        "http://user:pw@example.com/hook",
        "http://testserver/hook",  # the host this request came to
        "http://127.0.0.1:8000/hook",  # BRANDTEST_PUBLIC_URL
    ],
)
def test_a_webhook_url_the_service_will_not_call_is_a_400_naming_url(user_client, monitor, url):
    response = user_client.post(
        f"/api/v1/monitors/{monitor.pk}/webhooks/", {"url": url}, format="json"
    )
    assert response.status_code == 400 and "url" in response.json()["fields"], response.json()
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9999/hook",
        "http://localhost:9999/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9999/hook",
    ],
)
def test_private_addresses_are_refused_in_production_settings(user_client, monitor, settings, url):
    settings.BRANDTEST_WEBHOOKS_ALLOW_PRIVATE = False
    response = user_client.post(
        f"/api/v1/monitors/{monitor.pk}/webhooks/", {"url": url}, format="json"
    )
    assert response.status_code == 400 and "url" in response.json()["fields"]


def test_a_public_address_is_accepted_in_production_settings(user_client, monitor, settings):
    settings.BRANDTEST_WEBHOOKS_ALLOW_PRIVATE = False
    response = user_client.post(
        f"/api/v1/monitors/{monitor.pk}/webhooks/",
        {"url": "https://93.184.215.14/hook"},
        format="json",
    )
    assert response.status_code == 201


def test_alert_settings_default_on_and_recipients_are_checked(user_client, monitor):
    url = f"/api/v1/monitors/{monitor.pk}/alert-settings/"
    assert user_client.get(url).json() == {
        "rules": {
            "visibility_drop": True,
            "overtaken": True,
            "negative_mention": True,
            "owned_citation_lost": True,
            "run_problem": True,
        },
        "email_recipients": [],
    }
    changed = user_client.put(
        url,
        {"rules": {"overtaken": False}, "email_recipients": ["A@Example.com"]},
        format="json",
    ).json()
    assert changed["rules"]["overtaken"] is False and changed["rules"]["visibility_drop"] is True
    assert changed["email_recipients"] == ["a@example.com"]
    bad = user_client.put(url, {"email_recipients": ["not-an-address"]}, format="json")
    assert bad.status_code == 400 and "email_recipients" in bad.json()["fields"]
    bad = user_client.put(url, {"rules": {"nope": True}}, format="json")
    assert bad.status_code == 400 and "rules" in bad.json()["fields"]


def test_another_users_monitor_alerts_and_webhooks_are_404(monitor, other_user, staff_user):
    alert = make_alert(monitor)
    hook = WebhookEndpoint.objects.create(monitor=monitor, url="http://127.0.0.1:9/", secret="s")
    base = f"/api/v1/monitors/{monitor.pk}"
    stranger = client_for(other_user)
    for method, path in [
        ("get", f"{base}/alerts/"),
        ("post", f"{base}/alerts/{alert.pk}/acknowledge/"),
        ("get", f"{base}/webhooks/"),
        ("post", f"{base}/webhooks/"),
        ("delete", f"{base}/webhooks/{hook.pk}/"),
        ("get", f"{base}/alert-settings/"),
        ("put", f"{base}/alert-settings/"),
        ("get", "/api/v1/monitors/99999999999999999999/alerts/"),
    ]:
        response = getattr(stranger, method)(path, {"url": "http://127.0.0.1:9/"}, format="json")
        assert response.status_code == 404, (method, path, response.status_code)
    alert.refresh_from_db()
    assert alert.acknowledged_at is None and WebhookEndpoint.objects.filter(pk=hook.pk).exists()
    # Another monitor's alert id under one's own monitor is a 404 too.
    own = monitoring.create_monitor(
        owner=other_user,
        data=monitoring.clean_monitor_input(**monitor_definition(platforms=["demo"])),
    )
    assert stranger.post(
        f"/api/v1/monitors/{own.pk}/alerts/{alert.pk}/acknowledge/"
    ).status_code == (404)
    staff = client_for(staff_user)
    assert staff.get(f"{base}/alerts/").json()["count"] == 1
    assert staff.get(f"{base}/webhooks/").json()["count"] == 1


def test_anonymous_callers_are_refused(api_client, monitor):
    assert api_client.get(f"/api/v1/monitors/{monitor.pk}/alerts/").status_code in (401, 403)


def test_admin_lists_alerts_and_endpoints_without_the_secret(client, staff_user, monitor):
    make_alert(monitor)
    hook = WebhookEndpoint.objects.create(
        monitor=monitor, url="http://127.0.0.1:9/", secret="whsec_never-shown-anywhere"
    )
    client.force_login(staff_user)
    for path in (
        "/admin/records/alert/",
        "/admin/records/alert/?kind__exact=visibility_drop&acknowledged=no",
        "/admin/records/webhookendpoint/",
        f"/admin/records/webhookendpoint/{hook.pk}/change/",
        "/admin/records/webhookdelivery/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"whsec_never-shown-anywhere" not in response.content


def test_admin_acknowledge_action(client, staff_user, monitor):
    alert = make_alert(monitor)
    client.force_login(staff_user)
    response = client.post(
        "/admin/records/alert/",
        {"action": "acknowledge", "_selected_action": [alert.pk]},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == staff_user


def test_options_describes_each_endpoint(user_client, monitor):
    base = f"/api/v1/monitors/{monitor.pk}"
    for path in (
        f"{base}/alerts/",
        f"{base}/alerts/1/acknowledge/",
        f"{base}/webhooks/",
        f"{base}/webhooks/1/",
        f"{base}/alert-settings/",
    ):
        assert user_client.options(path).status_code == 200, path
