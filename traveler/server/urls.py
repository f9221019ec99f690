"""URLs: the platform's own, then each installed module's API and UI, found by convention."""

from __future__ import annotations

import importlib.util

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from traveler.core.api.views import password_change, token_obtain
from traveler.core.modules import installed_modules


def live(request):
    return JsonResponse({"status": "ok"})


def ready(request):
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def module_urls(kind: str) -> list:
    patterns = []
    for module in installed_modules():
        dotted = f"{module.name}.{kind}.urls"
        if importlib.util.find_spec(f"{module.name}.{kind}") and importlib.util.find_spec(dotted):
            if kind == "api":
                patterns.append(path(f"api/v1/{module.prefix}/", include((dotted, f"{module.label}-api"))))
            else:
                prefix = f"{module.ui_prefix}/" if module.ui_prefix else ""
                patterns.append(path(prefix, include((dotted, module.label))))
    return patterns


urlpatterns = [
    path("health/live", live, name="health-live"),
    path("health/ready", ready, name="health-ready"),
    path("api/v1/auth/token/", token_obtain, name="api-token"),
    path("api/v1/auth/password/", password_change, name="api-password"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    *module_urls("api"),
    # The platform's pages sit at the root, so they come after every module's prefix.
    *sorted(module_urls("ui"), key=lambda p: str(p.pattern) == ""),
]

handler403 = "traveler.core.ui.errors.permission_denied"
handler404 = "traveler.core.ui.errors.page_not_found"
handler500 = "traveler.core.ui.errors.server_error"
