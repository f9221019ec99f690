from django.urls import path

from traveler.spc.api import views

urlpatterns = [
    path("analyze/", views.AnalyzeView.as_view(), name="analyze"),
    path("analyze/chart.svg", views.ChartSvgView.as_view(), name="analyze-svg"),
    path("analyze/report.pdf", views.ChartPdfView.as_view(), name="analyze-pdf"),
    path("z14/plan/", views.Z14PlanView.as_view(), name="z14-plan"),
    path("z14/switch/", views.Z14SwitchView.as_view(), name="z14-switch"),
    path("oc/", views.OcCurveView.as_view(), name="oc"),
]
