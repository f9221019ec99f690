from django.db import models


class RequirementKind(models.TextChoices):
    """What a step may require before a part passes it."""

    MEASUREMENT = "measurement", "Measurement recorded"
    INSPECTION = "inspection", "Inspection sign-off"
    DOCUMENT = "document", "Work instruction acknowledged"
    TRAINING = "training", "Training current"
    EQUIPMENT = "equipment", "Calibrated equipment of a type"


class ExecutionOutcome(models.TextChoices):
    ADVANCED = "advanced", "Advanced"
    COMPLETED = "completed", "Completed"
    QUARANTINED = "quarantined", "Quarantined"


class BlockKind(models.TextChoices):
    """Kinds of refusal of an advance (``core.registry.Refusal.kind``) that an override may lift."""

    MISSING_INSPECTION = "missing_inspection", "Missing inspection"
    OUT_OF_SPEC = "out_of_spec", "Measurement out of specification"
    FPI_FAILED = "fpi_failed", "First-piece inspection not passed"
    TRAINING_EXPIRED = "training_expired", "Training missing or expired"
    CALIBRATION_DUE = "calibration_due", "Calibration due"
    SAMPLING_REQUIRED = "sampling_required", "Sampling inspection required"


# Refusals of the step's own requirements that are not overridable: record the measurement, read the
# instruction.
MISSING_MEASUREMENT = "missing_measurement"
DOCUMENT_UNACKNOWLEDGED = "document_unacknowledged"


# Per-part sampling ---------------------------------------------------------------------------------

class SamplingRuleKind(models.TextChoices):
    """How a sampling rule picks parts of a work order (``z14_lot`` plans whole lots, not single parts)."""

    EVERY_NTH = "every_nth", "Every Nth part"
    PERCENTAGE = "percentage", "Percentage, spread evenly"
    FIRST_N = "first_n", "First N parts"
    LAST_N = "last_n", "Last N parts"
    RANDOM = "random", "Random (seeded)"
    EXACT_COUNT = "exact_count", "Exact count, spread evenly"
    Z14_LOT = "z14_lot", "ANSI/ASQ Z1.4 lot plan"


class SamplingMode(models.TextChoices):
    """Which rules of a rule set decide: the primary ones, or the fallback ones after a defect."""

    PRIMARY = "primary", "Primary"
    FALLBACK = "fallback", "Fallback"
