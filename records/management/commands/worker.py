"""Run a background worker for the configured task backend, resuming lost runs first.

A stop signal (SIGTERM, SIGINT) while a run is in progress does not wait for the run: the run
starts no new call, its calls in flight get up to BRANDTEST_SHUTDOWN_GRACE seconds, what
returned is stored, and the run is handed back to the queue for the next worker, which asks only
the calls still without an answer. A second signal (a second or more later) abandons the calls
in flight at once; the run is still handed back.
"""

import logging
import os
import signal
import sys
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands import db_worker
from rq import Worker as RQWorker

from records import digests, execution, monitoring, tasks

logger = logging.getLogger(__name__)


class DBWorker(db_worker.Worker):
    """django-tasks-db's worker loop; a stop signal during a task hands its run back instead of
    letting the whole run finish (or, on a second signal, killing it where it stands)."""

    first_signal_at: float | None = None

    def shutdown(self, signum, frame):
        if not self.running_task:
            super().shutdown(signum, frame)  # idle: exits at once
            return
        self.running = False  # no next task
        now = time.monotonic()
        if self.first_signal_at is None:
            self.first_signal_at = now
            logger.warning(
                "Received %s: handing the current run back once its calls in flight return "
                "(at most %s s; signal again to abandon them)",
                signal.strsignal(signum),
                settings.BRANDTEST_SHUTDOWN_GRACE,
            )
            execution.request_shutdown()
        elif now - self.first_signal_at >= 1:  # Ctrl-C plus a supervisor's TERM is one request
            logger.warning("Received %s again: abandoning the calls in flight", signum)
            execution.request_shutdown(force=True)


class GracefulRQWorker(RQWorker):
    """An RQ worker whose warm shutdown does not wait for the run: the parent forwards SIGTERM to
    its work-horse, and the horse (running the task) hands the run back and exits.

    A SIGTERM sent to the horse alone does the same. A second signal to the parent is RQ's cold
    shutdown (it SIGKILLs the horse); that run, like one whose horse or machine died, is resumed
    by the next reaper pass.
    """

    def handle_warm_shutdown_request(self):
        super().handle_warm_shutdown_request()
        if self.horse_pid:
            try:
                os.kill(self.horse_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def setup_work_horse_signals(self):
        super().setup_work_horse_signals()
        signal.signal(signal.SIGTERM, lambda signum, frame: execution.request_shutdown())


class Command(BaseCommand):
    help = (
        "Run a worker for TASK_BACKEND (db: django-tasks-db's worker loop; rq: an RQ worker with "
        "the django-tasks-rq job class). At start-up, and then every half BRANDTEST_STALE_AFTER, "
        "it resumes executions whose worker vanished (failing them as worker_lost after "
        "BRANDTEST_MAX_RESUMES resumes). SIGTERM hands the run in progress back to the queue "
        "within BRANDTEST_SHUTDOWN_GRACE seconds. Every BRANDTEST_SCHEDULER_INTERVAL seconds it "
        "ticks the monitor scheduler (any number of workers may: a period is claimed by one "
        "conditional UPDATE) and sends the weekly monitor digests that are due."
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
                worker_class=f"{__name__}.GracefulRQWorker",
                burst=batch,
                # Deferred tasks (a webhook's next attempt, run_after) wait in RQ's scheduled
                # registry; one worker's scheduler (RQ takes a lock per queue) moves them on time.
                with_scheduler=True,
            )
        elif backend == "db":
            db_worker.Command().configure_logging(options.get("verbosity", 1))
            worker = DBWorker(
                queue_names=[queue],
                interval=1,
                batch=batch,
                backend_name="default",
                startup_delay=not batch,
                max_tasks=None,
                worker_id=get_random_string(32),
                excluded_queue_names=[],
            )
            worker.configure_signals()
            worker.run()
            if execution.shutdown_requested():
                # Calls abandoned after the grace period may still hold engine threads, which
                # the interpreter would join at exit; everything worth keeping is committed.
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(0)
        else:
            self.stderr.write(f"TASK_BACKEND={backend} runs tasks in-process; no worker needed.")

    def reap(self) -> None:
        swept = tasks.resume_lost_executions(older_than_seconds=settings.BRANDTEST_STALE_AFTER)
        if swept["resumed"]:
            self.stdout.write(
                f"resumed {len(swept['resumed'])} lost execution(s): {', '.join(swept['resumed'])}"
            )
        if swept["failed"]:
            self.stdout.write(
                f"failed {len(swept['failed'])} execution(s) lost too often: "
                f"{', '.join(swept['failed'])}"
            )

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
                sent = digests.send_due_digests()
                for monitor_id, week, to in sent.sent:
                    self.stdout.write(f"digest: monitor {monitor_id} week of {week} sent to {to}")
            except Exception:  # a failed tick must not kill the worker; the next one retries
                logger.exception("scheduler tick failed")
            finally:
                close_old_connections()
            threading.Event().wait(interval)
