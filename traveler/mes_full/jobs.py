"""Step control's background jobs: thin, each calls a service."""

from datetime import timedelta

from traveler.core.queue import job
from traveler.core.tenancy import tenant_context


@job("mes_full.training_expiry", every=timedelta(days=1))
def training_expiry() -> None:
    """Tell holders and their managers about training records expiring soon or expired, in each tenant
    with step control switched on (once per record, threshold and person however often it runs)."""
    from traveler.core.models import Tenant
    from traveler.core.services.tenants import module_enabled
    from traveler.mes_full.services.training import training_expiry_notify

    for tenant in Tenant.objects.filter(is_active=True):
        if module_enabled(tenant, "mes_full"):
            with tenant_context(tenant):
                training_expiry_notify()
