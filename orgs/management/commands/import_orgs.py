"""`manage.py import_orgs orgs.csv`: create organizations from CSV, all rows or none."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orgs import services


class Command(BaseCommand):
    help = (
        "Create organizations from a CSV file with a header: name, president_email, and any "
        f"of {', '.join(services.IMPORT_COLUMNS)}. Any bad row imports none of them."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--pending", action="store_true", help="Leave them waiting for approval."
        )

    def handle(self, *args, path: Path, pending: bool, **options):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        result = services.organizations_import_csv(text=text, approve=not pending)
        if result.errors:
            raise CommandError("Nothing imported:\n" + "\n".join(result.errors))
        self.stdout.write(f"Imported {len(result.created)} organizations.")
