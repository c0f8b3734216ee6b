"""Background tasks (django.tasks); each calls one function of the worker side."""

from django.tasks import task

from records import execution


# The task keeps its name (and so its import path, records.tasks.run_brand_test): queued tasks
# stored by the database backend name it, and a deploy must still run them.
@task()
def run_brand_test(execution_id: str) -> None:
    """Ask every platform every question of an execution and store the answers."""
    execution.run_execution(execution_id=execution_id)
