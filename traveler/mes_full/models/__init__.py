from traveler.mes_full.models.execution import (
    DocumentAcknowledgement,
    StepExecution,
    StepInspection,
    StepRequirement,
    TrainingType,
)

__all__ = ["DocumentAcknowledgement", "StepExecution", "StepInspection", "StepRequirement", "TrainingType"]

# First-piece inspection and overrides
from traveler.mes_full.models.fpi import FPIRecord, FPIRequirement  # noqa: E402
from traveler.mes_full.models.overrides import StepOverride, StepOverrideUse  # noqa: E402

__all__ += ["FPIRecord", "FPIRequirement", "StepOverride", "StepOverrideUse"]
