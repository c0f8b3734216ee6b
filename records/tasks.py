"""Background tasks (django.tasks); each calls one function of the worker side."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import transaction
from django.tasks import default_task_backend, task

from records import alerts, execution
from records.models import TestRecord


# The task keeps its name (and so its import path, records.tasks.run_brand_test): queued tasks
# stored by the database backend name it, and a deploy must still run them.
@task()
def run_brand_test(execution_id: str) -> None:
    """Ask every platform every question of an execution and store the answers. A worker told
    to stop hands the run back; it is queued again here, for the next worker to resume. A run
    that ended (even on a crash) has its alert rules evaluated by a task of its own, so alerts
    never hold up or fail the run."""
    try:
        handed_back = execution.run_execution(execution_id=execution_id)
    except Exception:
        _evaluate_later(execution_id)  # the run ended failed (internal)
        raise
    if handed_back:
        run_brand_test.enqueue(execution_id)
    else:
        _evaluate_later(execution_id)


def _evaluate_later(execution_id: str) -> None:
    # Only monitor runs have alert rules; a one-off test queues nothing more.
    if TestRecord.objects.filter(execution_id=execution_id, monitor__isnull=False).exists():
        evaluate_alerts.enqueue(str(execution_id))


@task()
def evaluate_alerts(execution_id: str) -> int:
    """Evaluate a monitor run's alert rules and send what is new; returns the alerts added."""
    found = alerts.evaluate_execution(execution_id=execution_id)
    notify(found)
    return len(found.alerts)


@task()
def deliver_webhook(delivery_id: int) -> str | None:
    """One webhook attempt; a failed one enqueues the next, deferred by the backoff."""
    attempted = alerts.attempt_delivery(delivery_id)
    if attempted is None:
        return None
    if attempted.retry_id is not None:
        _enqueue_delivery(attempted.retry_id, attempted.retry_at)
    return attempted.state


@task()
def send_alert_email(alert_ids: list[int]) -> int:
    """The one e-mail of a batch of alerts."""
    return alerts.send_alert_email(alert_ids)


def _enqueue_delivery(delivery_id: int, run_after=None) -> None:
    if run_after is not None and default_task_backend.supports_defer:
        deliver_webhook.using(run_after=run_after).enqueue(delivery_id)
    else:
        deliver_webhook.enqueue(delivery_id)


def _send(found: alerts.Notifications) -> None:
    for delivery_id in found.deliveries:
        _enqueue_delivery(delivery_id)
    if found.email:
        send_alert_email.enqueue(found.email)


def notify(found: alerts.Notifications) -> None:
    """Enqueue the deliveries and e-mail of new alerts once the transaction that wrote them
    commits (at once outside one)."""
    if found.deliveries or found.email:
        transaction.on_commit(partial(_send, found))


def alert_skipped_run(*, monitor, scheduled_for, reason: str) -> int:
    """The scheduler skipped a period (budget): raise and send its run_problem alert."""
    found = alerts.record_skipped_run(monitor=monitor, scheduled_for=scheduled_for, reason=reason)
    notify(found)
    return len(found.alerts)


def resume_lost_executions(*, older_than_seconds: int) -> dict[str, list[str]]:
    """The reaper pass: resume (enqueue again) the runs whose worker vanished, and fail as
    worker_lost those already resumed BRANDTEST_MAX_RESUMES times (their alerts evaluated)."""
    swept = execution.reap_stale_executions(
        older_than_seconds=older_than_seconds, max_resumes=settings.BRANDTEST_MAX_RESUMES
    )
    for execution_id in swept["resumed"]:
        run_brand_test.enqueue(execution_id)
    for execution_id in swept["failed"]:
        _evaluate_later(execution_id)
    return swept
