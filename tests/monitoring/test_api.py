"""The monitors API: create with nested brands and prompts, field errors, ownership, run, runs."""

import pytest
from rest_framework.test import APIClient

from records import monitoring
from records.models import Monitor, Prompt, TestRecord
from tests.monitoring.conftest import definition

pytestmark = pytest.mark.django_db


def test_create_the_issue_example_is_201_with_id_and_next_run(user_client):
    response = user_client.post("/api/v1/monitors/", definition(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    monitor = Monitor.objects.get()
    assert body["id"] == monitor.pk and body["next_run_at"].endswith(":00:00Z")
    assert body["brands"] == [
        {
            "name": "华夏良子",
            "is_main": True,
            "aliases": ["华夏良子推拿"],
            "domains": ["example.com"],
        },
        {"name": "通透堂", "is_main": False, "aliases": [], "domains": []},
    ]
    assert [p["text"] for p in body["prompts"]] == ["北京中医推拿哪家好？"]
    assert body["prompts"][0]["branded"] is False
    assert body["estimated_spend_this_month"]["runs"] == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"schedule": "every day"}, "schedule"),
        ({"schedule": "61 * * * *"}, "schedule"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"platforms": ["nosuch"]}, "platforms"),
        ({"brands": [{"name": "A"}, {"name": "B"}]}, "brands"),
        ({"brands": [{"name": "A", "is_main": True}, {"name": "B", "is_main": True}]}, "brands"),
        ({"prompts": []}, "prompts"),
        ({"monthly_call_budget": 1, "repeats": 2}, "monthly_call_budget"),
        ({"repeats": 0}, "repeats"),
    ],
)
def test_bad_field_is_400_naming_it(user_client, overrides, field):
    response = user_client.post("/api/v1/monitors/", definition(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert Monitor.objects.count() == 0


def test_anonymous_caller_cannot_create_or_list(api_client):
    response = api_client.post("/api/v1/monitors/", definition(), format="json")
    assert response.status_code in (401, 403)
    assert "error" in response.json() or "detail" in response.json()
    assert api_client.get("/api/v1/monitors/").status_code in (401, 403)
    assert Monitor.objects.count() == 0


def test_another_users_monitor_run_and_executions_are_404(make_monitor, other_user, user_client):
    theirs = make_monitor(owner=other_user)
    for method, path in [
        ("get", f"/api/v1/monitors/{theirs.pk}/"),
        ("patch", f"/api/v1/monitors/{theirs.pk}/"),
        ("delete", f"/api/v1/monitors/{theirs.pk}/"),
        ("post", f"/api/v1/monitors/{theirs.pk}/run/"),
        ("get", f"/api/v1/monitors/{theirs.pk}/executions/"),
    ]:
        assert getattr(user_client, method)(path, {}, format="json").status_code == 404, path
    assert user_client.get("/api/v1/monitors/").json()["results"] == []
    assert TestRecord.objects.count() == 0


def test_staff_see_every_monitor(make_monitor, other_user, staff_user):
    make_monitor(owner=other_user)
    client = APIClient()
    client.force_authenticate(staff_user)
    assert len(client.get("/api/v1/monitors/").json()["results"]) == 1


def test_run_now_is_202_with_the_execution_body_and_listed_in_its_executions(
    make_monitor, user, user_client
):
    monitor = make_monitor(owner=user)
    response = user_client.post(f"/api/v1/monitors/{monitor.pk}/run/")
    assert response.status_code == 202
    record = TestRecord.objects.get()
    assert record.monitor == monitor and record.scheduled_for is None
    from records.api.serializers import ExecutionSerializer

    assert response.json() == ExecutionSerializer(record).data
    runs = user_client.get(f"/api/v1/monitors/{monitor.pk}/executions/").json()
    assert runs["count"] == 1 and runs["results"][0]["execution_id"] == str(record.execution_id)


def test_run_now_counts_against_the_start_limits(make_monitor, user, user_client, settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        | {"start_caller": "1/hour"}
    }
    monitor = make_monitor(owner=user)
    assert user_client.post(f"/api/v1/monitors/{monitor.pk}/run/").status_code == 202
    assert user_client.post(f"/api/v1/monitors/{monitor.pk}/run/").status_code == 429
    # Creating monitors is not a start.
    assert (
        user_client.post("/api/v1/monitors/", definition(name="x"), format="json").status_code
        == 201
    )


def test_update_retires_changed_prompts_and_adds_new_ones(make_monitor, user, user_client):
    monitor = make_monitor(
        owner=user, prompts=[{"text": "北京中医推拿哪家好？"}, {"text": "推拿推荐"}]
    )
    kept = monitor.prompts.get(text="推拿推荐")
    response = user_client.patch(
        f"/api/v1/monitors/{monitor.pk}/",
        {"prompts": [{"text": "推拿推荐"}, {"text": "华夏良子怎么样？", "tags": ["品牌"]}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    current = {p.text: p for p in Prompt.objects.filter(monitor=monitor).current()}
    assert set(current) == {"推拿推荐", "华夏良子怎么样？"}
    assert current["推拿推荐"].pk == kept.pk  # unchanged: kept, not re-created
    assert current["华夏良子怎么样？"].branded is True  # names the main brand
    retired = Prompt.objects.get(monitor=monitor, text="北京中医推拿哪家好？")
    assert retired.retired_at is not None


def test_budget_skip_reason_is_visible_in_the_api(make_monitor, user, user_client):
    monitor = make_monitor(owner=user, monthly_call_budget=1)
    first = monitor.next_run_at
    monitoring.tick(now=first)
    monitoring.tick(now=first.replace(day=first.day + 1))
    body = user_client.get(f"/api/v1/monitors/{monitor.pk}/").json()
    assert body["last_skip_reason"] == (
        "budget: this run needs 1 calls; 1 of the 1 allowed this month are already used"
    )
    assert body["last_skipped_at"] is not None
