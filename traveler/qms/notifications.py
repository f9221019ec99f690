"""The kinds of notification Quality sends."""

from traveler.core.registry import declare_notification_kind

declare_notification_kind(
    "qms.capa.overdue", label="CAPA overdue",
    description="A CAPA or a CAPA task you own is past its due date (once a day while it is).")
