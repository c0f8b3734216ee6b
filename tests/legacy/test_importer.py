"""import_legacy: legacy SQLite files of both generations become finished, re-analysed runs."""

import hashlib
import io
import os
import shutil
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from records import execution
from records.legacy.importer import (
    LEGACY_NAMESPACE,
    CorruptValue,
    LegacyFileError,
    decode_value,
    import_legacy_file,
    strip_geo_block,
)
from records.models import (
    Answer,
    AnswerStatus,
    BrandScore,
    ResultDocument,
    Source,
    Stage,
    Status,
    TestRecord,
    WeChatAccount,
)
from records.reports import build_scores, build_summary
from tests.factories import TestRecordFactory, UserFactory
from tests.legacy.legacy_files import (
    ANSWER,
    ANSWER_B,
    BRAND,
    COMPETITORS,
    LegacyDB,
    build_g1,
    build_g2,
    dumps,
    g1_item,
    g2_item,
    geo_block,
    gz,
)

pytestmark = pytest.mark.django_db

QUESTION = "北京中医推拿哪家好？"
G2_ID = "2b6f5a0e-8f0b-4e9a-9d7c-1a2b3c4d5e6f"


def one_g1_run(path: Path, **run) -> Path:
    """A G1 file with one user and one run (overridable)."""
    with LegacyDB(path, "g1") as db:
        user = db.user("oUser_openid_1")
        db.run(
            **{
                "user_id": user,
                "brand": BRAND,
                "test_date": "2025-01-10 02:15:00",
                "models": ["DeepSeek"],
                "items": [
                    g1_item(brand=BRAND, model="DeepSeek", question=QUESTION, response=ANSWER)
                ],
                "summary": {"total_tests": 1},
            }
            | run
        )
    return path


def g2_answer_item(**overrides) -> dict:
    return g2_item(
        **{
            "question": QUESTION,
            "main_brand": BRAND,
            "competitors": COMPETITORS,
            "model": "deepseek-chat",
            "platform": "DeepSeek",
            "answer": ANSWER,
            "timestamp": "2025-02-20T10:00:00.000000",
        }
        | overrides
    )


def one_g2_run(path: Path, *, index: bool = True, **run) -> Path:
    with LegacyDB(path, "g2", execution_id_index=index) as db:
        user = db.user("oUser_openid_1")
        db.run(
            **{
                "user_id": user,
                "brand": BRAND,
                "test_date": "2025-02-20 02:05:00",
                "models": ["DeepSeek"],
                "items": [g2_answer_item()],
                "summary": {"execution_id": G2_ID, "competitor_brands": COMPETITORS},
            }
            | run
        )
    return path


def fingerprint(folder: Path) -> tuple[list[str], dict[str, str]]:
    """The folder's listing and every file's sha256."""
    files = sorted(p.name for p in folder.iterdir())
    return files, {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in files
        if (folder / name).is_file()
    }


# -- whole files ------------------------------------------------------------------------------


def test_g1_file_imports_users_runs_and_reports_skipped_rows(tmp_path):
    report = import_legacy_file(build_g1(tmp_path / "legacy.db"))

    assert report.generation == "g1"
    assert (report.rows, report.runs_imported) == (5, 3)
    assert (report.users_imported, report.users_existing) == (2, 0)
    assert [(s.row_id, s.reason) for s in report.skipped] == [(4, "fixture"), (5, "corrupt")]
    assert "bad JSON" in report.skipped[1].detail
    assert TestRecord.objects.filter(source=Source.LEGACY_IMPORT).count() == 3
    assert Answer.objects.count() == 12 + 3 + 1


def test_g2_file_keeps_execution_ids_and_skips_null_and_corrupt_rows(tmp_path):
    report = import_legacy_file(build_g2(tmp_path / "legacy.db"))

    assert report.generation == "g2"
    assert [run.execution_id for run in report.imported] == [
        G2_ID,
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    ]
    assert [(s.row_id, s.reason) for s in report.skipped] == [(3, "no_items"), (4, "corrupt")]
    assert "bad gzip" in report.skipped[1].detail
    record = TestRecord.objects.get(execution_id=G2_ID)
    assert record.legacy_key.endswith(":1")


