from traveler.core.models.access import Role, RolePermission, RoleType
from traveler.core.models.approvals import (
    ApprovalApprover,
    ApprovalRequest,
    ApprovalResponse,
    ApprovalTemplate,
    ApprovalTemplateApprover,
)
from traveler.core.models.base import ArchivedRecord, TenantModel
from traveler.core.models.documents import (
    Document,
    DocumentDownload,
    DocumentLink,
    DocumentRevision,
    DocumentType,
    NumberCounter,
)
from traveler.core.models.events import Job, JobEffect, OutboxEvent, PeriodicSchedule
from traveler.core.models.history import History
from traveler.core.models.notifications import Notification, NotificationPreference
from traveler.core.models.signatures import Signature
from traveler.core.models.tenant import Tenant, TenantModule
from traveler.core.models.tokens import ApiToken, LoginAttempt, PasswordLink
from traveler.core.models.user import Company, Membership, MembershipRole, User

__all__ = [
    "ApiToken", "ApprovalApprover", "ApprovalRequest", "ApprovalResponse", "ApprovalTemplate",
    "ApprovalTemplateApprover", "ArchivedRecord", "Company", "Document", "DocumentDownload", "DocumentLink",
    "DocumentRevision", "DocumentType", "History", "Job", "JobEffect", "LoginAttempt", "Membership",
    "MembershipRole", "Notification", "NotificationPreference", "NumberCounter", "OutboxEvent", "PasswordLink",
    "PeriodicSchedule", "Role", "RolePermission", "RoleType", "Signature", "Tenant", "TenantModel",
    "TenantModule", "User",
]
