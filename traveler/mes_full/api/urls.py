from django.urls import path
from rest_framework.routers import SimpleRouter

from traveler.mes_full.api import requirements as req

router = SimpleRouter()
router.register("requirements", req.RequirementViewSet, basename="mes-full-requirement")
router.register("inspections", req.InspectionViewSet, basename="mes-full-inspection")
router.register("executions", req.ExecutionViewSet, basename="mes-full-execution")
router.register("acknowledgements", req.AcknowledgementViewSet, basename="mes-full-acknowledgement")

# Lot acceptance and rollbacks.
from traveler.mes_full.api import lots as lots_api  # noqa: E402
from traveler.mes_full.api import rollbacks as rollbacks_api  # noqa: E402

router.register("lots", lots_api.LotInspectionViewSet, basename="mes-full-lot")
router.register("lot-switching-states", lots_api.SwitchingStateViewSet, basename="mes-full-lot-switching")
router.register("rollbacks", rollbacks_api.RollbackViewSet, basename="mes-full-rollback")

urlpatterns = [
    path("parts/<int:part>/gates/", req.PartGatesView.as_view(), name="part-gates"),
    *router.urls,
]

# Training and calibration
from traveler.mes_full.api import calibration as _calibration  # noqa: E402
from traveler.mes_full.api import training as _training  # noqa: E402

# A router of its own: the shared router's URLs are computed (and cached) above, before this block.
_training_router = SimpleRouter()
_training_router.register("training/types", _training.TrainingTypeViewSet, basename="mes-full-training-type")
_training_router.register("training/records", _training.TrainingRecordViewSet, basename="mes-full-training-record")
_training_router.register("calibration/records", _calibration.CalibrationRecordViewSet,
                          basename="mes-full-calibration-record")
urlpatterns += [
    path("training/matrix/", _training.TrainingMatrixView.as_view(), name="training-matrix"),
    path("calibration/schedule/", _calibration.CalibrationScheduleView.as_view(), name="calibration-schedule"),
    *_training_router.urls,
]

# First-piece inspection and overrides
from traveler.mes_full.api import fpi as _fpi  # noqa: E402
from traveler.mes_full.api import overrides as _overrides  # noqa: E402

_fpi_router = SimpleRouter()
_fpi_router.register("fpi/requirements", _fpi.FPIRequirementViewSet, basename="mes-full-fpi-requirement")
_fpi_router.register("fpi/records", _fpi.FPIRecordViewSet, basename="mes-full-fpi-record")
_fpi_router.register("overrides", _overrides.OverrideViewSet, basename="mes-full-override")
urlpatterns += _fpi_router.urls

# Per-part sampling (its own router: the one above has built its URLs already).
from traveler.mes_full.api import sampling as sampling_api  # noqa: E402

sampling_router = SimpleRouter()
sampling_router.register("sampling/rule-sets", sampling_api.RuleSetViewSet, basename="sampling-ruleset")
sampling_router.register("sampling/decisions", sampling_api.DecisionViewSet, basename="sampling-decision")
sampling_router.register("sampling/analytics", sampling_api.AnalyticsViewSet, basename="sampling-analytics")
urlpatterns += [
    path("sampling/preview/", sampling_api.PreviewView.as_view(), name="sampling-preview"),
    *sampling_router.urls,
]
