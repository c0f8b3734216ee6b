"""Issue 14's acceptance, end to end through the real worker: a demo monitor run shows who its
answers recommend instead, "track this competitor" adds one, and the next run measures it; an
imported run, re-analysed, shows its discovered entities in the admin.
"""

from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from records import monitoring
from records.discovered import monitor_entities
from records.legacy.importer import import_legacy_file
from records.models import BrandScore, TestRecord
from records.trend_params import monitor_zone
from tests.legacy.legacy_files import BRAND, COMPETITORS, LegacyDB, g2_item
from tests.monitoring.conftest import definition

# Names the demo platform recommends besides the tracked brands (records/engine/demo.py).
DEMO_UNTRACKED = {"百年老字号", "康源堂", "仁和馆", "悦康坊"}
PROMPTS = [{"text": t} for t in ("北京中医推拿哪家好？", "北京推拿按摩推荐", "朝阳区足疗哪家好？")]


def run_now(monitor, django_capture_on_commit_callbacks, run_worker) -> TestRecord:
    with django_capture_on_commit_callbacks(execute=True):
        record = monitoring.start_monitor_run(monitor=monitor).record
    run_worker()
    record.refresh_from_db()
    assert record.status == "completed", record.error
    return record


def test_track_this_competitor_then_the_next_run_tracks_it(
    client, staff_user, user, django_capture_on_commit_callbacks, run_worker
):
    data = monitoring.clean_monitor_input(**definition(prompts=PROMPTS, repeats=2))
    monitor = monitoring.create_monitor(owner=user, data=data)
    first = run_now(monitor, django_capture_on_commit_callbacks, run_worker)
    today = timezone.localtime(first.created_at, monitor_zone(monitor)).date()

    rows = monitor_entities(monitor, today, today)
    assert rows and {row["name"] for row in rows} <= DEMO_UNTRACKED
    top = rows[0]
    assert top["executions"] == 1 and top["platforms"] == ["demo"]

    client.force_login(staff_user)
    page = reverse("admin:records_monitor_page", args=[monitor.pk])
    html = client.get(page).content.decode()
    assert f'<input type="hidden" name="name" value="{top["name"]}">' in html
    response = client.post(
        reverse("admin:records_monitor_track_entity", args=[monitor.pk]),
        {"name": top["name"], "surface": top["surfaces"]},
    )
    assert response.status_code == 302
    assert "now a tracked competitor" in str(list(get_messages(response.wsgi_request))[0])
    brand = monitor.brands.get(name=top["name"])
    assert brand.is_main is False
    assert top["name"] not in {row["name"] for row in monitor_entities(monitor, today, today)}

    second = run_now(monitor, django_capture_on_commit_callbacks, run_worker)
    assert second.pk != first.pk
    assert top["name"] in second.competitor_brands
    scores = BrandScore.objects.filter(record=second, brand=top["name"])
    assert set(scores.values_list("platform", flat=True)) == {"", "demo"}
    # The demo names a tracked competitor in most answers; each answer naming it counts it.
    answers = list(second.answers.all())
    naming = [a for a in answers if top["name"] in a.text]
    assert naming  # 6 answers each naming it with p >= 0.8: missing it is ~1e-6
    for answer in answers:
        entry = answer.analysis["brands"][top["name"]]
        assert entry["mentioned"] is (answer in naming)
        if entry["mentioned"]:
            assert entry["rank_method"] == "list" and entry["sentiment"] is not None
            assert any(e["tracked"] == top["name"] for e in answer.analysis["entities"])
    overall = scores.get(platform="")
    assert overall.mention_rate > 0 and overall.visibility_score > 0
    # The results report scores it like any competitor.
    client.force_login(user)
    report = client.get(f"/api/v1/executions/{second.execution_id}/results/").json()
    assert top["name"] in report["scores"]["brands"] and top["name"] in report["competitors"]
    assert top["name"] not in {row["name"] for row in report["discovered_entities"]}


IMPORTED_ANSWER = (
    "北京中医推拿，口碑好的有这几家：\n"
    "1. **正安中医（朝阳门店）**：医师坐诊，系统培训，标准化程度高。\n"
    "2. **华夏良子**：全国连锁，营业到凌晨。\n"
    "3. 固生堂中医馆：名医多，可用医保。\n"
    "评价可以在大众点评和小红书上看。"
)
IMPORTED_ID = "0b7e6f1c-2d3a-4e5f-8a9b-1c2d3e4f5a6b"


def test_a_reanalysed_imported_run_shows_its_entities_in_the_admin(tmp_path, client, staff_user):
    with LegacyDB(tmp_path / "legacy.db", "g2") as legacy:
        owner = legacy.user("oUser_openid_2")
        legacy.run(
            user_id=owner,
            brand=BRAND,
            test_date="2025-02-21 02:05:00",
            models=["DeepSeek"],
            items=[
                g2_item(
                    question="北京中医推拿哪家好？",
                    main_brand=BRAND,
                    competitors=COMPETITORS,
                    model="deepseek-chat",
                    platform="DeepSeek",
                    answer=IMPORTED_ANSWER,
                    timestamp="2025-02-21T10:00:00.000000",
                )
            ],
            summary={"execution_id": IMPORTED_ID, "competitor_brands": COMPETITORS},
        )
    import_legacy_file(tmp_path / "legacy.db")
    record = TestRecord.objects.get(execution_id=IMPORTED_ID)
    # As stored before entities existed (analyzer-1.0).
    for answer in record.answers.all():
        answer.analysis = {k: v for k, v in answer.analysis.items() if k != "entities"}
        answer.analysis["analyzer_version"] = "analyzer-1.0"
        answer.save(update_fields=["analysis"])
    TestRecord.objects.filter(pk=record.pk).update(scoring_version="vs-1.0")
    client.force_login(staff_user)
    url = reverse("admin:records_testrecord_change", args=[record.pk])
    assert "<td>正安中医</td>" not in client.get(url).content.decode()

    call_command("reanalyse", "--outdated", verbosity=0)

    html = client.get(url).content.decode()
    assert "Who the answers recommend instead" in html
    for name in ("正安中医", "固生堂"):
        assert f"<td>{name}</td>" in html, name
    assert "<td>大众点评</td>" not in html  # a source, not a recommendation
    # The answers inline: recommended entities with their rank.
    assert "正安中医 #1" in html and "固生堂 #3" in html
