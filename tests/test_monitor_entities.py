"""Who a monitor's answers recommend instead, over a range of days: the service, its query plan,
``GET /api/v1/monitors/{id}/entities/`` and the admin panel with "track this competitor".

Answers are analysed by the real analyser (records.reports.Analyser), as a finished run stores
them; the aggregate reads only those stored analyses.
"""

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from records.discovered import entity_answers_query, monitor_entities, monitor_entity_report
from records.models import Answer, AnswerStatus, Monitor, MonitorStatus, TestRecord, TrackedBrand
from records.monitoring.competitors import brand_spelling, track_competitor
from records.reports import Analyser
from tests.factories import UserFactory

MAIN, RIVAL = "华夏良子", "通透堂"
T1 = (
    "北京推拿推荐这几家：\n1. **正安中医**：医师坐诊，系统培训。\n2. **华夏良子**：全国连锁。\n"
    "3. 固生堂中医馆：名医多，可用医保。\n评价可以在大众点评上看。"
)
T2 = "口碑好的有：\n1. 固生堂：可用医保。\n2. 正安中医（朝阳门店）：环境舒适。\n也可以考虑通透堂。"
T3 = "推荐几家：\n1. Northwind 推拿：手法专业。\n2. 仁和馆：环境好。\n3. 固生堂中医馆：名医多。"
MARCH = (date(2025, 3, 1), date(2025, 3, 31))


def make_monitor(owner, name="推拿 北京") -> Monitor:
    monitor = Monitor.objects.create(
        owner=owner, name=name, platforms=["demo", "deepseek"], status=MonitorStatus.PAUSED
    )
    TrackedBrand.objects.create(monitor=monitor, name=MAIN, is_main=True)
    TrackedBrand.objects.create(monitor=monitor, name=RIVAL)
    return monitor


def run(monitor: Monitor, at: datetime, answers: list[tuple[str, str]]) -> TestRecord:
    """A monitor's finished execution at ``at``: (platform, text) answers, analysed; a blank
    text is a failed call."""
    record = TestRecord.objects.create(
        owner=monitor.owner,
        monitor=monitor,
        brand_name=MAIN,
        competitor_brands=[RIVAL],
        questions=["北京中医推拿哪家好？"],
        platforms=sorted({p for p, _ in answers}),
        total_tasks=len(answers),
        status="completed",
        created_at=at,
    )
    analyser = Analyser(record)
    for index, (platform, text) in enumerate(answers):
        Answer.objects.create(
            record=record,
            question_index=0,
            platform=platform,
            run_index=index,
            question=record.questions[0],
            text=text,
            status=AnswerStatus.SUCCESS if text else AnswerStatus.FAILED,
            analysis=analyser.analyse(text),
        )
    return record


@pytest.fixture
def monitor(user):
    """Two runs in March (one failed call among them), one in April, and another monitor's."""
    monitor = make_monitor(user)
    run(
        monitor,
        datetime(2025, 3, 10, 2, tzinfo=UTC),
        [("demo", T1), ("deepseek", T2), ("demo", "")],
    )
    # 17:00 UTC is 01:00 the next day in Shanghai: this run is the 12th's.
    run(monitor, datetime(2025, 3, 11, 17, tzinfo=UTC), [("demo", T3)])
    run(monitor, datetime(2025, 4, 20, 2, tzinfo=UTC), [("demo", T1)])
    run(make_monitor(user, "other"), datetime(2025, 3, 10, 2, tzinfo=UTC), [("demo", T1)])
    return monitor


EXPECTED = [
    {
        "name": "固生堂",
        "answers": 3,
        "mentions": 3,
        "platforms": ["deepseek", "demo"],
        "tracked": None,
        "mean_rank": 2.33,  # ranks 3, 1, 3
        "ranked_n": 3,
        "share": 1.0,
        "executions": 2,
        "first_seen": "2025-03-10",
        "last_seen": "2025-03-12",
        "surfaces": ["固生堂中医馆", "固生堂"],
    },
    {
        "name": "正安中医",
        "answers": 2,
        "mentions": 2,
        "platforms": ["deepseek", "demo"],
        "tracked": None,
        "mean_rank": 1.5,
        "ranked_n": 2,
        "share": 0.6667,
        "executions": 1,
        "first_seen": "2025-03-10",
        "last_seen": "2025-03-10",
        "surfaces": ["正安中医"],
    },
    {
        "name": "northwind 推拿",
        "answers": 1,
        "mentions": 1,
        "platforms": ["demo"],
        "tracked": None,
        "mean_rank": 1.0,
        "ranked_n": 1,
        "share": 0.3333,
        "executions": 1,
        "first_seen": "2025-03-12",
        "last_seen": "2025-03-12",
        "surfaces": ["Northwind 推拿"],
    },
    {
        "name": "仁和馆",
        "answers": 1,
        "mentions": 1,
        "platforms": ["demo"],
        "tracked": None,
        "mean_rank": 2.0,
        "ranked_n": 1,
        "share": 0.3333,
        "executions": 1,
        "first_seen": "2025-03-12",
        "last_seen": "2025-03-12",
        "surfaces": ["仁和馆"],
    },
]


