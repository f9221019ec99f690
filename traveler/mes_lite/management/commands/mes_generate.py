import time

from django.core.management.base import BaseCommand, CommandError

from traveler.core.models import Tenant
from traveler.core.tenancy import tenant_context
from traveler.mes_lite.demo import MAX_WORK_ORDER, PROFILES, production_generate

MAX_PARTS = 10_000_000


class Command(BaseCommand):
    help = ("Generate a large, realistic MES data set in a tenant (for benchmarks): orders of injectors in work "
            f"orders of up to {MAX_WORK_ORDER:,} parts, moved along the injector line by the bulk services.")

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="slug of the tenant to fill")
        parser.add_argument("--parts", type=int, required=True, help="number of parts to create in all")
        parser.add_argument("--orders", type=int, help=f"number of orders (default: one per {2 * MAX_WORK_ORDER:,} parts)")
        parser.add_argument("--seed", type=int, default=1, help="random seed of the measurement values (default 1)")
        parser.add_argument("--profile", choices=sorted(PROFILES),
                            help="where the parts are on the route (default: a different mix per work order)")

    def handle(self, *args, tenant, parts, orders, seed, profile, **options):
        if not 1 <= parts <= MAX_PARTS:
            raise CommandError(f"--parts must be between 1 and {MAX_PARTS:,}, not {parts}.")
        if orders is not None and not 1 <= orders <= parts:
            raise CommandError(f"--orders must be between 1 and the number of parts ({parts:,}), not {orders}.")
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            known = ", ".join(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:20]) or "none"
            raise CommandError(f"No tenant with slug {tenant!r} (tenants: {known}).")
        start = time.perf_counter()

        def progress(message: str) -> None:
            self.stdout.write(f"[{time.perf_counter() - start:7.1f} s] {message}")
            self.stdout.flush()

        # Each service call commits on its own: an interrupted run keeps what it finished, and the
        # next run numbers its orders after those.
        with tenant_context(found, actor=None):
            made = production_generate(parts=parts, orders=orders, seed=seed, profile=profile, progress=progress)
        took = time.perf_counter() - start
        self.stdout.write(self.style.SUCCESS(
            f"Created {parts:,} parts in {len(made)} order(s) ({made[0].number} … {made[-1].number}) in {took:.1f} s "
            f"({parts / took:,.0f} parts/s)."))
