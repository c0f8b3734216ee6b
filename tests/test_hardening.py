"""Issue 11's hardening: each input that gave a 500, each limit that did not hold, each smaller
defect, as a request a client (or an attacker) sends."""

import csv
import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework_simplejwt.tokens import AccessToken

from records.models import Status, TestRecord, WeChatAccount
from records.parsers import MAX_JSON_DEPTH, json_depth_exceeds
from tests.factories import TestRecordFactory
from tests.processes import fresh_database, kill, start_server

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
V1_START = {"brand": "华夏良子", "platforms": ["demo"], "questions": ["北京推拿哪家好？"]}
LEGACY_START = {"brand_list": ["华夏良子"], "selectedModels": ["demo"]}
DEEP = "[" * 10_000 + "]" * 10_000
JSON_WRITES = (
    "/api/v1/executions/",
    "/api/perform-brand-test",
    "/api/login",
    "/api/refresh-token",
    "/api/validate-token",
)


def post(client, path: str, body, **headers):
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, raw, content_type="application/json", **headers)


@pytest.fixture
def rates(settings):
    def set_rates(**rates) -> None:
        settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
            "DEFAULT_THROTTLE_RATES": {"start_caller": None, "start_ip": None, "login": None}
            | rates
        }

    return set_rates


# --- 1. JSON nested 10,000 deep ------------------------------------------------------------


@pytest.mark.parametrize("path", JSON_WRITES)
def test_json_nested_10000_deep_is_a_400_on_every_json_write(client, path):
    response = post(client, path, DEEP)
    assert response.status_code == 400
    assert "nested deeper than" in response.json()["error"]


def test_json_depth_scan_counts_brackets_outside_strings_only():
    assert not json_depth_exceeds(b'{"a": "' + b"[" * 100 + b'"}')
    assert not json_depth_exceeds(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert json_depth_exceeds(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert not json_depth_exceeds(b'["\\"[[[[", ' + b"[]," * 100 + b"1]")


# --- 2. A lone surrogate in a token ----------------------------------------------------------


def test_a_lone_surrogate_token_is_a_4xx_not_a_500(client):
    response = post(client, "/api/validate-token", '{"token":"\\ud800"}')
    assert response.status_code == 400
    assert response.json()["status"] == "error"


def test_token_user_answers_none_for_a_non_ascii_token():
    from records.legacy.auth import token_user

    assert token_user("\ud800") is None
    assert token_user("ey\u00e9.x.y") is None


# --- 3. Date filters whose UTC instant does not exist --------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "created_after=0001-01-01T00:00:00%2B14:00",
        "created_after=9999-12-31T23:59:59-01:00",
        "created_before=0001-01-01T00:00:00%2B01:00",
    ],
)
def test_history_dates_outside_utc_range_are_a_400_naming_the_field(user_client, query):
    response = user_client.get(f"/api/v1/executions/?{query}")
    assert response.status_code == 400
    field = query.partition("=")[0]
    assert response.json()["fields"][field]


def test_history_dates_with_an_offset_beyond_postgresqls_range_filter(user_client, user):
    """Python allows offsets to ±23:59, PostgreSQL to ±15:59 (found by Schemathesis)."""
    TestRecordFactory(owner=user)
    response = user_client.get("/api/v1/executions/?created_before=0252-03-17T13:06:15%2B23:59")
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_history_dates_at_the_edge_of_the_range_still_filter(user_client, user):
    TestRecordFactory(owner=user)
    response = user_client.get("/api/v1/executions/?created_after=0001-01-01T00:00:00Z")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_history_brand_with_a_nul_byte_is_a_400(user_client):
    response = user_client.get("/api/v1/executions/?brand=%00")
    assert response.status_code == 400
    assert "brand" in response.json()["fields"]


# --- 4. Whatever WeChat answers --------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        {"errcode": [1, 2]},
        {"errcode": {"a": 1}},
        {"errcode": "40029"},
        {"openid": ["o_x"]},
        {"openid": "o x\u0000"},
        {"openid": "o_" + "x" * 70},
    ],
)
def test_a_malformed_wechat_answer_is_a_502_not_a_500(client, wechat, answer):
    wechat.override = answer
    response = post(client, "/api/login", {"code": "alice"})
    assert response.status_code == 502
    assert response.json()["status"] == "error"
    assert not WeChatAccount.objects.exists()


