"""Fuzz the legacy mini-program endpoints (docs/legacy-contract.md) with Schemathesis against a
hand-written OpenAPI description of them: no input gives a 5xx (login's 502/503 are WeChat's
answer, not ours), and every 4xx is JSON with the legacy "error" message.

The write endpoints get generated bodies, in JSON and as raw bytes (any media type); the reads
get generated ids and queries. The fake WeChat server answers every login with one openid.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from brandtest.wsgi import application

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30"))

_STRINGS = {"type": "string"}
_ANY = {}
_MODEL = {"oneOf": [_STRINGS, {"type": "object", "additionalProperties": _ANY}]}
_STRING_LIST = {"type": "array", "items": _STRINGS}


def _body(properties: dict, required: list[str]) -> dict:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": _ANY,
                }
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }


def _post(body: dict) -> dict:
    return {
        "post": {
            "parameters": [
                {"name": "X-Device-ID", "in": "header", "schema": _STRINGS},
                {"name": "Idempotency-Key", "in": "header", "schema": _STRINGS},
            ],
            "requestBody": body,
            "responses": {"default": {"description": "any"}},
        }
    }


def _get(parameters: list[dict]) -> dict:
    return {"get": {"parameters": parameters, "responses": {"default": {"description": "any"}}}}


_ID = {"name": "execution_id", "in": "path", "required": True, "schema": _STRINGS}

LEGACY_SCHEMA = {
    "openapi": "3.0.3",
    "info": {"title": "Legacy mini-program contract (hand-written, for fuzzing)", "version": "1"},
    "paths": {
        "/api/perform-brand-test": _post(
            _body(
                {
                    "brand_list": _STRING_LIST,
                    "selectedModels": {"type": "array", "items": _MODEL},
                    "custom_question": {"type": "string", "nullable": True},
                    "customQuestions": {**_STRING_LIST, "nullable": True},
                    "questions": {**_STRING_LIST, "nullable": True},
                    "userOpenid": _STRINGS,
                    "apiKey": _STRINGS,
                },
                ["brand_list", "selectedModels"],
            )
        ),
        "/api/login": _post(_body({"code": _STRINGS}, ["code"])),
        "/api/refresh-token": _post(_body({"refresh_token": _STRINGS}, ["refresh_token"])),
        "/api/validate-token": _post(_body({"token": _STRINGS}, ["token"])),
        "/test/status/{execution_id}": _get([_ID]),
        "/api/diagnosis/report/{execution_id}": _get([_ID]),
        "/api/test-progress": _get([{"name": "executionId", "in": "query", "schema": _STRINGS}]),
        "/api/diagnosis/history": _get(
            [
                {"name": "page", "in": "query", "schema": _STRINGS},
                {"name": "limit", "in": "query", "schema": _STRINGS},
            ]
        ),
    },
}

schema = schemathesis.openapi.from_dict(LEGACY_SCHEMA)
schema.app = application
# WeChat's own failures (unreachable, refused) are answered 502/503 by design.
GATEWAY_STATUSES = {502, 503}


@pytest.fixture
def legacy_world(db, settings, wechat):
    settings.BRANDTEST_DEMO_LATENCY_MS = 0
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"start_caller": None, "start_ip": None, "login": None}
    }
    wechat.override = {"openid": "o_fuzz", "session_key": "never-returned"}
    # As Django's test client does: keep the connection (it holds the test's transaction).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_legacy_endpoints_never_answer_5xx(case, legacy_world):
    response = case.call()
    status = response.status_code
    gateway = case.path == "/api/login" and status in GATEWAY_STATUSES
    assert status < 500 or gateway, (status, response.text[:500])
    if 400 <= status < 500 and status != 405:
        # Every legacy error body names what is wrong in "error" (docs/legacy-contract.md).
        body = response.json()
        assert isinstance(body.get("error"), str), body
