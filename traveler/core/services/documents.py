"""Document control: types, documents, revisions and their transitions, attachments, downloads.

Revisions move along ``REVISION_TRANSITIONS`` (models.documents), one service per transition:
``document_revision_upload`` (a draft), ``document_revision_submit`` (draft -> in review),
``document_revision_release`` (in review -> released; the previous released revision is superseded in
the same transaction) and ``document_revision_obsolete`` (withdrawn). Permissions are checked by the
views; who may *see* a document is decided in one place, ``core.selectors``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput, NotFound
from traveler.core.eventbus import publish
from traveler.core.events import (
    DocumentAttached,
    DocumentCreated,
    DocumentDetached,
    DocumentReviewDue,
    DocumentRevisionObsoleted,
    DocumentRevisionReleased,
    DocumentRevisionSubmitted,
    DocumentRevisionUploaded,
)
from traveler.core.models import (
    Document,
    DocumentDownload,
    DocumentLink,
    DocumentRevision,
    DocumentType,
    Tenant,
    TenantModel,
    User,
)
from traveler.core.models.documents import OPEN_STATES, REVISION_TRANSITIONS, Classification, RevisionState
from traveler.core.registry import Attachable, registry
from traveler.core.services.files import file_open, file_store
from traveler.core.services.numbering import number_next
from traveler.core.services.records import record_archive, record_create, record_update
from traveler.core.tenancy import audit_reason, current_actor, current_tenant, tenant_context


@dataclass(frozen=True)
class DocumentTypeSpec:
    code: str
    name: str
    numbering_pattern: str
    requires_approval: bool
    review_months: int


# Seeded in every tenant; a tenant's administrators may change them afterwards.
DEFAULT_DOCUMENT_TYPES: tuple[DocumentTypeSpec, ...] = (
    DocumentTypeSpec("SOP", "Standard operating procedure", "SOP-{seq:04d}", True, 24),
    DocumentTypeSpec("WI", "Work instruction", "WI-{seq:04d}", True, 24),
    DocumentTypeSpec("DWG", "Drawing", "DWG-{year}-{seq:04d}", True, 36),
    DocumentTypeSpec("SPEC", "Specification", "SPEC-{seq:04d}", True, 36),
    DocumentTypeSpec("IP", "Inspection plan", "IP-{seq:04d}", True, 24),
    DocumentTypeSpec("CERT", "Certificate", "CERT-{year}-{seq:04d}", False, 12),
    DocumentTypeSpec("RPT", "Report", "RPT-{year}-{seq:04d}", False, 0),
    DocumentTypeSpec("CUST", "Customer document", "CUST-{year}-{seq:04d}", False, 0),
)


def document_types_seed(tenant: Tenant) -> int:
    """Create the default document types a tenant lacks (by code), those that require approval going
    through the tenant's default release template. Idempotent; returns how many were added."""
    from traveler.core.services.approval_templates import approval_templates_seed

    template = approval_templates_seed(tenant)
    with tenant_context(tenant), transaction.atomic():
        have = set(DocumentType.objects.values_list("code", flat=True))
        new = [DocumentType(code=t.code, name=t.name, numbering_pattern=t.numbering_pattern,
                            requires_approval=t.requires_approval, review_months=t.review_months,
                            approval_template=template if t.requires_approval else None)
               for t in DEFAULT_DOCUMENT_TYPES if t.code not in have]
        DocumentType.objects.bulk_create(new)
        # Types seeded before approvals existed get the default template.
        DocumentType.objects.filter(requires_approval=True, approval_template__isnull=True).update(
            approval_template=template)
    return len(new)


def document_types_seed_all() -> None:
    for tenant in Tenant.objects.all():
        document_types_seed(tenant)


def numbering_pattern_check(pattern: str) -> None:
    """A pattern must format ``seq`` (and may format ``year``) and nothing else."""
    try:
        sample = pattern.format(seq=1, year=2026)
    except (KeyError, IndexError, ValueError) as exc:
        raise InvalidInput(f"The numbering pattern {pattern!r} is not valid: use {{seq}} (e.g. {{seq:04d}}) and "
                           "optionally {year}.", fields={"numbering_pattern": ["invalid"]}) from exc
    if "{seq" not in pattern or not sample.strip():
        raise InvalidInput("The numbering pattern must contain {seq}.", fields={"numbering_pattern": ["needs {seq}"]})


def add_months(moment: datetime, months: int) -> datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def revision_label(index: int) -> str:
    """The label of a document's ``index``-th revision (0-based): A .. Z, then AA, AB, ..."""
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


