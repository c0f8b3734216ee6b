"""WeChat login against a real local fake jscode2session, token refresh and validation, and
Bearer tokens on the v1 and legacy paths."""

import json
import logging
import socket
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from records.models import TestRecord, WeChatAccount
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

START = {"brand_list": ["华夏良子", "良子健身"], "selectedModels": ["demo"]}


def post(client, path: str, body, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def login(client, code: str = "alice") -> dict:
    response = post(client, "/api/login", {"code": code})
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def user_of(access_token: str):
    return get_user_model().objects.get(pk=AccessToken(access_token)["user_id"])


def expired_token(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-1))
    return str(token)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- POST /api/login -------------------------------------------------------------------------


def test_first_login_creates_a_user_without_a_usable_password(client, wechat):
    body = login(client, "alice:1")
    assert body == {
        "status": "success",
        "token": body["token"],
        "refresh_token": body["refresh_token"],
        "data": {"openid": "o_alice"},
    }
    account = WeChatAccount.objects.select_related("user").get()
    assert (account.openid, account.unionid, account.user.username) == ("o_alice", "", "wx_o_alice")
    assert not account.user.has_usable_password()
    assert account.last_login_at is not None
    assert user_of(body["token"]) == account.user
    assert RefreshToken(body["refresh_token"])["user_id"] == str(account.user.pk)
    assert wechat.queries == [
        {
            "appid": "wx-test-app",
            "secret": "wechat-app-secret-123",
            "js_code": "alice:1",
            "grant_type": "authorization_code",
        }
    ]


def test_a_second_login_of_the_same_openid_is_the_same_user(client, wechat):
    first = login(client, "alice:1")
    second = login(client, "alice:2")
    assert user_of(first["token"]) == user_of(second["token"])
    assert WeChatAccount.objects.count() == 1
    assert login(client, "bob")["data"] == {"openid": "o_bob"}
    assert WeChatAccount.objects.count() == 2


def test_login_keeps_the_unionid(client, wechat):
    login(client, "uma")
    assert WeChatAccount.objects.get().unionid == "union_uma"


def test_session_key_and_app_secret_are_never_returned_stored_or_logged(client, wechat, caplog):
    caplog.set_level(logging.DEBUG)
    response = post(client, "/api/login", {"code": "alice:k1"})
    assert response.status_code == 200
    post(client, "/api/login", {"code": "err40029"})
    post(client, "/api/login", {"code": "notjson"})
    session_key = "SK-alice:k1"
    stored = json.dumps(
        [list(WeChatAccount.objects.values()), list(get_user_model().objects.values())],
        default=str,
    )
    for secret in (session_key, "wechat-app-secret-123"):
        assert secret not in response.content.decode()
        assert secret not in stored
        assert secret not in caplog.text
    assert "errcode=40029" in caplog.text  # the failure itself is logged


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("err40029", 400, "WeChat rejected the login code (errcode 40029); log in again."),
        ("err40163", 400, "WeChat rejected the login code (errcode 40163); log in again."),
        ("err-1", 502, "The WeChat login service refused the request (errcode -1)."),
        ("err45011", 502, "The WeChat login service refused the request (errcode 45011)."),
    ],
)
def test_a_wechat_errcode_is_a_clear_error_not_a_500(client, wechat, code, status, error):
    response = post(client, "/api/login", {"code": code})
    assert response.status_code == status
    assert response.json() == {
        "status": "error",
        "error": error,
        "code": status,
        "wechat_errcode": int(code[3:]),
    }
    assert WeChatAccount.objects.count() == 0


def test_a_wrong_app_secret_is_502(client, wechat, settings):
    settings.WECHAT_APP_SECRET = "wrong"
    response = post(client, "/api/login", {"code": "alice"})
    assert response.status_code == 502
    assert response.json()["wechat_errcode"] == 40125


def test_an_answer_that_is_not_json_is_502(client, wechat):
    response = post(client, "/api/login", {"code": "notjson"})
    assert response.status_code == 502
    assert response.json() == {
        "status": "error",
        "error": "The WeChat login service answered unexpectedly.",
        "code": 502,
    }


UNREACHABLE = {
    "status": "error",
    "error": "The WeChat login service could not be reached; try again.",
    "code": 502,
}


def test_wechat_unreachable_is_502(client, settings):
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx-test-app", "secret"
    settings.WECHAT_API_BASE = f"http://127.0.0.1:{free_port()}"
    response = post(client, "/api/login", {"code": "alice"})
    assert response.status_code == 502
    assert response.json() == UNREACHABLE


def test_wechat_too_slow_is_502(client, wechat, settings):
    settings.WECHAT_TIMEOUT = 0.2
    response = post(client, "/api/login", {"code": "slow1:alice"})
    assert response.status_code == 502
    assert response.json() == UNREACHABLE


def test_login_when_wechat_is_not_configured_is_503(client, settings):
    settings.WECHAT_APP_ID = ""
    response = post(client, "/api/login", {"code": "alice"})
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "error": "WeChat login is not configured on this server.",
        "code": 503,
    }


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": None}, ["alice"]])
def test_login_without_a_code_is_400(client, wechat, body):
    response = post(client, "/api/login", body)
    assert response.status_code == 400
    assert response.json()["status"] == "error" and response.json()["code"] == 400
    assert wechat.queries == []


def test_logins_over_the_rate_are_429_in_the_legacy_shape(client, settings, wechat):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        | {"login": "2/minute"}
    }
    codes = [
        client.post(
            "/api/login", json.dumps({"code": f"alice:{n}"}), content_type="application/json"
        ).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]
    response = client.post(
        "/api/login", json.dumps({"code": "alice"}), content_type="application/json"
    )
    assert response.json() == {"status": "error", "error": "Rate limit exceeded", "code": 429}
    assert len(wechat.queries) == 2


