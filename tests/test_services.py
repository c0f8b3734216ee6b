"""The lifecycle rules: start, record an answer, finish, cancel."""

import pytest
from django.core.exceptions import ValidationError
from django_tasks_db.models import DBTaskResult

from records import execution, services
from records.engine.base import PlatformError, Reply
from records.engine.plan import plan_calls
from records.models import Answer, Stage, Status, TestRecord

pytestmark = pytest.mark.django_db


def start(**overrides) -> TestRecord:
    data = {
        "brand": "华夏良子",
        "competitors": ["良子健身", "足疗大师"],
        "questions": ["北京中医推拿哪家好？"],
        "platforms": ["demo"],
        "repeats": 2,
    } | overrides
    return services.start_execution(owner=None, data=services.clean_execution_input(**data)).record


def first_call(record: TestRecord, index: int = 0):
    return plan_calls(
        record.questions,
        record.brand_name,
        record.competitor_brands,
        record.platforms,
        record.repeats,
    )[index]


def test_start_stores_a_queued_record_and_enqueues_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record = start()
    assert len(callbacks) == 1
    record.refresh_from_db()
    assert (record.status, record.stage, record.progress) == ("queued", "init", 0)
    assert record.total_tasks == 2
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [str(record.execution_id)]


def test_nothing_is_enqueued_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        start()
    # Captured, not executed: the enqueue is bound to the commit, never run inline.
    assert len(callbacks) == 1
    assert DBTaskResult.objects.count() == 0


def test_brand_placeholder_questions_are_asked_once_per_brand():
    record = start(questions=["{brandName}怎么样？", "推拿哪家好？"], repeats=1)
    assert record.total_tasks == 4
    texts = [c.question.text for c in execution.pending_calls(record)]
    assert texts == ["华夏良子怎么样？", "良子健身怎么样？", "足疗大师怎么样？", "推拿哪家好？"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("brand", "  ", "required"),
        ("brand", "x" * 101, "at most 100"),
        ("platforms", ["nosuch"], "Unknown platform 'nosuch'"),
        ("platforms", ["deepseek"], "not configured"),
        ("platforms", [], "required"),
        ("questions", ["?"], "2-500"),
        ("questions", ["问题一？"] * 6, "At most 5"),
        ("repeats", 0, "between 1 and"),
    ],
)
def test_invalid_input_names_the_field(field, value, message):
    with pytest.raises(ValidationError) as excinfo:
        start(**{field: value})
    errors = excinfo.value.message_dict
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert TestRecord.objects.count() == 0


def test_missing_questions_use_the_three_default_questions():
    record = start(questions=[], repeats=1)
    assert record.questions == [
        "{brandName}的核心竞争优势是什么？",
        "{brandName}在目标用户群体中的认知度如何？",
        "{brandName}与竞品的主要差异化体现在哪里？",
    ]
    assert record.total_tasks == 9


def test_platform_display_names_are_normalised():
    record = start(platforms=["Demo", "demo"])
    assert record.platforms == ["demo"]


def test_record_answer_advances_progress_in_one_update():
    record = start()
    assert execution.claim_execution(execution_id=record.execution_id)
    assert execution.record_answer(
        execution_id=record.execution_id,
        call=first_call(record),
        reply=Reply(text="1. 华夏良子"),
        error=None,
    )
    record.refresh_from_db()
    assert (record.completed_tasks, record.failed_tasks, record.progress) == (1, 0, 47)
    assert record.version == 3
    assert Answer.objects.get().text == "1. 华夏良子"


def test_failed_call_counts_as_failed_with_its_error_type():
    record = start()
    execution.claim_execution(execution_id=record.execution_id)
    error = PlatformError("quota_exhausted", "Insufficient Balance")
    execution.record_answer(
        execution_id=record.execution_id, call=first_call(record), reply=None, error=error
    )
    record.refresh_from_db()
    assert (record.completed_tasks, record.failed_tasks) == (0, 1)
    answer = Answer.objects.get()
    assert (answer.status, answer.error_type) == ("failed", "quota_exhausted")


def test_a_duplicate_answer_for_the_same_cell_is_not_counted_twice():
    record = start()
    execution.claim_execution(execution_id=record.execution_id)
    call = first_call(record)
    execution.record_answer(
        execution_id=record.execution_id, call=call, reply=Reply(text="a"), error=None
    )
    execution.record_answer(
        execution_id=record.execution_id, call=call, reply=Reply(text="b"), error=None
    )
    record.refresh_from_db()
    assert record.completed_tasks == 1
    assert Answer.objects.get().text == "a"


