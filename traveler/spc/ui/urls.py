from django.urls import path

from traveler.spc.ui import views

app_name = "spc"

urlpatterns = [
    path("charts/", views.chart, name="chart"),
    path("sampling/", views.sampling, name="sampling"),
]

# Live charts (server-sent events) and the chart's SVG they redraw with.
from traveler.spc.ui import live  # noqa: E402

urlpatterns += [
    path("characteristics/<int:definition>/stream/", live.characteristic_stream, name="characteristic-stream"),
    path("characteristics/<int:definition>/chart.svg", live.characteristic_chart_svg, name="characteristic-chart-svg"),
]
