"""Security headers and deployment checks.

Every script, style sheet, image and font comes from the app itself (air-gapped installs have no
CDN), and no page carries inline scripts, inline styles or event-handler attributes, so the
Content-Security-Policy allows only the app's own origin.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# Swagger UI (the API's documentation page) sets inline styles itself; its scripts are files.
DOCS_POLICY = POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
DOCS_PATH = "/api/v1/docs/"


class ContentSecurityPolicyMiddleware:
    """Adds Content-Security-Policy to every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = DOCS_POLICY if request.path.startswith(DOCS_PATH) else POLICY
        return response


@register(Tags.security, deploy=True)
def check_secret_key(app_configs=None, **kwargs):
    """``check --deploy`` refuses the development key (used only under TRAVELER_DEBUG or tests)."""
    if settings.SECRET_KEY == getattr(settings, "DEVELOPMENT_SECRET_KEY", None):
        return [Error("The development SECRET_KEY is in use.", id="traveler.E001",
                      hint="Set TRAVELER_SECRET_KEY to a long random value kept secret.")]
    return []
