"""Users, their memberships in tenants and their roles."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from traveler.core.errors import InvalidInput
from traveler.core.eventbus import publish
from traveler.core.events import UserAdded, UserRolesChanged
from traveler.core.models import Company, Membership, MembershipRole, Role, RoleType, Tenant, User
from traveler.core.tenancy import current_actor, current_tenant


def password_check(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), fields={"password": list(exc.messages)}) from exc


def user_create(*, email: str, full_name: str, password: str | None, is_system_admin: bool = False) -> User:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput("Enter a valid email address.", fields={"email": ["invalid"]}) from exc
    if not full_name or not full_name.strip():
        raise InvalidInput("A user needs a full name.", fields={"full_name": ["required"]})
    if User.objects.filter(email__iexact=email).exists():
        raise InvalidInput(f"A user with the email {email} already exists.", fields={"email": ["must be unique"]})
    user = User(email=email, full_name=full_name.strip(), is_system_admin=is_system_admin)
    if password is not None:
        password_check(password, user)
    user.set_password(password)
    user.save()
    return user


def _roles(codes: list[str]) -> list[Role]:
    roles = list(Role.objects.filter(code__in=codes, archived_at__isnull=True))
    unknown = sorted(set(codes) - {r.code for r in roles})
    if unknown:
        raise InvalidInput(f"Unknown role: {', '.join(unknown)}.", fields={"roles": [f"unknown: {c}" for c in unknown]})
    if not roles:
        raise InvalidInput("Give the user at least one role.", fields={"roles": ["required"]})
    return roles


def _check_grantable(roles: list[Role]) -> None:
    """System Admin is granted only by a system administrator (or by set-up code, with no actor)."""
    if not any(r.code == "system_admin" for r in roles):
        return
    actor = current_actor()
    if actor is None or actor.is_system_admin:
        return
    if not MembershipRole.objects.filter(membership__user=actor, membership__tenant=current_tenant(),
                                         role__code="system_admin").exists():
        raise InvalidInput("Only a System Admin can grant the System Admin role.",
                           fields={"roles": ["system_admin needs a System Admin"]})


def _check_company(roles: list[Role], company: Company | None) -> None:
    if any(r.role_type == RoleType.CUSTOMER for r in roles):
        if company is None:
            raise InvalidInput("A customer user must belong to a company.", fields={"company": ["required for customer users"]})
        if len({r.role_type for r in roles}) > 1:
            raise InvalidInput("The Customer role cannot be combined with staff roles.", fields={"roles": ["customer only"]})


def member_add(*, email: str, full_name: str, password: str | None, roles: list[str],
               company: Company | None = None) -> Membership:
    """Add a user (new or existing, by email) to the current tenant with ``roles``."""
    tenant: Tenant = current_tenant()
    role_objs = _roles(roles)
    _check_grantable(role_objs)
    _check_company(role_objs, company)
    with transaction.atomic():
        user = User.objects.filter(email__iexact=(email or "").strip()).first()
        if user is None:
            user = user_create(email=email, full_name=full_name, password=password)
        elif Membership.objects.filter(user=user, tenant=tenant).exists():
            raise InvalidInput(f"{user.email} is already a member of {tenant.name}.", fields={"email": ["already a member"]})
        membership = Membership.objects.create(tenant=tenant, user=user, company=company)
        MembershipRole.objects.bulk_create(
            [MembershipRole(tenant=tenant, membership=membership, role=r) for r in role_objs]
        )
        publish(UserAdded(user_id=user.pk, email=user.email))
    return membership


def member_set_roles(*, membership: Membership, roles: list[str], company: Company | None = None,
                     reason: str | None = None) -> Membership:
    from traveler.core.tenancy import audit_reason

    role_objs = _roles(roles)
    _check_grantable([r for r in role_objs if r.pk not in {link.role_id for link in membership.role_links.all()}])
    _check_company(role_objs, company)
    with transaction.atomic(), audit_reason(reason):
        current = {link.role_id: link for link in membership.role_links.all()}
        wanted = {r.pk for r in role_objs}
        for role_id, link in current.items():
            if role_id not in wanted:
                link.delete()
        MembershipRole.objects.bulk_create(
            [MembershipRole(tenant_id=membership.tenant_id, membership=membership, role=r)
             for r in role_objs if r.pk not in current]
        )
        if membership.company_id != (company.pk if company else None):
            membership.company = company
            membership.save(update_fields=["company"])
        publish(UserRolesChanged(user_id=membership.user_id, roles=sorted(r.code for r in role_objs)))
    return membership


def member_set_active(*, membership: Membership, active: bool, reason: str | None = None) -> Membership:
    from traveler.core.tenancy import audit_reason

    with transaction.atomic(), audit_reason(reason):
        membership.is_active = active
        membership.save(update_fields=["is_active"])
    return membership


def password_set(*, user: User, password: str) -> None:
    password_check(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
