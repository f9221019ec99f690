"""Events MES Lite publishes (names use the short module name "mes")."""

from dataclasses import dataclass

from traveler.core.eventbus import Event, event_type


@event_type
@dataclass(frozen=True)
class ProcessReleased(Event):
    name = "mes.process.released"
    process_id: int
    part_type_id: int
    version: int


@event_type
@dataclass(frozen=True)
class OrderReleased(Event):
    name = "mes.order.released"
    order_id: int


@event_type
@dataclass(frozen=True)
class OrderCompleted(Event):
    name = "mes.order.completed"
    order_id: int


@event_type
@dataclass(frozen=True)
class OrderCancelled(Event):
    name = "mes.order.cancelled"
    order_id: int
    work_orders: int  # how many of its work orders were cancelled with it


@event_type
@dataclass(frozen=True)
class WorkOrderReleased(Event):
    name = "mes.work_order.released"
    work_order_id: int


@event_type
@dataclass(frozen=True)
class WorkOrderCompleted(Event):
    name = "mes.work_order.completed"
    work_order_id: int
    completed: int
    scrapped: int


@event_type
@dataclass(frozen=True)
class WorkOrderCancelled(Event):
    name = "mes.work_order.cancelled"
    work_order_id: int
    scrapped: int  # unfinished parts scrapped by the cancellation
    held: int  # unfinished parts left on hold (released from production)


@event_type
@dataclass(frozen=True)
class PartsCreated(Event):
    name = "mes.work_order.parts_created"
    work_order_id: int
    count: int
    first_serial: str
    last_serial: str


@dataclass(frozen=True)
class _PartEvent(Event):
    part_id: int
    serial_number: str
    work_order_id: int | None
    from_step_id: int | None
    to_step_id: int | None
    status: str


@event_type
@dataclass(frozen=True)
class PartAdvanced(_PartEvent):
    name = "mes.part.advanced"


@event_type
@dataclass(frozen=True)
class PartQuarantined(_PartEvent):
    name = "mes.part.quarantined"


@event_type
@dataclass(frozen=True)
class PartCompleted(_PartEvent):
    name = "mes.part.completed"


@event_type
@dataclass(frozen=True)
class PartHeld(_PartEvent):
    name = "mes.part.held"


@event_type
@dataclass(frozen=True)
class PartReleased(_PartEvent):
    name = "mes.part.released"


@event_type
@dataclass(frozen=True)
class PartScrapped(_PartEvent):
    name = "mes.part.scrapped"


@event_type
@dataclass(frozen=True)
class PartReworked(_PartEvent):
    name = "mes.part.reworked"
    attempt: int = 0  # the part's rework attempts, this one included


@event_type
@dataclass(frozen=True)
class PartReturned(_PartEvent):
    name = "mes.part.returned"


@event_type
@dataclass(frozen=True)
class PartAccepted(_PartEvent):
    name = "mes.part.accepted"
