"""Quality enums."""

from django.db import models


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"


class ReportOrigin(models.TextChoices):
    MANUAL = "manual", "Recorded by hand"
    QUARANTINE = "quarantine", "Created when the part was quarantined"


# Nonconformances ----------------------------------------------------------------------------------

class NcrState(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DISPOSITIONED = "dispositioned", "Dispositioned"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class Disposition(models.TextChoices):
    REWORK = "rework", "Rework"
    REPAIR = "repair", "Repair"
    SCRAP = "scrap", "Scrap"
    USE_AS_IS = "use_as_is", "Use as is"
    RETURN_TO_SUPPLIER = "return_to_supplier", "Return to supplier"


class DispositionStatus(models.TextChoices):
    NONE = "", "Not decided"
    AWAITING_APPROVAL = "awaiting_approval", "Decided, awaiting approval"
    DONE = "done", "Done"


# The allowed transitions of a nonconformance, in one table: name -> (from states, to state). Each is
# one service (``nonconformance_<name>``). "decide" records a disposition that waits for its approval;
# "disposition" makes it act (directly, or when the approval is given); "reject" returns a decided
# disposition whose approval was rejected or cancelled.
NCR_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({NcrState.OPEN}), NcrState.IN_PROGRESS),
    "decide": (frozenset({NcrState.OPEN, NcrState.IN_PROGRESS}), NcrState.IN_PROGRESS),
    "disposition": (frozenset({NcrState.OPEN, NcrState.IN_PROGRESS}), NcrState.DISPOSITIONED),
    "reject": (frozenset({NcrState.IN_PROGRESS}), NcrState.IN_PROGRESS),
    "close": (frozenset({NcrState.DISPOSITIONED}), NcrState.CLOSED),
    "cancel": (frozenset({NcrState.OPEN, NcrState.IN_PROGRESS}), NcrState.CANCELLED),
}

# States in which a nonconformance contains its parts (the guard holds them).
NCR_ACTIVE = frozenset({NcrState.OPEN, NcrState.IN_PROGRESS, NcrState.DISPOSITIONED})

class CapaType(models.TextChoices):
    CORRECTIVE = "corrective", "Corrective"
    PREVENTIVE = "preventive", "Preventive"
    CUSTOMER_COMPLAINT = "customer_complaint", "Customer complaint"
    INTERNAL_AUDIT = "internal_audit", "Internal audit"
    SUPPLIER = "supplier", "Supplier"


class CapaState(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    PENDING_VERIFICATION = "pending_verification", "Pending verification"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


# The CAPA state machine, in one table: each transition, the states it may start from and where it
# goes. One service per transition (traveler.qms.services.capa); nothing else writes ``state``.
CAPA_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({CapaState.OPEN}), CapaState.IN_PROGRESS),
    "submit": (frozenset({CapaState.IN_PROGRESS}), CapaState.PENDING_VERIFICATION),
    "reopen": (frozenset({CapaState.PENDING_VERIFICATION}), CapaState.IN_PROGRESS),
    "close": (frozenset({CapaState.PENDING_VERIFICATION}), CapaState.CLOSED),
    "cancel": (frozenset({CapaState.OPEN, CapaState.IN_PROGRESS, CapaState.PENDING_VERIFICATION}),
               CapaState.CANCELLED),
}
CAPA_ACTIVE = (CapaState.OPEN, CapaState.IN_PROGRESS, CapaState.PENDING_VERIFICATION)


class TaskKind(models.TextChoices):
    CONTAINMENT = "containment", "Containment"
    CORRECTIVE = "corrective", "Corrective"
    PREVENTIVE = "preventive", "Preventive"


class CompletionRule(models.TextChoices):
    ANY = "any", "Any one assignee"
    ALL = "all", "All assignees"


class RcaMethod(models.TextChoices):
    FIVE_WHYS = "five_whys", "5 Whys"
    FISHBONE = "fishbone", "Fishbone (Ishikawa)"
    OTHER = "other", "Other"


class FishboneCategory(models.TextChoices):
    MAN = "man", "Man (people)"
    MACHINE = "machine", "Machine"
    METHOD = "method", "Method"
    MATERIAL = "material", "Material"
    MEASUREMENT = "measurement", "Measurement"
    ENVIRONMENT = "environment", "Mother nature (environment)"


class VerificationOutcome(models.TextChoices):
    CONFIRMED = "confirmed", "Effective (confirmed)"
    NOT_EFFECTIVE = "not_effective", "Not effective"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class ModelFormat(models.TextChoices):
    GLB = "glb", "glTF binary (GLB)"
    GLTF = "gltf", "glTF (JSON)"
    STL = "stl", "STL"
