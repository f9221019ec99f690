"""Event types the platform publishes."""

from dataclasses import dataclass

from traveler.core.eventbus import Event, event_type


@event_type
@dataclass(frozen=True)
class CompanyCreated(Event):
    name = "core.company.created"
    company_id: int
    company_name: str


@event_type
@dataclass(frozen=True)
class CompanyUpdated(Event):
    name = "core.company.updated"
    company_id: int
    fields: list


@event_type
@dataclass(frozen=True)
class CompanyArchived(Event):
    name = "core.company.archived"
    company_id: int


@event_type
@dataclass(frozen=True)
class UserAdded(Event):
    name = "core.user.added"
    user_id: int
    email: str


@event_type
@dataclass(frozen=True)
class UserRolesChanged(Event):
    name = "core.user.roles_changed"
    user_id: int
    roles: list


@event_type
@dataclass(frozen=True)
class RolePermissionsChanged(Event):
    name = "core.role.permissions_changed"
    role_id: int
    granted: list
    revoked: list


@event_type
@dataclass(frozen=True)
class ModuleSwitched(Event):
    name = "core.module.switched"
    module: str
    enabled: bool


@event_type
@dataclass(frozen=True)
class ApprovalRequested(Event):
    name = "core.approval.requested"
    request_id: int
    record_type: str  # "<app_label>.<model>"
    record_id: str
    template_type: str


@event_type
@dataclass(frozen=True)
class UserExportClearanceChanged(Event):
    name = "core.user.export_clearance_changed"
    user_id: int
    export_cleared: bool


# Document events carry ids, numbers and labels, never titles: an ITAR document's title may itself be
# export controlled, and events are read by people who are not cleared.
@event_type
@dataclass(frozen=True)
class DocumentCreated(Event):
    name = "core.document.created"
    document_id: int
    number: str
    document_type: str
    classification: str


@event_type
@dataclass(frozen=True)
class ApprovalApproved(Event):
    """Every approval needed was given: the record's module acts on it (releases, closes, ...)."""

    name = "core.approval.approved"
    request_id: int
    record_type: str
    record_id: str
    template_type: str


@event_type
@dataclass(frozen=True)
class DocumentRevisionUploaded(Event):
    name = "core.document_revision.uploaded"
    document_id: int
    revision_id: int
    label: str
    sha256: str


@event_type
@dataclass(frozen=True)
class ApprovalRejected(Event):
    name = "core.approval.rejected"
    request_id: int
    record_type: str
    record_id: str
    template_type: str
    reason: str


@event_type
@dataclass(frozen=True)
class DocumentRevisionSubmitted(Event):
    name = "core.document_revision.submitted"
    document_id: int
    revision_id: int
    label: str
    requires_approval: bool


@event_type
@dataclass(frozen=True)
class ApprovalCancelled(Event):
    name = "core.approval.cancelled"
    request_id: int
    record_type: str
    record_id: str
    template_type: str
    reason: str


@event_type
@dataclass(frozen=True)
class DocumentRevisionReleased(Event):
    name = "core.document_revision.released"
    document_id: int
    revision_id: int
    label: str
    superseded_revision_id: int | None


@event_type
@dataclass(frozen=True)
class DocumentRevisionObsoleted(Event):
    name = "core.document_revision.obsoleted"
    document_id: int
    revision_id: int
    label: str


@event_type
@dataclass(frozen=True)
class DocumentAttached(Event):
    name = "core.document.attached"
    document_id: int
    link_id: int
    target: str  # the model's label, e.g. "mes_lite.part"
    object_id: int


@event_type
@dataclass(frozen=True)
class DocumentDetached(Event):
    name = "core.document.detached"
    document_id: int
    link_id: int
    target: str
    object_id: int


@event_type
@dataclass(frozen=True)
class DocumentReviewDue(Event):
    """The released revision of a document is due for its periodic review (published once a day)."""

    name = "core.document.review_due"
    document_id: int
    number: str
    revision_id: int
    owner_id: int
    review_due_at: str  # ISO 8601, UTC
