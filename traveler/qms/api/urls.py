"""Quality's API, mounted at /api/v1/qms/."""

from rest_framework.routers import SimpleRouter

from traveler.qms.api.views import DefectCodeViewSet, QualityReportViewSet

router = SimpleRouter()
router.register("quality-reports", QualityReportViewSet, basename="quality-report")
router.register("defect-codes", DefectCodeViewSet, basename="defect-code")

from traveler.qms.api.nonconformances import NonconformanceViewSet  # noqa: E402

router.register("nonconformances", NonconformanceViewSet, basename="nonconformance")

urlpatterns = router.urls