def test_late_progress_write_after_cancel_changes_nothing():
    record = start()
    execution.claim_execution(execution_id=record.execution_id)
    services.cancel_execution(record=record)
    before = TestRecord.objects.values().get(pk=record.pk)

    still_active = execution.record_answer(
        execution_id=record.execution_id,
        call=first_call(record),
        reply=Reply(text="late"),
        error=None,
    )

    assert still_active is False
    assert TestRecord.objects.values().get(pk=record.pk) == before
    assert before["status"] == "cancelled" and before["progress"] == 100


def test_late_progress_write_after_finish_changes_nothing():
    record = start(repeats=1)
    execution.claim_execution(execution_id=record.execution_id)
    call = first_call(record)
    execution.record_answer(
        execution_id=record.execution_id, call=call, reply=Reply(text="1. 华夏良子"), error=None
    )
    execution.finish_execution(execution_id=record.execution_id)
    before = TestRecord.objects.values().get(pk=record.pk)
    assert before["status"] == "completed"

    assert not execution.record_answer(
        execution_id=record.execution_id,
        call=first_call(record),
        reply=Reply(text="late"),
        error=None,
    )
    assert execution.finish_execution(execution_id=record.execution_id) is None
    assert not execution.heartbeat(execution_id=record.execution_id)
    with pytest.raises(services.InvalidTransition):
        services.cancel_execution(record=record)
    assert TestRecord.objects.values().get(pk=record.pk) == before


def test_progress_is_monotonic_and_100_only_when_terminal():
    record = start(repeats=3, questions=["推拿哪家好？", "足疗哪家好？"])
    execution.claim_execution(execution_id=record.execution_id)
    seen = []
    for call in execution.pending_calls(record):
        execution.record_answer(
            execution_id=record.execution_id, call=call, reply=Reply(text="x"), error=None
        )
        record.refresh_from_db()
        seen.append(record.progress)
    assert seen == sorted(seen) and seen[-1] < 100
    execution.finish_execution(execution_id=record.execution_id)
    record.refresh_from_db()
    assert (record.status, record.stage, record.progress) == ("completed", "completed", 100)


def test_run_with_some_failures_ends_partial_with_an_actionable_error():
    record = start(repeats=2)
    execution.claim_execution(execution_id=record.execution_id)
    ok, bad = execution.pending_calls(record)
    execution.record_answer(
        execution_id=record.execution_id, call=ok, reply=Reply(text="1. 华夏良子"), error=None
    )
    execution.record_answer(
        execution_id=record.execution_id,
        call=bad,
        reply=None,
        error=PlatformError("timeout", "read timeout"),
    )
    record = execution.finish_execution(execution_id=record.execution_id)
    assert record.status == Status.PARTIAL_COMPLETED
    assert record.error_type == "timeout"
    assert record.error.startswith("demo: timed out")


def test_run_with_no_success_ends_failed():
    record = start(repeats=1)
    execution.claim_execution(execution_id=record.execution_id)
    execution.record_answer(
        execution_id=record.execution_id,
        call=first_call(record),
        reply=None,
        error=PlatformError("auth_failed", "401"),
    )
    record = execution.finish_execution(execution_id=record.execution_id)
    assert (record.status, record.stage, record.progress) == ("failed", Stage.FAILED, 100)
    assert "authentication failed" in record.error


def test_worker_runs_a_demo_execution_to_completion(django_capture_on_commit_callbacks, run_worker):
    with django_capture_on_commit_callbacks(execute=True):
        record = start(repeats=2, questions=["推拿哪家好？", "{brandName}怎么样？"])
    run_worker()
    record.refresh_from_db()
    assert record.status == "completed"
    assert record.completed_tasks == record.total_tasks == 8
    assert record.answers.count() == 8
    assert all(a.synthetic and a.model_name == "demo-synthetic-1" for a in record.answers.all())
    assert record.result_document.size > 0
    assert record.results_summary["succeeded"] == 8


def test_claim_lets_only_one_worker_run_an_execution():
    record = start()
    assert execution.claim_execution(execution_id=record.execution_id)
    assert not execution.claim_execution(execution_id=record.execution_id)
