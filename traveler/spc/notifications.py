"""The kinds of notification SPC sends."""

from traveler.core.registry import declare_notification_kind

declare_notification_kind(
    "spc.signal.raised", label="SPC signal",
    description="A control chart you are responsible for shows a run-rule violation (its reaction plan names "
                "your role or you).")
