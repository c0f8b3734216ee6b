"""Send the weekly digests that are due (the worker also does this with each scheduler tick)."""

from django.core.management.base import BaseCommand

from records import digests


class Command(BaseCommand):
    help = (
        "E-mail last week's digest of every monitor with weekly_digest on, once per monitor "
        "and week (a second run sends nothing), through the configured e-mail backend. "
        "Prints what was sent, skipped and failed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--monitor", type=int, action="append", dest="monitors", help="Only this monitor id."
        )

    def handle(self, *args, monitors=None, **options):
        result = digests.send_due_digests(monitor_ids=monitors)
        for monitor_id, week, to in result.sent:
            self.stdout.write(f"sent monitor {monitor_id} week of {week}: to {to}")
        for monitor_id, week, why in result.skipped:
            self.stdout.write(f"skipped monitor {monitor_id} week of {week}: {why}")
        for monitor_id, week, error in result.failed:
            self.stderr.write(f"failed monitor {monitor_id} week of {week}: {error}")
        if not (result.sent or result.skipped or result.failed):
            self.stdout.write("no digest due")