def test_per_brand_questions_become_templates_shaped_like_new_runs(tmp_path):
    import_legacy_file(build_g1(tmp_path / "legacy.db"))

    record = TestRecord.objects.get(owner__username="wx_oAlice_openid_000000000000001")
    assert record.questions == [
        "{brandName}的核心竞争优势是什么？",
        "{brandName}在目标用户群体中的认知度如何？",
    ]
    assert record.competitor_brands == COMPETITORS
    assert record.platforms == ["deepseek", "doubao"]
    assert (record.repeats, record.total_tasks, record.completed_tasks) == (1, 12, 12)
    cells = list(record.answers.values_list("question_index", "brand", "platform", "question"))
    assert cells[:2] == [
        (0, BRAND, "deepseek", f"{BRAND}的核心竞争优势是什么？"),
        (0, BRAND, "doubao", f"{BRAND}的核心竞争优势是什么？"),
    ]
    assert (1, "足疗大师", "doubao", "足疗大师在目标用户群体中的认知度如何？") in cells
    # The plan of the imported input names exactly the imported answers.
    assert execution.pending_calls(record) == []


def test_repeats_of_a_question_on_a_platform_get_run_indexes(tmp_path):
    item = g1_item(brand=BRAND, model="DeepSeek", question=QUESTION, response=ANSWER)
    other = g1_item(brand=BRAND, model="豆包", question=QUESTION, response=ANSWER_B)
    import_legacy_file(one_g1_run(tmp_path / "l.db", items=[item, other, item, item]))

    record = TestRecord.objects.get()
    assert record.repeats == 3
    assert record.questions == [QUESTION]
    assert list(record.answers.values_list("platform", "brand", "run_index")) == [
        ("deepseek", "", 0),
        ("deepseek", "", 1),
        ("deepseek", "", 2),
        ("doubao", "", 0),
    ]


# -- identity and idempotency -----------------------------------------------------------------


def test_g1_execution_ids_are_derived_and_stable_across_imports_and_copies(tmp_path):
    path = build_g1(tmp_path / "legacy.db")
    first = import_legacy_file(path)
    ids = [run.execution_id for run in first.imported]
    record = TestRecord.objects.get(execution_id=ids[0])
    assert uuid.UUID(ids[0]) == uuid.uuid5(LEGACY_NAMESPACE, record.legacy_key)
    assert record.legacy_key.startswith("legacy:") and record.legacy_key.endswith(":1")

    TestRecord.objects.all().delete()
    copy = tmp_path / "renamed-snapshot.sqlite3"
    shutil.copyfile(path, copy)
    again = import_legacy_file(copy)

    assert [run.execution_id for run in again.imported] == ids


def test_rows_with_the_same_id_in_different_databases_get_different_ids(tmp_path):
    a = import_legacy_file(one_g1_run(tmp_path / "a.db"))
    b = import_legacy_file(one_g1_run(tmp_path / "b.db", test_date="2025-01-11 02:15:00"))

    assert a.imported[0].execution_id != b.imported[0].execution_id
    assert TestRecord.objects.count() == 2


def test_reimport_imports_nothing_new(tmp_path):
    path = build_g2(tmp_path / "legacy.db")
    import_legacy_file(path)
    counts = (TestRecord.objects.count(), Answer.objects.count(), BrandScore.objects.count())

    again = import_legacy_file(path)

    assert again.runs_imported == 0
    assert (again.users_imported, again.users_existing) == (0, 1)
    assert [(s.row_id, s.reason) for s in again.skipped] == [
        (1, "already_imported"),
        (2, "already_imported"),
        (3, "no_items"),
        (4, "corrupt"),
    ]
    assert (TestRecord.objects.count(), Answer.objects.count(), BrandScore.objects.count()) == (
        counts
    )


