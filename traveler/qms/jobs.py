"""Quality's background jobs: thin, each calls a service."""

from datetime import timedelta

from traveler.core.queue import job
from traveler.core.tenancy import tenant_context


@job("qms.capas_overdue", every=timedelta(hours=1))
def capas_overdue() -> None:
    """Announce CAPAs and CAPA tasks past their due date (their owners are notified), in each tenant
    with Quality switched on, once per record per day however often the job runs."""
    from traveler.core.models import Tenant
    from traveler.core.services.tenants import module_enabled
    from traveler.qms.services.capa import capas_overdue_announce

    for tenant in Tenant.objects.filter(is_active=True):
        if module_enabled(tenant, "qms"):
            with tenant_context(tenant):
                capas_overdue_announce()
