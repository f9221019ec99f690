from django.urls import path

from traveler.core.ui import views

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
