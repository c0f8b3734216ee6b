"""Resume executions whose worker vanished; fail those lost too often (worker_lost)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from records import tasks


class Command(BaseCommand):
    help = (
        "Hand running executions whose heartbeat is older than a threshold back to the queue, "
        "so a worker resumes them (asking only the calls without an answer); once resumed "
        "BRANDTEST_MAX_RESUMES times, mark them failed (error_type=worker_lost) instead. "
        "Stored answers are always kept."
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
            raise CommandError("--older-than must be 0 or more seconds")
        swept = tasks.resume_lost_executions(older_than_seconds=threshold)
        for execution_id in swept["resumed"]:
            self.stdout.write(f"resumed {execution_id}")
        for execution_id in swept["failed"]:
            self.stdout.write(f"reaped {execution_id}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(swept['resumed'])} lost execution(s) resumed, "
                f"{len(swept['failed'])} marked failed (worker_lost)."
            )
        )
