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

@event_type
@dataclass(frozen=True)
class CapaOpened(Event):
    name = "qms.capa.opened"
    capa_id: int
    number: str
    severity: str
    owner_id: int


@event_type
@dataclass(frozen=True)
class CapaStateChanged(Event):
    """Any move of a CAPA's state (start, submit, reopen); closing and cancelling have their own."""

    name = "qms.capa.state_changed"
    capa_id: int
    number: str
    transition: str
    from_state: str
    to_state: str


@event_type
@dataclass(frozen=True)
class CapaClosed(Event):
    name = "qms.capa.closed"
    capa_id: int
    number: str


@event_type
@dataclass(frozen=True)
class CapaCancelled(Event):
    name = "qms.capa.cancelled"
    capa_id: int
    number: str
    reason: str


@event_type
@dataclass(frozen=True)
class CapaVerified(Event):
    name = "qms.capa.verified"
    capa_id: int
    verification_id: int
    outcome: str


@event_type
@dataclass(frozen=True)
class CapaTaskCompleted(Event):
    name = "qms.capa_task.completed"
    task_id: int
    capa_id: int


@event_type
@dataclass(frozen=True)
class CapaOverdue(Event):
    """Published once per CAPA per day while it is past its due date (``capas_overdue_announce``)."""

    name = "qms.capa.overdue"
    capa_id: int
    number: str
    owner_id: int
    due_date: str
    day: str  # the day it is announced for: one notice a day


@event_type
@dataclass(frozen=True)
class CapaTaskOverdue(Event):
    """Published once per task per day while it is past its due date and not completed."""

    name = "qms.capa_task.overdue"
    task_id: int
    capa_id: int
    number: str
    title: str
    owner_id: int
    due_date: str
    day: str  # the day it is announced for: one notice a day


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


@event_type
@dataclass(frozen=True)
class SpcSignalAnswered(Event):
    """Records opened for an SPC signal (``links``: [{kind, id, label, url}])."""

    name = "qms.spc_signal.answered"
    signal_id: int
    links: list[dict]