def test_g2_row_whose_execution_id_exists_is_skipped(tmp_path):
    TestRecordFactory(execution_id=uuid.UUID(G2_ID))

    report = import_legacy_file(one_g2_run(tmp_path / "l.db"))

    assert report.runs_imported == 0
    assert report.skipped[0].reason == "already_imported"
    assert G2_ID in report.skipped[0].detail


@pytest.mark.parametrize("summary_raw", ["null", '"null"', "", '{"execution_id": "not-a-uuid"}'])
def test_g2_row_without_a_valid_execution_id_gets_a_derived_one(tmp_path, summary_raw):
    # Without the json_extract index, which rejects a non-JSON summary on insert.
    path = one_g2_run(tmp_path / "l.db", index=False, summary_raw=summary_raw)

    report = import_legacy_file(path)

    record = TestRecord.objects.get()
    assert record.execution_id == uuid.uuid5(LEGACY_NAMESPACE, record.legacy_key)
    assert report.imported[0].execution_id == str(record.execution_id)


# -- owners -----------------------------------------------------------------------------------


def test_runs_are_owned_by_the_openids_user_and_anonymous_runs_by_nobody(tmp_path):
    import_legacy_file(build_g1(tmp_path / "legacy.db"))

    account = WeChatAccount.objects.select_related("user").get(
        openid="oAlice_openid_000000000000001"
    )
    assert account.nickname == "爱丽丝"
    assert account.user.username == "wx_oAlice_openid_000000000000001"
    assert not account.user.has_usable_password()
    assert account.user.date_joined == datetime(2024, 12, 1, 8, tzinfo=UTC)
    assert TestRecord.objects.filter(owner=account.user).count() == 1
    assert TestRecord.objects.filter(owner__isnull=True).count() == 1
    assert not WeChatAccount.objects.filter(openid="anonymous").exists()
    assert not get_user_model().objects.filter(username="wx_anonymous").exists()


def test_an_existing_wechat_account_is_reused(tmp_path):
    user = UserFactory()
    WeChatAccount.objects.create(user=user, openid="oUser_openid_1")

    report = import_legacy_file(one_g1_run(tmp_path / "l.db"))

    assert (report.users_imported, report.users_existing) == (0, 1)
    assert TestRecord.objects.get().owner == user


def test_users_without_openid_are_reported_and_their_runs_have_no_owner(tmp_path):
    with LegacyDB(tmp_path / "l.db", "g1") as db:
        nobody = db.user(None)
        db.run(
            user_id=nobody,
            brand=BRAND,
            test_date="2025-01-10 02:15:00",
            models=["DeepSeek"],
            items=[g1_item(brand=BRAND, model="DeepSeek", question=QUESTION, response=ANSWER)],
        )

    report = import_legacy_file(tmp_path / "l.db")

    assert report.users_without_openid == 1
    assert report.runs_imported == 1
    assert TestRecord.objects.get().owner is None


# -- timestamps -------------------------------------------------------------------------------


def test_test_date_is_utc_and_g2_item_timestamps_are_utc_plus_8(tmp_path):
    items = [
        g2_answer_item(timestamp="2025-02-20T10:00:01.250000"),
        g2_answer_item(platform="豆包", model="doubao-pro", timestamp="2025-02-20 10:03:00.000007"),
    ]
    import_legacy_file(one_g2_run(tmp_path / "l.db", items=items))

    record = TestRecord.objects.get()
    assert record.created_at == datetime(2025, 2, 20, 2, 5, tzinfo=UTC)
    assert record.started_at == datetime(2025, 2, 20, 2, 0, 1, 250000, tzinfo=UTC)
    assert record.finished_at == datetime(2025, 2, 20, 2, 3, 0, 7, tzinfo=UTC)
    assert [a.created_at for a in record.answers.all()] == [
        datetime(2025, 2, 20, 2, 0, 1, 250000, tzinfo=UTC),
        datetime(2025, 2, 20, 2, 3, 0, 7, tzinfo=UTC),
    ]


