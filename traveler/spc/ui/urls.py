from django.urls import path

from traveler.spc.ui import views

app_name = "spc"

urlpatterns = [
    path("charts/", views.chart, name="chart"),
    path("sampling/", views.sampling, name="sampling"),
]
