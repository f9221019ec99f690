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
class ApprovalApproved(Event):
    """Every approval needed was given: the record's module acts on it (releases, closes, ...)."""

    name = "core.approval.approved"
    request_id: int
    record_type: str
    record_id: str
    template_type: str


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
class ApprovalCancelled(Event):
    name = "core.approval.cancelled"
    request_id: int
    record_type: str
    record_id: str
    template_type: str
    reason: str
