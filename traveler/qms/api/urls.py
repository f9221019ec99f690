"""Quality's API, mounted at /api/v1/qms/."""

from rest_framework.routers import SimpleRouter

from traveler.qms.api.views import DefectCodeViewSet, QualityReportViewSet

router = SimpleRouter()
router.register("quality-reports", QualityReportViewSet, basename="quality-report")
router.register("defect-codes", DefectCodeViewSet, basename="defect-code")

urlpatterns = router.urls

# Analytics: the defect Pareto and first-pass yield per step.
from django.urls import path  # noqa: E402

from traveler.qms.api import analytics  # noqa: E402

urlpatterns += [
    path("analytics/pareto/", analytics.ParetoView.as_view(), name="analytics-pareto"),
    path("analytics/pareto/chart.svg", analytics.ParetoSvgView.as_view(), name="analytics-pareto-svg"),
    path("analytics/first-pass-yield/", analytics.FirstPassYieldView.as_view(), name="analytics-first-pass-yield"),
]