@pytest.mark.parametrize("unionid", ["u" * 65, ["u"], "union\u0000id", 12])
def test_a_unionid_we_cannot_store_is_dropped_and_the_login_succeeds(client, wechat, unionid):
    wechat.override = {"openid": "o_alice", "session_key": "k", "unionid": unionid}
    response = post(client, "/api/login", {"code": "alice"})
    assert response.status_code == 200
    assert WeChatAccount.objects.get(openid="o_alice").unionid == ""


# --- 5. Admin changelist filters with a NUL byte ---------------------------------------------


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize("query", ["status=%00", "source=%00", "platform=%00", "q=%00"])
def test_admin_filters_with_a_nul_byte_are_the_invalid_filter_page(staff_client, query):
    TestRecordFactory()
    response = staff_client.get(f"/admin/records/testrecord/?{query}")
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
    assert staff_client.get(response["Location"]).status_code == 200


# --- 6. JSON 404 / 413 on API paths ----------------------------------------------------------


@pytest.mark.parametrize(
    "path, shape",
    [
        ("/api/v1/executions//", "v1"),
        ("/api/v1/executionz/", "v1"),
        ("/api/v1/executions/x/nope/", "v1"),
        ("/api/diagnosis/report/", "legacy"),
        ("/test/status/", "legacy"),
        ("/api/nope", "legacy"),
    ],
)
def test_an_api_path_without_a_route_is_a_json_404(client, path, shape):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    if shape == "v1":
        assert body["code"] == "not_found"
    else:
        assert body["status"] == "error" and body["code"] == 404


@pytest.mark.parametrize("path", ["/api/v1/executions/", "/api/perform-brand-test"])
def test_a_body_over_the_size_limit_is_a_json_413(client, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, path, {"brand": "x" * 2000, "platforms": ["demo"]})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "larger than" in response.json()["error"]


