"""MES Lite's pages, mounted at /mes/ (the module's url_prefix), app namespace "mes_lite"."""

from traveler.mes_lite.ui import equipment, orders, parts, routing, station

app_name = "mes_lite"

urlpatterns = [
    *station.urlpatterns,
    *orders.urlpatterns,
    *parts.urlpatterns,
    *routing.urlpatterns,
    *equipment.urlpatterns,
]
