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
