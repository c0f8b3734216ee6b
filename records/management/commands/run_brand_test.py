"""Run one brand test from the command line with a live progress bar."""

import logging
import threading
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from records import execution, services
from records.models import TestRecord

# The service names fields as the API does; errors name this command's options instead.
OPTION_OF_FIELD = {
    "brand": "--brand",
    "competitors": "--competitor",
    "questions": "--question",
    "platforms": "--platform",
    "repeats": "--repeats",
}


class Command(BaseCommand):
    help = (
        "Start a brand test, show its progress and print the summary. It runs in this process "
        "unless --enqueue hands it to the workers. Example: run_brand_test --brand 华夏良子 "
        "--competitor 良子健身 --question 北京中医推拿哪家好？ --platform demo --repeats 2"
    )

    def add_arguments(self, parser):
        parser.add_argument("--brand", required=True, help="The main brand.")
        parser.add_argument(
            "--competitor", action="append", default=[], help="A competitor (repeatable)."
        )
        parser.add_argument(
            "--question",
            action="append",
            default=[],
            help="A buyer question, asked verbatim (repeatable; none: three defaults).",
        )
        parser.add_argument(
            "--platform",
            action="append",
            default=[],
            required=True,
            help="A platform id, e.g. deepseek or demo (repeatable).",
        )
        parser.add_argument("--repeats", type=int, default=None, help="Runs per cell.")
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the run for the workers and watch it instead of running it here.",
        )

    def handle(self, *args, **options):
        if options["verbosity"] < 2:
            # Keep the progress bar readable; the run's log lines are for workers.
            logging.getLogger("records").setLevel(logging.WARNING)
        try:
            data = services.clean_execution_input(
                brand=options["brand"],
                competitors=options["competitor"],
                questions=options["question"],
                platforms=options["platform"],
                repeats=options["repeats"],
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(
                    f"{OPTION_OF_FIELD.get(field, field)}: {' '.join(messages)}"
                    for field, messages in exc.message_dict.items()
                )
            ) from exc

        record = services.start_execution(owner=None, data=data, enqueue=options["enqueue"]).record
        self.stdout.write(f"execution {record.execution_id}: {record.total_tasks} calls")
        runner = None
        if not options["enqueue"]:
            runner = threading.Thread(target=self.run_inline, args=(str(record.execution_id),))
            runner.start()
        try:
            record = self.watch(record)
        except KeyboardInterrupt:
            self.stderr.write("interrupted: cancelling the run")
            record = services.cancel_execution(record=TestRecord.objects.get(pk=record.pk))
        if runner is not None:
            runner.join()
        self.print_summary(TestRecord.objects.get(pk=record.pk))

    @staticmethod
    def run_inline(execution_id: str) -> None:
        try:
            execution.run_execution(execution_id=execution_id)
        finally:
            connection.close()

    def watch(self, record: TestRecord) -> TestRecord:
        with tqdm(total=record.total_tasks, unit="call", file=self.stdout) as bar:
            while True:
                record.refresh_from_db()
                bar.n = record.completed_tasks + record.failed_tasks
                bar.set_postfix_str(
                    f"{record.status}/{record.stage} {record.progress}% "
                    f"failed={record.failed_tasks}"
                )
                if record.is_terminal:
                    return record
                time.sleep(0.2)

    def print_summary(self, record: TestRecord) -> None:
        out = self.stdout
        style = self.style.SUCCESS if record.status == "completed" else self.style.WARNING
        out.write(style(f"\n{record.brand_name}: {record.status}"))
        out.write(
            f"  answers: {record.completed_tasks} succeeded, {record.failed_tasks} failed, "
            f"{record.total_tasks} planned"
        )
        if record.error:
            out.write(f"  error: {record.error}")
        summary = record.results_summary or {}
        for platform, counts in summary.get("platforms", {}).items():
            out.write(
                f"  {platform}: {counts.get('succeeded', 0)} ok, {counts.get('failed', 0)} failed"
            )
        if record.overall_score is not None:
            out.write(f"  overall visibility score: {record.overall_score:.1f}")
        out.write(f"  execution id: {record.execution_id}")
