"""Quality's pages, mounted at /qms/ (the module's url_prefix), app namespace "qms"."""

from traveler.core.ui.generic import record_urls
from traveler.qms.models import QualityErrorsList, QualityReport
from traveler.qms.ui import views

app_name = "qms"

from django.urls import path  # noqa: E402

from traveler.qms import pdf  # noqa: E402
from traveler.qms.models import QuarantineDisposition  # noqa: E402
from traveler.qms.ui import nonconformances as ncr  # noqa: E402

urlpatterns = [
    *record_urls("quality-reports/", QualityReport, list=views.QualityReportList, detail=views.QualityReportDetail,
                 form=views.QualityReportEdit, archive=views.QualityReportArchive, restore=True, history=True),
    *record_urls("defect-codes/", QualityErrorsList, list=views.DefectCodeList, detail=views.DefectCodeDetail,
                 form=views.DefectCodeEdit, archive=True, restore=True, history=True),
    path("nonconformances/", ncr.NcrBoard.as_view(), name="quarantinedisposition-list"),
    path("nonconformances/new/", ncr.NcrCreate.as_view(), name="quarantinedisposition-create"),
    path("nonconformances/<int:pk>/", ncr.NcrDetail.as_view(), name="quarantinedisposition-detail"),
    path("nonconformances/<int:pk>/disposition/", ncr.NcrDecide.as_view(), name="quarantinedisposition-decide"),
    *[path(f"nonconformances/<int:pk>/{name}/", ncr.NcrTransition.as_view(name=name),
           name=f"quarantinedisposition-{name}") for name in ("start", "verify", "close", "cancel", "concession")],
    path("nonconformances/<int:pk>/pdf/", pdf.NcrPdf.as_view(), name="quarantinedisposition-pdf"),
    *record_urls("nonconformances/", QuarantineDisposition, history=True),
]

# CAPA
from django.urls import path  # noqa: E402

from traveler.qms.models import CAPA  # noqa: E402
from traveler.qms.ui import capa  # noqa: E402

urlpatterns += [
    *record_urls("capas/", CAPA, list=capa.CapaList, detail=capa.CapaDetail, form=capa.CapaEdit, history=True),
    path("capas/<int:pk>/transition/<str:action>/", capa.CapaTransition.as_view(), name="capa-transition"),
    path("capas/<int:pk>/tasks/new/", capa.CapaTaskCreate.as_view(), name="capa-task-create"),
    path("capas/<int:pk>/tasks/<int:task_pk>/complete/", capa.CapaTaskComplete.as_view(), name="capa-task-complete"),
    path("capas/<int:pk>/rca/", capa.CapaRcaEdit.as_view(), name="capa-rca"),
    path("capas/<int:pk>/verify/", capa.CapaVerify.as_view(), name="capa-verify"),
    path("capas/<int:pk>/request-closure/", capa.CapaRequestClosure.as_view(), name="capa-request-closure"),
    path("capas/<int:pk>/report.pdf", capa.CapaReport.as_view(), name="capa-report"),
]

# 3D defect maps
from django.urls import path  # noqa: E402

from traveler.qms.models import ThreeDModel  # noqa: E402
from traveler.qms.ui import maps  # noqa: E402

urlpatterns += [
    path("3d-models/new/", maps.ThreeDModelUpload.as_view(), name="threedmodel-create"),
    path("3d-models/<int:pk>/edit/", maps.ThreeDModelRename.as_view(), name="threedmodel-update"),
    *record_urls("3d-models/", ThreeDModel, list=maps.ThreeDModelList, detail=maps.ThreeDModelDetail, archive=True,
                 restore=True, history=True),
]

# The quality dashboard.
from django.urls import path  # noqa: E402

from traveler.qms.ui import dashboard  # noqa: E402

urlpatterns += [path("dashboard/", dashboard.quality_dashboard, name="dashboard")]
