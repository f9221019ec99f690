from django.urls import path  # noqa: F401
from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = [
    *router.urls,
]

# First-piece inspection and overrides
from traveler.mes_full.api import fpi as _fpi  # noqa: E402
from traveler.mes_full.api import overrides as _overrides  # noqa: E402

_fpi_router = SimpleRouter()
_fpi_router.register("fpi/requirements", _fpi.FPIRequirementViewSet, basename="mes-full-fpi-requirement")
_fpi_router.register("fpi/records", _fpi.FPIRecordViewSet, basename="mes-full-fpi-record")
_fpi_router.register("overrides", _overrides.OverrideViewSet, basename="mes-full-override")
urlpatterns += _fpi_router.urls
