"""Schemathesis over the project's own OpenAPI schema, through the real WSGI application (the
fast path included): every operation, anonymous and as a signed-in user, with generated ids and
with the ids of a real finished run, a real cancelled run (retry) and a queued one (cancel).
Checks: no 5xx, and every response conforms to the schema (status code documented, body valid).

Bounded: ``SCHEMATHESIS_MAX_EXAMPLES`` examples per operation (default 30; .ci/run sets it),
derandomised so a failure reproduces. The counts are written to var/schemathesis-summary.txt.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from brandtest.wsgi import application
from records import execution, services
from records.models import Status
from tests.factories import UserFactory

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30"))
CHECKS = [not_a_server_error, response_schema_conformance]
SUMMARY = Path(__file__).resolve().parent.parent / "var" / "schemathesis-summary.txt"
# The WSGI transport does not decode Content-Encoding: ask for the stored report uncompressed
# (the gzip path is tested in tests/api/test_fast_paths.py).
ANONYMOUS = {"Accept-Encoding": "identity"}
# Operation -> examples (each sent anonymously, signed in, and signed in with real ids).
EXAMPLES: Counter[str] = Counter()


# Loaded through the WSGI application at collection (the schema view reads no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def wsgi_in_test_transaction(db):
    """As Django's test client does: the connection is not closed between requests (it holds
    the test's transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(wsgi_in_test_transaction, settings):
    """A signed-in user with one finished, one cancelled and one queued run of their own."""
    settings.BRANDTEST_DEMO_LATENCY_MS = 0
    # Limits are tested elsewhere (tests/test_hardening.py); here every start is admitted.
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"start_caller": None, "start_ip": None, "login": None}
    }
    user = UserFactory()

    def started(question: str):
        data = services.clean_execution_input(
            brand="华夏良子",
            competitors=["良子健身"],
            questions=[question],
            platforms=["demo"],
            repeats=1,
        )
        return services.start_execution(owner=user, data=data, enqueue=False).record

    finished = started("北京中医推拿哪家好？")
    execution.run_execution(execution_id=finished.execution_id)
    cancelled = services.cancel_execution(record=started("上海推拿哪家好？"))
    queued = started("广州推拿哪家好？")
    finished.refresh_from_db()
    assert finished.status == Status.COMPLETED
    return {
        "headers": ANONYMOUS | {"Authorization": f"Bearer {AccessToken.for_user(user)}"},
        "ids": {
            "retry": str(cancelled.execution_id),
            "cancel": str(queued.execution_id),
            "default": str(finished.execution_id),
        },
    }


def _real_id(path: str, ids: dict[str, str]) -> str:
    for action in ("retry", "cancel"):
        if path.endswith(f"/{action}/"):
            return ids[action]
    return ids["default"]


@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, fuzz_world):
    EXAMPLES[f"{case.method.upper()} {case.path}"] += 1
    case.call_and_validate(checks=CHECKS, headers=ANONYMOUS)
    case.call_and_validate(checks=CHECKS, headers=fuzz_world["headers"])
    if case.path_parameters and "execution_id" in case.path_parameters:
        case.path_parameters = {
            **case.path_parameters,
            "execution_id": _real_id(case.path, fuzz_world["ids"]),
        }
        case.call_and_validate(checks=CHECKS, headers=fuzz_world["headers"])
        case.call_and_validate(checks=CHECKS, headers=ANONYMOUS)


def test_zz_every_operation_was_exercised():
    """Runs after the fuzz test (file order): all operations covered; the counts recorded."""
    if not EXAMPLES:
        pytest.skip("the fuzz test did not run in this session")
    operations = {
        f"{result.ok().method.upper()} {result.ok().path}" for result in schema.get_all_operations()
    }
    assert operations <= set(EXAMPLES), operations - set(EXAMPLES)
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    documented = {op: n for op, n in EXAMPLES.items() if op in operations}
    probes = sum(n for op, n in EXAMPLES.items() if op not in operations)
    lines = [f"{count:5d}  {operation}" for operation, count in sorted(documented.items())]
    lines.append(
        f"{sum(documented.values()):5d}  examples over {len(documented)} documented operations"
        f" (each sent 2-4 ways: anonymous, signed in, with real run ids)"
    )
    lines.append(f"{probes:5d}  probes of undocumented methods (405 expected)")
    SUMMARY.write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
