"""The kinds of notification the platform itself sends (approvals and documents live in core)."""

from traveler.core.registry import declare_notification_kind

declare_notification_kind(
    "core.approval.requested", label="Approval requested",
    description="A record waits for your approval or signature.")
declare_notification_kind(
    "core.approval.completed", label="Approval completed",
    description="A record you submitted was approved or rejected.")
declare_notification_kind(
    "core.approval.overdue", label="Approval overdue",
    description="An approval you owe, or one you escalate, is past its due date.")
declare_notification_kind(
    "core.document.review_due", label="Document review due",
    description="A document you own is due for its periodic review.")
