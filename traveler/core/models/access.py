from __future__ import annotations

from django.db import models

from traveler.core.models.base import TenantModel


class RoleType(models.TextChoices):
    """Decides which rows a user sees; permissions decide what the user may do."""

    ADMIN = "admin", "Administrator"
    STAFF = "staff", "Staff"
    AUDITOR = "auditor", "Auditor"
    CUSTOMER = "customer", "Customer"


class Role(TenantModel):
    """One of the ten roles seeded per tenant (seed 001 section 8), or one the tenant adds."""

    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=100)
    role_type = models.CharField(max_length=20, choices=RoleType.choices)
    description = models.TextField(blank=True)
    is_seeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="core_role_unique_code")]

    def __str__(self) -> str:
        return self.name


class RolePermission(TenantModel):
    """A permission granted to a role. Rows are archived, never deleted, so every change is history."""

    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="grants")
    permission = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["role", "permission"],
                condition=models.Q(archived_at__isnull=True),
                name="core_rolepermission_unique_active",
            )
        ]