# --- POST /api/refresh-token and /api/validate-token -----------------------------------------


def test_refresh_rotates_the_tokens_and_spends_the_old_refresh_token(client, wechat):
    tokens = login(client)
    response = post(client, "/api/refresh-token", {"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200
    fresh = response.json()
    assert fresh == {
        "status": "success",
        "token": fresh["token"],
        "refresh_token": fresh["refresh_token"],
    }
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert user_of(fresh["token"]) == user_of(tokens["token"])
    # The old refresh token is spent; the new one works.
    again = post(client, "/api/refresh-token", {"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 400
    assert again.json() == {
        "status": "error",
        "error": "The refresh token is invalid or expired; log in again.",
        "code": 400,
    }
    newer = post(client, "/api/refresh-token", {"refresh_token": fresh["refresh_token"]})
    assert newer.status_code == 200


def test_refresh_with_a_bad_token_is_400_never_401_or_500(client, user):
    access = str(AccessToken.for_user(user))
    orphan = RefreshToken.for_user(UserFactory())
    get_user_model().objects.filter(pk=orphan["user_id"]).delete()
    for token in ("bogus", access, str(orphan)):
        response = post(client, "/api/refresh-token", {"refresh_token": token})
        assert response.status_code == 400, token
    response = post(client, "/api/refresh-token", {})
    assert response.status_code == 400
    assert response.json()["fields"] == {"refresh_token": ["This field is required."]}


def test_validate_tells_a_valid_access_token_from_anything_else(client, user):
    valid = str(AccessToken.for_user(user))
    assert post(client, "/api/validate-token", {"token": valid}).json() == {"status": "valid"}
    inactive = UserFactory(is_active=False)
    for body in (
        {"token": "bogus"},
        {"token": expired_token(user)},
        {"token": str(RefreshToken.for_user(user))},
        {"token": str(AccessToken.for_user(inactive))},
        {"token": 42},
        {},
    ):
        response = post(client, "/api/validate-token", body)
        assert (response.status_code, response.json()) == (200, {"status": "invalid"}), body


# --- Bearer tokens on v1 and legacy paths ----------------------------------------------------


def test_a_v1_run_started_with_a_token_belongs_to_its_user(client, wechat):
    token = login(client)["token"]
    v1_start = {"brand": "华夏良子", "platforms": ["demo"]}
    response = post(client, "/api/v1/executions/", v1_start, **bearer(token))
    assert response.status_code == 202
    execution_id = response.json()["execution_id"]
    assert TestRecord.objects.get(execution_id=execution_id).owner == user_of(token)
    mine = client.get("/api/v1/executions/", **bearer(token)).json()["results"]
    assert [run["execution_id"] for run in mine] == [execution_id]
    legacy = client.get("/api/diagnosis/history", **bearer(token)).json()["reports"]
    assert [run["execution_id"] for run in legacy] == [execution_id]
    assert client.get("/api/v1/executions/").json()["results"] == []


def test_a_legacy_run_started_with_a_token_shows_in_its_users_history(client, wechat):
    token = login(client)["token"]
    execution_id = post(client, "/api/perform-brand-test", START, **bearer(token)).json()[
        "execution_id"
    ]
    assert TestRecord.objects.get(execution_id=execution_id).owner == user_of(token)
    history = client.get("/api/diagnosis/history?page=1&limit=20", **bearer(token)).json()
    assert [run["execution_id"] for run in history["reports"]] == [execution_id]
    assert history["pagination"]["total"] == 1
    assert client.get("/api/diagnosis/history").json()["reports"] == []
    # Only its owner can poll it.
    assert client.get(f"/test/status/{execution_id}", **bearer(token)).status_code == 200
    assert client.get(f"/test/status/{execution_id}").status_code == 404
    other = login(client, "bob")["token"]
    assert client.get(f"/test/status/{execution_id}", **bearer(other)).status_code == 404


def test_an_expired_or_bogus_token_on_the_legacy_poll_reads_as_anonymous(client, user):
    anonymous_run = post(client, "/api/perform-brand-test", START).json()["execution_id"]
    owned_run = post(
        client, "/api/perform-brand-test", START, **bearer(str(AccessToken.for_user(user)))
    ).json()["execution_id"]
    for token in (expired_token(user), "bogus", ""):
        response = client.get(f"/test/status/{anonymous_run}", **bearer(token))
        assert response.status_code == 200
        response = client.get(f"/test/status/{owned_run}", **bearer(token))
        assert response.status_code == 404
        assert response.json() == {"error": "Task not found", "task_id": owned_run}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/test", None),
        ("post", "/api/perform-brand-test", START),
        ("get", "/test/status/{id}", None),
        ("get", "/api/test-progress?executionId={id}", None),
        ("get", "/api/diagnosis/report/{id}", None),
        ("get", "/api/diagnosis/history", None),
        ("post", "/api/refresh-token", {"refresh_token": "bogus"}),
        ("post", "/api/validate-token", {"token": "bogus"}),
        ("post", "/api/login", {"code": "alice"}),
    ],
)
def test_no_legacy_path_answers_401_to_a_bad_token(client, user, wechat, method, path, body):
    execution_id = post(client, "/api/perform-brand-test", START).json()["execution_id"]
    url = path.format(id=execution_id)
    for token in (expired_token(user), "bogus"):
        if method == "get":
            response = client.get(url, **bearer(token))
        else:
            response = post(client, url, body, **bearer(token))
        assert response.status_code != 401
        assert response.status_code < 500


def test_v1_answers_401_to_a_bad_token(client, user):
    response = client.get("/api/v1/executions/", **bearer(expired_token(user)))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "error": "Given token not valid for any token type",
        "code": "token_not_valid",
    }
