from traveler.qms.models.defects import QualityErrorPartType, QualityErrorsList, QualityErrorStep
from traveler.qms.models.reports import (
    MeasurementResult,
    QualityReport,
    QualityReportDefect,
    QualityReportEquipment,
    QualityReportInspector,
)

__all__ = [
    "MeasurementResult", "QualityErrorPartType", "QualityErrorStep", "QualityErrorsList", "QualityReport",
    "QualityReportDefect", "QualityReportEquipment", "QualityReportInspector",
]
from traveler.qms.models.nonconformances import (  # noqa: E402
    Concession,
    NonconformancePart,
    NonconformanceReport,
    NonconformanceSettings,
    QuarantineDisposition,
)

__all__ += ["Concession", "NonconformancePart", "NonconformanceReport", "NonconformanceSettings",
            "QuarantineDisposition"]

from traveler.qms.models.capa import (  # noqa: E402
    CAPA,
    CapaNonconformance,
    CapaPart,
    CapaQualityReport,
    CapaStep,
    CapaTask,
    CapaTaskAssignee,
    CapaVerification,
    CapaWorkOrder,
    FishboneCause,
    FiveWhy,
    RcaRecord,
    RootCause,
)

__all__ += [
    "CAPA", "CapaNonconformance", "CapaPart", "CapaQualityReport", "CapaStep", "CapaTask", "CapaTaskAssignee", "CapaVerification",
    "CapaWorkOrder", "FishboneCause", "FiveWhy", "RcaRecord", "RootCause",
]


from traveler.qms.models.maps import HeatmapAnnotation, ThreeDModel  # noqa: E402

__all__ += ["HeatmapAnnotation", "ThreeDModel"]

from traveler.qms.models.analytics import FirstDeparture, FirstPassCount  # noqa: E402

__all__ += ["FirstDeparture", "FirstPassCount"]
