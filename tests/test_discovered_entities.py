"""Who the answers recommend instead: entities in the v1 results, the admin, re-analyse."""

from django.core.management import call_command
from django.urls import reverse

from records.analysis import ANALYZER_VERSION
from records.legacy.importer import import_legacy_file
from records.models import Answer, TestRecord
from tests.legacy.legacy_files import BRAND, COMPETITORS, LegacyDB, g2_item

START = {
    "brand": "华夏良子",
    "competitors": ["良子健身"],
    "questions": ["北京中医推拿哪家好？", "北京推拿按摩推荐"],
    "platforms": ["demo"],
    "repeats": 2,
}
# Names the demo platform recommends besides the tracked brands (records/engine/demo.py).
DEMO_UNTRACKED = {"百年老字号", "康源堂", "仁和馆", "悦康坊"}
IMPORTED_ANSWER = (
    "北京中医推拿，口碑好的有这几家：\n"
    "1. **正安中医（朝阳门店）**：医师坐诊，系统培训，标准化程度高。\n"
    "2. **华夏良子**：全国连锁，营业到凌晨。\n"
    "3. 固生堂中医馆：名医多，可用医保。\n"
    "公立医院推拿科也可以考虑，比如北京中医医院、广安门医院。\n"
    "评价可以在大众点评和小红书上看。"
)
G2_ID = "5d0c1c5e-3a43-4f7e-9d1e-0d7b1e2c3a4b"


def results(api_client, execution_id):
    response = api_client.get(f"/api/v1/executions/{execution_id}/results/")
    assert response.status_code == 200
    return response.json()


def test_a_demo_run_reports_the_untracked_entities_it_recommends(
    api_client, django_capture_on_commit_callbacks, run_worker
):
    with django_capture_on_commit_callbacks(execute=True):
        execution_id = api_client.post("/api/v1/executions/", START, format="json").json()[
            "execution_id"
        ]
    run_worker()
    report = results(api_client, execution_id)
    rows = report["discovered_entities"]
    names = {row["name"] for row in rows}
    assert names and names <= DEMO_UNTRACKED
    answers = [item["analysis"] for item in report["items"]]
    for row in rows:
        recommending = [
            a
            for a in answers
            if any(e["name"] == row["name"] and e["role"] == "recommended" for e in a["entities"])
        ]
        assert row["answers"] == len(recommending)
        assert row["platforms"] == ["demo"] and row["tracked"] is None
        ranks = [e["rank"] for a in recommending for e in a["entities"] if e["name"] == row["name"]]
        assert row["mean_rank"] == round(sum(ranks) / len(ranks), 2)
    counts = [row["answers"] for row in rows]
    assert counts == sorted(counts, reverse=True)
    # Tracked brands are flagged in each answer, not listed as discoveries.
    tracked = {e["tracked"] for a in answers for e in a["entities"] if e["tracked"]}
    assert "华夏良子" in tracked and "华夏良子" not in names


def test_the_admin_execution_page_shows_discovered_entities(
    client, staff_user, django_capture_on_commit_callbacks, run_worker
):
    from records import services

    data = services.clean_execution_input(**START)
    with django_capture_on_commit_callbacks(execute=True):
        record = services.start_execution(owner=None, data=data).record
    run_worker()
    client.force_login(staff_user)
    url = reverse("admin:records_testrecord_change", args=[record.pk])
    html = client.get(url).content.decode()
    assert "Who the answers recommend instead" in html
    report_names = {
        e["name"]
        for a in Answer.objects.filter(record=record)
        for e in a.analysis["entities"]
        if e["role"] == "recommended" and not e["tracked"]
    }
    assert report_names and all(f"<td>{name}</td>" in html for name in report_names)
    # The answers inline lists each answer's recommended entities with their rank.
    assert "recommended #rank, sources" in html.lower()
    assert any(f"{name} #" in html for name in report_names)


def test_reanalyse_fills_entities_for_old_and_imported_answers(
    tmp_path, db, api_client, staff_user
):
    with LegacyDB(tmp_path / "legacy.db", "g2") as legacy:
        user = legacy.user("oUser_openid_1")
        legacy.run(
            user_id=user,
            brand=BRAND,
            test_date="2025-02-20 02:05:00",
            models=["DeepSeek"],
            items=[
                g2_item(
                    question="北京中医推拿哪家好？",
                    main_brand=BRAND,
                    competitors=COMPETITORS,
                    model="deepseek-chat",
                    platform="DeepSeek",
                    answer=IMPORTED_ANSWER,
                    timestamp="2025-02-20T10:00:00.000000",
                )
            ],
            summary={"execution_id": G2_ID, "competitor_brands": COMPETITORS},
        )
    import_legacy_file(tmp_path / "legacy.db")
    record = TestRecord.objects.get(execution_id=G2_ID)
    # As an answer analysed before entities existed (analyzer-1.0) would be stored.
    for answer in record.answers.all():
        answer.analysis = {k: v for k, v in answer.analysis.items() if k != "entities"}
        answer.analysis["analyzer_version"] = "analyzer-1.0"
        answer.save(update_fields=["analysis"])
    TestRecord.objects.filter(pk=record.pk).update(scoring_version="vs-1.0")

    call_command("reanalyse", "--outdated", verbosity=0)

    answer = record.answers.get()
    entities = {e["name"]: e for e in answer.analysis["entities"]}
    assert answer.analysis["analyzer_version"] == ANALYZER_VERSION
    assert [(n, e["role"], e["rank"]) for n, e in entities.items()] == [
        ("正安中医", "recommended", 1),
        ("华夏良子", "recommended", 2),
        ("固生堂", "recommended", 3),
        ("北京中医医院", "recommended", None),
        ("广安门医院", "recommended", None),
        ("大众点评", "source", None),
        ("小红书", "source", None),
    ]
    assert entities["华夏良子"]["tracked"] == "华夏良子"
    api_client.force_authenticate(staff_user)  # the imported run belongs to its WeChat user
    report = results(api_client, G2_ID)
    assert [row["name"] for row in report["discovered_entities"]] == [
        "正安中医",
        "固生堂",
        "北京中医医院",
        "广安门医院",
    ]
    assert report["discovered_entities"][0] | {"platforms": None} == {
        "name": "正安中医",
        "answers": 1,
        "mentions": 1,
        "platforms": None,
        "tracked": None,
        "mean_rank": 1.0,
        "ranked_n": 1,
    }
