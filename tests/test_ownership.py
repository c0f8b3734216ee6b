"""Who sees which run: a user's runs are theirs (and staff's) on every path, v1 and legacy;
anonymous runs are readable by execution id; histories list the caller's own runs only."""

import pytest
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from records.models import WeChatAccount
from tests.factories import TestRecordFactory

pytestmark = pytest.mark.django_db

# Every path that reads or acts on one run by id.
BY_ID = [
    ("get", "/api/v1/executions/{id}/"),
    ("get", "/api/v1/executions/{id}/status/"),
    ("get", "/api/v1/executions/{id}/results/"),
    ("get", "/api/v1/executions/{id}/answers/"),
    ("post", "/api/v1/executions/{id}/cancel/"),
    ("post", "/api/v1/executions/{id}/retry/"),
    ("get", "/test/status/{id}"),
    ("get", "/api/test-progress?executionId={id}"),
    ("get", "/api/diagnosis/report/{id}"),
]


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {AccessToken.for_user(user)}"} if user else {}


def call(client, method: str, path: str, record, user=None):
    url = path.format(id=record.execution_id)
    return getattr(client, method)(url, **bearer(user))


@pytest.mark.parametrize(("method", "path"), BY_ID)
def test_another_users_run_is_404_on_every_path(client, user, other_user, method, path):
    record = TestRecordFactory(owner=user, status="failed", stage="failed", progress=100)
    assert call(client, method, path, record, other_user).status_code == 404
    assert call(client, method, path, record).status_code == 404
    record.refresh_from_db()
    assert record.status == "failed" and not record.retries.exists()
    # The owner gets an answer (a failed run cannot be cancelled: 409).
    assert call(client, method, path, record, user).status_code in (200, 202, 409)


@pytest.mark.parametrize("path", [path for method, path in BY_ID if method == "get"])
def test_staff_and_anyone_with_the_id_of_an_anonymous_run_can_read_it(
    client, staff_user, user, path
):
    owned = TestRecordFactory(owner=user)
    anonymous = TestRecordFactory(owner=None)
    assert call(client, "get", path, owned, staff_user).status_code == 200
    assert call(client, "get", path, anonymous).status_code == 200
    assert call(client, "get", path, anonymous, user).status_code == 200


def test_anonymous_history_is_empty_on_v1_and_legacy(client, user):
    TestRecordFactory(owner=None)
    TestRecordFactory(owner=user)
    v1 = client.get("/api/v1/executions/").json()
    assert (v1["count"], v1["results"]) == (0, [])
    legacy = client.get("/api/diagnosis/history").json()
    assert legacy == {
        "reports": [],
        "pagination": {"page": 1, "limit": 20, "total": 0, "has_more": False},
    }


@pytest.mark.parametrize(
    "query",
    [
        "owner={other}",
        "owner_id={other}",
        "owner__id={other}",
        "user={other}",
        "user_id={other}",
        "owner__username={other_name}",
        "brand=华夏良子",
        "status=completed",
        "page_size=100",
    ],
)
def test_no_filter_shows_another_users_runs(client, user, other_user, query):
    mine = TestRecordFactory(owner=user, status="completed", stage="completed", progress=100)
    TestRecordFactory(owner=other_user, status="completed", stage="completed", progress=100)
    TestRecordFactory(owner=None, status="completed", stage="completed", progress=100)
    query = query.format(other=other_user.pk, other_name=other_user.username)
    v1 = client.get(f"/api/v1/executions/?{query}", **bearer(user)).json()["results"]
    assert [run["execution_id"] for run in v1] == [str(mine.execution_id)]
    legacy = client.get(f"/api/diagnosis/history?{query}", **bearer(user)).json()["reports"]
    assert [run["execution_id"] for run in legacy] == [str(mine.execution_id)]


def test_the_openid_header_does_not_choose_whose_history_is_shown(client, user):
    TestRecordFactory(owner=user)
    WeChatAccount.objects.create(user=user, openid="o_victim")
    response = client.get("/api/diagnosis/history", HTTP_X_USER_OPENID="o_victim")
    assert response.json()["reports"] == []


def test_staff_see_every_run_in_the_admin(client, staff_user, user, other_user):
    runs = [TestRecordFactory(owner=owner) for owner in (user, other_user, None)]
    client.force_login(staff_user)
    html = client.get(reverse("admin:records_testrecord_changelist")).content.decode()
    for run in runs:
        assert reverse("admin:records_testrecord_change", args=[run.pk]) in html
    assert user.username in html and other_user.username in html
    detail = client.get(reverse("admin:records_testrecord_change", args=[runs[1].pk]))
    assert detail.status_code == 200


def test_users_cannot_open_the_admin(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:records_testrecord_changelist"))
    assert response.status_code == 302
