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
class ThreeDModelCreated(Event):
    name = "qms.three_d_model.created"
    model_id: int
    part_type_id: int
    document_id: int
    revision_id: int


@event_type
@dataclass(frozen=True)
class HeatmapAnnotationCreated(Event):
    name = "qms.heatmap_annotation.created"
    annotation_id: int
    model_id: int
    part_id: int
    defect_code_id: int
    step_id: int | None
