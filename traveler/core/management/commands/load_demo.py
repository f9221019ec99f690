from django.core.management.base import BaseCommand

from traveler.core.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo data (two tenants, a user in every role). Safe to run again."

    def handle(self, *args, **options):
        logins = load_demo()
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for tenant, email, role in logins:
            self.stdout.write(f"  {tenant:<16} {role:<28} {email}")
