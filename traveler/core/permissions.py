"""Permissions declared by the platform itself."""

from traveler.core.registry import add_object_rule, declare_permissions
from traveler.core.roles import (
    ADMINS,
    ALL_STAFF,
    AUDITOR,
    CUSTOMER,
    DOCUMENT_CONTROLLER,
    ENGINEERING,
    QA_MANAGER,
    READ_ALL,
    TENANT_ADMIN,
)

declare_permissions(
    "core",
    ("core.view_company", "View companies", (*READ_ALL, CUSTOMER)),
    ("core.add_company", "Add companies", (*ADMINS, "qa_manager", "production_manager")),
    ("core.change_company", "Change companies", (*ADMINS, "qa_manager", "production_manager")),
    ("core.archive_company", "Archive companies", ADMINS),
    ("core.view_user", "View users", (*ADMINS, *ALL_STAFF, AUDITOR)),
    ("core.manage_users", "Manage users and their roles", ADMINS),
    ("core.view_role", "View roles and permissions", (*ADMINS, AUDITOR, "qa_manager")),
    ("core.manage_roles", "Change the permissions of roles", ADMINS),
    ("core.manage_modules", "Switch modules on and off", ADMINS),
    ("core.view_history", "View record history", (*READ_ALL,)),
    ("core.view_jobs", "View background jobs", ADMINS),
    ("core.manage_jobs", "Retry background jobs", ADMINS),
    ("core.view_events", "View domain events", (*ADMINS, AUDITOR)),
    # An Auditor reads every signature and signs nothing; a Customer does neither.
    ("core.view_signatures", "View electronic signatures", (*READ_ALL,)),
    ("core.sign_records", "Sign records electronically", (*ADMINS, *ALL_STAFF)),
    ("core.view_approvals", "View approval requests and templates", (*READ_ALL,)),
    ("core.request_approvals", "Request approvals", (*ADMINS, *ALL_STAFF)),
    ("core.respond_approvals", "Approve or reject as a named approver", (*ADMINS, *ALL_STAFF)),
    ("core.manage_approval_templates", "Manage approval templates", (*ADMINS, "qa_manager", "document_controller")),
    ("core.cancel_approvals", "Cancel other people's approval requests", (*ADMINS, "qa_manager")),
    # Document control. Customers see no documents; ITAR and EAR documents also need export clearance.
    ("core.view_documents", "View and download documents", READ_ALL),
    ("core.manage_documents", "Create documents, upload and submit draft revisions, attach documents",
     (*ADMINS, DOCUMENT_CONTROLLER, QA_MANAGER, ENGINEERING)),
    ("core.release_documents", "Release and withdraw document revisions", (DOCUMENT_CONTROLLER, QA_MANAGER)),
    ("core.set_export_clearance", "Clear users for export-controlled (ITAR, EAR) documents", (TENANT_ADMIN,)),
)


def _not_self(user, obj) -> str | None:
    # An administrator who could demote or deactivate themselves could lock the tenant out.
    target_id = getattr(obj, "user_id", None) or getattr(obj, "pk", None)
    if user is not None and target_id == user.pk:
        return "You cannot change your own roles or deactivate yourself; ask another administrator."
    return None


def _system_admin_protected(user, obj) -> str | None:
    # A Tenant Admin must not demote, deactivate or reset the password of the platform's administrator.
    from traveler.core.models import Membership
    from traveler.core.services.users import actor_is_system_admin, is_system_admin_member

    if isinstance(obj, Membership) and is_system_admin_member(obj) and not actor_is_system_admin(user):
        return f"{obj.label} is a System Admin: only a System Admin can change their roles or deactivate them."
    return None


add_object_rule("core.manage_users", _not_self)
add_object_rule("core.manage_users", _system_admin_protected)
