"""Quality's API, mounted at /api/v1/qms/."""

from rest_framework.routers import SimpleRouter

from traveler.qms.api.views import DefectCodeViewSet, QualityReportViewSet

router = SimpleRouter()
router.register("quality-reports", QualityReportViewSet, basename="quality-report")
router.register("defect-codes", DefectCodeViewSet, basename="defect-code")

urlpatterns = router.urls

# 3D defect maps
from traveler.qms.api.maps import HeatmapAnnotationViewSet, ThreeDModelViewSet  # noqa: E402

router.register("3d-models", ThreeDModelViewSet, basename="three-d-model")
router.register("annotations", HeatmapAnnotationViewSet, basename="heatmap-annotation")
urlpatterns = router.urls
