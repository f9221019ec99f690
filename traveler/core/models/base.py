"""Base classes for tenant-owned records.

A ``TenantModel`` subclass gets, with no code of its own:

* its tenant, set from the current context on create;
* a default manager scoped to the current tenant (fails closed when none is set);
* a PostgreSQL row-level-security policy on its table (installed after every migrate);
* an audit trail: a database trigger records every insert, update and delete, raw SQL included;
* archive instead of delete, and a version number for optimistic concurrency.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Expression

from traveler.core.tenancy import current_tenant


class CurrentTenantId(Expression):
    """The current tenant's id, resolved when the SQL is compiled, not when the queryset is built.

    So ``Model.objects.all()`` may be written at import time (as DRF does) and still fails closed
    when it is executed outside a tenant.
    """

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection):
        return "%s", [current_tenant().pk]


class TenantQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def bulk_create(self, objs, *args, **kwargs):
        tenant = current_tenant()
        for obj in objs:
            if obj.tenant_id is None:
                obj.tenant_id = tenant.pk
        return super().bulk_create(objs, *args, **kwargs)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(tenant_id=CurrentTenantId())


class UnscopedManager(models.Manager.from_queryset(TenantQuerySet)):
    """For system code that works across tenants (the database's RLS still applies)."""


class ArchivedRecord(Exception):
    pass


class TenantModel(models.Model):
    """A record owned by one tenant. See the module docstring for what it brings."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = TenantManager()
    unscoped = UnscopedManager()

    # Which rows a Customer user may see: the lookup from this model to its Company
    # (e.g. "company" or "order__company"). None: customers see none of these rows.
    customer_company_path: str | None = None

    class Meta:
        abstract = True
        base_manager_name = "unscoped"

    def save(self, *args, **kwargs):
        if self.tenant_id is None:
            self.tenant_id = current_tenant().pk
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ArchivedRecord(
            f"{type(self).__name__} records are archived, not deleted: use the archive service"
        )

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
