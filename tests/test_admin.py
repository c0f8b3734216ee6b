"""Staff operate executions in the admin."""

import pytest
from django.urls import reverse

from records.models import TestRecord
from tests.factories import AnswerFactory, TestRecordFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:records_testrecord_changelist")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_changelist_shows_executions_with_progress(staff_client, user):
    TestRecordFactory(owner=user, status="running", stage="ai_fetching", progress=42)
    response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<progress value="42" max="100"' in html
    assert "华夏良子" in html and user.username in html


def test_changelist_query_count_does_not_grow_with_rows(
    staff_client, django_assert_max_num_queries
):
    for _ in range(30):
        TestRecordFactory()
    with django_assert_max_num_queries(12):
        assert staff_client.get(CHANGELIST).status_code == 200


def test_search_by_execution_id_finds_exactly_that_run(staff_client):
    wanted = TestRecordFactory(brand_name="目标品牌")
    TestRecordFactory(brand_name="别的品牌")
    html = staff_client.get(CHANGELIST, {"q": str(wanted.execution_id)}).content.decode()
    assert "目标品牌" in html and "别的品牌" not in html


def test_search_by_brand_and_by_a_malformed_id_do_not_error(staff_client):
    TestRecordFactory(brand_name="目标品牌")
    assert "目标品牌" in staff_client.get(CHANGELIST, {"q": "目标品牌"}).content.decode()
    assert staff_client.get(CHANGELIST, {"q": "not-a-uuid"}).status_code == 200


def test_filters_by_status_stage_and_platform(staff_client):
    TestRecordFactory(
        brand_name="演示品牌", platforms=["demo"], status="failed", stage="failed", progress=100
    )
    TestRecordFactory(brand_name="深度品牌", platforms=["deepseek", "kimi"])
    html = staff_client.get(CHANGELIST, {"platform": "kimi"}).content.decode()
    assert "深度品牌" in html and "演示品牌" not in html
    html = staff_client.get(CHANGELIST, {"status__exact": "failed"}).content.decode()
    assert "演示品牌" in html and "深度品牌" not in html
    assert staff_client.get(CHANGELIST, {"stage__exact": "init"}).status_code == 200


def test_detail_is_read_only_with_answers_and_summary(staff_client):
    record = TestRecordFactory(results_summary={"succeeded": 1, "platforms": {"demo": {}}})
    AnswerFactory(record=record, text="1. 华夏良子 推荐")
    response = staff_client.get(reverse("admin:records_testrecord_change", args=[record.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1. 华夏良子 推荐" in html
    assert "&quot;succeeded&quot;: 1" in html
    assert 'name="_save"' not in html


def test_cancel_action_cancels_active_runs_only(staff_client):
    active = TestRecordFactory()
    done = TestRecordFactory(status="completed", stage="completed", progress=100)
    response = staff_client.post(
        CHANGELIST,
        {"action": "cancel_executions", "_selected_action": [active.pk, done.pk]},
        follow=True,
    )
    assert "Cancelled 1; 1 had already ended." in response.content.decode()
    assert TestRecord.objects.get(pk=active.pk).status == "cancelled"
    assert TestRecord.objects.get(pk=done.pk).status == "completed"


def test_non_staff_cannot_open_the_admin(client, user):
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 302


def test_retry_action_starts_attempts_for_failed_runs(staff_client):
    failed = TestRecordFactory(status="failed", stage="failed", progress=100)
    running = TestRecordFactory(status="running", stage="ai_fetching")
    response = staff_client.post(
        CHANGELIST,
        {"action": "retry_executions", "_selected_action": [failed.pk, running.pk]},
        follow=True,
    )
    assert "Started 1 new attempt(s)" in response.content.decode()
    assert TestRecord.objects.get(retry_of=failed).status == "queued"


def test_export_action_downloads_csv(staff_client):
    record = TestRecordFactory(overall_score=42.5)
    response = staff_client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [record.pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("execution_id,brand,competitors")
    assert lines[1].startswith(f"{record.execution_id},华夏良子,良子健身、足疗大师,demo,queued")
    assert ",42.5," in lines[1]


def test_dashboard_charts_read_stored_values(staff_client):
    from records.models import BrandScore

    record = TestRecordFactory(status="failed", stage="failed", progress=100, error_type="timeout")
    BrandScore.objects.create(
        record=record, brand="华夏良子", platform="demo", is_main_brand=True,
        visibility_score=37.5, scoring_version="vs-1.0",
    )  # fmt: skip
    assert (
        'href="/admin/records/testrecord/dashboard/"'
        in staff_client.get(CHANGELIST).content.decode()
    )
    html = staff_client.get("/admin/records/testrecord/dashboard/").content.decode()
    assert "Executions by status" in html
    assert "<span>demo</span>" in html and "37.5" in html
    assert "<span>timeout</span>" in html