def test_g1_runs_start_unknown_and_finish_at_test_date(tmp_path):
    import_legacy_file(one_g1_run(tmp_path / "l.db"))

    record = TestRecord.objects.get()
    expected = datetime(2025, 1, 10, 2, 15, tzinfo=UTC)
    assert (record.created_at, record.started_at, record.finished_at) == (expected, None, expected)
    assert record.answers.get().created_at == expected


def test_task_statuses_give_start_and_end_when_items_have_no_timestamps(tmp_path):
    with LegacyDB(tmp_path / "l.db", "g2") as db:
        user = db.user("oUser_openid_1")
        db.run(
            user_id=user,
            brand=BRAND,
            test_date="2025-02-20 02:05:00",
            models=["DeepSeek"],
            items=[g2_answer_item(timestamp=None)],
            summary={"execution_id": G2_ID},
        )
        db.task_status(G2_ID, created_at="2025-02-20 02:00:00", updated_at="2025-02-20 02:04:30")

    import_legacy_file(tmp_path / "l.db")

    record = TestRecord.objects.get()
    assert record.started_at == datetime(2025, 2, 20, 2, 0, tzinfo=UTC)
    assert record.finished_at == datetime(2025, 2, 20, 2, 4, 30, tzinfo=UTC)


# -- values -----------------------------------------------------------------------------------


def test_ascii_escaped_json_is_decoded_by_the_json_parser(tmp_path):
    literal = r"路径 C:\users\u0041 原样保留"
    item = g1_item(brand=BRAND, model="DeepSeek", question=QUESTION, response=f"{ANSWER} {literal}")
    path = one_g1_run(tmp_path / "l.db", items=[item])
    stored = sqlite3.connect(path).execute("SELECT detailed_results FROM test_records").fetchone()
    assert "\\u534e\\u590f" in stored[0]  # 华夏, escaped as the legacy app wrote it

    import_legacy_file(path)

    answer = Answer.objects.get()
    assert answer.question == QUESTION
    assert answer.text.endswith(literal)


def test_gzip_blob_is_detected_by_its_magic_bytes_without_the_flag(tmp_path):
    path = one_g2_run(
        tmp_path / "l.db", index=False, compress_summary=True, compress=True, flags=(0, 0)
    )

    report = import_legacy_file(path)

    assert [run.execution_id for run in report.imported] == [G2_ID]
    assert Answer.objects.get().status == AnswerStatus.SUCCESS


@pytest.mark.parametrize("detailed_raw", [None, "", "null", '"null"', "[]", "{}", '"text"'])
def test_rows_without_items_are_skipped_as_no_items(tmp_path, detailed_raw):
    path = one_g1_run(tmp_path / "l.db", detailed_raw=detailed_raw)
    if detailed_raw is None:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE test_records SET detailed_results = NULL")

    report = import_legacy_file(path)

    assert [s.reason for s in report.skipped] == ["no_items"]
    assert not TestRecord.objects.exists()


def test_double_encoded_items_are_decoded(tmp_path):
    item = g1_item(brand=BRAND, model="DeepSeek", question=QUESTION, response=ANSWER)
    report = import_legacy_file(one_g1_run(tmp_path / "l.db", detailed_raw=dumps(dumps([item]))))

    assert report.runs_imported == 1


@pytest.mark.parametrize(
    ("detailed_raw", "flags", "reason"),
    [
        (b"\x1f\x8b\x08\x00garbage", (0, 1), "bad gzip data"),
        (b"not gzip at all", (0, 1), "bad gzip data"),
        (gz([{"a": 1}])[:-12], (0, 1), "bad gzip data"),
        ("[{'single': 'quotes'}]", (0, 0), "bad JSON"),
        (b"\xff\xfe\x00bad utf8", (0, 0), "not UTF-8"),
    ],
)
def test_a_corrupt_blob_skips_only_its_row(tmp_path, detailed_raw, flags, reason):
    with LegacyDB(tmp_path / "l.db", "g2") as db:
        user = db.user("oUser_openid_1")
        for n, raw in enumerate([None, detailed_raw, None]):
            db.run(
                user_id=user,
                brand=BRAND,
                test_date=f"2025-02-2{n} 00:00:00",
                models=["DeepSeek"],
                items=[g2_answer_item()],
                detailed_raw=raw,
                summary={"execution_id": str(uuid.uuid4())},
                flags=flags if raw is not None else None,
            )

    report = import_legacy_file(tmp_path / "l.db")

    assert [run.row_id for run in report.imported] == [1, 3]
    assert [(s.row_id, s.reason) for s in report.skipped] == [(2, "corrupt")]
    assert report.skipped[0].detail.startswith(f"detailed_results: {reason}")


