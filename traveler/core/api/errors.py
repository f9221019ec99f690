"""One JSON error shape for every API error:

    {"error": {"status": 400, "code": "invalid", "message": "name: This field is required.",
               "fields": {"name": ["This field is required."]}}}
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from traveler.core.errors import LockedOut, TravelerError
from traveler.core.middleware import error_body
from traveler.core.tenancy import TenantNotSet


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(help_text="Stable, for programs: invalid, not_authenticated, permission_denied, "
                                           "not_found, conflict, throttled, ...")
    message = serializers.CharField(help_text="For people: what went wrong, naming the field.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Each field in error (dotted path) with its problems; may be empty.")


class ErrorSerializer(serializers.Serializer):
    """The one shape of every API error."""

    error = ErrorDetailSerializer()


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for k, v in detail.items():
            # A nested object's own errors are its field's: "state", not "state.non_field_errors".
            key = prefix if (prefix and k == "non_field_errors") else (f"{prefix}.{k}" if prefix else str(k))
            out.update(_flatten(v, key))
    elif isinstance(detail, list):
        if all(not isinstance(x, (dict, list)) for x in detail):
            out[prefix or "non_field_errors"] = [str(x) for x in detail]
        else:
            for i, v in enumerate(detail):
                out.update(_flatten(v, f"{prefix}[{i}]" if prefix else f"[{i}]"))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def exception_handler(exc, context):
    headers = {}
    if isinstance(exc, TravelerError):
        if isinstance(exc, LockedOut):
            headers["Retry-After"] = str(exc.retry_after)
        return Response(error_body(exc.status, exc.code, exc.message, exc.fields), status=exc.status, headers=headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "You do not have permission to do this.")
    elif isinstance(exc, TenantNotSet):
        exc = exceptions.PermissionDenied("Choose a tenant first.")
    if not isinstance(exc, exceptions.APIException):
        return None  # ApiErrorMiddleware answers the 500
    code = exc.default_code
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first_key, first = next(iter(fields.items()), ("", ["Invalid input."]))
        message = first[0] if first_key in ("", "non_field_errors") else f"{first_key}: {first[0]}"
        body = error_body(exc.status_code, "invalid", message, fields)
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        body = error_body(exc.status_code, str(getattr(exc.detail, "code", code) or code), detail)
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
    if exc.status_code == status.HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return Response(body, status=exc.status_code, headers=headers)
