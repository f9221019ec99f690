"""Users, their memberships in tenants and their roles, invitations, and the rules that keep a
tenant administrable."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput, NotFound
from traveler.core.eventbus import publish
from traveler.core.events import UserAdded, UserRolesChanged
from traveler.core.models import Company, Membership, MembershipRole, PasswordLink, Role, RoleType, Tenant, User
from traveler.core.tenancy import audit_reason, current_actor, current_tenant, current_tenant_or_none, tenant_context

# What it takes to administer a tenant: a change that leaves no active member holding one of
# these is refused, so a tenant cannot lock itself out of its own administration.
ADMINISTRATION = ("core.manage_users", "core.manage_roles")


def password_check(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), fields={"password": list(exc.messages)}) from exc


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput("Enter a valid email address.", fields={"email": ["invalid"]}) from exc
    return email


def user_create(*, email: str, full_name: str, password: str | None, is_system_admin: bool = False) -> User:
    """A new account. With no password it cannot sign in until a password link sets one."""
    email = _clean_email(email)
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


def actor_is_system_admin(actor: User | None = None) -> bool:
    """The acting user is a System Admin here (platform flag or the tenant's System Admin role);
    set-up code with no actor counts as one."""
    actor = actor or current_actor()
    if actor is None or actor.is_system_admin:
        return True
    return MembershipRole.objects.filter(membership__user=actor, membership__tenant=current_tenant(),
                                         membership__is_active=True, role__code="system_admin").exists()


def is_system_admin_member(membership: Membership) -> bool:
    """An accepted member who is a System Admin. (An invitation is not protected: it grants nothing,
    and protecting it would tell the inviter that the address belongs to a System Admin.)"""
    if membership.is_pending:
        return False
    return membership.user.is_system_admin or any(
        link.role.code == "system_admin" for link in membership.role_links.all())


def _check_grantable(roles: list[Role]) -> None:
    """System Admin is granted only by a system administrator (or by set-up code, with no actor)."""
    if any(r.code == "system_admin" for r in roles) and not actor_is_system_admin():
        raise InvalidInput("Only a System Admin can grant the System Admin role.",
                           fields={"roles": ["system_admin needs a System Admin"]})


def _check_not_protected(membership: Membership, what: str, field: str) -> None:
    """Only a System Admin changes a System Admin's roles, activity or password."""
    if is_system_admin_member(membership) and not actor_is_system_admin():
        raise Conflict(f"{membership.label} is a System Admin: only a System Admin can {what}.",
                       fields={field: ["System Admin is protected"]})


def administrators(tenant_id: int, permission: str):
    """Active, accepted members of active accounts who hold ``permission`` through an active role."""
    return Membership.objects.filter(
        tenant_id=tenant_id, is_active=True, accepted_at__isnull=False, user__is_active=True,
        role_links__role__archived_at__isnull=True,
        role_links__role__grants__permission=permission, role_links__role__grants__archived_at__isnull=True,
    )


def administration_held(tenant_id: int) -> set[str]:
    return {p for p in ADMINISTRATION if administrators(tenant_id, p).exists()}


def check_administration_kept(tenant_id: int, before: set[str], field: str) -> None:
    """Refuse (inside the caller's transaction, so nothing is written) a change after which a
    permission of ADMINISTRATION that some member held is held by nobody."""
    lost = sorted(before - administration_held(tenant_id))
    if lost:
        raise Conflict(
            "This change would leave nobody in the tenant who can " + " or ".join(
                {"core.manage_users": "manage users", "core.manage_roles": "change roles"}[p] for p in lost)
            + f" ({', '.join(lost)}): the tenant would be locked out of its own administration. "
            "Give another active member an administrator role first.", fields={field: [f"last holder of {p}" for p in lost]})


def _check_company(roles: list[Role], company: Company | None) -> None:
    if any(r.role_type == RoleType.CUSTOMER for r in roles):
        if company is None:
            raise InvalidInput("A customer user must belong to a company.", fields={"company": ["required for customer users"]})
        if len({r.role_type for r in roles}) > 1:
            raise InvalidInput("The Customer role cannot be combined with staff roles.", fields={"roles": ["customer only"]})


def _create_membership(tenant: Tenant, user: User, role_objs: list[Role], company: Company | None, *,
                       accepted: bool) -> Membership:
    membership = Membership.objects.create(
        tenant=tenant, user=user, company=company, invited_by=current_actor(),
        accepted_at=timezone.now() if accepted else None)
    MembershipRole.objects.bulk_create([MembershipRole(tenant=tenant, membership=membership, role=r) for r in role_objs])
    return membership


def member_add(*, email: str, full_name: str, password: str | None, roles: list[str],
               company: Company | None = None) -> Membership:
    """Set-up code (demo data, commands, tests): place a user, new or existing, in the current tenant
    at once. Administrators go through ``member_invite``, which asks the user's consent."""
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
        membership = _create_membership(tenant, user, role_objs, company, accepted=True)
        publish(UserAdded(user_id=user.pk, email=user.email))
    return membership


def member_invite(*, email: str, full_name: str, roles: list[str], company: Company | None = None) -> Membership:
    """Invite someone, by e-mail, into the current tenant with ``roles``.

    The membership is pending until the user accepts it. An e-mail without an account gets a new
    account with no password and a link that sets one (and accepts); an existing account is asked
    to sign in and accept. What the administrator sees is the same in both cases: whether an
    address has an account, and its name, stay private until the person accepts.
    """
    from traveler.core.services.auth import link_url, password_link_create
    from traveler.core.services.mail import mail_after_commit

    tenant: Tenant = current_tenant()
    email = _clean_email(email)
    if not full_name or not full_name.strip():
        raise InvalidInput("Give the person's full name.", fields={"full_name": ["required"]})
    role_objs = _roles(roles)
    _check_grantable(role_objs)
    _check_company(role_objs, company)
    actor = current_actor()
    inviter = f"{actor.full_name} ({actor.email})" if actor else "An administrator"
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is not None and Membership.objects.filter(user=user, tenant=tenant).exists():
            # The administrator can already see this person among the tenant's users (or invitations).
            raise InvalidInput(f"{email} is already a member of {tenant.name}, or invited.",
                               fields={"email": ["already a member or invited"]})
        if user is None:
            user = user_create(email=email, full_name=full_name, password=None)
            _, raw = password_link_create(user=user, purpose=PasswordLink.Purpose.INVITE, created_by=actor)
            body = (f"Hello {user.full_name},\n\n{inviter} invites you to work in {tenant.name} on Traveler.\n"
                    f"Open this link to choose your password and accept (valid {settings.TRAVELER_INVITATION_HOURS} "
                    f"hours, once):\n\n{link_url('/password/set/' + raw + '/')}\n\n"
                    "If you do not know this organisation, ignore this e-mail.\n")
        else:
            body = (f"Hello {user.full_name},\n\n{inviter} invites you to work in {tenant.name} on Traveler.\n"
                    f"Sign in and accept or decline the invitation here:\n\n{link_url('/invitations/')}\n\n"
                    f"Until you accept, {tenant.name} sees only your e-mail address.\n")
        membership = _create_membership(tenant, user, role_objs, company, accepted=False)
        mail_after_commit(to=user.email, subject=f"Invitation to {tenant.name} on Traveler", body=body)
    return membership


def _open_invitations(user: User):
    return (Membership.objects.filter(user=user, accepted_at__isnull=True, is_active=True, tenant__is_active=True)
            .select_related("tenant", "invited_by").order_by("created_at"))


def invitations_for(user: User) -> list[Membership]:
    """``user``'s open invitations (pending memberships of active tenants).

    An invitation is a row of the inviting tenant, not of the tenant the user works in (if any):
    the database shows it to the user as their own row, so it is read with ``user`` as the actor,
    also before sign-in has chosen a tenant.
    """
    with tenant_context(current_tenant_or_none(), actor=user):
        return list(_open_invitations(user))


def invitation_roles(membership: Membership) -> list[str]:
    """Names of the roles an invitation offers (read in the inviting tenant: roles are its rows)."""
    with tenant_context(membership.tenant):
        return sorted(Role.objects.filter(membership_links__membership=membership).values_list("name", flat=True))


def _own_invitation(user: User, membership_id: int) -> Membership:
    # Before they accept, the invited user sees the membership as their own row (not the tenant's).
    with tenant_context(current_tenant_or_none(), actor=user):
        m = _open_invitations(user).select_for_update(of=("self",)).filter(pk=membership_id).first()
    if m is None:
        raise NotFound("No such open invitation for you.")
    return m


def invitation_accept(*, user: User, membership_id: int) -> Membership:
    """The invited user accepts: from now on the membership counts."""
    with transaction.atomic():
        m = _own_invitation(user, membership_id)
        with tenant_context(m.tenant, actor=user):  # the membership is written as the tenant's row
            m.accepted_at = timezone.now()
            m.save(update_fields=["accepted_at"])
            publish(UserAdded(user_id=user.pk, email=user.email))
    return m


def invitations_accept_all(*, user: User) -> list[Membership]:
    return [invitation_accept(user=user, membership_id=m.pk) for m in invitations_for(user)]


def invitation_decline(*, user: User, membership_id: int) -> None:
    """The invited user declines: the pending membership is removed (its history stays)."""
    with transaction.atomic():
        m = _own_invitation(user, membership_id)
        with tenant_context(m.tenant, actor=user):
            m.role_links.all().delete()
            m.delete()


def member_set_roles(*, membership: Membership, roles: list[str], company: Company | None = None,
                     reason: str | None = None) -> Membership:
    role_objs = _roles(roles)
    current_codes = {link.role.code for link in membership.role_links.all()}
    if current_codes != {r.code for r in role_objs}:
        _check_not_protected(membership, "change their roles", "roles")
    _check_grantable([r for r in role_objs if r.pk not in {link.role_id for link in membership.role_links.all()}])
    _check_company(role_objs, company)
    with transaction.atomic(), audit_reason(reason):
        before = administration_held(membership.tenant_id)
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
        check_administration_kept(membership.tenant_id, before, "roles")
        publish(UserRolesChanged(user_id=membership.user_id, roles=sorted(r.code for r in role_objs)))
    return membership


def member_set_active(*, membership: Membership, active: bool, reason: str | None = None) -> Membership:
    if not active:
        _check_not_protected(membership, "deactivate them", "is_active")
    with transaction.atomic(), audit_reason(reason):
        before = administration_held(membership.tenant_id)
        membership.is_active = active
        membership.save(update_fields=["is_active"])
        check_administration_kept(membership.tenant_id, before, "is_active")
    return membership


def member_set_export_clearance(*, membership: Membership, cleared: bool, reason: str) -> Membership:
    """Clear a member for export-controlled (ITAR, EAR) documents, or withdraw it. The reason is
    required: the history shows who changed it, when and why."""
    if not (reason or "").strip():
        raise InvalidInput("Give a reason: export clearance changes are kept in the history.",
                           fields={"reason": ["required"]})
    actor = current_actor()
    if actor is not None and actor.pk == membership.user_id:
        raise InvalidInput("You cannot change your own export clearance; ask another Tenant Admin.",
                           fields={"export_cleared": ["your own"]})
    if membership.export_cleared == cleared:
        return membership
    with transaction.atomic(), audit_reason(reason.strip()):
        Membership.objects.filter(pk=membership.pk).update(export_cleared=cleared)
        membership.export_cleared = cleared
        from traveler.core.events import UserExportClearanceChanged

        publish(UserExportClearanceChanged(user_id=membership.user_id, export_cleared=cleared))
    return membership


def member_password_reset(*, membership: Membership) -> None:
    """An administrator e-mails a member a link that sets a new password."""
    from traveler.core.services.auth import password_reset_send

    _check_not_protected(membership, "reset their password", "user")
    if membership.is_pending:
        raise InvalidInput("This person has not accepted the invitation yet.", fields={"user": ["invitation pending"]})
    password_reset_send(user=membership.user, created_by=current_actor())


def password_set(*, user: User, password: str) -> None:
    password_check(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


def pending_or_member(q: str):
    """Search filter on users that matches names only of those who accepted (invitees show their e-mail)."""
    return Q(user__email__icontains=q) | (Q(user__full_name__icontains=q) & Q(accepted_at__isnull=False))
