"""Sign-in with throttling and lockout, and API tokens (stored hashed, expiring, revocable)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import connection, transaction
from django.utils import timezone

from traveler.core.errors import InvalidInput, LockedOut, NotFound
from traveler.core.models import ApiToken, LoginAttempt, Tenant, User
from traveler.core.tenancy import current_actor, current_tenant_or_none, tenant_context

TOKEN_PREFIX = "trv"


def _failures(email: str):
    window = timezone.now() - timedelta(seconds=settings.TRAVELER_LOGIN_LOCKOUT_SECONDS)
    return LoginAttempt.objects.filter(email=email, succeeded=False, at__gte=window)


def login_check(*, email: str, password: str, ip: str | None = None, request=None) -> User:
    """Return the user for these credentials, or raise InvalidInput / LockedOut.

    After TRAVELER_LOGIN_MAX_FAILURES failures within the lockout window, the email is locked
    until the window has passed since the last failure, whatever password is given.
    """
    email = (email or "").strip().lower()
    if not email or not password:
        raise InvalidInput("Enter your email and password.", fields={
            k: ["required"] for k, v in (("email", email), ("password", password)) if not v})
    failures = _failures(email)
    if failures.count() >= settings.TRAVELER_LOGIN_MAX_FAILURES:
        last = failures.order_by("-at").values_list("at", flat=True).first()
        wait = int((last + timedelta(seconds=settings.TRAVELER_LOGIN_LOCKOUT_SECONDS) - timezone.now()).total_seconds())
        raise LockedOut(
            f"Too many failed sign-ins for {email}. Try again in {max(wait // 60, 1)} minute(s) "
            "or ask an administrator.", retry_after=max(wait, 1),
        )
    user = authenticate(request, email=email, password=password)
    LoginAttempt.objects.create(email=email, ip_address=ip, succeeded=user is not None)
    if user is None:
        raise InvalidInput("The email or password is not correct.", fields={"password": ["incorrect"]})
    return user


def tenants_for(user: User) -> list[Tenant]:
    if user.is_system_admin:
        return list(Tenant.objects.filter(is_active=True))
    # Before a tenant is chosen the database shows a user their own memberships only.
    with tenant_context(current_tenant_or_none(), actor=user):
        return list(
            Tenant.objects.filter(is_active=True, memberships__user=user, memberships__is_active=True).order_by("name")
        )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_issue(*, user: User, tenant: Tenant, name: str = "API token", days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    if tenant not in tenants_for(user):
        raise InvalidInput(f"{user.email} is not a member of {tenant.name}.", fields={"tenant": ["not a member"]})
    days = days or settings.TRAVELER_API_TOKEN_DAYS
    if days < 1 or days > 366:
        raise InvalidInput("A token lives between 1 and 366 days.", fields={"days": ["between 1 and 366"]})
    prefix = secrets.token_hex(5)
    secret = secrets.token_urlsafe(32)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    with tenant_context(tenant, actor=current_actor() or user):
        token = ApiToken.objects.create(
            user=user, tenant=tenant, name=(name or "API token")[:100], prefix=prefix,
            key_hash=_hash(raw), expires_at=timezone.now() + timedelta(days=days),
        )
    return token, raw


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
