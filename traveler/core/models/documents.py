"""Document control: document types, documents, their revisions and files, attachments, downloads.

A document's number comes from its type's pattern and the tenant's gap-free counter
(``services.numbering``). Its content lives in revisions: each holds one file, stored through
Django's storage API under its SHA-256, and moves draft -> in review -> released -> superseded or
obsolete. Once released, a revision's file can never change: the database refuses it
(``frozen_columns`` below, installed by ``core.dbobjects``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from traveler.core.models.base import TenantManager, TenantModel


class NumberCounter(models.Model):
    """The last number handed out for one (tenant, key, year): see ``services.numbering``.

    ``year`` is 0 for counters that do not restart each year. Not audited: the records that take the
    numbers are, and a counter's row changes with every number.
    """

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    year = models.PositiveIntegerField(default=0)
    last = models.PositiveBigIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "key", "year"], name="core_numbercounter_unique")]

    def __str__(self) -> str:
        return f"{self.key} {self.year or ''}: {self.last}"


class Classification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    ITAR = "itar", "ITAR (export controlled)"
    EAR = "ear", "EAR (export controlled)"


# Visible and downloadable only to members flagged export-cleared (Membership.export_cleared).
EXPORT_CONTROLLED = (Classification.ITAR, Classification.EAR)


class RevisionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    RELEASED = "released", "Released"
    SUPERSEDED = "superseded", "Superseded"
    OBSOLETE = "obsolete", "Obsolete"


# The allowed transitions of a revision, in one table; one service per transition.
REVISION_TRANSITIONS: dict[str, tuple[str, ...]] = {
    RevisionState.DRAFT: (RevisionState.IN_REVIEW, RevisionState.OBSOLETE),
    # Back to draft when its approval is rejected or cancelled: the author corrects it and submits again.
    RevisionState.IN_REVIEW: (RevisionState.RELEASED, RevisionState.DRAFT, RevisionState.OBSOLETE),
    RevisionState.RELEASED: (RevisionState.SUPERSEDED, RevisionState.OBSOLETE),
    RevisionState.SUPERSEDED: (),
    RevisionState.OBSOLETE: (),
}
# States whose file is fixed for ever (the database refuses to change it or delete the row).
FROZEN_STATES = (RevisionState.RELEASED, RevisionState.SUPERSEDED, RevisionState.OBSOLETE)
OPEN_STATES = (RevisionState.DRAFT, RevisionState.IN_REVIEW)


class DocumentType(TenantModel):
    """A kind of document (SOP, drawing, ...): how its documents are numbered and reviewed.

    ``numbering_pattern`` is a Python format string with ``{seq}`` and optionally ``{year}``
    ("DWG-{year}-{seq:04d}"); with ``{year}`` the sequence restarts every year.
    ``review_months`` 0 means its documents have no periodic review.
    """

    code = models.CharField(max_length=30)
    name = models.CharField(max_length=100)
    numbering_pattern = models.CharField(max_length=60)
    requires_approval = models.BooleanField(default=False)
    approval_template = models.ForeignKey(
        "core.ApprovalTemplate", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The approval a revision of this type goes through when submitted (requires approval).")
    review_months = models.PositiveIntegerField(default=0, help_text="0: no periodic review.")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="core_documenttype_unique_code")]

    def __str__(self) -> str:
        return self.name


class Document(TenantModel):
    """A controlled document: its number, title, owner and classification; its content is in revisions."""

    number = models.CharField(max_length=60, editable=False)
    title = models.CharField(max_length=200)
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="documents",
                                      verbose_name="type")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    classification = models.CharField(max_length=20, choices=Classification.choices, default=Classification.INTERNAL)
    description = models.TextField(blank=True)
    # Kept by the release service: the revision in force, and when its periodic review is due.
    released_revision = models.ForeignKey("core.DocumentRevision", on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+", editable=False)
    review_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["tenant", "number"], name="core_document_unique_number")]
        indexes = [models.Index(fields=["review_due_at"], name="core_document_review_due")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_export_controlled(self) -> bool:
        return self.classification in EXPORT_CONTROLLED


class DocumentRevision(TenantModel):
    """One revision of a document: one file (identified by its SHA-256) and where it stands."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="revisions")
    label = models.CharField(max_length=10)
    state = models.CharField(max_length=20, choices=RevisionState.choices, default=RevisionState.DRAFT)
    file_name = models.CharField(max_length=300, editable=False)  # the key in the file storage
    sha256 = models.CharField(max_length=64, editable=False)
    size = models.PositiveBigIntegerField(editable=False)
    media_type = models.CharField(max_length=100, editable=False)
    original_name = models.CharField(max_length=255)
    change_description = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    released_at = models.DateTimeField(null=True, blank=True, editable=False)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)  # superseded or obsolete

    # The database refuses to change these once ``state`` is frozen, and to delete such a row.
    frozen_columns = ("file_name", "sha256", "size", "media_type")
    frozen_states = FROZEN_STATES

    class Meta:
        ordering = ["document", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["document", "label"], name="core_documentrevision_unique_label"),
            # At most one revision in force, and one being worked on, per document.
            models.UniqueConstraint(fields=["document"], condition=Q(state="released"),
                                    name="core_documentrevision_one_released"),
            models.UniqueConstraint(fields=["document"], condition=Q(state__in=["draft", "in_review"]),
                                    name="core_documentrevision_one_open"),
        ]

    def __str__(self) -> str:
        return f"{self.document.number} rev. {self.label}"

    @property
    def previewable(self) -> bool:
        return self.media_type in ("application/pdf", "image/png", "image/jpeg")


class DocumentLink(TenantModel):
    """A document attached to a record of a model registered as attachable. Detaching archives it."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="links")
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["document", "content_type", "object_id"],
                                    condition=Q(archived_at__isnull=True), name="core_documentlink_unique_active"),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="core_documentlink_target")]

    def __str__(self) -> str:
        return f"{self.document.number} on {self.content_type.app_label}.{self.content_type.model} #{self.object_id}"


class DocumentDownload(models.Model):
    """Who fetched a revision's file, when, from where; ``inline`` for a preview. Append-only."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    revision = models.ForeignKey(DocumentRevision, on_delete=models.PROTECT, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    inline = models.BooleanField(default=False)

    append_only = True  # the database refuses to change or remove a download's record
    objects = TenantManager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.revision} by {self.user_id} at {self.at:%Y-%m-%d %H:%M}"
