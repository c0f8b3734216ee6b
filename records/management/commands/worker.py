"""Run a background worker for the configured task backend, reaping lost runs first."""

import logging
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from records import execution, monitoring

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run a worker for TASK_BACKEND (db: django-tasks-db's db_worker; rq: an RQ worker with "
        "the django-tasks-rq job class). At start-up, and then every half BRANDTEST_STALE_AFTER, "
        "it marks executions whose worker died as failed (worker_lost). Every "
        "BRANDTEST_SCHEDULER_INTERVAL seconds it ticks the monitor scheduler (any number of "
        "workers may: a period is claimed by one conditional UPDATE)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run the tasks already queued, then exit (db_worker --batch / rqworker --burst).",
        )
        parser.add_argument("--queue", default="default", help="Queue to work (default: default).")

    def handle(self, *args, batch=False, queue="default", **options):
        self.reap()
        if not batch:
            threading.Thread(target=self.reap_periodically, name="reaper", daemon=True).start()
            # A thread, not between jobs: db_worker and rqworker own the main loop, and a long
            # execution must not delay the schedule. Same thread on both backends.
            threading.Thread(
                target=self.schedule_periodically, name="scheduler", daemon=True
            ).start()
        backend = settings.TASK_BACKEND
        self.stdout.write(f"worker: backend={backend} queue={queue}")
        if backend == "rq":
            call_command(
                "rqworker",
                queue,
                job_class="django_tasks_rq.Job",
                burst=batch,
                with_scheduler=False,
            )
        elif backend == "db":
            db_args = ["--queue-name", queue, "--no-reload"]
            call_command("db_worker", *db_args, *(["--batch"] if batch else []))
        else:
            self.stderr.write(f"TASK_BACKEND={backend} runs tasks in-process; no worker needed.")

    def reap(self) -> None:
        reaped = execution.reap_stale_executions(older_than_seconds=settings.BRANDTEST_STALE_AFTER)
        if reaped:
            self.stdout.write(f"reaped {len(reaped)} lost execution(s): {', '.join(reaped)}")

    def reap_periodically(self) -> None:
        interval = max(5, settings.BRANDTEST_STALE_AFTER // 2)
        while threading.main_thread().is_alive():
            threading.Event().wait(interval)
            try:
                self.reap()
            except Exception:  # a failed sweep must not kill the worker; the next one retries
                logger.exception("periodic reap failed")
            finally:
                close_old_connections()

    def schedule_periodically(self) -> None:
        interval = max(1, settings.BRANDTEST_SCHEDULER_INTERVAL)
        while threading.main_thread().is_alive():
            try:
                result = monitoring.tick()
                for monitor_id, period, execution_id in result.started:
                    self.stdout.write(
                        f"scheduler: monitor {monitor_id} {period:%Y-%m-%d %H:%M} -> {execution_id}"
                    )
                for monitor_id, period, reason in result.skipped:
                    self.stdout.write(
                        f"scheduler: monitor {monitor_id} {period:%Y-%m-%d %H:%M} skipped: {reason}"
                    )
            except Exception:  # a failed tick must not kill the worker; the next one retries
                logger.exception("scheduler tick failed")
            finally:
                close_old_connections()
            threading.Event().wait(interval)
