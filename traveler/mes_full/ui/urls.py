from traveler.mes_full.ui import requirements

app_name = "mes_full"

urlpatterns = [
    *requirements.urlpatterns,
]

# Training and calibration
from traveler.mes_full.ui import calibration as _calibration  # noqa: E402
from traveler.mes_full.ui import training as _training  # noqa: E402

urlpatterns += [*_training.urlpatterns, *_calibration.urlpatterns]
# Lot acceptance and rollbacks.
from traveler.mes_full.ui import lots as lots_ui  # noqa: E402
from traveler.mes_full.ui import rollbacks as rollbacks_ui  # noqa: E402

urlpatterns += [*lots_ui.urlpatterns, *rollbacks_ui.urlpatterns]

# First-piece inspection, overrides, the station's step panel
from traveler.mes_full.ui import fpi as _fpi  # noqa: E402
from traveler.mes_full.ui import overrides as _overrides  # noqa: E402
from traveler.mes_full.ui import station as _station  # noqa: E402

urlpatterns += [*_fpi.urlpatterns, *_overrides.urlpatterns, *_station.urlpatterns]

# Per-part sampling.
from traveler.mes_full.ui import sampling as sampling_ui  # noqa: E402

urlpatterns += sampling_ui.urlpatterns
