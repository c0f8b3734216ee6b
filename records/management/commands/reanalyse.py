"""Recompute analysis, scores and reports from stored answers, without calling any platform."""

import uuid

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from records import services
from records.analysis import SCORING_VERSION
from records.models import TERMINAL_STATUSES, TestRecord


class Command(BaseCommand):
    help = (
        "Re-analyse ended executions from their stored answer text (after the analysers or the "
        "scoring changed): answers' analysis, brand scores and the results document. No "
        "platform is called. Name executions by id, or use --all."
    )

    def add_arguments(self, parser):
        parser.add_argument("execution_ids", nargs="*", metavar="EXECUTION_ID")
        parser.add_argument(
            "--all", action="store_true", dest="every", help="Every ended execution."
        )
        parser.add_argument(
            "--outdated",
            action="store_true",
            help="Only ended executions scored with an older scoring version.",
        )

    def handle(self, *args, execution_ids=(), every=False, outdated=False, **options):
        # The service locks and re-reads each row; it needs only the key and the status here.
        records = TestRecord.objects.filter(status__in=TERMINAL_STATUSES).only("pk", "status")
        if execution_ids:
            try:
                ids = [uuid.UUID(value) for value in execution_ids]
            except ValueError as exc:
                raise CommandError(f"Not an execution id: {exc}") from exc
            records = records.filter(execution_id__in=ids)
            missing = len(ids) - records.count()
            if missing:
                self.stderr.write(f"{missing} id(s) not found or not ended; skipped.")
        elif not (every or outdated):
            raise CommandError("Name execution ids, or pass --all or --outdated.")
        if outdated:
            records = records.exclude(scoring_version=SCORING_VERSION)
        done = 0
        for record in tqdm(
            records.iterator(chunk_size=200),
            total=records.count(),
            unit="run",
            file=self.stdout,
            disable=options["verbosity"] < 1,
        ):
            services.reanalyse_execution(record=record)
            done += 1
        self.stdout.write(self.style.SUCCESS(f"Re-analysed {done} execution(s)."))
