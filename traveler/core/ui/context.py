"""What every page's shell needs: the navigation, filtered by permission and module switch, and the
bell's count of unread notifications."""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse

from traveler.core.registry import registry
from traveler.core.roles import SEEDED_ROLES
from traveler.core.selectors import notification_unread_count
from traveler.core.services.auth import tenants_for
from traveler.core.services.tenants import enabled_modules, module_enabled
from traveler.core.tenancy import current_tenant_or_none

ROLE_ORDER = {spec.code: i for i, spec in enumerate(SEEDED_ROLES)}


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


def home_page(request) -> str | None:
    """The URL where the signed-in user lands instead of the menu, or None for the menu.

    Every one of the user's roles must have a registered home page (a tenant admin who is also an
    operator keeps the menu); of those, the first role in the seeded order decides. The page must be
    one the user may open: its module on for the tenant and its permission held.
    """
    access = getattr(request, "access", None)
    tenant = getattr(request, "tenant", None)
    if access is None or tenant is None or not access.role_codes:
        return None
    pages = [registry.home_pages.get(code) for code in access.role_codes]
    if any(page is None for page in pages):
        return None
    page = min(pages, key=lambda p: (ROLE_ORDER.get(p.role, len(ROLE_ORDER)), p.role))
    if not module_enabled(tenant, page.module) or (page.permission and not access.has(page.permission)):
        return None
    try:
        return reverse(page.url_name)
    except NoReverseMatch:
        return None


def shell(request) -> dict:
    """The shell's context, computed once per request: panels rendered with the request run the
    context processors again, and each would otherwise repeat the menu, tenant and bell queries."""
    cached = getattr(request, "_shell_context", None)
    if cached is None:
        cached = _shell(request)
        request._shell_context = cached
    return cached


def _shell(request) -> dict:
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    tenant = getattr(request, "tenant", None)
    return {
        "nav": navigation(request),
        "current_tenant": tenant,
        "user_tenants": tenants_for(user),
        "access": getattr(request, "access", None),
        # The bell: only inside a tenant, whose member the user is (notifications are the tenant's).
        "notifications_unread": (notification_unread_count(user)
                                 if tenant is not None and current_tenant_or_none() == tenant else None),
    }
