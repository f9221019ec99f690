"""Quality's permissions (seed 001 section 8): QA managers and inspectors record, other staff and
auditors read, customers see nothing."""

from traveler.core.registry import declare_permissions
from traveler.core.roles import ADMINS, QA_INSPECTOR, QA_MANAGER, READ_ALL

QA = (*ADMINS, QA_MANAGER, QA_INSPECTOR)

declare_permissions(
    "qms",
    ("qms.view_qualityerrorslist", "View defect codes", READ_ALL),
    ("qms.add_qualityerrorslist", "Add defect codes", QA),
    ("qms.change_qualityerrorslist", "Change defect codes", QA),
    ("qms.archive_qualityerrorslist", "Archive defect codes", QA),
    ("qms.view_qualityreport", "View quality reports and their results", READ_ALL),
    ("qms.add_qualityreport", "Record quality reports", QA),
    ("qms.change_qualityreport", "Change quality reports", QA),
    ("qms.archive_qualityreport", "Archive quality reports", QA),
)

# 3D defect maps: QA places defects and uploads models, other staff and auditors read, customers see none.
declare_permissions(
    "qms",
    ("qms.view_threedmodel", "View 3D models and their defect heatmaps", READ_ALL),
    ("qms.add_threedmodel", "Upload 3D models", QA),
    ("qms.change_threedmodel", "Change 3D models", QA),
    ("qms.archive_threedmodel", "Archive 3D models", QA),
    ("qms.view_heatmapannotation", "View defects placed on 3D models", READ_ALL),
    ("qms.add_heatmapannotation", "Place defects on 3D models", QA),
    ("qms.change_heatmapannotation", "Change defects placed on 3D models", QA),
    ("qms.archive_heatmapannotation", "Archive defects placed on 3D models", QA),
)
