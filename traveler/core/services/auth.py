"""Sign-in with throttling, API tokens (stored hashed, named, expiring, revocable, capped) and
password links (single-use, expiring, stored hashed) for resets and invitations."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection, transaction
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput, LockedOut, NotAuthenticated, NotFound
from traveler.core.models import ApiToken, LoginAttempt, PasswordLink, Tenant, User
from traveler.core.services.mail import mail_after_commit
from traveler.core.tenancy import current_actor, current_tenant_or_none, tenant_context

log = logging.getLogger("traveler.auth")
TOKEN_PREFIX = "trv"
DEFAULT_TOKEN_NAME = "API token"


# ---------- sign-in ----------

def _window_start():
    return timezone.now() - timedelta(seconds=settings.TRAVELER_LOGIN_LOCKOUT_SECONDS)


def _locked(failures, message: str) -> LockedOut:
    last = failures.order_by("-at").values_list("at", flat=True).first()
    wait = int((last + timedelta(seconds=settings.TRAVELER_LOGIN_LOCKOUT_SECONDS) - timezone.now()).total_seconds())
    return LockedOut(message.format(minutes=max(wait // 60, 1)), retry_after=max(wait, 1))


def is_known_client(email: str, ip: str | None) -> bool:
    """Whether ``email`` signed in successfully from ``ip`` within TRAVELER_LOGIN_KNOWN_CLIENT_DAYS."""
    if not ip:
        return False
    since = timezone.now() - timedelta(days=settings.TRAVELER_LOGIN_KNOWN_CLIENT_DAYS)
    return LoginAttempt.objects.filter(email=email, ip_address=ip, succeeded=True, at__gte=since).exists()


def login_check(*, email: str, password: str, ip: str | None = None, request=None) -> User:
    """Return the user for these credentials, or raise InvalidInput / NotAuthenticated / LockedOut.

    Two throttles, both over the window TRAVELER_LOGIN_LOCKOUT_SECONDS:

    - per client address: after TRAVELER_LOGIN_MAX_CLIENT_FAILURES failures from one address, for
      any emails, that address may not try again until the window has passed since its last failure
      (this stops both guessing one password and spraying many accounts);
    - per account: after TRAVELER_LOGIN_MAX_FAILURES failures for one email, only *known clients*
      of that account (addresses it signed in from before) may still try. Someone who types
      wrong passwords for another person's email therefore does not lock that person out.
    """
    email = (email or "").strip().lower()
    if not email or not password:
        raise InvalidInput("Enter your email and password.", fields={
            k: ["required"] for k, v in (("email", email), ("password", password)) if not v})
    since = _window_start()
    if ip:
        from_client = LoginAttempt.objects.filter(ip_address=ip, succeeded=False, at__gte=since)
        if from_client.count() >= settings.TRAVELER_LOGIN_MAX_CLIENT_FAILURES:
            raise _locked(from_client, "Too many failed sign-ins from your address. Try again in {minutes} minute(s).")
    for_account = LoginAttempt.objects.filter(email=email, succeeded=False, at__gte=since)
    if for_account.count() >= settings.TRAVELER_LOGIN_MAX_FAILURES and not is_known_client(email, ip):
        raise _locked(for_account, (
            f"Too many failed sign-ins for {email}. Try again in {{minutes}} minute(s), sign in from a "
            "computer you have used before, or ask an administrator for a password reset link."))
    user = authenticate(request, email=email, password=password)
    LoginAttempt.objects.create(email=email, ip_address=ip, succeeded=user is not None)
    if user is None:
        raise NotAuthenticated("The email or password is not correct.", fields={"password": ["incorrect"]})
    return user


def tenants_for(user: User) -> list[Tenant]:
    """The tenants ``user`` works in: active, accepted, active memberships (every tenant for a system admin)."""
    if user.is_system_admin:
        return list(Tenant.objects.filter(is_active=True))
    # Before a tenant is chosen the database shows a user their own memberships only.
    with tenant_context(current_tenant_or_none(), actor=user):
        return list(
            Tenant.objects.filter(is_active=True, memberships__user=user, memberships__is_active=True,
                                  memberships__accepted_at__isnull=False).order_by("name")
        )


# ---------- API tokens ----------

def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_raw() -> tuple[str, str]:
    prefix = secrets.token_hex(5)
    return prefix, f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def token_issue(*, user: User, tenant: Tenant, name: str = DEFAULT_TOKEN_NAME, days: int | None = None,
                replace: bool = False) -> tuple[ApiToken, str]:
    """Create a named token; the raw value is returned once and never stored.

    A user holds one live token per name in a tenant. Asking again for a name in use is refused
    unless ``replace``: then the old token is revoked and a new one takes its name (rotation).
    An expired token's name is free again. A user holds at most TRAVELER_API_TOKEN_MAX_PER_USER
    live tokens, counted over all their tenants.
    """
    if tenant not in tenants_for(user):
        raise InvalidInput(f"{user.email} is not a member of {tenant.name}.", fields={"tenant": ["not a member"]})
    name = (name or DEFAULT_TOKEN_NAME).strip()[:100] or DEFAULT_TOKEN_NAME
    days = days or settings.TRAVELER_API_TOKEN_DAYS
    if days < 1 or days > 366:
        raise InvalidInput("A token lives between 1 and 366 days.", fields={"days": ["between 1 and 366"]})
    now = timezone.now()
    # The tokens table is the tenant's: the name and the cap are checked among this tenant's tokens.
    with tenant_context(tenant, actor=current_actor() or user), transaction.atomic():
        # One user's token requests run one at a time: the name and the cap are checked safely.
        User.objects.select_for_update().filter(pk=user.pk).first()
        unrevoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
        same = unrevoked.filter(tenant=tenant, name=name).first()
        if same is not None:
            if same.expires_at > now and not replace:
                raise Conflict(
                    f"You already have a token named “{name}” ({TOKEN_PREFIX}_{same.prefix}_…). Keep using it, "
                    "send replace=true to rotate it (the old value stops working), or choose another name.",
                    fields={"name": ["already in use"]})
            same.revoked_at = now
            same.save(update_fields=["revoked_at"])
        # Each tenant's tokens are visible only in its context: the cap counts them tenant by tenant.
        live = 0
        for t in _token_tenants(user):
            with tenant_context(t):
                live += ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now).count()
        cap = settings.TRAVELER_API_TOKEN_MAX_PER_USER
        if live >= cap:
            raise Conflict(f"You hold {live} live API tokens, the most allowed ({cap}). Revoke one you no "
                           "longer use, or rotate one with replace=true.", fields={"name": [f"at most {cap} tokens"]})
        prefix, raw = _new_raw()
        token = ApiToken.objects.create(
            user=user, tenant=tenant, name=name, prefix=prefix,
            key_hash=_hash(raw), expires_at=now + timedelta(days=days),
        )
    return token, raw


def token_rotate(*, user: User, token_id: int, days: int | None = None) -> tuple[ApiToken, str]:
    """Replace one of ``user``'s tokens by a new one with the same name and tenant."""
    token = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).select_related("tenant").first()
    if token is None:
        raise NotFound("No such live token among yours.")
    return token_issue(user=user, tenant=token.tenant, name=token.name, days=days, replace=True)


