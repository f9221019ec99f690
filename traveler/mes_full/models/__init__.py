from traveler.mes_full.models.execution import (
    DocumentAcknowledgement,
    StepExecution,
    StepInspection,
    StepRequirement,
    TrainingType,
)

__all__ = ["DocumentAcknowledgement", "StepExecution", "StepInspection", "StepRequirement", "TrainingType"]
