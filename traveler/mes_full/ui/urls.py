from django.urls import path  # noqa: F401

app_name = "mes_full"

urlpatterns = [
]

# First-piece inspection, overrides, the station's step panel
from traveler.mes_full.ui import fpi as _fpi  # noqa: E402
from traveler.mes_full.ui import overrides as _overrides  # noqa: E402
from traveler.mes_full.ui import station as _station  # noqa: E402

urlpatterns += [*_fpi.urlpatterns, *_overrides.urlpatterns, *_station.urlpatterns]