def test_a_corrupt_g2_summary_skips_the_row(tmp_path):
    path = one_g2_run(tmp_path / "l.db", index=False, summary_raw=b"\x1f\x8bxx", flags=(1, 1))

    report = import_legacy_file(path)

    assert report.skipped[0].reason == "corrupt"
    assert report.skipped[0].detail.startswith("results_summary: bad gzip data")


def test_g1_junk_summary_is_ignored(tmp_path):
    report = import_legacy_file(one_g1_run(tmp_path / "l.db", summary_raw="test junk {"))

    assert report.runs_imported == 1
    assert "G1 results_summary not JSON; ignored" in report.warnings


# -- platforms --------------------------------------------------------------------------------


def test_display_name_models_map_to_platform_ids(tmp_path):
    items = [
        g1_item(brand=BRAND, model=name, question=QUESTION, response=ANSWER)
        for name in ("DeepSeek", "豆包", "通义千问", "智谱AI")
    ]
    models = ["DeepSeek", "豆包", "通义千问", "智谱AI"]
    import_legacy_file(one_g1_run(tmp_path / "l.db", models=models, items=items))

    record = TestRecord.objects.get()
    assert record.platforms == ["deepseek", "doubao", "qwen", "zhipu"]
    assert list(record.answers.values_list("platform", "model_name")) == [
        ("deepseek", "DeepSeek"),
        ("doubao", "豆包"),
        ("qwen", "通义千问"),
        ("zhipu", "智谱AI"),
    ]


def test_unknown_model_is_kept_lower_cased_with_a_warning(tmp_path):
    items = [
        g1_item(brand=BRAND, model="DeepSeek", question=QUESTION, response=ANSWER),
        g1_item(brand=BRAND, model="MysteryBot", question=QUESTION, response=ANSWER),
    ]
    report = import_legacy_file(
        one_g1_run(tmp_path / "l.db", models="DeepSeek,MysteryBot", items=items)
    )

    record = TestRecord.objects.get()
    assert record.platforms == ["deepseek", "mysterybot"]
    assert record.answers.filter(platform="mysterybot", status=AnswerStatus.SUCCESS).exists()
    assert report.warnings == {"unknown model 'MysteryBot' kept as platform 'mysterybot'": [1]}
    assert BrandScore.objects.filter(record=record, platform="mysterybot").exists()


# -- items and outcomes -----------------------------------------------------------------------


def test_failed_items_are_failed_answers_and_set_the_run_status(tmp_path):
    with LegacyDB(tmp_path / "l.db", "g1") as db:
        user = db.user("oUser_openid_1")
        ok = g1_item(brand=BRAND, model="DeepSeek", question=QUESTION, response=ANSWER)
        limited = g1_item(
            brand=BRAND,
            model="智谱AI",
            question=QUESTION,
            response="Error: 调用智谱AI失败: 429",
            success=False,
            error_type="rate_limited",
        )
        broken = g1_item(brand=BRAND, model="豆包", question=QUESTION, response="Error: boom")
        for n, items in enumerate([[ok, limited], [limited, broken], [ok]]):
            db.run(user_id=user, brand=BRAND, test_date=f"2025-01-1{n} 00:00:00",
                   models=["DeepSeek"], items=items)  # fmt: skip

    import_legacy_file(tmp_path / "l.db")

    partial, failed, completed = TestRecord.objects.order_by("created_at")
    assert (partial.status, partial.stage) == (Status.PARTIAL_COMPLETED, Stage.COMPLETED)
    assert (partial.completed_tasks, partial.failed_tasks, partial.progress) == (1, 1, 100)
    assert partial.error_type == "rate_limited"
    assert (failed.status, failed.stage, failed.failed_tasks) == (Status.FAILED, Stage.FAILED, 2)
    assert failed.error.startswith("All calls failed.")
    assert (completed.status, completed.error, completed.error_type) == (Status.COMPLETED, "", "")
    answer = partial.answers.get(platform="zhipu")
    assert (answer.status, answer.text) == (AnswerStatus.FAILED, "")
    assert (answer.error, answer.error_type) == ("调用智谱AI失败: 429", "rate_limited")
    assert failed.answers.get(platform="doubao").error_type == "internal"


