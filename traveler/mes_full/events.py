"""Events step control publishes."""

from dataclasses import dataclass

from traveler.core.eventbus import Event, event_type


@event_type
@dataclass(frozen=True)
class NonconformanceRequested(Event):
    """Step control found product that needs a nonconformance (a failed inspection, a failed first
    piece, a rejected lot, parts measured with a gauge that failed calibration). A quality module
    answers by opening one nonconformance per ``(source, source_id)``, however often it is delivered;
    without one, nothing happens beyond what step control did itself (holding the parts)."""

    name = "mes_full.nonconformance.requested"
    source: str  # "inspection", "fpi", "lot", "calibration"
    source_id: int
    title: str
    description: str
    part_ids: list[int]
    step_id: int | None
    severity: str = "major"


@event_type
@dataclass(frozen=True)
class InspectionRecorded(Event):
    name = "mes_full.inspection.recorded"
    inspection_id: int
    part_id: int
    step_id: int
    passed: bool

# Lot acceptance and rollbacks ----------------------------------------------------------------------


@event_type
@dataclass(frozen=True)
class LotAccepted(Event):
    name = "mes_full.lot.accepted"
    lot_id: int
    number: str
    part_type_id: int
    work_order_id: int | None
    step_id: int | None
    supplier: str
    defects_found: int
    severity_after: str


@event_type
@dataclass(frozen=True)
class LotRejected(Event):
    """A lot failed its Z1.4 sampling plan: its parts (``part_ids``, a work order's lot) are held; a
    quality module answers with one nonconformance for them."""

    name = "mes_full.lot.rejected"
    lot_id: int
    number: str
    part_type_id: int
    work_order_id: int | None
    step_id: int | None
    supplier: str
    supplier_lot_number: str
    lot_size: int
    sample_size: int
    acceptance_number: int
    rejection_number: int
    defects_found: int
    part_ids: list[int]
    url: str


@event_type
@dataclass(frozen=True)
class RollbackCompleted(Event):
    name = "mes_full.rollback.completed"
    rollback_id: int
    part_id: int
    from_step_id: int
    to_step_id: int
    superseded_transition_ids: list[int]

# First-piece inspection and overrides ------------------------------------------------------------


@event_type
@dataclass(frozen=True)
class FPIFailed(Event):
    """A first piece failed its inspection: its scope is blocked at the step. A quality module opens a
    nonconformance for the part (``part_id``)."""

    name = "mes_full.fpi.failed"
    fpi_id: int
    part_id: int
    serial_number: str
    step_id: int
    step_name: str
    work_order_id: int | None
    scope: str
    scope_label: str
    note: str


@event_type
@dataclass(frozen=True)
class FPIPassed(Event):
    name = "mes_full.fpi.passed"
    fpi_id: int
    part_id: int
    step_id: int


@event_type
@dataclass(frozen=True)
class FPIWaived(Event):
    name = "mes_full.fpi.waived"
    fpi_id: int
    part_id: int
    step_id: int
    request_id: int


@event_type
@dataclass(frozen=True)
class OverrideRequested(Event):
    name = "mes_full.override.requested"
    override_id: int
    part_id: int
    step_id: int
    block_kind: str


@event_type
@dataclass(frozen=True)
class OverrideApproved(Event):
    name = "mes_full.override.approved"
    override_id: int
    part_id: int
    step_id: int
    block_kind: str
