"""Background tasks (django.tasks); each calls one service."""

from django.tasks import task

from records import services


@task()
def run_brand_test(execution_id: str) -> None:
    """Ask every platform every question of an execution and store the answers."""
    services.run_execution(execution_id=execution_id)