def test_g2_failed_item_keeps_its_error(tmp_path):
    items = [
        g2_answer_item(),
        g2_answer_item(platform="智谱AI", answer="", status="failed", error="API调用超时"),
    ]
    import_legacy_file(one_g2_run(tmp_path / "l.db", items=items))

    answer = Answer.objects.get(platform="zhipu")
    assert (answer.status, answer.error, answer.error_type) == ("failed", "API调用超时", "timeout")
    assert TestRecord.objects.get().status == Status.PARTIAL_COMPLETED


@pytest.mark.parametrize(
    ("legacy_type", "message", "error_type"),
    [
        ("GeneralError", "HTTPSConnectionPool(host='api.deepseek.com', port=443): Read timed out. "
         "(read timeout=30)", "timeout"),
        ("GeneralError", "Error code: 429 - {'error': {'message': 'Rate limit reached'}}",
         "rate_limited"),
        ("GeneralError", "Error code: 429 - {'error': {'code': 'insufficient_quota'}}",
         "quota_exhausted"),
        ("GeneralError", "Error code: 402 - Insufficient Balance 余额不足", "quota_exhausted"),
        ("GeneralError", "Error code: 401 - Incorrect API key provided", "auth_failed"),
        ("AuthenticationError", "调用失败", "auth_failed"),
        ("GeneralError", "HTTPSConnectionPool: Max retries exceeded with url: /v1/chat "
         "(Caused by NewConnectionError: Connection refused)", "network_error"),
        ("GeneralError", "503 Service Unavailable", "network_error"),
        ("GeneralError", "JSONDecodeError: Expecting value: line 1 column 1", "bad_response"),
        ("TimeoutError", "调用失败", "timeout"),
        ("rate_limited", "调用智谱AI失败", "rate_limited"),  # already the taxonomy's: kept
        ("GeneralError", "used 4010 tokens, then boom", "GeneralError"),  # names no cause
    ],
)  # fmt: skip
def test_legacy_error_text_maps_onto_the_error_taxonomy(tmp_path, legacy_type, message, error_type):
    with LegacyDB(tmp_path / "l.db", "g1") as db:
        user = db.user("oUser_openid_1")
        item = g1_item(brand=BRAND, model="DeepSeek", question=QUESTION, response="",
                       success=False, error_message=message, error_type=legacy_type)  # fmt: skip
        db.run(user_id=user, brand=BRAND, test_date="2025-01-10 00:00:00",
               models=["DeepSeek"], items=[item])  # fmt: skip

    import_legacy_file(tmp_path / "l.db")

    answer = Answer.objects.get()
    assert (answer.status, answer.error_type) == (AnswerStatus.FAILED, error_type)
    assert TestRecord.objects.get().error_type == error_type


def test_fixture_rows_are_skipped_unless_included(tmp_path):
    fixture = g1_item(brand="测试品牌", model="DeepSeek", question="测试问题", response="")
    path = one_g1_run(tmp_path / "l.db", brand="测试品牌", items=[fixture, fixture])

    skipped = import_legacy_file(path)
    assert [(s.row_id, s.reason) for s in skipped.skipped] == [(1, "fixture")]
    assert not TestRecord.objects.exists()

    included = import_legacy_file(path, include_fixtures=True)
    assert included.runs_imported == 1
    record = TestRecord.objects.get()
    assert (record.status, record.failed_tasks) == (Status.FAILED, 2)
    assert set(record.answers.values_list("error_type", flat=True)) == {"bad_response"}


