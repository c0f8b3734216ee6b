"""Starts are rate-limited per caller and per client address, on v1 and legacy alike; status
polls never are."""

import json

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from records.models import TestRecord

pytestmark = pytest.mark.django_db

V1_START = {"brand": "华夏良子", "platforms": ["demo"]}
LEGACY_START = {"brand_list": ["华夏良子"], "selectedModels": ["demo"]}
RATE_LIMITED = {"status": "error", "error": "Rate limit exceeded", "code": 429}


@pytest.fixture
def rates(settings):
    """Set the throttle rates for a test."""

    def set_rates(**rates) -> None:
        settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
            "DEFAULT_THROTTLE_RATES": {"start_caller": None, "start_ip": None, "login": None}
            | rates
        }

    return set_rates


def legacy_start(client, n: int = 0, **headers):
    # A different question each time, so no start is a re-send of an earlier one.
    body = LEGACY_START | {"customQuestions": [f"推拿哪家好 {n}？"]}
    return client.post(
        "/api/perform-brand-test", json.dumps(body), content_type="application/json", **headers
    )


def v1_start(client, n: int = 0, **headers):
    body = V1_START | {"questions": [f"推拿哪家好 {n}？"]}
    return client.post(
        "/api/v1/executions/", json.dumps(body), content_type="application/json", **headers
    )


def test_legacy_starts_over_the_caller_rate_are_429_in_the_legacy_shape(client, rates):
    rates(start_caller="2/minute")
    codes = [legacy_start(client, n, HTTP_X_DEVICE_ID="phone").status_code for n in range(2)]
    assert codes == [200, 200]
    response = legacy_start(client, 3, HTTP_X_DEVICE_ID="phone")
    assert response.status_code == 429
    assert response.json() == RATE_LIMITED
    assert response["Retry-After"] == "60"
    assert TestRecord.objects.count() == 2
    # Another device is another caller.
    assert legacy_start(client, 4, HTTP_X_DEVICE_ID="tablet").status_code == 200


def test_v1_starts_over_the_caller_rate_are_429_in_the_v1_shape(client, rates):
    rates(start_caller="2/minute")
    assert [v1_start(client, n).status_code for n in range(2)] == [202, 202]
    response = v1_start(client, 3)
    assert response.status_code == 429
    assert response.json() == {
        "error": "Request was throttled. Expected available in 60 seconds.",
        "code": "throttled",
    }


def test_v1_and_legacy_starts_share_one_count_per_caller(client, rates, user):
    rates(start_caller="3/minute")
    token = {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(user)}"}
    assert v1_start(client, 1, **token).status_code == 202
    assert legacy_start(client, 2, **token).status_code == 200
    assert v1_start(client, 3, **token).status_code == 202
    assert legacy_start(client, 4, **token).status_code == 429
    # An anonymous caller from the same address is counted apart from the user.
    assert legacy_start(client, 5).status_code == 200


def test_rotating_device_ids_does_not_lift_the_address_limit(client, rates):
    rates(start_caller="5/minute", start_ip="3/minute")
    codes = [legacy_start(client, n, HTTP_X_DEVICE_ID=f"device-{n}").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]
    assert v1_start(client, 9, HTTP_X_DEVICE_ID="device-9").status_code == 429


def test_the_address_is_remote_addr_unless_proxies_are_configured(client, rates, settings):
    rates(start_ip="1/minute")
    assert legacy_start(client, 1, HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 200
    # A forged X-Forwarded-For does not make a new client.
    assert legacy_start(client, 2, HTTP_X_FORWARDED_FOR="10.0.0.2").status_code == 429
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"NUM_PROXIES": 1}
    assert legacy_start(client, 3, HTTP_X_FORWARDED_FOR="10.0.0.3").status_code == 200


def test_sixty_polls_in_a_burst_are_all_answered(client, rates):
    rates(start_caller="1/minute", start_ip="1/minute", login="1/minute")
    execution_id = legacy_start(client, HTTP_X_DEVICE_ID="phone").json()["execution_id"]
    paths = [
        f"/test/status/{execution_id}",
        f"/api/test-progress?executionId={execution_id}",
        f"/api/v1/executions/{execution_id}/status/",
    ]
    for path in paths:
        codes = {client.get(path, HTTP_X_DEVICE_ID="phone").status_code for _ in range(60)}
        assert codes == {200}, path
    # Reading reports and history is not a start either.
    assert client.get(f"/api/diagnosis/report/{execution_id}").status_code == 200
    assert client.get("/api/diagnosis/history").status_code == 200
    assert legacy_start(client, 2, HTTP_X_DEVICE_ID="phone").status_code == 429
