"""Events step control publishes."""

from dataclasses import dataclass

from traveler.core.eventbus import Event, event_type

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