# --- The service ------------------------------------------------------------------------------


@pytest.mark.django_db
class MonitorEntitiesTests:
    def test_untracked_recommended_entities_of_the_range_in_two_queries(
        self, monitor, django_assert_num_queries
    ):
        with django_assert_num_queries(2):
            report = monitor_entity_report(monitor, *MARCH)
        # Tracked brands (华夏良子, 通透堂) and the source (大众点评) are not listed; April's run,
        # the other monitor's and the failed call count nowhere.
        assert report == {
            "from": "2025-03-01",
            "to": "2025-03-31",
            "executions": 2,
            "answers": 3,
            "entities": EXPECTED,
        }
        assert monitor_entities(monitor, *MARCH, limit=2) == EXPECTED[:2]

    def test_the_range_is_days_in_the_monitor_time_zone(self, monitor):
        # The run at 2025-03-11 17:00 UTC is on the 12th in Shanghai, not the 11th.
        rows = monitor_entities(monitor, date(2025, 3, 11), date(2025, 3, 11))
        assert rows == []
        rows = monitor_entities(monitor, date(2025, 3, 12), date(2025, 3, 12))
        assert [r["name"] for r in rows] == ["northwind 推拿", "仁和馆", "固生堂"]

    def test_a_brand_the_monitor_tracks_now_leaves_the_list_and_a_dropped_one_joins_it(
        self, monitor
    ):
        # An alias with a store suffix has the entity's key (固生堂中医馆 → 固生堂).
        TrackedBrand.objects.create(monitor=monitor, name="固生堂集团", aliases=["固生堂中医馆"])
        TrackedBrand.objects.filter(monitor=monitor, name=RIVAL).delete()
        rows = monitor_entities(monitor, *MARCH)
        assert "固生堂" not in {r["name"] for r in rows}
        # 通透堂 was tracked when the run was analysed; untracked now, it is a discovery.
        rival = next(r for r in rows if r["name"] == RIVAL)
        assert (rival["answers"], rival["mean_rank"], rival["ranked_n"]) == (1, None, 0)
        assert rival["tracked"] is None

    def test_the_answers_query_uses_the_monitor_index_then_the_answers_of_each_run(self, user):
        monitor = make_monitor(user)
        other = make_monitor(user, "other")
        at = datetime(2025, 3, 15, tzinfo=UTC)
        TestRecord.objects.bulk_create(
            TestRecord(owner=user, monitor=other, brand_name="b", created_at=at) for _ in range(300)
        )
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE records_testrecord")
                    cursor.execute("SET LOCAL enable_seqscan = off")
            text = entity_answers_query(monitor, *MARCH).explain()
        assert "record_monitor_created_idx" in text, text
        # Answers by record_id: the FK index or the unique call (record, question, ...) one.
        assert "records_answer_record_id" in text or "answer_unique_call" in text, text
        assert "SCAN records_answer" not in text and "Seq Scan" not in text, text


def test_brand_spelling_keeps_the_answers_case_and_adds_only_needed_aliases():
    assert brand_spelling("northwind 推拿", ["Northwind 推拿"]) == ("Northwind 推拿", [])
    # The name matches 固生堂中医馆 as it is; a spelling without it becomes an alias.
    assert brand_spelling("固生堂", ["固生堂中医馆", "固生堂", "GSTCM 固生堂"]) == ("固生堂", [])
    assert brand_spelling("四川省人民医院", ["四川省医院"]) == ("四川省人民医院", ["四川省医院"])
    # A name that needs a context word to count: its longer spellings count anywhere.
    assert brand_spelling("kfc", ["KFC", "KFC 中国"]) == ("KFC", ["KFC 中国"])


