from django.urls import path  # noqa: F401
from rest_framework.routers import SimpleRouter

router = SimpleRouter()

# Lot acceptance and rollbacks.
from traveler.mes_full.api import lots as lots_api  # noqa: E402
from traveler.mes_full.api import rollbacks as rollbacks_api  # noqa: E402

router.register("lots", lots_api.LotInspectionViewSet, basename="mes-full-lot")
router.register("lot-switching-states", lots_api.SwitchingStateViewSet, basename="mes-full-lot-switching")
router.register("rollbacks", rollbacks_api.RollbackViewSet, basename="mes-full-rollback")

urlpatterns = [
    *router.urls,
]
