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
