"""Demo data of the platform: two tenants, a user in every role, customer companies.

Modules add their own demo data by registering a loader with ``demo_loader``; ``load_demo``
runs them after the platform's, inside each demo tenant.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from traveler.core.models import Company, Membership, Tenant, User
from traveler.core.roles import SEEDED_ROLES
from traveler.core.services.companies import company_create
from traveler.core.services.tenants import tenant_create
from traveler.core.services.users import member_add
from traveler.core.tenancy import tenant_context

DEMO_PASSWORD = "traveler-demo-2026"
DEMO_TENANTS = (
    ("acme", "Acme Injector Works", ("Northwind Diesel", "Bluewater Marine", "Ridgeline Rail")),
    ("kestrel", "Kestrel Aerospace Components", ("Falcon Avionics", "Harbor Defense Systems")),
)
_loaders: list[Callable[[Tenant], None]] = []


def demo_loader(func: Callable[[Tenant], None]) -> Callable[[Tenant], None]:
    """Register a module's demo-data loader: ``func(tenant)``, run inside that tenant; idempotent."""
    _loaders.append(func)
    return func


def load_demo() -> list[tuple[str, str, str]]:
    """Create (or reuse) the demo tenants and users. Returns (tenant, email, role) rows."""
    logins: list[tuple[str, str, str]] = []
    for slug, name, customers in DEMO_TENANTS:
        with transaction.atomic():
            tenant = Tenant.objects.filter(slug=slug).first() or tenant_create(name=name, slug=slug)
            with tenant_context(tenant):
                companies = []
                for cname in customers:
                    c = Company.objects.filter(name=cname).first() or company_create(data={"name": cname, "kind": "customer"})
                    companies.append(c)
                for spec in SEEDED_ROLES:
                    email = f"{spec.code.replace('_', '.')}@{slug}.example.com"
                    user = User.objects.filter(email=email).first()
                    if user is None or not Membership.objects.filter(user=user, tenant=tenant).exists():
                        member_add(
                            email=email, full_name=f"{spec.name} ({name.split()[0]})", password=DEMO_PASSWORD,
                            roles=[spec.code], company=companies[0] if spec.code == "customer" else None,
                        )
                    logins.append((slug, email, spec.name))
                for loader in _loaders:
                    loader(tenant)
    # One person in both tenants, to show the tenant switch.
    both = "quality.lead@example.com"
    for slug, _, _ in DEMO_TENANTS:
        tenant = Tenant.objects.get(slug=slug)
        with tenant_context(tenant):
            user = User.objects.filter(email=both).first()
            if user is None or not Membership.objects.filter(user=user, tenant=tenant).exists():
                member_add(email=both, full_name="Dana Quality Lead", password=DEMO_PASSWORD, roles=["qa_manager"])
    logins.append(("acme + kestrel", both, "QA Manager in both tenants"))
    return logins
