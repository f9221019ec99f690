from django.urls import path  # noqa: F401
from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = [
    *router.urls,
]

# Per-part sampling (its own router: the one above has built its URLs already).
from traveler.mes_full.api import sampling as sampling_api  # noqa: E402

sampling_router = SimpleRouter()
sampling_router.register("sampling/rule-sets", sampling_api.RuleSetViewSet, basename="sampling-ruleset")
sampling_router.register("sampling/decisions", sampling_api.DecisionViewSet, basename="sampling-decision")
sampling_router.register("sampling/analytics", sampling_api.AnalyticsViewSet, basename="sampling-analytics")
urlpatterns += [
    path("sampling/preview/", sampling_api.PreviewView.as_view(), name="sampling-preview"),
    *sampling_router.urls,
]
