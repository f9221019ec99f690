from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from traveler.core.access import access_for
from traveler.core.services.auth import token_authenticate
from traveler.core.tenancy import enter_tenant


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer trv_...``: the token decides the user and the tenant."""

    keyword = "bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in (self.keyword, "token"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        token = token_authenticate(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("The API token is unknown, expired or revoked.")
        enter_tenant(token.tenant, actor=token.user)
        access = access_for(token.user, token.tenant)
        if access.membership is None and not token.user.is_system_admin:
            raise exceptions.AuthenticationFailed("This token's user is no longer a member of the tenant.")
        django_request = request._request
        django_request.tenant = token.tenant
        django_request.access = access
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The UI's session, with CSRF checks on unsafe methods; the middleware set the tenant."""


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the schema describes the token: a bearer token from POST /api/v1/auth/token/."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A token from POST /api/v1/auth/token/; it decides the user and the tenant."}


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = SessionAuthentication
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "The web UI's session; unsafe methods need the CSRF token."}