# -- analysis ---------------------------------------------------------------------------------


def test_trailing_geo_block_is_stripped_before_analysis_and_kept_raw(tmp_path):
    body = "北京推拿首推华夏良子，手法专业，值得推荐。"
    items = [
        g2_answer_item(answer=body, geo=geo_block(interception="良子健身", fenced=fenced))
        | {"platform": platform}
        for fenced, platform in [(True, "DeepSeek"), (False, "豆包")]
    ]
    import_legacy_file(one_g2_run(tmp_path / "l.db", items=items))

    for answer in Answer.objects.all():
        assert answer.text == body
        assert answer.analysis["raw_text"].startswith(body)
        assert "geo_analysis" in answer.analysis["raw_text"]
        assert answer.analysis["brands"][BRAND]["mentioned"] is True
        assert answer.analysis["brands"]["良子健身"]["mentioned"] is False
    competitor = BrandScore.objects.get(brand="良子健身", platform="")
    assert competitor.mention_rate == 0


def test_imported_runs_are_scored_and_reported_like_finished_runs(tmp_path):
    import_legacy_file(build_g2(tmp_path / "legacy.db"))

    record = TestRecord.objects.get(execution_id=G2_ID)
    answers = list(record.answers.all())
    assert all(a.analysis["brands"][BRAND]["mentioned"] for a in answers)
    assert record.scoring_version
    assert record.overall_score is not None
    summary = record.results_summary
    assert (summary["total_tasks"], summary["succeeded"], summary["failed"]) == (3, 3, 0)
    assert record.overall_score == summary["overall_score"]
    assert summary == build_summary(record, answers, build_scores(record, answers))
    brands = set(BrandScore.objects.filter(record=record).values_list("brand", flat=True))
    assert brands == {BRAND, *COMPETITORS}
    assert ResultDocument.objects.filter(record=record).exists()


# -- the source file --------------------------------------------------------------------------


