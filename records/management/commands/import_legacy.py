"""Import runs and users from a legacy (Flask + SQLite) brand-test database."""

from django.core.management.base import BaseCommand, CommandError

from records.legacy.importer import LegacyFileError, import_legacy_file


class Command(BaseCommand):
    help = (
        "Import users and brand-test runs from a legacy SQLite database (both schema "
        "generations). The file is opened read-only and never modified. Idempotent: rows "
        "imported before are skipped. Every imported run is re-analysed and scored."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The legacy SQLite file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Do the whole import, report it, then roll it back.",
        )
        parser.add_argument(
            "--include-fixtures",
            action="store_true",
            help="Also import rows whose items carry no answers (test fixtures).",
        )

    def handle(self, *args, path, dry_run, include_fixtures, verbosity, **options):
        try:
            report = import_legacy_file(path, dry_run=dry_run, include_fixtures=include_fixtures)
        except LegacyFileError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines(verbose=verbosity >= 2):
            self.stdout.write(line)
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {verb} {report.runs_imported} run(s), skipped {len(report.skipped)}."
            )
        )
