"""Create the demo monitor with weeks of synthetic daily history (idempotent)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from records import seeding


class Command(BaseCommand):
    help = (
        "Create a demo monitor on the offline demo platform (labelled synthetic) with a run for "
        "each of its last --days daily periods, so the admin monitor page and the trend API show "
        "a moving trend. Running it again adds only the periods still missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=seeding.DEMO_DAYS, help="Daily periods of history."
        )

    def handle(self, *args, days, **options):
        if not 1 <= days <= 366:
            raise CommandError("--days must be between 1 and 366")
        # The demo adapter's simulated latency is for watching a run live; history needs none
        # (42 days: ~13 s instead of ~75 s). This process only seeds.
        settings.BRANDTEST_DEMO_LATENCY_MS = 0
        began = time.monotonic()
        result = seeding.seed_demo_monitor(days=days)
        monitor = result.monitor
        verb = "created" if result.created else "already there"
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo monitor {monitor.pk} ({monitor.name}) {verb}; {result.runs_added} run(s) "
                f"added in {time.monotonic() - began:.1f} s."
            )
        )
        self.stdout.write(
            f"  Charts: {reverse('admin:records_monitor_page', args=[monitor.pk])}"
            f"   Trend API: /api/v1/monitors/{monitor.pk}/trend/ (staff)"
        )
