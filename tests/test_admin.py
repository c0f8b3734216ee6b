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


def test_search_by_the_short_id_the_list_shows_finds_that_run(staff_client):
    wanted = TestRecordFactory(brand_name="目标品牌")
    TestRecordFactory(brand_name="别的品牌")
    short = str(wanted.execution_id)[:8]
    assert f"{short}</a>" in staff_client.get(CHANGELIST).content.decode()
    for term in (short, short.upper(), str(wanted.execution_id)[:13]):
        html = staff_client.get(CHANGELIST, {"q": term}).content.decode()
        assert "目标品牌" in html and "别的品牌" not in html, term


@pytest.mark.parametrize(
    ("status", "label", "colour"),
    [("cancelled", "Cancelled", "#8a8a8a"), ("failed", "Failed", "#ba2121")],
)
def test_ended_runs_show_status_and_answered_share_not_a_full_bar(
    staff_client, status, label, colour
):
    TestRecordFactory(status=status, stage="failed", progress=100, total_tasks=4, completed_tasks=1)
    html = staff_client.get(CHANGELIST).content.decode()
    assert "<progress" not in html and "100%</td>" not in html
    assert f'width:25%;background:{colour}"></span></span> ' in html
    assert f'<span style="color:{colour}">{label}</span> · 1/4' in html


def test_summary_numbers_are_rounded_for_reading(staff_client):
    record = TestRecordFactory(
        status="completed", stage="completed", progress=100,
        results_summary={"mention_rate": 0.8332999999999999, "platforms": {"demo": [0.1 + 0.2]}},
    )  # fmt: skip
    html = staff_client.get(
        reverse("admin:records_testrecord_change", args=[record.pk])
    ).content.decode()
    # Key order is the database's (PostgreSQL's jsonb sorts keys), so no trailing comma here.
    assert "&quot;mention_rate&quot;: 0.8333" in html
    assert "0.30000000000000004" not in html and "0.3\n" in html
    assert "0.8332999999999999" not in html


def test_titles_and_dashboard_use_status_labels(staff_client):
    record = TestRecordFactory(status="partial_completed", stage="completed", progress=100)
    html = staff_client.get(
        reverse("admin:records_testrecord_change", args=[record.pk])
    ).content.decode()
    title = html[html.index("<title>") : html.index("</title>")]
    assert "Partially completed" in title and "partial_completed" not in title
    dashboard = staff_client.get("/admin/records/testrecord/dashboard/").content.decode()
    assert "<span>Partially completed</span>" in dashboard
    assert "<span>partial_completed</span>" not in dashboard


def test_dashboard_window_follows_imported_history(staff_client):
    from django.utils import timezone

    old = timezone.now() - timezone.timedelta(days=200)
    TestRecordFactory(status="completed", stage="completed", progress=100, created_at=old)
    html = staff_client.get("/admin/records/testrecord/dashboard/").content.decode()
    assert "No executions in this window." not in html
    assert "<strong>No executions in the last 30 days</strong>" in html
    assert f"{(old - timezone.timedelta(days=30)):%Y-%m-%d} – {old:%Y-%m-%d}:" in html
    assert "1 execution," in html and "<span>Completed</span>" in html


def test_dashboard_window_is_selectable(staff_client):
    from django.utils import timezone

    TestRecordFactory()
    TestRecordFactory(created_at=timezone.now() - timezone.timedelta(days=100))
    dashboard = "/admin/records/testrecord/dashboard/"
    html = staff_client.get(dashboard).content.decode()
    assert "1 execution," in html and '<a href="?days=365">365 days</a>' in html
    assert "<strong>30 days</strong>" in html and "No executions in the last" not in html
    assert "2 executions," in staff_client.get(dashboard, {"days": "365"}).content.decode()
    html = staff_client.get(dashboard, {"days": "all"}).content.decode()
    assert "All executions up to" in html and "2 executions," in html
    # A window not on offer falls back to the default rather than failing.
    assert "1 execution," in staff_client.get(dashboard, {"days": "-3"}).content.decode()
