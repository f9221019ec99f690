from traveler.core.registry import declare_permissions
from traveler.core.roles import ADMINS, ALL_STAFF, AUDITOR

declare_permissions(
    "spc",
    ("spc.use_calculators", "Use the SPC and sampling calculators", (*ADMINS, *ALL_STAFF, AUDITOR)),
)
