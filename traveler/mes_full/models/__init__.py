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
