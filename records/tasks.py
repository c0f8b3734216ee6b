"""Background tasks (django.tasks); each calls one function of the worker side."""

from django.conf import settings
from django.tasks import task

from records import execution


# The task keeps its name (and so its import path, records.tasks.run_brand_test): queued tasks
# stored by the database backend name it, and a deploy must still run them.
@task()
def run_brand_test(execution_id: str) -> None:
    """Ask every platform every question of an execution and store the answers. A worker told
    to stop hands the run back; it is queued again here, for the next worker to resume."""
    if execution.run_execution(execution_id=execution_id):
        run_brand_test.enqueue(execution_id)


def resume_lost_executions(*, older_than_seconds: int) -> dict[str, list[str]]:
    """The reaper pass: resume (enqueue again) the runs whose worker vanished, and fail as
    worker_lost those already resumed BRANDTEST_MAX_RESUMES times."""
    swept = execution.reap_stale_executions(
        older_than_seconds=older_than_seconds, max_resumes=settings.BRANDTEST_MAX_RESUMES
    )
    for execution_id in swept["resumed"]:
        run_brand_test.enqueue(execution_id)
    return swept
