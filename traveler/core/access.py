"""Who may do what, and who may see which rows.

Two layers (seed 001 section 8): the *role type* of a user's roles decides which rows the user
sees (a Customer sees only its own company's records); *permissions*, declared by modules and
granted to roles, decide which actions the user may take. Object rules refine a permission for one
record ("you cannot approve your own request").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch

from traveler.core.models import Membership, MembershipRole, RolePermission, RoleType
from traveler.core.registry import registry

ROLE_TYPE_RANK = {RoleType.ADMIN: 4, RoleType.STAFF: 3, RoleType.AUDITOR: 2, RoleType.CUSTOMER: 1}


@dataclass(frozen=True)
class Access:
    """A user's standing in one tenant, computed once per request."""

    user_id: int
    tenant_id: int
    membership: Membership | None
    role_codes: frozenset[str]
    role_type: str | None
    permissions: frozenset[str]
    company_id: int | None

    def has(self, perm: str) -> bool:
        return perm in self.permissions

    @property
    def is_customer(self) -> bool:
        """A customer's user: sees its own company's records, read-only, and no employees' names."""
        return self.role_type == RoleType.CUSTOMER


def access_for(user, tenant) -> Access:
    """Load a user's roles and permissions in ``tenant`` (three queries: membership, roles, permissions)."""
    if user is None or tenant is None or not user.is_active:
        return Access(0, 0, None, frozenset(), None, frozenset(), None)
    membership = (
        Membership.objects.filter(user=user, tenant=tenant, is_active=True, accepted_at__isnull=False)
        .prefetch_related(Prefetch("role_links", queryset=MembershipRole.objects.select_related("role")))
        .first()
    )
    if user.is_system_admin:
        return Access(user.pk, tenant.pk, membership, frozenset({"system_admin"}), RoleType.ADMIN,
                      frozenset(registry.permissions), None)
    if membership is None:
        return Access(user.pk, tenant.pk, None, frozenset(), None, frozenset(), None)
    roles = [link.role for link in membership.role_links.all() if link.role.archived_at is None]
    role_type = max((r.role_type for r in roles), key=lambda t: ROLE_TYPE_RANK.get(t, 0), default=None)
    perms = frozenset(
        RolePermission.unscoped.filter(
            tenant_id=tenant.pk, role__in=roles, archived_at__isnull=True
        ).values_list("permission", flat=True)
    ) if roles else frozenset()
    return Access(
        user.pk, tenant.pk, membership, frozenset(r.code for r in roles), role_type, perms,
        membership.company_id,
    )


def object_denial(access: Access, user, perm: str, obj) -> str | None:
    for rule in registry.object_rules.get(perm, ()):
        reason = rule(user, obj)
        if reason:
            return reason
    return None


def check(access: Access, user, perm: str, obj=None) -> None:
    """Raise PermissionDenied (with a message a user can act on) unless allowed."""
    if not access.has(perm):
        label = registry.permissions[perm].label if perm in registry.permissions else perm
        raise PermissionDenied(f"You do not have permission to {label[:1].lower() + label[1:]} ({perm}).")
    if obj is not None:
        reason = object_denial(access, user, perm, obj)
        if reason:
            raise PermissionDenied(reason)


def visible(queryset, access: Access):
    """Rows of ``queryset`` the user's role type lets them see."""
    model = queryset.model
    if access.is_customer:
        path = getattr(model, "customer_company_path", None)
        if not path or access.company_id is None:
            return queryset.none()
        field = "pk" if path == "pk" else f"{path}_id" if "__" not in path else f"{path}__pk"
        return queryset.filter(**{field: access.company_id})
    if access.role_type is None:
        return queryset.none()
    return queryset
