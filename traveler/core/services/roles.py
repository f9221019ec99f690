"""Changing what a role may do. Every change is a history row (grants are archived, not deleted)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from traveler.core.errors import InvalidInput
from traveler.core.eventbus import publish
from traveler.core.events import RolePermissionsChanged
from traveler.core.models import Role, RolePermission
from traveler.core.registry import registry
from traveler.core.services.users import administration_held, check_administration_kept
from traveler.core.tenancy import audit_reason


def role_set_permissions(*, role: Role, permissions: list[str], reason: str | None = None) -> Role:
    unknown = sorted(set(permissions) - set(registry.permissions))
    if unknown:
        raise InvalidInput(f"Unknown permission: {', '.join(unknown)}.",
                           fields={"permissions": [f"unknown: {p}" for p in unknown]})
    wanted = set(permissions)
    with transaction.atomic(), audit_reason(reason):
        before = administration_held(role.tenant_id)
        active = {g.permission: g for g in RolePermission.objects.filter(role=role, archived_at__isnull=True)}
        revoked = sorted(set(active) - wanted)
        granted = sorted(wanted - set(active))
        if revoked:
            RolePermission.objects.filter(pk__in=[active[p].pk for p in revoked]).update(archived_at=timezone.now())
        RolePermission.objects.bulk_create([RolePermission(role=role, permission=p) for p in granted])
        if revoked:
            check_administration_kept(role.tenant_id, before, "permissions")
        if granted or revoked:
            publish(RolePermissionsChanged(role_id=role.pk, granted=granted, revoked=revoked))
    return role
