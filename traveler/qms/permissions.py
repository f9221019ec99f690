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

# The quality dashboard (defect Pareto, first-pass yield, the panels on "qms.dashboard"): quality,
# production managers and auditors; operators and customers do not see it.
declare_permissions(
    "qms",
    ("qms.view_quality_dashboard", "View the quality dashboard (defect Pareto, first-pass yield)",
     (*QA, "production_manager", "auditor")),
)
