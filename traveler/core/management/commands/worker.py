from django.core.management.base import BaseCommand

from traveler.core.queue import work


class Command(BaseCommand):
    help = "Run the background job worker (PostgreSQL queue, periodic jobs, event delivery)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run what is due, then exit.")
        parser.add_argument("--poll", type=float, default=None, help="Seconds between polls when idle.")

    def handle(self, *args, once=False, poll=None, **options):
        try:
            work(once=once, poll=poll)
        except KeyboardInterrupt:
            pass
