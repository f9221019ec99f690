"""Quality's pages, mounted at /qms/ (the module's url_prefix), app namespace "qms"."""

from traveler.core.ui.generic import record_urls
from traveler.qms.models import QualityErrorsList, QualityReport
from traveler.qms.ui import views

app_name = "qms"

urlpatterns = [
    *record_urls("quality-reports/", QualityReport, list=views.QualityReportList, detail=views.QualityReportDetail,
                 form=views.QualityReportEdit, archive=views.QualityReportArchive, restore=True, history=True),
    *record_urls("defect-codes/", QualityErrorsList, list=views.DefectCodeList, detail=views.DefectCodeDetail,
                 form=views.DefectCodeEdit, archive=True, restore=True, history=True),
]

# The quality dashboard.
from django.urls import path  # noqa: E402

from traveler.qms.ui import dashboard  # noqa: E402

urlpatterns += [path("dashboard/", dashboard.quality_dashboard, name="dashboard")]