def _actor() -> User:
    actor = current_actor()
    if actor is None:
        raise InvalidInput("A document change needs a signed-in user.", fields={"user": ["required"]})
    return actor


def _check_classification(value: str) -> None:
    if value not in Classification.values:
        raise InvalidInput(f"Unknown classification {value!r}; use one of {', '.join(Classification.values)}.",
                           fields={"classification": ["invalid choice"]})


def document_create(*, data: dict, reason: str | None = None) -> Document:
    """A new document, numbered from its type's pattern (gap-free, per tenant and, with {year}, per year).

    ``data``: document_type, title, classification, owner (default: the current user), description.
    """
    data = dict(data)
    doc_type = data.get("document_type")
    if not isinstance(doc_type, DocumentType) or doc_type.tenant_id != current_tenant().pk:
        raise InvalidInput("Choose the document's type.", fields={"document_type": ["required"]})
    if doc_type.archived_at is not None:
        raise InvalidInput(f"The document type {doc_type} is archived.", fields={"document_type": ["archived"]})
    if not (data.get("title") or "").strip():
        raise InvalidInput("A document needs a title.", fields={"title": ["required"]})
    data["title"] = data["title"].strip()
    _check_classification(data.setdefault("classification", Classification.INTERNAL))
    data["owner"] = data.get("owner") or _actor()
    now = timezone.now()
    with transaction.atomic():
        # The number is taken last, so the counter row is held for as short a time as possible.
        year = now.year if "{year" in doc_type.numbering_pattern else None
        seq = number_next(key=f"document:{doc_type.code}", year=year)
        data["number"] = doc_type.numbering_pattern.format(seq=seq, year=year or now.year)
        document = record_create(Document, data=data, reason=reason)
        publish(DocumentCreated(document_id=document.pk, number=document.number, document_type=doc_type.code,
                                classification=document.classification))
    return document


def document_update(*, document: Document, version: int | None, data: dict, reason: str | None = None) -> Document:
    """Change title, classification, owner or description (the number and type never change)."""
    unknown = sorted(set(data) - {"title", "classification", "owner", "description"})
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)} cannot be changed.", fields={k: ["read-only"] for k in unknown})
    if "classification" in data:
        _check_classification(data["classification"])
    if "title" in data and not (data["title"] or "").strip():
        raise InvalidInput("A document needs a title.", fields={"title": ["required"]})
    return record_update(document, version=version, data=data, reason=reason)


def document_archive(*, document: Document, version: int | None = None, reason: str | None = None) -> Document:
    if document.revisions.filter(state__in=OPEN_STATES).exists():
        raise Conflict("This document has a revision in draft or review: release it or mark it obsolete first.")
    return record_archive(document, version=version, reason=reason)


def _locked(document: Document) -> Document:
    return Document.objects.select_for_update().get(pk=document.pk)


