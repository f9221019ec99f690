"""Quality's API, mounted at /api/v1/qms/."""

from rest_framework.routers import SimpleRouter

from traveler.qms.api.views import DefectCodeViewSet, QualityReportViewSet

router = SimpleRouter()
router.register("quality-reports", QualityReportViewSet, basename="quality-report")
router.register("defect-codes", DefectCodeViewSet, basename="defect-code")

from traveler.qms.api.nonconformances import NonconformanceViewSet  # noqa: E402

router.register("nonconformances", NonconformanceViewSet, basename="nonconformance")

urlpatterns = router.urls

# CAPA
from traveler.qms.api.capa import CapaTaskViewSet, CapaVerificationViewSet, CapaViewSet, RcaViewSet  # noqa: E402

router.register("capas", CapaViewSet, basename="capa")
router.register("capa-tasks", CapaTaskViewSet, basename="capa-task")
router.register("capa-rcas", RcaViewSet, basename="capa-rca")
router.register("capa-verifications", CapaVerificationViewSet, basename="capa-verification")
urlpatterns = router.urls

# 3D defect maps
from traveler.qms.api.maps import HeatmapAnnotationViewSet, ThreeDModelViewSet  # noqa: E402

router.register("3d-models", ThreeDModelViewSet, basename="three-d-model")
router.register("annotations", HeatmapAnnotationViewSet, basename="heatmap-annotation")
urlpatterns = router.urls

# Analytics: the defect Pareto and first-pass yield per step.
from django.urls import path  # noqa: E402

from traveler.qms.api import analytics  # noqa: E402

urlpatterns += [
    path("analytics/pareto/", analytics.ParetoView.as_view(), name="analytics-pareto"),
    path("analytics/pareto/chart.svg", analytics.ParetoSvgView.as_view(), name="analytics-pareto-svg"),
    path("analytics/first-pass-yield/", analytics.FirstPassYieldView.as_view(), name="analytics-first-pass-yield"),
]
