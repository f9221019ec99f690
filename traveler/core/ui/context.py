"""What every page's shell needs: the navigation, filtered by permission and module switch."""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse

from traveler.core.registry import registry
from traveler.core.services.auth import tenants_for
from traveler.core.services.tenants import enabled_modules


def icon_href(icon: str) -> str:
    """``name`` is a symbol of core's sprite; ``module:name`` one of ``<module>/icons.svg``."""
    if not icon:
        return ""
    module, _, name = icon.rpartition(":")
    sprite = static(f"{module or 'core'}/icons.svg")
    return f"{sprite}#{name}"


def navigation(request) -> list[dict]:
    access = getattr(request, "access", None)
    tenant = getattr(request, "tenant", None)
    if access is None or tenant is None:
        return []
    on = enabled_modules(tenant)
    sections: dict[str, list] = {}
    for item in registry.menu:
        if item.module not in on or (item.permission and not access.has(item.permission)):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        sections.setdefault(item.section, []).append(
            {"label": item.label, "url": url, "icon": icon_href(item.icon), "active": request.path.startswith(url)})
    return [{"name": k, "items": v} for k, v in sections.items()]


def shell(request) -> dict:
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    return {
        "nav": navigation(request),
        "current_tenant": getattr(request, "tenant", None),
        "user_tenants": tenants_for(user),
        "access": getattr(request, "access", None),
    }
