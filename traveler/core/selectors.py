"""Reads for one user, shared by the API and the pages. Document visibility is decided here and nowhere else.

A user sees a document when they hold ``core.view_documents`` (customers never do), and an ITAR or EAR
document only when their membership is export-cleared. A document they may not see does not exist
for them: lists leave it out and a lookup by id is 404, in the UI, the API, panels and downloads alike.
Export clearance is a fact about a person, so no role bypasses it, System Admin included.
"""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from traveler.core.access import Access
from traveler.core.errors import NotFound
from traveler.core.models import (
    Document,
    DocumentLink,
    DocumentRevision,
    Notification,
    NotificationPreference,
    Tenant,
    User,
)
from traveler.core.models.documents import EXPORT_CONTROLLED
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

def export_cleared(access: Access) -> bool:
    return bool(access.membership is not None and access.membership.export_cleared)


def document_list_for_user(*, access: Access) -> QuerySet[Document]:
    """Every document of the current tenant this user may know exists (archived ones included)."""
    qs = Document.objects.all()
    if access.is_customer or access.role_type is None or not access.has("core.view_documents"):
        return qs.none()
    if not export_cleared(access):
        qs = qs.exclude(classification__in=EXPORT_CONTROLLED)
    return qs


def document_get_for_user(*, access: Access, pk) -> Document:
    if not str(pk).isdigit():
        raise NotFound("No such document.")
    document = document_list_for_user(access=access).select_related("document_type", "owner").filter(pk=pk).first()
    if document is None:
        raise NotFound("No such document.")
    return document


def document_revision_list_for_user(*, access: Access) -> QuerySet[DocumentRevision]:
    return DocumentRevision.objects.filter(document__in=document_list_for_user(access=access))


def document_revision_get_for_user(*, access: Access, pk) -> DocumentRevision:
    if not str(pk).isdigit():
        raise NotFound("No such document revision.")
    revision = (document_revision_list_for_user(access=access).select_related("document", "document__document_type")
                .filter(pk=pk).first())
    if revision is None:
        raise NotFound("No such document revision.")
    return revision


def document_links_for_record(*, access: Access, obj) -> QuerySet[DocumentLink]:
    """The active attachments of ``obj`` whose documents this user may see."""
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(type(obj))
    return (DocumentLink.objects.filter(content_type=ct, object_id=obj.pk, archived_at__isnull=True,
                                        document__in=document_list_for_user(access=access))
            .select_related("document", "document__document_type", "document__released_revision"))