@pytest.mark.django_db
def test_track_competitor_is_idempotent_and_bounded(user, settings):
    monitor = make_monitor(user)
    first = track_competitor(monitor=monitor, name="固生堂", surfaces=["固生堂中医馆", "固生堂"])
    assert first.created and (first.brand.name, first.brand.is_main) == ("固生堂", False)
    again = track_competitor(monitor=monitor, name="固生堂", surfaces=["固生堂"])
    assert (again.created, again.brand.pk) == (False, first.brand.pk)
    # The main brand by another spelling is tracked already too.
    assert track_competitor(monitor=monitor, name="华夏良子(朝阳店)").brand.name == MAIN
    assert monitor.brands.count() == 3
    with pytest.raises(ValidationError) as blank:
        track_competitor(monitor=monitor, name="  ")
    assert list(blank.value.message_dict) == ["name"]
    for i in range(8):
        track_competitor(monitor=monitor, name=f"竞品{i}号")
    with pytest.raises(ValidationError) as full:
        track_competitor(monitor=monitor, name="第十一家")
    assert list(full.value.message_dict) == ["brands"]
    assert monitor.brands.filter(is_main=False).count() == 10


# --- The API ----------------------------------------------------------------------------------


@pytest.mark.django_db
class MonitorEntitiesApiTests:
    def url(self, monitor):
        return f"/api/v1/monitors/{monitor.pk}/entities/"

    def test_the_report_of_a_range(self, monitor, user_client):
        response = user_client.get(self.url(monitor), {"from": "2025-03-01", "to": "2025-03-31"})
        assert response.status_code == 200, response.content
        assert response.json() == {
            "from": "2025-03-01",
            "to": "2025-03-31",
            "executions": 2,
            "answers": 3,
            "entities": EXPECTED,
        }

    def test_the_default_range_is_the_trend_one(self, monitor, user_client):
        body = user_client.get(self.url(monitor), {"to": "2025-04-20"}).json()
        assert (body["from"], body["to"]) == ("2025-03-22", "2025-04-20")
        assert (body["executions"], body["answers"]) == (1, 1)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"from": "2025-03-10", "to": "2025-03-01"}, "from"),
            ({"from": "yesterday"}, "from"),
            ({"to": "2025-13-01"}, "to"),
            ({"from": "2022-01-01", "to": "2025-01-01"}, "from"),
        ],
    )
    def test_bad_dates_are_400_naming_the_field(self, monitor, user_client, params, field):
        response = user_client.get(self.url(monitor), params)
        assert response.status_code == 400
        assert list(response.json()["fields"]) == [field]

    def test_others_monitor_is_404_staff_sees_it(self, monitor, api_client, staff_user):
        api_client.force_authenticate(UserFactory())
        assert api_client.get(self.url(monitor)).status_code == 404
        api_client.force_authenticate(None)
        assert api_client.get(self.url(monitor)).status_code == 404
        api_client.force_authenticate(staff_user)
        assert api_client.get(self.url(monitor), {"from": "2025-03-01"}).status_code == 200
        assert api_client.get("/api/v1/monitors/999999/entities/").status_code == 404

    def test_the_operation_and_its_body_are_documented(self, monitor, user_client):
        schema = user_client.get("/api/schema/?format=json").json()
        operation = schema["paths"]["/api/v1/monitors/{monitor_id}/entities/"]["get"]
        assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "monitor_id"}
        assert set(operation["responses"]) == {"200", "400", "404"}
        # The fuzz test (tests/test_openapi_fuzz.py) has no monitor: check a real body here.
        body = user_client.get(self.url(monitor), {"from": "2025-03-01", "to": "2025-03-31"})
        report, entity = (
            schema["components"]["schemas"][name]
            for name in ("MonitorEntities", "DiscoveredEntity")
        )
        assert set(body.json()) == set(report["properties"]) == set(report["required"])
        for row in body.json()["entities"]:
            assert set(row) == set(entity["properties"]) == set(entity["required"])


# --- The admin panel and "track this competitor" ----------------------------------------------


def page_url(monitor):
    return reverse("admin:records_monitor_page", args=[monitor.pk])


def track_url(monitor):
    return reverse("admin:records_monitor_track_entity", args=[monitor.pk])


