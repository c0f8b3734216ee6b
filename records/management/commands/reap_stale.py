"""Mark executions whose worker died as failed (worker_lost), keeping their answers."""

from django.conf import settings
from django.core.management.base import BaseCommand

from records import execution


class Command(BaseCommand):
    help = (
        "Mark running executions whose heartbeat is older than a threshold as failed "
        "(error_type=worker_lost). Stored answers are kept; retry re-runs only missing calls."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="SECONDS",
            help="Heartbeat age that counts as lost (default: BRANDTEST_STALE_AFTER, "
            f"now {settings.BRANDTEST_STALE_AFTER}).",
        )

    def handle(self, *args, older_than=None, **options):
        threshold = settings.BRANDTEST_STALE_AFTER if older_than is None else older_than
        if threshold < 0:
            self.stderr.write("--older-than must be 0 or more seconds")
            raise SystemExit(2)
        reaped = execution.reap_stale_executions(older_than_seconds=threshold)
        for execution_id in reaped:
            self.stdout.write(f"reaped {execution_id}")
        self.stdout.write(
            self.style.SUCCESS(f"{len(reaped)} stale execution(s) marked failed (worker_lost).")
        )
