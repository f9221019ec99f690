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


# Training and calibration ------------------------------------------------------------------------

class TrainingStatus(models.TextChoices):
    """Where a training record stands; only an active record can be current (its dates decide)."""

    PENDING_APPROVAL = "pending_approval", "Awaiting approval"
    ACTIVE = "active", "Active"
    REJECTED = "rejected", "Rejected"


class CalibrationOutcome(models.TextChoices):
    """The result of one calibration. *Adjusted*: the gauge was out and was adjusted back into
    tolerance; it passes, with what was adjusted (the parts it measured before may still be suspect)."""

    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    ADJUSTED = "adjusted", "Adjusted (pass after adjustment)"


# What the training matrix shows for a person and a training type.
class TrainingState(models.TextChoices):
    CURRENT = "current", "Current"
    EXPIRING = "expiring", "Expiring soon"
    EXPIRED = "expired", "Expired"
    PENDING = "pending", "Awaiting approval"
    MISSING = "missing", "Missing"


# First-piece inspection and overrides ------------------------------------------------------------

class FPIScope(models.TextChoices):
    """What one first piece stands for: every scope is within one work order (a new work order is a
    new set-up), then per shift, per equipment used or per operator."""

    WORK_ORDER = "work_order", "Per work order"
    SHIFT = "shift", "Per shift"
    EQUIPMENT = "equipment", "Per equipment"
    OPERATOR = "operator", "Per operator"


class FPIStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    WAIVED = "waived", "Waived"


class OverrideStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class OverrideLimit(models.TextChoices):
    """How far an approved override reaches: the part it was requested for, N parts of its work order
    at the step, or any part of its work order at the step until a time."""

    ONE_PART = "one_part", "This part only"
    PARTS = "parts", "A number of parts"
    UNTIL = "until", "Until a time"


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
