"""Bytes on the wire of the legacy poll, progress and report: gzip for clients that accept it
(the same JSON once decompressed), an ETag from the run's version, 304 on If-None-Match, and
visibility checked before any 304."""

from __future__ import annotations

import gzip

import orjson
import pytest

from records.models import TestRecord
from tests.legacy.test_status import answer, started

pytestmark = pytest.mark.django_db


def status_path(record: TestRecord) -> str:
    return f"/test/status/{record.execution_id}"


def progress_path(record: TestRecord) -> str:
    return f"/api/test-progress?executionId={record.execution_id}"


def report_path(record: TestRecord) -> str:
    return f"/api/diagnosis/report/{record.execution_id}"


PATHS = {
    "status": (status_path, "L"),
    "progress": (progress_path, "L"),
    "report": (report_path, "R"),
}


def without_clock(body: dict) -> dict:
    """The report's retrieved_at is the time of the request: equal bodies differ only there."""
    body.get("meta", {}).pop("retrieved_at", None)
    return body


@pytest.mark.parametrize("kind", PATHS)
def test_gzip_for_clients_that_accept_it_is_the_same_json(client, kind):
    path, _ = PATHS[kind]
    record = started(repeats=2)
    answer(record)
    plain = client.get(path(record))
    zipped = client.get(path(record), HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert plain.status_code == zipped.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"] and "Accept-Encoding" in plain["Vary"]
    assert without_clock(orjson.loads(gzip.decompress(zipped.content))) == without_clock(
        plain.json()
    )
    assert zipped.headers["ETag"] == plain.headers["ETag"]


@pytest.mark.parametrize("kind", PATHS)
def test_etag_follows_the_version_and_answers_304(client, kind):
    path, prefix = PATHS[kind]
    record = started(repeats=2)
    first = client.get(path(record))
    record.refresh_from_db()
    assert first.headers["ETag"] == f'"{prefix}{record.version}"'
    again = client.get(path(record), HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    # A new answer moves the version: the old tag now gets the new body.
    answer(record)
    moved = client.get(path(record), HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert moved.status_code == 200
    assert moved.headers["ETag"] != first.headers["ETag"]
    body = moved.json()
    answered = body["results"] if kind != "report" else body["report"]
    assert answered


@pytest.mark.parametrize("kind", PATHS)
def test_another_users_run_is_404_even_with_its_etag(client, user, other_user, kind):
    path, _ = PATHS[kind]
    record = started(owner=other_user)
    client.force_login(other_user)
    etag = client.get(path(record)).headers["ETag"]
    client.force_login(user)
    response = client.get(path(record), HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 404
    assert "ETag" not in response.headers


def test_gzip_poll_of_long_answers_is_under_a_quarter(client):
    """The issue's bar on the wire: long real-looking answers compress to under 1/4."""
    record = started(repeats=3)
    for _ in range(3):
        answer(record)
    plain = client.get(status_path(record)).content
    zipped = client.get(status_path(record), HTTP_ACCEPT_ENCODING="gzip").content
    assert len(zipped) * 4 <= len(plain), (len(zipped), len(plain))