def token_authenticate(raw: str) -> ApiToken | None:
    """The live token for ``raw``, or None when unknown, expired, revoked or its user inactive."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    # No tenant is known yet: the database names the token's tenant and user only to who holds it.
    with connection.cursor() as cur:
        cur.execute("SELECT token_id, token_tenant, token_user FROM traveler_token_owner(%s, %s)",
                    [parts[1], _hash(raw)])
        found = cur.fetchone()
    if found is None:
        return None
    # Read the token in its own context (the objects only carry the keys the context is signed with).
    with tenant_context(Tenant(pk=found[1]), actor=User(pk=found[2])):
        token = ApiToken.objects.select_related("user", "tenant").filter(pk=found[0]).first()
        if token is None or not secrets.compare_digest(token.key_hash, _hash(raw)):
            return None
        now = timezone.now()
        if token.revoked_at or token.expires_at <= now or not token.user.is_active or not token.tenant.is_active:
            return None
        # Membership (still active?) is checked by the caller with the user's access, in one query.
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.filter(pk=token_id, user=user).first()
        if token is None:
            raise NotFound("No such token among yours.")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def _token_tenants(user: User) -> list[Tenant]:
    """The tenants ``user`` may hold tokens in: those of their memberships, every one for a system admin."""
    if user.is_system_admin:
        return list(Tenant.objects.all())
    with tenant_context(current_tenant_or_none(), actor=user):
        return list(Tenant.objects.filter(memberships__user=user).distinct())


def tokens_revoke_all(*, user: User) -> int:
    """Revoke every live token of ``user``, in every tenant it was issued for."""
    revoked = 0
    for tenant in _token_tenants(user):
        with tenant_context(tenant, actor=current_actor() or user):
            revoked += ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return revoked


# ---------- password links ----------

LINK_HOURS = {PasswordLink.Purpose.RESET: "TRAVELER_PASSWORD_RESET_HOURS",
              PasswordLink.Purpose.INVITE: "TRAVELER_INVITATION_HOURS"}


def link_url(path: str) -> str:
    return settings.TRAVELER_BASE_URL.rstrip("/") + path


def password_link_create(*, user: User, purpose: str, created_by: User | None = None) -> tuple[PasswordLink, str]:
    """A new single-use link for ``user``; earlier unused links of the same purpose stop working."""
    now = timezone.now()
    raw = secrets.token_urlsafe(32)
    hours = getattr(settings, LINK_HOURS[purpose])
    with transaction.atomic():
        PasswordLink.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
        link = PasswordLink.objects.create(user=user, purpose=purpose, key_hash=_hash(raw), created_by=created_by,
                                           expires_at=now + timedelta(hours=hours))
    return link, raw


def password_reset_send(*, user: User, created_by: User | None = None) -> PasswordLink:
    """E-mail ``user`` a link that sets a new password (TRAVELER_PASSWORD_RESET_HOURS, single use)."""
    if not user.is_active:
        raise InvalidInput(f"{user.email}'s account is deactivated: reactivate it first.", fields={"user": ["inactive"]})
    with transaction.atomic():
        link, raw = password_link_create(user=user, purpose=PasswordLink.Purpose.RESET, created_by=created_by)
        by = f" at the request of {created_by.full_name}" if created_by and created_by.pk != user.pk else ""
        mail_after_commit(to=user.email, subject="Set a new Traveler password", body=(
            f"Hello {user.full_name},\n\nA password reset for your Traveler account was requested{by}.\n"
            f"Open this link to choose a new password (valid {settings.TRAVELER_PASSWORD_RESET_HOURS} hours, "
            f"once):\n\n{link_url('/password/set/' + raw + '/')}\n\n"
            "If you did not expect this, ignore this e-mail: your password stays as it is.\n"))
    return link


def password_link_check(raw: str) -> PasswordLink:
    """The link for ``raw``, or InvalidInput saying whether it is unknown, used or expired."""
    link = PasswordLink.objects.select_related("user").filter(key_hash=_hash(raw or "")).first()
    if link is None:
        raise InvalidInput("This link is not valid. Ask an administrator for a new one.", fields={"link": ["unknown"]})
    if link.used_at is not None:
        raise InvalidInput("This link has already been used (or a newer one was sent). Ask an administrator "
                           "for a new one.", fields={"link": ["used"]})
    if link.expires_at <= timezone.now():
        raise InvalidInput("This link has expired. Ask an administrator for a new one.", fields={"link": ["expired"]})
    if not link.user.is_active:
        raise InvalidInput("This account is deactivated.", fields={"link": ["inactive user"]})
    return link


def password_link_use(*, raw: str, password: str) -> User:
    """Set the password through a link, once. An invitation link also accepts the pending invitations.

    A reset revokes the user's API tokens: whoever asked for it may fear they leaked.
    """
    from traveler.core.services.users import invitations_accept_all, password_check

    with transaction.atomic():
        link = password_link_check(raw)
        link = PasswordLink.objects.select_for_update().get(pk=link.pk)
        if link.used_at is not None:
            raise InvalidInput("This link has already been used.", fields={"link": ["used"]})
        user = link.user
        password_check(password, user)
        user.set_password(password)
        user.save(update_fields=["password"])
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        if link.purpose == PasswordLink.Purpose.INVITE:
            invitations_accept_all(user=user)
        else:
            tokens_revoke_all(user=user)
    return user


def password_change(*, user: User, current_password: str, new_password: str) -> User:
    """The signed-in user changes their own password; the current one must be given."""
    if not current_password or not user.check_password(current_password):
        raise InvalidInput("Your current password is not correct.", fields={"current_password": ["incorrect"]})
    if new_password == current_password:
        raise InvalidInput("Choose a password different from the current one.", fields={"new_password": ["unchanged"]})
    from traveler.core.services.users import password_check

    try:
        password_check(new_password, user)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, fields={"new_password": exc.fields.get("password", [])}) from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
    return user

