from traveler.core.registry import declare_permissions
from traveler.core.roles import (
    ADMINS,
    ALL_STAFF,
    AUDITOR,
    ENGINEERING,
    PRODUCTION_MANAGER,
    QA_INSPECTOR,
    QA_MANAGER,
    READ_ALL,
)

declare_permissions(
    "spc",
    ("spc.use_calculators", "Use the SPC and sampling calculators", (*ADMINS, *ALL_STAFF, AUDITOR)),
    ("spc.view_characteristic", "View control charts of the traveler's measurements and their baselines", READ_ALL),
    ("spc.change_characteristic", "Change how a characteristic is charted",
     (*ADMINS, QA_MANAGER, QA_INSPECTOR, ENGINEERING)),
    ("spc.compute_baseline", "Compute and discard draft baselines", (*ADMINS, QA_MANAGER, ENGINEERING)),
    ("spc.freeze_baseline", "Freeze a baseline (signed)", (QA_MANAGER,)),
    ("spc.change_spcsettings", "Change the tenant's SPC settings (Cpk threshold)", (*ADMINS, QA_MANAGER)),
)

declare_permissions(
    "spc",
    ("spc.view_spcsignal", "View SPC signals and reaction plans", READ_ALL),
    ("spc.handle_signal", "Acknowledge (signed), investigate and close SPC signals",
     (*ADMINS, QA_MANAGER, QA_INSPECTOR, ENGINEERING, PRODUCTION_MANAGER)),
    ("spc.change_reactionplan", "Change what a characteristic's signals do", (*ADMINS, QA_MANAGER, ENGINEERING)),
)
