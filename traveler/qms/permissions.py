"""Quality's permissions (seed 001 section 8): QA managers and inspectors record, other staff and
auditors read, customers see nothing."""

from traveler.core.registry import declare_permissions
from traveler.core.roles import ADMINS, CUSTOMER, QA_INSPECTOR, QA_MANAGER, READ_ALL

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

# Nonconformances: QA managers and inspectors write; every internal role and the auditor read (an
# operator sees them on the station too); a customer reads those about its own orders' parts
# (``nonconformances_visible``), with their concessions. The review board's signatures are approvals
# of the "material_review" template, whose default approvers are QA managers.
declare_permissions(
    "qms",
    ("qms.view_quarantinedisposition", "View nonconformances", (*READ_ALL, CUSTOMER)),
    ("qms.add_quarantinedisposition", "Open nonconformances", QA),
    ("qms.change_quarantinedisposition", "Change, start, verify, close and cancel nonconformances", QA),
    ("qms.disposition_quarantinedisposition", "Decide and sign the disposition of nonconformances", QA),
    ("qms.view_concession", "View customer concessions", (*READ_ALL, CUSTOMER)),
    ("qms.add_concession", "Record customer concessions", QA),
    ("qms.change_nonconformancesettings", "Choose which nonconformances need an approved disposition",
     (*ADMINS, QA_MANAGER)),
)

# CAPA (seed 001 section 8): QA Managers and QA Inspectors record and move CAPAs, their tasks, analyses
# and verifications; other staff and auditors read; customers see none.
declare_permissions(
    "qms",
    ("qms.view_capa", "View CAPAs, their tasks, analyses and verifications", READ_ALL),
    ("qms.add_capa", "Open CAPAs", QA),
    ("qms.change_capa", "Change CAPAs, their tasks and analyses, move and verify them", QA),
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


# The quality dashboard (defect Pareto, first-pass yield, the panels on "qms.dashboard"): quality,
# production managers and auditors; operators and customers do not see it.
declare_permissions(
    "qms",
    ("qms.view_quality_dashboard", "View the quality dashboard (defect Pareto, first-pass yield)",
     (*QA, "production_manager", "auditor")),
)
