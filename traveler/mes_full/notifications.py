"""The kinds of notification step control sends."""

from traveler.core.registry import declare_notification_kind

declare_notification_kind(
    "mes_full.training.expiring", label="Training expiring",
    description="A training record (yours, or one of the people you manage training for) expires within 30 "
                "days, within 7 days, or has expired without renewal (once each).")
