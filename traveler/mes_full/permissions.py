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

# Per-part sampling.
declare_permissions(
    "mes_full",
    ("mes_full.view_samplingruleset", "View sampling rule sets, their decisions and analytics", READ_ALL),
    ("mes_full.change_samplingruleset", "Create, change and archive sampling rule sets", (*PLANNERS, QA_MANAGER)),
)
