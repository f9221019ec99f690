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

from traveler.qms.models.maps import HeatmapAnnotation, ThreeDModel  # noqa: E402

__all__ += ["HeatmapAnnotation", "ThreeDModel"]
