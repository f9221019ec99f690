"""Events Quality publishes."""

from dataclasses import dataclass

from traveler.core.eventbus import Event, event_type


@event_type
@dataclass(frozen=True)
class QualityReportCreated(Event):
    name = "qms.quality_report.created"
    report_id: int
    part_id: int
    step_id: int
    status: str
    origin: str


@event_type
@dataclass(frozen=True)
class NonconformanceOpened(Event):
    name = "qms.nonconformance.opened"
    nonconformance_id: int
    number: str
    severity: str
    part_ids: list[int]


@event_type
@dataclass(frozen=True)
class NonconformanceDispositioned(Event):
    name = "qms.nonconformance.dispositioned"
    nonconformance_id: int
    number: str
    disposition: str
    part_ids: list[int]


@event_type
@dataclass(frozen=True)
class NonconformanceClosed(Event):
    name = "qms.nonconformance.closed"
    nonconformance_id: int
    number: str
    disposition: str


@event_type
@dataclass(frozen=True)
class NonconformanceCancelled(Event):
    name = "qms.nonconformance.cancelled"
    nonconformance_id: int
    number: str
    reason: str
