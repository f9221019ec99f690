from traveler.mes_full.models.execution import (
    DocumentAcknowledgement,
    StepExecution,
    StepInspection,
    StepRequirement,
    TrainingType,
)

__all__ = ["DocumentAcknowledgement", "StepExecution", "StepInspection", "StepRequirement", "TrainingType"]

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
