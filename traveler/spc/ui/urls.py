from django.urls import path

from traveler.spc.ui import capability as cap_ui
from traveler.spc.ui import reaction_plans, signals, views

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
    *signals.urlpatterns,
    path("characteristics/<int:definition>/reaction-plan/", reaction_plans.ReactionPlanPage.as_view(),
         name="characteristic-reaction-plan"),
]

# Characteristics: the traveler's measurements charted, and their baselines.
from traveler.spc.ui import characteristics as ch  # noqa: E402

urlpatterns += [
    path("characteristics/", ch.CharacteristicList.as_view(), name="characteristics"),
    path("characteristics/<int:definition>/", ch.CharacteristicChart.as_view(), name="characteristic"),
    path("characteristics/<int:definition>/points/<int:key>/", ch.CharacteristicPoint.as_view(),
         name="characteristic-point"),
    path("characteristics/<int:definition>/settings/", ch.CharacteristicSettings.as_view(),
         name="characteristic-settings"),
    path("characteristics/<int:definition>/baselines/", ch.CharacteristicBaselines.as_view(),
         name="characteristic-baselines"),
    # Named <app>:<model>-detail: the page core links a signed baseline to (record_page_url); the panels
    # registered on "spc.baseline.detail" (its signatures) are shown on it.
    path("baselines/<int:pk>/", ch.BaselineDetail.as_view(), name="spcbaseline-detail"),
    path("baselines/<int:pk>/freeze/", ch.BaselineFreeze.as_view(), name="spcbaseline-freeze"),
    path("baselines/<int:pk>/discard/", ch.BaselineDiscard.as_view(), name="spcbaseline-discard"),
]

# Live charts (server-sent events) and the chart's SVG they redraw with.
from traveler.spc.ui import live  # noqa: E402

urlpatterns += [
    path("characteristics/<int:definition>/stream/", live.characteristic_stream, name="characteristic-stream"),
    path("characteristics/<int:definition>/chart.svg", live.characteristic_chart_svg, name="characteristic-chart-svg"),
]
