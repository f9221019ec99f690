"""Friendly error pages for the UI (the API keeps its JSON error shape).

Registered in ``traveler/server/urls.py``::

    handler403 = "traveler.core.ui.errors.permission_denied"
    handler404 = "traveler.core.ui.errors.page_not_found"
    handler500 = "traveler.core.ui.errors.server_error"
"""

from __future__ import annotations

import logging
import sys

from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader

from traveler.core.middleware import database_unavailable, error_body, is_database_outage

log = logging.getLogger("traveler.request")

DEFAULT_403 = "You do not have permission to open this page. If you need it, ask an administrator."


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def permission_denied(request, exception=None) -> HttpResponse:
    message = str(exception) if exception is not None and str(exception) else DEFAULT_403
    if _is_api(request):
        return JsonResponse(error_body(403, "permission_denied", message), status=403)
    return render(request, "core/error.html", {"status": 403, "title": "Not allowed", "message": message},
                  status=403)


def page_not_found(request, exception=None) -> HttpResponse:
    # Never echo the exception: it can name models and lookups a visitor has no business seeing.
    if _is_api(request):
        return JsonResponse(error_body(404, "not_found", "No such API endpoint or record."), status=404)
    return render(request, "core/error.html", {
        "status": 404, "title": "Page not found",
        "message": "There is no page at this address, or the record it showed is not visible to you.",
    }, status=404)


def server_error(request) -> HttpResponse:
    # An error raised by a middleware (session, user, tenant) lands here, too: a lost database is a 503.
    if is_database_outage(sys.exc_info()[1]):
        return database_unavailable(request)
    # Rendered without the request: no context processor may touch a database that just failed.
    if _is_api(request):
        return JsonResponse(error_body(500, "server_error", "Something went wrong on the server. It has been logged."),
                            status=500)
    try:
        html = loader.get_template("core/error.html").render({
            "status": 500, "title": "Something went wrong",
            "message": "The server could not finish this request. The error has been logged; "
                       "try again, and tell your administrator if it keeps happening.",
        })
    except Exception:  # the template itself failed: fall back to plain text
        log.exception("error page failed to render")
        html = "<h1>Server error</h1><p>The error has been logged.</p>"
    return HttpResponseServerError(html)
