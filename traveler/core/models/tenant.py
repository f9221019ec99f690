from __future__ import annotations

from django.db import models


class Tenant(models.Model):
    """A customer of the installation: its own users, roles and data, walled off from the others."""

    audited = True

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantModule(models.Model):
    """A per-tenant module switch. A module switched off answers 403 and leaves the menu."""

    audited = True

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="module_switches")
    module = models.CharField(max_length=60)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "module"], name="core_tenantmodule_unique")]

    def __str__(self) -> str:
        return f"{self.tenant}: {self.module} {'on' if self.enabled else 'off'}"