def panel(html: str) -> str:
    start = html.index('<div class="mon-card mon-discovered">')
    return html[start : html.index("</table>", start)]


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.mark.django_db
class TrackThisCompetitorTests:
    def test_the_monitor_page_lists_untracked_entities_with_a_button_each(
        self, staff_client, monitor
    ):
        html = panel(staff_client.get(page_url(monitor), {"days": "90"}).content.decode())
        # The page's range reaches back 90 days from the newest run (April): all four runs' days.
        names = ["固生堂", "正安中医", "Northwind 推拿", "仁和馆"]
        positions = [html.index(f"<td>{name}") for name in names]
        assert positions == sorted(positions)
        assert "Who the answers recommend instead" in html and MAIN not in html
        assert html.count("Track this competitor") == 4
        assert html.count('name="csrfmiddlewaretoken"') == 4
        assert f'action="{track_url(monitor)}"' in html
        assert '<input type="hidden" name="surface" value="固生堂中医馆">' in html
        assert '<input type="hidden" name="days" value="90">' in html
        # 固生堂: 3 answers in March and one in April of 4 valid answers; ranks 3, 1, 3, 3.
        assert '<td class="num">4</td>\n        <td class="num">100 %</td>' in html
        assert '<td class="num">2.5 (4)</td>' in html

    def test_tracking_adds_a_competitor_once_and_says_so(self, staff_client, monitor):
        form = {"name": "固生堂", "surface": ["固生堂中医馆", "固生堂"], "days": "90"}
        response = staff_client.post(track_url(monitor), form)
        assert response.status_code == 302
        assert response["Location"] == f"{page_url(monitor)}?days=90"
        brand = TrackedBrand.objects.get(monitor=monitor, name="固生堂")
        assert (brand.is_main, brand.aliases, brand.domains) == (False, [], [])
        assert [str(m) for m in get_messages(response.wsgi_request)] == [
            "固生堂 is now a tracked competitor of 推拿 北京; the next run measures it."
        ]
        page = staff_client.get(response["Location"]).content.decode()
        assert "<td>固生堂" not in panel(page) and "<td>正安中医" in panel(page)

        again = staff_client.post(track_url(monitor), form)
        assert [str(m) for m in get_messages(again.wsgi_request)] == [
            "固生堂 is already tracked by 推拿 北京 (as 固生堂); nothing changed."
        ]
        assert monitor.brands.filter(name__startswith="固生堂").count() == 1
        assert monitor.brands.count() == 3

    def test_a_bad_name_is_a_message_not_an_error(self, staff_client, monitor):
        response = staff_client.post(track_url(monitor), {"name": "x" * 101}, follow=True)
        assert response.status_code == 200
        assert "not tracked (name: A brand needs a name of 1-100 characters.)" in (
            response.content.decode()
        )
        assert monitor.brands.count() == 2

    def test_the_button_needs_a_csrf_token(self, staff_user, monitor):
        client = Client(enforce_csrf_checks=True)
        client.force_login(staff_user)
        assert client.post(track_url(monitor), {"name": "固生堂"}).status_code == 403
        assert not monitor.brands.filter(name="固生堂").exists()
        html = client.get(page_url(monitor), {"days": "90"}).content.decode()
        marker = 'name="csrfmiddlewaretoken" value="'
        token = html[html.index(marker) + len(marker) :].split('"', 1)[0]
        form = {"csrfmiddlewaretoken": token, "name": "固生堂"}
        assert client.post(track_url(monitor), form).status_code == 302
        assert monitor.brands.filter(name="固生堂").exists()

    def test_only_staff_who_may_change_monitors_can_track(self, client, user, monitor):
        client.force_login(user)
        response = client.post(track_url(monitor), {"name": "固生堂"})
        assert response.status_code == 302 and "/login/" in response["Location"]
        viewer = UserFactory(is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_monitor"))
        client.force_login(viewer)
        html = client.get(page_url(monitor), {"days": "90"}).content.decode()
        assert "<td>固生堂" in panel(html) and "Track this competitor" not in html
        assert client.post(track_url(monitor), {"name": "固生堂"}).status_code == 403
        assert client.get(track_url(monitor)).status_code in (403, 405)
        assert monitor.brands.count() == 2

    def test_get_is_not_allowed_and_unknown_monitor_is_404(self, staff_client, monitor):
        assert staff_client.get(track_url(monitor)).status_code == 405
        url = reverse("admin:records_monitor_track_entity", args=[999999])
        assert staff_client.post(url, {"name": "固生堂"}).status_code == 404
