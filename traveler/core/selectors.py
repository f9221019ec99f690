"""Reads for one user, shared by the API and the pages."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from traveler.core.models import Notification, NotificationPreference, Tenant, User
from traveler.core.registry import NOTIFICATION_CHANNELS, registry
from traveler.core.services.tenants import enabled_modules


def notification_list_for_user(user: User, *, unread: bool | None = None) -> QuerySet[Notification]:
    """``user``'s notifications in the current tenant: unread first, then newest first."""
    qs = Notification.objects.filter(recipient=user, in_app=True)
    if unread is not None:
        qs = qs.filter(read_at__isnull=unread)
    unread_first = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField()).desc()
    return qs.order_by(unread_first, "-created_at", "-id")


def notification_unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).count()


def notification_preferences_for_user(user: User, tenant: Tenant) -> list[dict]:
    """One row per kind of the modules on for ``tenant``: the kind and, per channel, whether ``user``
    receives it (their choice, or the kind's default) and whether that is the default."""
    chosen = {(k, c): e for k, c, e in NotificationPreference.objects.filter(user=user).values_list(
        "kind", "channel", "enabled")}
    on = enabled_modules(tenant)
    rows = []
    for kind in sorted(registry.notification_kinds.values(), key=lambda k: (k.module != "core", k.module, k.label)):
        if kind.module not in on:
            continue
        channels = {}
        for channel in NOTIFICATION_CHANNELS:
            default = channel in kind.default_channels
            channels[channel] = {"enabled": chosen.get((kind.code, channel), default), "default": default}
        rows.append({"kind": kind, "channels": channels})
    return rows
