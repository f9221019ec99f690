from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from traveler.core.models.history import History
from traveler.core.services.audit import audit_verify, history_count


class Command(BaseCommand):
    help = "Check the audit trail: exits non-zero when any history row was changed, removed or inserted out of band."

    def handle(self, *args, **options):
        if History._meta.db_table not in connection.introspection.table_names():
            raise CommandError("this database has no audit trail yet: it was never migrated. "
                               "Run `./dev manage migrate` (or `./dev demo`) first.")
        problems = audit_verify()
        total = history_count()
        if problems:
            for p in problems:
                self.stderr.write(str(p))
            raise CommandError(f"audit trail verification FAILED: {len(problems)} problem(s) in {total} history rows")
        self.stdout.write(f"audit trail verified: {total} history rows, no problems")
