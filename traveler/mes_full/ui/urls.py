from traveler.mes_full.ui import requirements

app_name = "mes_full"

urlpatterns = [
    *requirements.urlpatterns,
]
