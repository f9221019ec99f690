from django.urls import path  # noqa: F401

app_name = "mes_full"

urlpatterns = [
]

# Lot acceptance and rollbacks.
from traveler.mes_full.ui import lots as lots_ui  # noqa: E402
from traveler.mes_full.ui import rollbacks as rollbacks_ui  # noqa: E402

urlpatterns += [*lots_ui.urlpatterns, *rollbacks_ui.urlpatterns]
