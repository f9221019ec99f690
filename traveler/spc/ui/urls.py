from django.urls import path

from traveler.spc.ui import capability as cap_ui
from traveler.spc.ui import views

app_name = "spc"

urlpatterns = [
    path("charts/", views.chart, name="chart"),
    path("sampling/", views.sampling, name="sampling"),
    # Capability, the characteristic report and its measurements, the SPC settings.
    path("characteristics/<int:pk>/capability/", cap_ui.CharacteristicCapabilityPage.as_view(),
         name="characteristic-capability"),
    path("characteristics/<int:pk>/report.pdf", cap_ui.CharacteristicReportPdf.as_view(),
         name="characteristic-report"),
    path("characteristics/<int:pk>/measurements.csv", cap_ui.CharacteristicMeasurementsCsv.as_view(),
         name="characteristic-measurements"),
    path("capability/", cap_ui.CapabilitySummaryPage.as_view(), name="capability"),
    path("capability/settings/", cap_ui.SPCSettingsPage.as_view(), name="capability-settings"),
]
