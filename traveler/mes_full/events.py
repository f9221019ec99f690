"""Events step control publishes."""

from dataclasses import dataclass

from traveler.core.eventbus import Event, event_type

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
