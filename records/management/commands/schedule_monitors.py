"""Run the monitor scheduler: one tick (--once, for cron or by hand), or tick forever."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from records import monitoring


class Command(BaseCommand):
    help = (
        "Start the runs of due monitors (claimed with a conditional UPDATE, so it is safe beside "
        "workers, which tick the same scheduler). --once does one tick and prints what it "
        "started and skipped; without it, it ticks every BRANDTEST_SCHEDULER_INTERVAL seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one tick, then exit.")

    def handle(self, *args, once=False, **options):
        if settings.BRANDTEST_SCHEDULER_INTERVAL < 1:
            raise CommandError("BRANDTEST_SCHEDULER_INTERVAL must be at least 1 second.")
        while True:
            self.report(monitoring.tick())
            if once:
                return
            close_old_connections()
            time.sleep(settings.BRANDTEST_SCHEDULER_INTERVAL)

    def report(self, result: monitoring.TickResult) -> None:
        for monitor_id, period, execution_id in result.started:
            self.stdout.write(
                f"started monitor {monitor_id} period {period:%Y-%m-%dT%H:%MZ}: {execution_id}"
            )
        for monitor_id, period, reason in result.skipped:
            self.stdout.write(
                f"skipped monitor {monitor_id} period {period:%Y-%m-%dT%H:%MZ}: {reason}"
            )
        if not result.started and not result.skipped:
            self.stdout.write("no monitor due")
