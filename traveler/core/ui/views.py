"""The shell's own pages: sign-in, sign-out, tenant switch and the dashboard."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from traveler.core.auth import client_ip
from traveler.core.errors import LockedOut, TravelerError
from traveler.core.middleware import SESSION_TENANT
from traveler.core.models import History, User
from traveler.core.services.auth import login_check, tenants_for
from traveler.core.services.users import invitations_for
from traveler.core.ui.context import home_page
from traveler.core.ui.display import format_datetime
from traveler.core.ui.forms import SignInForm
from traveler.core.ui.generic import error_page, panels_for


def _safe_next(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signin(request):
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
    form = SignInForm(request.POST or None)
    error, locked, status = None, False, 200
    if request.method == "POST":
        try:
            user = login_check(email=request.POST.get("email", ""), password=request.POST.get("password", ""),
                               ip=client_ip(request), request=request)
        except LockedOut as exc:
            error, locked, status = exc.message, True, 429
        except TravelerError as exc:
            error, status = exc.message, 400
        else:
            login(request, user)
            tenants = tenants_for(user)
            if tenants:
                request.session[SESSION_TENANT] = tenants[0].pk
            elif invitations_for(user):
                return HttpResponseRedirect(reverse("core:invitations"))
            return HttpResponseRedirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
    return render(request, "core/signin.html", {
        "form": form, "error": error, "locked": locked, "next": _safe_next(request, ""),
    }, status=status)


@require_POST
def signout(request):
    logout(request)
    messages.info(request, "You have signed out.")
    return HttpResponseRedirect(settings.LOGIN_URL)


@require_POST
@login_required
def tenant_switch(request):
    wanted = request.POST.get("tenant", "")
    tenant = next((t for t in tenants_for(request.user) if str(t.pk) == wanted), None)
    if tenant is None:
        return error_page(request, 403, "Not your tenant", "You are not a member of that tenant.")
    request.session[SESSION_TENANT] = tenant.pk
    messages.success(request, f"You are now working in {tenant.name}.")
    return HttpResponseRedirect(reverse("core:dashboard"))


def _detail_url_name(model) -> str | None:
    name = f"{model._meta.app_label}:{model._meta.model_name}-detail"
    try:
        reverse(name, args=[0])
    except NoReverseMatch:
        return None
    return name


def _label(values: dict) -> str:
    """How people name a record: its name, or the number printed on it."""
    return next((str(values[k]) for k in ("name", "serial_number", "number", "part_number") if values.get(k)), "")


def _recent_changes(request, limit: int = 8) -> list[dict]:
    """The latest changes to records the user may open (``<app>.view_<model>``), newest first, linked."""
    access = request.access
    pages = {m._meta.db_table: (m, url) for m in apps.get_models()
             if access.has(f"{m._meta.app_label}.view_{m._meta.model_name}") and (url := _detail_url_name(m))}
    rows = list(History.objects.filter(tenant_id=request.tenant.pk, table_name__in=pages).order_by("-id")[:limit])
    names = dict(User.objects.filter(pk__in={r.actor_id for r in rows if r.actor_id})
                 .values_list("pk", "full_name"))
    out = []
    for r in rows:
        model, url_name = pages[r.table_name]
        values = r.new or r.old or {}
        action = r.get_action_display()
        if r.action == History.Action.UPDATE and "archived_at" in r.changes:
            action = "Archived" if r.changes["archived_at"][1] else "Restored"
        out.append({
            "kind": capfirst(str(model._meta.verbose_name)), "label": _label(values) or f"#{r.record_id}",
            "url": reverse(url_name, args=[r.record_id]) if r.action != History.Action.DELETE else None,
            "action": action, "reason": r.reason,
            "who": names.get(r.actor_id, "System") if r.actor_id else "System",
            "when": format_datetime(r.occurred_at), "iso": r.occurred_at.isoformat(),
        })
    return out


@login_required
def dashboard(request):
    if request.tenant is None:
        return error_page(request, 403, "No tenant",
                          "Your account is not an active member of any tenant. Ask an administrator.")
    if "menu" not in request.GET and (home := home_page(request)):
        return HttpResponseRedirect(home)
    access = request.access
    return render(request, "core/dashboard.html", {
        "recent": _recent_changes(request) if access.has("core.view_history") else None,
        "panels": panels_for(request, "core.dashboard"),
    })
