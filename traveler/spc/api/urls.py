from django.urls import path
from rest_framework.routers import SimpleRouter

from traveler.spc.api import capability as cap
from traveler.spc.api import characteristics as ch
from traveler.spc.api import signals as sig
from traveler.spc.api import views

router = SimpleRouter()
router.register("baselines", ch.BaselineViewSet, basename="spc-baseline")
router.register("signals", sig.SignalViewSet, basename="spc-signal")

urlpatterns = [
    path("analyze/", views.AnalyzeView.as_view(), name="analyze"),
    path("analyze/chart.svg", views.ChartSvgView.as_view(), name="analyze-svg"),
    path("analyze/report.pdf", views.ChartPdfView.as_view(), name="analyze-pdf"),
    path("z14/plan/", views.Z14PlanView.as_view(), name="z14-plan"),
    path("z14/switch/", views.Z14SwitchView.as_view(), name="z14-switch"),
    path("oc/", views.OcCurveView.as_view(), name="oc"),
    path("characteristics/", ch.CharacteristicListView.as_view(), name="characteristic-list"),
    path("characteristics/<int:definition>/", ch.CharacteristicView.as_view(), name="characteristic-detail"),
    path("characteristics/<int:definition>/chart/", ch.ChartView.as_view(), name="characteristic-chart"),
    path("characteristics/<int:definition>/chart.svg", ch.ChartSvgView.as_view(), name="characteristic-chart-svg"),
    # Capability, its summary per part type and the tenant's SPC settings.
    path("characteristics/<int:definition>/capability/", cap.CharacteristicCapabilityView.as_view(),
         name="characteristic-capability"),
    path("capability/", cap.CapabilitySummaryView.as_view(), name="capability-summary"),
    path("settings/", cap.SPCSettingsView.as_view(), name="settings"),
    path("characteristics/<int:definition>/reaction-plan/", sig.ReactionPlanView.as_view(), name="reaction-plan"),
    *router.urls,
]