def test_non_api_paths_keep_the_html_404(client):
    response = client.get("/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- 7. Limits that hold across processes ----------------------------------------------------


def test_the_start_limit_does_not_live_in_a_process_cache(client, rates):
    """A second web process has its own cache: clearing it between starts is what a request
    landing on another process sees. The count must still hold."""
    rates(start_caller="3/hour")
    codes = []
    for n in range(6):
        cache.clear()
        body = V1_START | {"questions": [f"推拿哪家好 {n}？"]}
        codes.append(post(client, "/api/v1/executions/", body, HTTP_X_DEVICE_ID="d").status_code)
    assert codes == [202, 202, 202, 429, 429, 429]


def test_the_login_limit_does_not_live_in_a_process_cache(client, wechat, rates):
    rates(login="2/minute")
    codes = []
    for n in range(4):
        cache.clear()
        codes.append(post(client, "/api/login", {"code": f"user{n}"}).status_code)
    assert codes == [200, 200, 429, 429]


def test_a_start_refused_by_the_device_limit_leaves_the_address_budget(client, rates):
    rates(start_caller="1/hour", start_ip="3/hour")
    body = dict(V1_START)
    assert post(client, "/api/v1/executions/", body, HTTP_X_DEVICE_ID="a").status_code == 202
    for n in range(5):  # refused by the device limit: none of these uses the address budget
        body = V1_START | {"questions": [f"问题 {n}？"]}
        assert post(client, "/api/v1/executions/", body, HTTP_X_DEVICE_ID="a").status_code == 429
    codes = [
        post(client, "/api/v1/executions/", V1_START, HTTP_X_DEVICE_ID=f"b{n}").status_code
        for n in range(3)
    ]
    assert codes == [202, 202, 429]


def _request(base: str, path: str, body: dict, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
def test_limits_hold_exactly_across_two_web_processes(tmp_path):
    """Two real server processes on one database, starts alternating between them."""
    with fresh_database(tmp_path) as env:
        env |= {
            "BRANDTEST_START_RATE": "4/hour",
            "BRANDTEST_START_IP_RATE": "7/hour",
            "TASK_BACKEND": "db",
        }
        servers = [start_server(env, tmp_path / f"server{i}.log") for i in range(2)]
        try:
            bases = [base for _, base in servers]
            device = [
                _request(
                    bases[n % 2],
                    "/api/v1/executions/",
                    V1_START | {"questions": [f"问题 {n}？"]},
                    {"X-Device-ID": "one-phone"},
                )
                for n in range(10)
            ]
            rotating = [
                _request(
                    bases[n % 2],
                    "/api/perform-brand-test",
                    LEGACY_START | {"customQuestions": [f"问题 {n}？"]},
                    {"X-Device-ID": f"phone-{n}"},
                )
                for n in range(10)
            ]
        finally:
            for process, _ in servers:
                kill(process)
    assert device.count(202) == 4 and device.count(429) == 6
    # The address allows 7: 4 used above, so 3 of the rotating devices' starts get through.
    assert rotating.count(200) == 3 and rotating.count(429) == 7


# --- 8. Retry: limited and idempotent --------------------------------------------------------


def test_fifty_retries_of_one_run_create_one_attempt(client, rates):
    rates(start_caller=None, start_ip=None)
    record = TestRecordFactory(status=Status.CANCELLED, stage="failed", progress=0)
    ids = set()
    for _ in range(50):
        response = client.post(f"/api/v1/executions/{record.execution_id}/retry/")
        assert response.status_code == 202
        ids.add(response.json()["execution_id"])
    assert len(ids) == 1
    assert TestRecord.objects.filter(retry_of=record).count() == 1


def test_a_retry_counts_against_the_start_limit(client, rates):
    rates(start_caller="2/hour")
    record = TestRecordFactory(status=Status.CANCELLED, stage="failed")
    url = f"/api/v1/executions/{record.execution_id}/retry/"
    assert post(client, "/api/v1/executions/", V1_START).status_code == 202
    assert client.post(url).status_code == 202
    assert client.post(url).status_code == 429


def test_a_retry_after_the_attempt_ended_and_the_window_passed_creates_a_new_one(client, rates):
    rates(start_caller=None, start_ip=None)
    record = TestRecordFactory(status=Status.CANCELLED, stage="failed")
    url = f"/api/v1/executions/{record.execution_id}/retry/"
    first = client.post(url).json()["execution_id"]
    TestRecord.objects.filter(execution_id=first).update(
        status=Status.FAILED,
        stage="failed",
        progress=100,
        created_at=TestRecord.objects.get(execution_id=first).created_at - timedelta(minutes=5),
    )
    second = client.post(url).json()["execution_id"]
    assert second != first


def test_a_retry_idempotency_key_returns_the_attempt_and_conflicts_on_another_run(client, rates):
    rates(start_caller=None, start_ip=None)
    one = TestRecordFactory(status=Status.CANCELLED, stage="failed")
    two = TestRecordFactory(status=Status.CANCELLED, stage="failed")
    key = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}
    first = client.post(f"/api/v1/executions/{one.execution_id}/retry/", **key)
    again = client.post(f"/api/v1/executions/{one.execution_id}/retry/", **key)
    assert first.status_code == again.status_code == 202
    assert first.json()["execution_id"] == again.json()["execution_id"]
    other = client.post(f"/api/v1/executions/{two.execution_id}/retry/", **key)
    assert other.status_code == 422
    assert str(one.execution_id) not in other.content.decode()


# --- 9. Idempotency-Key bound to its request -------------------------------------------------


def test_an_idempotency_key_with_another_body_is_a_422_that_reveals_nothing(client):
    victim = {"HTTP_X_DEVICE_ID": "victim-device-43", "HTTP_IDEMPOTENCY_KEY": "order-1"}
    secret = V1_START | {"brand": "受害者品牌", "questions": ["受害者的秘密问题？"]}
    first = post(client, "/api/v1/executions/", secret, **victim)
    assert first.status_code == 202
    attack = post(client, "/api/v1/executions/", V1_START, **victim)
    assert attack.status_code == 422
    body = attack.content.decode()
    assert attack.json()["code"] == "idempotency_conflict"
    assert "Idempotency-Key" in attack.json()["fields"]
    for leaked in (first.json()["execution_id"], "受害者品牌", "受害者的秘密问题"):
        assert leaked not in body
    assert TestRecord.objects.count() == 1


def test_the_legacy_start_conflict_is_a_422_in_the_legacy_shape(client):
    key = {"HTTP_IDEMPOTENCY_KEY": "order-7", "HTTP_X_DEVICE_ID": "p"}
    assert post(client, "/api/perform-brand-test", LEGACY_START, **key).status_code == 200
    other = LEGACY_START | {"brand_list": ["别的品牌"]}
    response = post(client, "/api/perform-brand-test", other, **key)
    assert response.status_code == 422
    assert response.json()["status"] == "error" and response.json()["code"] == 422


def test_an_anonymous_resend_with_only_an_idempotency_key_is_the_same_execution(client):
    key = {"HTTP_IDEMPOTENCY_KEY": "readme-example-1"}
    first = post(client, "/api/v1/executions/", V1_START, **key)
    again = post(client, "/api/v1/executions/", V1_START, **key)
    assert first.status_code == again.status_code == 202
    assert first.json()["execution_id"] == again.json()["execution_id"]
    assert TestRecord.objects.count() == 1
    # Another client address is another caller: its key names its own run.
    elsewhere = post(client, "/api/v1/executions/", V1_START, REMOTE_ADDR="10.0.0.9", **key)
    assert elsewhere.json()["execution_id"] != first.json()["execution_id"]


def test_anonymous_identical_starts_without_a_key_from_one_address_stay_apart(client):
    """An address alone is no caller for the body window (people share NATs)."""
    first = post(client, "/api/v1/executions/", V1_START)
    again = post(client, "/api/v1/executions/", V1_START)
    assert first.json()["execution_id"] != again.json()["execution_id"]


# --- 10. CSV export neutralises formulas -----------------------------------------------------


def test_csv_export_neutralises_spreadsheet_formulas(staff_client):
    record = TestRecordFactory(
        brand_name='=HYPERLINK("http://evil.example","x")',
        competitor_brands=["=2+2", "良子"],
        error_type="@SUM(1)",
    )
    TestRecordFactory(brand_name="-1+2", competitor_brands=["+3", "\tx", "\rY"])
    response = staff_client.post(
        "/admin/records/testrecord/",
        {
            "action": "export_csv",
            "_selected_action": list(TestRecord.objects.values_list("pk", flat=True)),
        },
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert """'=HYPERLINK("http://evil.example","x")""" in cells
    assert "'=2+2、良子" in cells and "'@SUM(1)" in cells and "'-1+2" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert str(record.execution_id) in cells


# --- Smaller defects -------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(client, user, scheme):
    TestRecordFactory(owner=user)
    auth = {"HTTP_AUTHORIZATION": f"{scheme} {AccessToken.for_user(user)}"}
    assert client.get("/api/v1/executions/", **auth).json()["count"] == 1
    response = post(client, "/api/perform-brand-test", LEGACY_START, **auth)
    started = TestRecord.objects.get(execution_id=response.json()["execution_id"])
    assert started.owner == user


@pytest.mark.parametrize("name", ["demo\u0000", "demo\u0001", "de\u007fmo", "de\nmo"])
def test_platform_names_with_control_characters_are_rejected(client, name):
    legacy = post(client, "/api/perform-brand-test", LEGACY_START | {"selectedModels": [name]})
    assert legacy.status_code == 400
    assert "selectedModels" in legacy.json()["fields"]
    v1 = post(client, "/api/v1/executions/", V1_START | {"platforms": [name]})
    assert v1.status_code == 400
    assert "platforms" in v1.json()["fields"]
    assert not TestRecord.objects.exists()


def test_get_root_says_where_things_are(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.json()["docs"] == "/api/docs/"
    assert client.get(response.json()["api"]).status_code == 200


def test_html_pages_send_a_content_security_policy(client, staff_user):
    client.force_login(staff_user)
    for path in ("/admin/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == 200
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    # The docs page's start-up script is served from the docs URL, not inline.
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page.replace(" ", "")


PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefgh",
    "DJANGO_ALLOWED_HOSTS": "brand.example.com",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DJANGO_SECURE_COOKIES": "1",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "DJANGO_SECURE_HSTS_PRELOAD": "1",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    # Alert and digest e-mails go out by SMTP (the console backend is development-only).
    "DJANGO_EMAIL_HOST": "smtp.example.com",
    "BRANDTEST_PUBLIC_URL": "https://brand.example.com",
}


def test_check_deploy_is_clean_with_the_documented_production_environment():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env | PRODUCTION_ENV,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_readme_documents_the_production_environment():
    readme = (ROOT / "README.md").read_text()
    for name in PRODUCTION_ENV:
        assert name in readme, name


def test_limits_are_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    create = schema["components"]["schemas"]["ExecutionCreate"]["properties"]
    assert create["brand"]["minLength"] == 1
    assert create["competitors"]["maxItems"] == 10
    assert create["questions"]["maxItems"] == 5
    assert create["repeats"]["maximum"] >= 1
    assert "maxItems" in create["platforms"]
    execution = schema["components"]["schemas"]["Execution"]["properties"]
    assert execution["retry_of"]["nullable"] is True
    responses = schema["paths"]["/api/v1/executions/{execution_id}/"]["get"]["responses"]
    assert "404" in responses
    assert "400" in schema["paths"]["/api/v1/executions/"]["post"]["responses"]
