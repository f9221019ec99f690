"""Status enums and the allowed transitions of each state machine, in one table each."""

from django.db import models


class ProcessStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released"
    OBSOLETE = "obsolete", "Obsolete"


class OrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class WorkOrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class PartStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # created, not yet at the first step
    IN_PROCESS = "in_process", "In process"
    QUARANTINED = "quarantined", "Quarantined"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    SCRAPPED = "scrapped", "Scrapped"
    RETURNED = "returned", "Returned to supplier"


class MeasurementKind(models.TextChoices):
    NUMERIC = "numeric", "Numeric"
    PASS_FAIL = "pass_fail", "Pass / fail"


class CalibrationResult(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail: may not be used until calibrated again"


class EdgeKind(models.TextChoices):
    NEXT = "next", "Next step"
    REWORK = "rework", "Rework loop"
    BRANCH = "branch", "Alternative"


class TransitionAction(models.TextChoices):
    START = "start", "Started"
    ADVANCE = "advance", "Advanced"
    QUARANTINE = "quarantine", "Quarantined"
    HOLD = "hold", "Put on hold"
    RELEASE = "release", "Released from hold"
    SCRAP = "scrap", "Scrapped"
    COMPLETE = "complete", "Completed"
    REWORK = "rework", "Sent back for rework"
    RETURN = "return", "Returned to supplier"
    ACCEPT = "accept", "Accepted as it is"


# Which part statuses each action may start from.
PART_TRANSITIONS: dict[str, set[str]] = {
    TransitionAction.ADVANCE: {PartStatus.PENDING, PartStatus.IN_PROCESS},
    TransitionAction.HOLD: {PartStatus.PENDING, PartStatus.IN_PROCESS, PartStatus.QUARANTINED},
    TransitionAction.RELEASE: {PartStatus.ON_HOLD},
    TransitionAction.SCRAP: {PartStatus.PENDING, PartStatus.IN_PROCESS, PartStatus.QUARANTINED, PartStatus.ON_HOLD},
    TransitionAction.REWORK: {PartStatus.IN_PROCESS, PartStatus.QUARANTINED, PartStatus.ON_HOLD},
    TransitionAction.RETURN: {PartStatus.PENDING, PartStatus.IN_PROCESS, PartStatus.QUARANTINED, PartStatus.ON_HOLD},
    TransitionAction.ACCEPT: {PartStatus.QUARANTINED, PartStatus.ON_HOLD},
}

# Parts that left production without being delivered: counted apart from an order's parts to deliver
# (its percent complete is over the others) and never "in work".
PART_LEFT = (PartStatus.SCRAPPED, PartStatus.RETURNED)

ORDER_TRANSITIONS: dict[str, set[str]] = {
    "release": {OrderStatus.DRAFT},
    "complete": {OrderStatus.RELEASED, OrderStatus.IN_PROGRESS},
    "cancel": {OrderStatus.DRAFT, OrderStatus.RELEASED, OrderStatus.IN_PROGRESS},
}

WORK_ORDER_TRANSITIONS: dict[str, set[str]] = {
    "release": {WorkOrderStatus.DRAFT},
    "complete": {WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS},
    "cancel": {WorkOrderStatus.DRAFT, WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS},
}
