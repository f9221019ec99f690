"""The current tenant and actor, for the ORM and for PostgreSQL.

Every request, job and command runs inside ``tenant_context(...)``. It sets two things:

* context variables read by the tenant-scoped managers (``TenantModel.objects``), which fail closed
  with ``TenantNotSet`` when no tenant is set;
* the PostgreSQL setting ``traveler.context`` on the connection, read by the row-level-security
  policies (the second wall) and by the audit-trail triggers. It is signed: ``tenant:actor:mac``, the
  MAC an HMAC-SHA256 over tenant, actor and the connection's backend pid, keyed by the installation's
  context key (``context_key()``). The database verifies it (``traveler_context()``) and refuses a
  value it did not sign, so a SQL client without the key cannot choose a tenant by setting it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created

if TYPE_CHECKING:
    from traveler.core.models import Tenant, User

_tenant: ContextVar["Tenant | None"] = ContextVar("traveler_tenant", default=None)
_actor: ContextVar["User | None"] = ContextVar("traveler_actor", default=None)


class TenantNotSet(RuntimeError):
    """A tenant-owned table was queried with no current tenant: a bug, never a user error."""


def current_tenant() -> "Tenant":
    tenant = _tenant.get()
    if tenant is None:
        raise TenantNotSet("No current tenant: run this inside tenant_context(...)")
    return tenant


def current_tenant_or_none() -> "Tenant | None":
    return _tenant.get()


def current_actor() -> "User | None":
    return _actor.get()


def context_key() -> bytes:
    """The key that signs ``traveler.context``; ``migrate`` installs it in the database."""
    key = settings.DATABASES["default"].get("TRAVELER_CONTEXT_KEY") or ""
    if key:
        return key.encode()
    # Derived from the installation's secret when no key of its own is configured.
    return hmac.new(settings.SECRET_KEY.encode(), b"traveler.context", hashlib.sha256).hexdigest().encode()


def signed_context(tenant_id: int | None, actor_id: int | None, backend_pid: int) -> str:
    """The value of ``traveler.context`` for this tenant and actor on the backend ``backend_pid``."""
    t, a = str(tenant_id or ""), str(actor_id or "")
    mac = hmac.new(context_key(), f"{t}:{a}:{backend_pid}".encode(), hashlib.sha256).hexdigest()
    return f"{t}:{a}:{mac}"


def _apply(conn, tenant, actor) -> None:
    values = (tenant.pk if tenant else None, actor.pk if actor else None)
    # Skip the round trip when this very database session already carries these values.
    key = (id(conn.connection), *values)
    if conn.connection is not None and getattr(conn, "_traveler_context", None) == key:
        return
    conn.ensure_connection()
    value = signed_context(*values, conn.connection.info.backend_pid)
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('traveler.context', %s, false)", [value])
    conn._traveler_context = (id(conn.connection), *values)


_KEEP = object()


@contextmanager
def tenant_context(tenant: "Tenant | None", *, actor: "User | None" = _KEEP) -> Iterator[None]:
    """Run the block inside ``tenant`` (as ``actor``, or the current actor when not given).

    Restores the previous context afterwards.
    """
    actor = _actor.get() if actor is _KEEP else actor
    t_token = _tenant.set(tenant)
    a_token = _actor.set(actor)
    _apply(connection, tenant, actor)
    try:
        yield
    finally:
        _tenant.reset(t_token)
        _actor.reset(a_token)
        if connection.connection is not None and not connection.needs_rollback:
            try:
                _apply(connection, _tenant.get(), _actor.get())
            except Exception:  # a broken connection is closed by Django; nothing to restore
                pass


def _on_connect(sender, connection, **kwargs) -> None:
    # Every connection starts signed (with no tenant, the system context the worker claims jobs in);
    # one opened inside a context (a reconnect mid-request) gets that context.
    connection._traveler_context = None
    if connection.vendor == "postgresql":
        _apply(connection, _tenant.get(), _actor.get())


connection_created.connect(_on_connect, dispatch_uid="traveler-tenant-context")


@contextmanager
def audit_reason(reason: str | None) -> Iterator[None]:
    """Attach a reason to every history row written in the enclosing transaction."""
    if reason:
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('traveler.reason', %s, true)", [reason])
    try:
        yield
    finally:
        if reason and connection.in_atomic_block and not connection.needs_rollback:
            with connection.cursor() as cur:
                cur.execute("SELECT set_config('traveler.reason', '', true)")


def enter_tenant(tenant: "Tenant | None", *, actor: "User | None") -> None:
    """Switch the current context without a ``with`` block.

    For authentication that happens inside a request: the enclosing ``tenant_context`` opened by
    the middleware restores the previous values when the request ends.
    """
    _tenant.set(tenant)
    _actor.set(actor)
    _apply(connection, tenant, actor)
