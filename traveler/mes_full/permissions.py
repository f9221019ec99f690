from traveler.core.registry import declare_permissions
from traveler.core.roles import (
    ADMINS,
    ENGINEERING,
    OPERATOR,
    PRODUCTION_MANAGER,
    QA_INSPECTOR,
    QA_MANAGER,
    READ_ALL,
)

PLANNERS = (*ADMINS, PRODUCTION_MANAGER, ENGINEERING)

declare_permissions(
    "mes_full",
    ("mes_full.view_steprequirement", "View what steps require and the step executions", READ_ALL),
    ("mes_full.change_steprequirement", "Change what steps require", (*PLANNERS, QA_MANAGER)),
    ("mes_full.inspect_part", "Sign off inspections of parts at a step", (QA_MANAGER, QA_INSPECTOR)),
    ("mes_full.acknowledge_document", "Acknowledge work instructions at the station",
     (*ADMINS, OPERATOR, PRODUCTION_MANAGER, QA_INSPECTOR, QA_MANAGER, ENGINEERING)),
    ("mes_full.view_trainingtype", "View training types", READ_ALL),
    ("mes_full.change_trainingtype", "Change training types", (*ADMINS, PRODUCTION_MANAGER, QA_MANAGER)),
)

# Training and calibration
declare_permissions(
    "mes_full",
    ("mes_full.view_trainingrecord", "View training records, the training matrix and expiring training", READ_ALL),
    ("mes_full.change_trainingrecord", "Record, correct and withdraw training records (and be told of expiring ones)",
     (*ADMINS, PRODUCTION_MANAGER, QA_MANAGER)),
    ("mes_full.view_calibrationrecord", "View calibration records, the calibration schedule and suspect parts",
     READ_ALL),
    ("mes_full.record_calibration", "Record calibrations and report suspect parts",
     (*ADMINS, QA_MANAGER, QA_INSPECTOR)),
)

# Lot acceptance (Z1.4) and rollbacks.
declare_permissions(
    "mes_full",
    ("mes_full.view_lotinspection", "View lot inspections and Z1.4 switching states", READ_ALL),
    ("mes_full.inspect_lot", "Open lot inspections and record what their samples showed", (QA_MANAGER, QA_INSPECTOR)),
    ("mes_full.change_z14switchingstate", "Approve reduced inspection, resume a discontinued one",
     (*ADMINS, QA_MANAGER)),
    ("mes_full.view_steprollback", "View rollbacks of parts", READ_ALL),
    ("mes_full.request_steprollback", "Ask to move a part back to an earlier step",
     (*PLANNERS, QA_MANAGER, QA_INSPECTOR)),
)

# First-piece inspection and overrides
declare_permissions(
    "mes_full",
    ("mes_full.view_fpirecord", "View first-piece inspections", READ_ALL),
    ("mes_full.change_fpirequirement", "Change which steps need a first-piece inspection", (*PLANNERS, QA_MANAGER)),
    ("mes_full.waive_fpi", "Ask for the waiver of a first-piece inspection, start a scope over", (*ADMINS, QA_MANAGER)),
    ("mes_full.view_stepoverride", "View overrides", READ_ALL),
    ("mes_full.request_override", "Request an override of a block at a step",
     (*ADMINS, OPERATOR, PRODUCTION_MANAGER, QA_INSPECTOR, QA_MANAGER)),
    ("mes_full.approve_override", "Approve overrides (signed; never one's own)", (*ADMINS, QA_MANAGER, PRODUCTION_MANAGER)),
)

# Per-part sampling.
declare_permissions(
    "mes_full",
    ("mes_full.view_samplingruleset", "View sampling rule sets, their decisions and analytics", READ_ALL),
    ("mes_full.change_samplingruleset", "Create, change and archive sampling rule sets", (*PLANNERS, QA_MANAGER)),
)
