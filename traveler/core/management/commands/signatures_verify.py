from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from traveler.core.services.signatures import signatures_verify


class Command(BaseCommand):
    help = ("Recompute every electronic signature's hashes: exits non-zero when a signature, or the record "
            "content it signed, was changed, removed or inserted out of band.")

    def handle(self, *args, **options):
        if "core_signature" not in connection.introspection.table_names():
            raise CommandError("this database has no signatures table: it was never migrated. "
                               "Run `./dev manage migrate` (or `./dev demo`) first.")
        count, problems = signatures_verify()
        if problems:
            for p in problems:
                self.stderr.write(str(p))
            raise CommandError(f"signature verification FAILED: {len(problems)} problem(s) in {count} signatures")
        self.stdout.write(f"signatures verified: {count} signatures, no problems")
