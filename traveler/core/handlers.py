"""What the platform does when events happen: approvals of document revisions release them (or send
them back to draft), and documents due for review tell their owners."""

from __future__ import annotations

from traveler.core.eventbus import Delivered, subscribe

REVISION = "core.documentrevision"


def _as_actor(event: Delivered):
    from traveler.core.models import User
    from traveler.core.tenancy import current_tenant, tenant_context

    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    return tenant_context(current_tenant(), actor=actor)


@subscribe("core.approval.approved", durable=True)
def release_approved_revision(event: Delivered) -> None:
    if event.payload["record_type"] != REVISION:
        return
    from traveler.core.models import DocumentRevision
    from traveler.core.models.documents import RevisionState
    from traveler.core.services.documents import document_revision_release

    rev = DocumentRevision.objects.filter(pk=event.payload["record_id"]).first()
    if rev is None or rev.state != RevisionState.IN_REVIEW:  # a retried delivery after it was released
        return
    with _as_actor(event):  # the last approver releases it
        document_revision_release(revision=rev, approved=True,
                                  reason=f"Approved: approval request #{event.payload['request_id']}")


@subscribe("core.approval.rejected", durable=True)
@subscribe("core.approval.cancelled", durable=True)
def return_revision_to_draft(event: Delivered) -> None:
    if event.payload["record_type"] != REVISION:
        return
    from traveler.core.models import DocumentRevision
    from traveler.core.models.documents import RevisionState
    from traveler.core.services.documents import document_revision_return

    rev = DocumentRevision.objects.filter(pk=event.payload["record_id"]).first()
    if rev is None or rev.state != RevisionState.IN_REVIEW:
        return
    with _as_actor(event):
        document_revision_return(revision=rev, reason=f"Approval request #{event.payload['request_id']} "
                                                      f"{event.name.rsplit('.', 1)[-1]}: {event.payload['reason']}")


@subscribe("core.document.review_due", durable=True)
def tell_owner_review_due(event: Delivered) -> None:
    from django.urls import reverse

    from traveler.core.models import User
    from traveler.core.services.notifications import notify

    owner = User.objects.filter(pk=event.payload["owner_id"]).first()
    if owner is None:
        return
    due = event.payload["review_due_at"][:10]
    notify(recipients=[owner], kind="core.document.review_due", title=f"Review due: {event.payload['number']}",
           body=f"The released revision of {event.payload['number']} is due for its periodic review ({due}).",
           url=reverse("core:document-detail", args=[event.payload["document_id"]]),
           dedupe_key=f"document:{event.payload['document_id']}:review:{due}")
