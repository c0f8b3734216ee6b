"""The plain-view status poll and results, and the production WSGI fast path in front of them."""

import gzip
import uuid

import orjson
import pytest
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from rest_framework.authtoken.models import Token

from records.api import responses
from records.api.serializers import ExecutionStatusSerializer
from records.models import TestRecord, is_visible_to
from records.renderers import STATUS_COLUMNS, encode, status_body
from records.reports import store_report
from tests.factories import TestRecordFactory, UserFactory
from tests.wsgi import call_wsgi

pytestmark = pytest.mark.django_db


@pytest.fixture
def wsgi():
    """Call the production WSGI application in process, as granian does.

    Like Django's test client, keep the request signals from closing the test's connection.
    """
    from brandtest.wsgi import application

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    responses.finished_bodies.clear()

    def call(path, method="GET", **headers):
        return call_wsgi(application, path, method, **headers)

    yield call
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
    responses.finished_bodies.clear()


def status_path(record) -> str:
    return f"/api/v1/executions/{record.execution_id}/status/"


@pytest.mark.parametrize("status", ["running", "completed", "failed"])
def test_poll_body_is_the_status_renderers(api_client, status):
    record = TestRecordFactory(
        status=status,
        stage="ai_fetching" if status == "running" else status,
        progress=40 if status == "running" else 100,
        error="deepseek: quota exhausted" if status == "failed" else "",
        started_at=timezone.now().replace(microsecond=0),
        finished_at=None if status == "running" else timezone.now(),
    )
    record.refresh_from_db()
    row = [getattr(record, column) for column in STATUS_COLUMNS]
    rendered = status_body(record.execution_id, row, terminal=record.is_terminal)
    body = api_client.get(status_path(record)).json()
    assert body == orjson.loads(encode(rendered))
    # The schema is derived from the serializer that describes this body.
    assert list(body) == list(ExecutionStatusSerializer().fields)


def test_visibility_rule_is_visible_to(user, other_user, staff_user):
    """The poll's one-row rule and TestRecord.objects.visible_to agree for every caller."""
    owned = TestRecordFactory(owner=user)
    anonymous = TestRecordFactory(owner=None)
    from django.contrib.auth.models import AnonymousUser

    for caller in (None, AnonymousUser(), user, other_user, staff_user):
        visible = set(TestRecord.objects.visible_to(caller).values_list("pk", flat=True))
        for record in (owned, anonymous):
            assert is_visible_to(record.owner_id, caller) == (record.pk in visible), caller


def test_fast_path_poll_has_the_middleware_headers(wsgi):
    record = TestRecordFactory(status="running", stage="ai_fetching", progress=10)
    status, headers, body = wsgi(status_path(record))
    assert status == 200
    assert orjson.loads(body)["progress"] == 10
    assert headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(body))
    assert headers["ETag"] == f'"{record.version}"'
    assert headers["Retry-After"] == "1"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_fast_path_answers_304_404_and_rejects_unknown_hosts(wsgi):
    record = TestRecordFactory()
    assert wsgi(status_path(record), IF_NONE_MATCH=f'"{record.version}"')[0] == 304
    status, _, body = wsgi(f"/api/v1/executions/{uuid.uuid4()}/status/")
    assert (status, orjson.loads(body)["code"]) == (404, "not_found")
    assert wsgi("/api/v1/executions/not-a-uuid/status/")[0] == 404
    assert wsgi(status_path(record), HOST="evil.example")[0] == 400


def test_fast_path_hands_other_methods_to_drf(wsgi):
    record = TestRecordFactory()
    status, _, body = wsgi(status_path(record), method="POST")
    assert status == 405
    assert orjson.loads(body)["code"] == "method_not_allowed"


def test_fast_path_authenticates_a_token_and_rejects_a_bad_one(wsgi, user, other_user):
    record = TestRecordFactory(owner=user)
    token = Token.objects.create(user=user)
    other = Token.objects.create(user=other_user)
    assert wsgi(status_path(record))[0] == 404
    assert wsgi(status_path(record), AUTHORIZATION=f"Token {token.key}")[0] == 200
    assert wsgi(status_path(record), AUTHORIZATION=f"Token {other.key}")[0] == 404
    status, headers, body = wsgi(status_path(record), AUTHORIZATION="Token nosuchtoken")
    assert status == 401  # exactly as the DRF action answers it
    assert orjson.loads(body)["code"] == "authentication_failed"
    assert "WWW-Authenticate" in headers  # the first configured authenticator's scheme


def test_session_user_sees_an_owned_run(client, user):
    """A session cookie takes the full middleware path, where SessionAuthentication works."""
    record = TestRecordFactory(owner=user)
    client.force_login(user)
    assert client.get(status_path(record)).status_code == 200


def test_terminal_cache_still_checks_visibility(wsgi, user):
    record = TestRecordFactory(owner=user, status="completed", stage="completed", progress=100)
    token = Token.objects.create(user=user)
    first = wsgi(status_path(record), AUTHORIZATION=f"Token {token.key}")
    assert first[0] == 200
    assert record.execution_id in responses.finished_bodies
    assert wsgi(status_path(record))[0] == 404  # cached, but not yours
    again = wsgi(status_path(record), AUTHORIZATION=f"Token {token.key}")
    assert again[2] == first[2]
    assert "Retry-After" not in again[1]


def test_fast_path_results_pass_stored_gzip_through(wsgi):
    record = TestRecordFactory(status="completed", stage="completed", progress=100)
    store_report(record, {"execution_id": str(record.execution_id), "items": []})
    path = f"/api/v1/executions/{record.execution_id}/results/"
    status, headers, body = wsgi(path, ACCEPT_ENCODING="gzip, br")
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert orjson.loads(gzip.decompress(body))["execution_id"] == str(record.execution_id)
    status, headers, plain = wsgi(path)
    assert "Content-Encoding" not in headers
    assert orjson.loads(plain) == orjson.loads(gzip.decompress(body))
    assert wsgi(path, IF_NONE_MATCH=headers["ETag"])[0] == 304


def test_fast_path_results_of_a_running_run_are_the_live_view(wsgi):
    record = TestRecordFactory(status="running", stage="ai_fetching")
    status, _, body = wsgi(f"/api/v1/executions/{record.execution_id}/results/")
    assert status == 200
    assert orjson.loads(body)["final"] is False


def test_owned_results_are_404_to_others(wsgi):
    record = TestRecordFactory(owner=UserFactory(), status="completed", progress=100)
    store_report(record, {"items": []})
    assert wsgi(f"/api/v1/executions/{record.execution_id}/results/")[0] == 404
