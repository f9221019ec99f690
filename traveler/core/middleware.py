"""Request plumbing: tenant context for every request, module switches, JSON errors on the API."""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render

from traveler.core.access import access_for
from traveler.core.models import Tenant
from traveler.core.modules import module_for
from traveler.core.services.auth import tenants_for
from traveler.core.services.tenants import module_enabled
from traveler.core.tenancy import tenant_context

log = logging.getLogger("traveler.request")
SESSION_TENANT = "traveler_tenant_id"


def error_body(status: int, code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"status": status, "code": code, "message": message, "fields": fields or {}}}


DB_UNAVAILABLE = "The database cannot be reached just now. Try again in a minute; the server reconnects by itself."


def is_database_outage(exc: BaseException | None) -> bool:
    """True for errors that mean the database server is down or the connection was lost."""
    while exc is not None:
        if isinstance(exc, (OperationalError, InterfaceError)):
            return True
        if isinstance(exc, DatabaseError) and connection.connection is not None and \
                getattr(connection.connection, "closed", False):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def database_unavailable(request) -> HttpResponse:
    """503 in the shared JSON shape on the API, a plain page (no template, no database) on the UI."""
    # Drop the broken connection now, so that the next request opens a fresh one.
    try:
        if connection.connection is not None and not connection.is_usable():
            connection.close()
    except Exception:  # noqa: BLE001 - closing a dead connection may fail; it is gone either way
        pass
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(503, "database_unavailable", DB_UNAVAILABLE), status=503)
    else:
        response = HttpResponse(
            "<!doctype html><title>Unavailable</title><h1>Temporarily unavailable</h1>"
            f"<p>{DB_UNAVAILABLE}</p>", status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = "10"
    return response


def session_tenant(request) -> Tenant | None:
    """The tenant a signed-in user works in: the one chosen, else their first."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return None
    tenants = tenants_for(user)
    wanted = request.session.get(SESSION_TENANT)
    for t in tenants:
        if t.pk == wanted:
            return t
    if tenants:
        request.session[SESSION_TENANT] = tenants[0].pk
        return tenants[0]
    return None


class TenantMiddleware:
    """Runs each request inside its tenant's context (API tokens set theirs in authentication)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/health/"):
            return self.get_response(request)  # probes must answer without touching the database
        tenant = session_tenant(request)
        user = request.user if getattr(request.user, "is_authenticated", False) else None
        request.tenant = tenant
        with tenant_context(tenant, actor=user):
            request.access = access_for(user, tenant)
            return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None  # DRF's ModuleEnabled permission decides, after token authentication
        module = module_for(getattr(view_func, "view_class", view_func))
        if module is not None and request.tenant is not None and not module_enabled(request.tenant, module.label):
            return render(request, "core/error.html", {
                "status": 403, "title": "Module switched off",
                "message": f"The {module.verbose_name} module is switched off for {request.tenant.name}.",
            }, status=403)
        return None


class ApiErrorMiddleware:
    """Unhandled errors under /api/ answer the one JSON error shape, never a stack trace."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/") and response.status_code >= 400 and \
                not response.get("Content-Type", "").startswith("application/json"):
            # Django's own error pages (no such endpoint, a Host header it refuses, ...) in the API's shape.
            status = response.status_code
            if status == 404:
                return JsonResponse(error_body(404, "not_found", "No such API endpoint."), status=404)
            phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
            return JsonResponse(error_body(status, phrase.lower().replace(" ", "_"), f"{phrase}."), status=status)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, (PermissionDenied, Http404)):
            return None  # Django's 403/404 handlers answer these (in the JSON shape under /api/)
        if is_database_outage(exception):
            log.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
            return database_unavailable(request)
        if request.path.startswith("/api/"):
            log.exception("unhandled error on %s %s", request.method, request.path)
            return JsonResponse(
                error_body(500, "server_error", "Something went wrong on the server. It has been logged."),
                status=500,
            )
        return None
