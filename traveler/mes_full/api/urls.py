from django.urls import path
from rest_framework.routers import SimpleRouter

from traveler.mes_full.api import requirements as req

router = SimpleRouter()
router.register("requirements", req.RequirementViewSet, basename="mes-full-requirement")
router.register("inspections", req.InspectionViewSet, basename="mes-full-inspection")
router.register("executions", req.ExecutionViewSet, basename="mes-full-execution")
router.register("acknowledgements", req.AcknowledgementViewSet, basename="mes-full-acknowledgement")

urlpatterns = [
    path("parts/<int:part>/gates/", req.PartGatesView.as_view(), name="part-gates"),
    *router.urls,
]