def test_source_file_is_unchanged_and_no_wal_or_shm_is_created(tmp_path):
    folder = tmp_path / "legacy"
    folder.mkdir()
    path = build_g2(folder / "wal-mode.db")
    assert path.read_bytes()[18:20] == b"\x02\x02"  # WAL journal mode in the file header
    before = fingerprint(folder)

    import_legacy_file(path)
    import_legacy_file(path, dry_run=True)

    assert fingerprint(folder) == before == (["wal-mode.db"], before[1])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_folder_is_readable(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = build_g2(folder / "wal-mode.db")
    folder.chmod(0o555)
    try:
        assert import_legacy_file(path).runs_imported == 2
    finally:
        folder.chmod(0o755)


def test_uncheckpointed_wal_content_is_read_from_a_private_copy(tmp_path):
    folder = tmp_path / "live"
    folder.mkdir()
    path = one_g1_run(folder / "live.db")
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute(
        "INSERT INTO test_records (user_id, brand_name, test_date, detailed_results) "
        "VALUES (1, ?, '2025-01-11 00:00:00', ?)",
        (BRAND, dumps([g1_item(brand=BRAND, model="豆包", question=QUESTION, response=ANSWER)])),
    )
    writer.commit()
    try:
        before = fingerprint(folder)
        assert "live.db-wal" in before[0]

        report = import_legacy_file(path)

        assert report.read_from_copy
        assert report.runs_imported == 2
        assert fingerprint(folder) == before
    finally:
        writer.close()


# -- dry run and the command ------------------------------------------------------------------


def test_dry_run_writes_nothing_and_reports_what_it_would_do(tmp_path):
    path = build_g1(tmp_path / "legacy.db")

    dry = import_legacy_file(path, dry_run=True)

    assert dry.dry_run
    assert (dry.runs_imported, dry.users_imported, len(dry.skipped)) == (3, 2, 2)
    assert not TestRecord.objects.exists()
    assert not Answer.objects.exists()
    assert not WeChatAccount.objects.exists()
    assert not get_user_model().objects.exists()
    real = import_legacy_file(path)
    assert [r.execution_id for r in real.imported] == [r.execution_id for r in dry.imported]


def test_command_prints_a_summary(tmp_path):
    out = io.StringIO()
    call_command("import_legacy", str(build_g1(tmp_path / "legacy.db")), stdout=out)

    text = out.getvalue()
    assert "generation G1, 5 test_records rows" in text
    assert "Users: 2 imported, 0 already present" in text
    assert "Runs imported: 3 (2 completed, 1 partial_completed)" in text
    assert "(rows 4)" in text
    assert "row 5: detailed_results: bad JSON" in text
    assert "unknown model 'MysteryBot' kept as platform 'mysterybot' (rows 2)" in text
    assert "Done: imported 3 run(s), skipped 2." in text


def test_command_dry_run_says_nothing_was_saved(tmp_path):
    out = io.StringIO()
    call_command("import_legacy", str(build_g1(tmp_path / "l.db")), "--dry-run", stdout=out)

    assert "Dry run: everything above was rolled back; nothing was saved." in out.getvalue()
    assert "Done: would import 3 run(s)" in out.getvalue()
    assert not TestRecord.objects.exists()


def test_command_include_fixtures_imports_fixture_rows(tmp_path):
    out = io.StringIO()
    call_command(
        "import_legacy", str(build_g1(tmp_path / "l.db")), "--include-fixtures", stdout=out
    )

    assert TestRecord.objects.filter(brand_name="测试品牌").exists()


def test_command_rejects_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_legacy", str(tmp_path / "missing.db"))


def test_command_rejects_a_file_that_is_not_sqlite(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello, not a database " * 100)

    with pytest.raises(CommandError, match="not a readable SQLite database"):
        call_command("import_legacy", str(path))


def test_command_rejects_an_sqlite_file_without_test_records(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE something (id INTEGER)")

    with pytest.raises(CommandError, match="no test_records table"):
        call_command("import_legacy", str(path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_a_legacy_file_error(tmp_path):
    path = one_g1_run(tmp_path / "l.db")
    path.chmod(0o000)
    try:
        with pytest.raises(LegacyFileError, match="not a readable file"):
            import_legacy_file(path)
    finally:
        path.chmod(0o644)


# -- pure functions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("答案", "答案"),
        ('答案\n\n{"geo_analysis": {"rank": 1, "interception": "良子健身"}}', "答案"),
        ('答案\n```json\n{"geo_analysis": {"rank": 1}}\n```\n', "答案"),
        ('答案\n```\n{ "geo_analysis" : {"rank": 1}}\n```', "答案"),
        ('答案\n{"geo_analysis": {"rank": 1, "interception": "良子', "答案"),
        ('答案\n{"geo_analysis": {"rank": 1}}\n希望有帮助', "答案\n\n希望有帮助"),
        ('代码示例 {"name": "华夏良子"} 结束', '代码示例 {"name": "华夏良子"} 结束'),
    ],
)
def test_strip_geo_block(content, expected):
    assert strip_geo_block(content) == expected


@pytest.mark.parametrize(
    ("value", "compressed", "expected"),
    [
        (None, False, None),
        ("", False, None),
        ("  ", False, None),
        ("null", False, None),
        ('"null"', False, None),
        ('{"a": "\\u534e"}', False, {"a": "华"}),
        (b'["\\u534e"]', False, ["华"]),
        (gz({"a": 1}), True, {"a": 1}),
        (gz([1]), False, [1]),
        (memoryview(gz([2])), True, [2]),
        ('"[1, 2]"', False, [1, 2]),
    ],
)
def test_decode_value(value, compressed, expected):
    assert decode_value(value, compressed=compressed) == expected


@pytest.mark.parametrize("value", [b"\x1f\x8bxx", "{bad", b"\xff\xfe"])
def test_decode_value_raises_on_corrupt_values(value):
    with pytest.raises(CorruptValue):
        decode_value(value)
