from django.core.management.base import BaseCommand, CommandError

from traveler.core.models import Tenant
from traveler.core.tenancy import tenant_context
from traveler.mes_full.services.sampling import sampling_replay
from traveler.mes_lite.models import WorkOrder


class Command(BaseCommand):
    help = ("Recompute every sampling decision logged for a work order from its recorded inputs and its rule "
            "set's version: exits non-zero when a decision (or the analytics) differs from the log.")

    def add_arguments(self, parser):
        parser.add_argument("work_order", help="the work order's number")
        parser.add_argument("--tenant", help="slug of the tenant (needed when several have this number)")

    def handle(self, *args, work_order, tenant=None, **options):
        found = WorkOrder.unscoped.filter(number=work_order)
        if tenant:
            t = Tenant.objects.filter(slug=tenant).first()
            if t is None:
                raise CommandError(f"No tenant with slug {tenant!r}.")
            found = found.filter(tenant=t)
        orders = list(found.select_related("tenant")[:10])
        if not orders:
            raise CommandError(f"No work order {work_order!r}{f' in {tenant}' if tenant else ''}.")
        if len(orders) > 1:
            slugs = ", ".join(o.tenant.slug for o in orders)
            raise CommandError(f"Work order {work_order!r} exists in several tenants ({slugs}): give --tenant.")
        wo = orders[0]
        with tenant_context(wo.tenant, actor=None):
            result = sampling_replay(work_order=wo)
        if not result.ok:
            for line in result.lines():
                self.stderr.write(line)
            raise CommandError(f"sampling replay of {wo.number} FAILED: {len(result.differences)} of {result.count} "
                               f"decisions differ" + (", and the analytics do not add up" if result.analytics else ""))
        self.stdout.write(f"sampling replay of {wo.number}: {result.count} decisions recomputed, all agree")
