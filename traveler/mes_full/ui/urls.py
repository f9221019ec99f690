from django.urls import path  # noqa: F401

app_name = "mes_full"

urlpatterns = [
]

# Per-part sampling.
from traveler.mes_full.ui import sampling as sampling_ui  # noqa: E402

urlpatterns += sampling_ui.urlpatterns
