from traveler.mes_full.models.execution import (
    DocumentAcknowledgement,
    StepExecution,
    StepInspection,
    StepRequirement,
    TrainingType,
)

__all__ = ["DocumentAcknowledgement", "StepExecution", "StepInspection", "StepRequirement", "TrainingType"]

# Training and calibration
from traveler.mes_full.models.calibration import CalibrationRecord  # noqa: E402
from traveler.mes_full.models.training import TrainingRecord  # noqa: E402

__all__ += ["CalibrationRecord", "TrainingRecord"]
# Lot acceptance (Z1.4) and rollbacks.
from traveler.mes_full.models.lots import LotInspection, Z14SwitchingState  # noqa: E402
from traveler.mes_full.models.rollbacks import StepRollback  # noqa: E402

__all__ += ["LotInspection", "StepRollback", "Z14SwitchingState"]

# First-piece inspection and overrides
from traveler.mes_full.models.fpi import FPIRecord, FPIRequirement  # noqa: E402
from traveler.mes_full.models.overrides import StepOverride, StepOverrideUse  # noqa: E402

__all__ += ["FPIRecord", "FPIRequirement", "StepOverride", "StepOverrideUse"]

from traveler.mes_full.models.sampling import (  # noqa: E402
    SamplingAnalytics,
    SamplingAuditLog,
    SamplingRule,
    SamplingRuleSet,
    SamplingRuleSetVersion,
    SamplingTriggerState,
)

__all__ += ["SamplingAnalytics", "SamplingAuditLog", "SamplingRule", "SamplingRuleSet", "SamplingRuleSetVersion",
            "SamplingTriggerState"]