def document_revision_upload(*, document: Document, content: IO[bytes], original_name: str,
                             change_description: str = "", reason: str | None = None) -> DocumentRevision:
    """A draft revision holding ``content``: a new one with the next label, or, while the document has
    a draft, that draft with its file replaced. A revision in review must be released or withdrawn
    before another file is uploaded."""
    actor = _actor()
    if document.archived_at is not None:
        raise Conflict(f"{document.number} is archived; restore it before uploading a revision.")
    name = (original_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    if not name:
        raise InvalidInput("The file needs a name.", fields={"file": ["no file name"]})
    stored = file_store(content=content)
    with transaction.atomic(), audit_reason(reason):
        _locked(document)
        draft = document.revisions.filter(state__in=OPEN_STATES).first()
        if draft is not None and draft.state == RevisionState.IN_REVIEW:
            raise Conflict(f"Revision {draft.label} of {document.number} is in review: release it or mark it "
                           "obsolete before uploading another file.")
        fields = {"file_name": stored.name, "sha256": stored.sha256, "size": stored.size,
                  "media_type": stored.media_type, "original_name": name,
                  "change_description": change_description.strip(), "uploaded_by": actor}
        if draft is not None:
            DocumentRevision.objects.filter(pk=draft.pk).update(
                **fields, version=F("version") + 1, updated_at=timezone.now())
            revision = DocumentRevision.objects.get(pk=draft.pk)
        else:
            label = revision_label(document.revisions.count())
            revision = DocumentRevision.objects.create(document=document, label=label, **fields)
        publish(DocumentRevisionUploaded(document_id=document.pk, revision_id=revision.pk, label=revision.label,
                                         sha256=revision.sha256))
    return revision


def _transition(revision: DocumentRevision, target: str) -> DocumentRevision:
    """The revision locked and re-read, if it may move to ``target``; otherwise Conflict."""
    current = DocumentRevision.objects.select_for_update().select_related("document__document_type").get(
        pk=revision.pk)
    if target not in REVISION_TRANSITIONS[current.state]:
        raise Conflict(f"Revision {current.label} of {current.document.number} is "
                       f"{current.get_state_display().lower()}: it cannot become "
                       f"{RevisionState(target).label.lower()}.", fields={"state": [current.state]})
    return current


def document_revision_submit(*, revision: DocumentRevision, reason: str | None = None) -> DocumentRevision:
    """Draft -> in review: the file is final for this revision; it awaits release (and approval, when
    the document's type requires one)."""
    actor = _actor()
    with transaction.atomic(), audit_reason(reason):
        rev = _transition(revision, RevisionState.IN_REVIEW)
        doc_type = rev.document.document_type
        if doc_type.requires_approval and (doc_type.approval_template is None or doc_type.approval_template.is_archived):
            raise Conflict(f"{doc_type.name} documents require approval but the type names no active approval "
                           "template: an administrator sets one on the document type.",
                           fields={"approval_template": ["required"]})
        DocumentRevision.objects.filter(pk=rev.pk).update(
            state=RevisionState.IN_REVIEW, submitted_at=timezone.now(), version=F("version") + 1,
            updated_at=timezone.now())
        publish(DocumentRevisionSubmitted(document_id=rev.document_id, revision_id=rev.pk, label=rev.label,
                                          requires_approval=doc_type.requires_approval))
        if doc_type.requires_approval:
            # approval: the revision is released by the handler of core.approval.approved (core/handlers.py).
            from traveler.core.services.approvals import approval_request_create

            rev.refresh_from_db()
            approval_request_create(record=rev, template=doc_type.approval_template, requested_by=actor,
                                    notes=reason or rev.change_description or "")
    revision.refresh_from_db()
    return revision


def document_revision_return(*, revision: DocumentRevision, reason: str) -> DocumentRevision:
    """In review -> draft: its approval was rejected or cancelled; the author corrects and submits again."""
    with transaction.atomic(), audit_reason(reason):
        rev = _transition(revision, RevisionState.DRAFT)
        DocumentRevision.objects.filter(pk=rev.pk).update(
            state=RevisionState.DRAFT, submitted_at=None, version=F("version") + 1, updated_at=timezone.now())
    revision.refresh_from_db()
    return revision


def document_revision_release(*, revision: DocumentRevision, approved: bool = False,
                              reason: str | None = None) -> DocumentRevision:
    """In review -> released. The revision released before it becomes superseded, in the same
    transaction; the document's periodic review is due ``review_months`` after this release."""
    actor = _actor()
    with transaction.atomic(), audit_reason(reason):
        rev = _transition(revision, RevisionState.RELEASED)
        doc_type = rev.document.document_type
        # approval: a type that requires approval is released only by the approval workflow, which calls
        # this service with approved=True once the approval request is complete.
        if doc_type.requires_approval and not approved:
            raise Conflict(f"{doc_type.name} documents require approval: revision {rev.label} of "
                           f"{rev.document.number} is released when its approval is complete, not directly.",
                           fields={"approved": ["approval required"]})
        document = _locked(rev.document)
        now = timezone.now()
        previous = document.revisions.filter(state=RevisionState.RELEASED).first()
        if previous is not None:
            DocumentRevision.objects.filter(pk=previous.pk).update(
                state=RevisionState.SUPERSEDED, closed_at=now, version=F("version") + 1, updated_at=now)
        DocumentRevision.objects.filter(pk=rev.pk).update(
            state=RevisionState.RELEASED, released_at=now, released_by=actor, version=F("version") + 1,
            updated_at=now)
        due = add_months(now, doc_type.review_months) if doc_type.review_months else None
        Document.objects.filter(pk=document.pk).update(
            released_revision=rev, review_due_at=due, version=F("version") + 1, updated_at=now)
        publish(DocumentRevisionReleased(document_id=document.pk, revision_id=rev.pk, label=rev.label,
                                         superseded_revision_id=previous.pk if previous else None))
    revision.refresh_from_db()
    return revision


def document_revision_obsolete(*, revision: DocumentRevision, reason: str | None = None) -> DocumentRevision:
    """Withdraw a revision: a draft or one in review is abandoned; a released one is withdrawn, and the
    document then has no revision in force. A reason is required."""
    if not (reason or "").strip():
        raise InvalidInput("Give a reason for making this revision obsolete.", fields={"reason": ["required"]})
    with transaction.atomic(), audit_reason(reason):
        rev = _transition(revision, RevisionState.OBSOLETE)
        now = timezone.now()
        was_released = rev.state == RevisionState.RELEASED
        DocumentRevision.objects.filter(pk=rev.pk).update(
            state=RevisionState.OBSOLETE, closed_at=now, version=F("version") + 1, updated_at=now)
        if was_released:
            Document.objects.filter(pk=rev.document_id).update(
                released_revision=None, review_due_at=None, version=F("version") + 1, updated_at=now)
        publish(DocumentRevisionObsoleted(document_id=rev.document_id, revision_id=rev.pk, label=rev.label))
    revision.refresh_from_db()
    return revision


def document_revision_download(*, revision: DocumentRevision, ip: str | None, inline: bool = False):
    """Record that the current user fetches ``revision``'s file, and open it (a binary file object).

    The caller has found the revision through ``document_revision_get_for_user``.
    """
    actor = _actor()
    DocumentDownload.objects.create(tenant_id=current_tenant().pk, revision=revision, user=actor, ip=ip or None,
                                    inline=inline)
    return file_open(revision.file_name)


def attachable_for(model) -> Attachable | None:
    return registry.attachables.get(model._meta.label_lower)


def attachable_target(*, target: str, object_id: int) -> TenantModel:
    """The record ``object_id`` of the attachable model ``target`` ("mes_lite.part") in this tenant."""
    spec = registry.attachables.get((target or "").lower())
    if spec is None:
        raise InvalidInput(f"Documents cannot be attached to {target!r}: no module registered it as attachable.",
                           fields={"target": ["not attachable"]})
    obj = spec.model.objects.filter(pk=object_id).first()
    if obj is None:
        raise NotFound(f"No {spec.model._meta.verbose_name} with id {object_id}.")
    return obj


def document_attach(*, document: Document, target: TenantModel, reason: str = "") -> DocumentLink:
    """Attach ``document`` to a record of a model registered with ``register_attachable``."""
    spec = attachable_for(type(target))
    if spec is None:
        raise InvalidInput(f"Documents cannot be attached to a {type(target)._meta.verbose_name}: no module "
                           "registered it as attachable.", fields={"target": ["not attachable"]})
    if getattr(target, "tenant_id", None) != current_tenant().pk:
        raise NotFound(f"No {type(target)._meta.verbose_name} with id {target.pk}.")
    if document.archived_at is not None:
        raise Conflict(f"{document.number} is archived: restore it before attaching it.")
    ct = ContentType.objects.get_for_model(type(target))
    try:
        with transaction.atomic(), audit_reason(reason or None):
            link = DocumentLink.objects.create(document=document, content_type=ct, object_id=target.pk,
                                               linked_by=_actor(), reason=(reason or "").strip()[:500])
            publish(DocumentAttached(document_id=document.pk, link_id=link.pk, target=spec.label,
                                     object_id=target.pk))
    except IntegrityError as exc:
        raise Conflict(f"{document.number} is already attached to this {type(target)._meta.verbose_name}.") from exc
    return link


def document_detach(*, link: DocumentLink, reason: str | None = None) -> DocumentLink:
    """Detach: the link is archived (its history stays), the document and the record are untouched."""
    with transaction.atomic():
        link = record_archive(link, reason=reason)
        publish(DocumentDetached(document_id=link.document_id, link_id=link.pk,
                                 target=f"{link.content_type.app_label}.{link.content_type.model}",
                                 object_id=link.object_id))
    return link


def documents_review_due(*, now: datetime | None = None) -> int:
    """Publish ``core.document.review_due`` for each document of the current tenant whose released
    revision's review is due, once per document per day (``queue.once``). Returns how many were published."""
    from traveler.core.queue import once

    now = now or timezone.now()
    tenant = current_tenant()
    due = (Document.objects.filter(archived_at__isnull=True, review_due_at__lte=now, released_revision__isnull=False)
           .order_by("pk").values_list("pk", "number", "released_revision_id", "owner_id", "review_due_at"))
    published = 0
    for pk, number, revision_id, owner_id, due_at in due:
        if once(f"core.document.review_due:{tenant.pk}:{pk}:{now:%Y-%m-%d}"):
            publish(DocumentReviewDue(document_id=pk, number=number, revision_id=revision_id, owner_id=owner_id,
                                      review_due_at=due_at.isoformat()))
            published += 1
    return published
