"""The OpenAPI schema says what the API answers, errors included.

Every operation documents the errors it can answer, all in the one error shape
(``traveler.core.api.errors``): 400 when it takes input (a body or query parameters), 401 and 403
when it needs a signed-in member, 404 when its path names a record, 409 and 415 when it writes, 429
when it is throttled or takes a password (a signature locks after too many wrong ones). A read-only field whose value comes through a nullable model field (``company``,
``order.number``) is nullable in the schema, as it is in the answers.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from traveler.core.api.errors import ErrorSerializer

ERRORS = {
    "400": "Invalid input: `message` says what is wrong and `fields` names each field with its problems. "
           "Nothing was written.",
    "401": "Not signed in: send `Authorization: Bearer <token>` (from POST /api/v1/auth/token/).",
    "403": "Signed in, but not allowed: a missing permission, a module switched off for the tenant, "
           "or a record your role may not change.",
    "404": "No such record, or not one you can see (another tenant's records are never found).",
    "409": "Conflict: the record changed since you read it (send the current `version`), or its state "
           "forbids this.",
    "415": "Unsupported media type: send the body as `application/json` (or as a form).",
    "429": "Too many requests: wait the number of seconds in `Retry-After`.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        parameters = operation.get("parameters", [])
        codes = []
        if "requestBody" in operation or self.method in WRITES or any(p["in"] == "query" for p in parameters):
            codes.append("400")
        if self._needs_member():
            codes += ["401", "403"]
        if any(p["in"] == "path" for p in parameters) or "{" in self.path:
            codes.append("404")
        if self.method in WRITES:
            codes.append("409")
        if "requestBody" in operation or self.method in WRITES:
            codes.append("415")
        if self.view.get_throttles() or ("requestBody" in operation and self._takes_password()):
            codes.append("429")  # throttled, or a signature locked after too many wrong passwords
        ref = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in codes:
            response = {"description": ERRORS[code], "content": {"application/json": {"schema": ref}}}
            if code == "429":
                response["headers"] = RETRY_AFTER
            responses.setdefault(code, response)
        return operation

    def _takes_password(self) -> bool:
        serializer = force_instance(self.get_request_serializer())
        return serializer is not None and "password" in getattr(serializer, "fields", {})

    def _needs_member(self) -> bool:
        if not self.view.get_authenticators():
            return False
        return not all(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (isinstance(field, serializers.PrimaryKeyRelatedField) and not field.read_only
                and isinstance(schema, dict) and schema.get("type") == "integer"):
            # An id the database cannot hold finds no record (400, "does not exist").
            low, high = connection.ops.integer_field_ranges["BigIntegerField"]
            schema = {"minimum": low, "maximum": high, **schema}
        return schema

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if direction == "response" and not meta.get("nullable") and _through_nullable(field):
            meta["nullable"] = True
        return meta


def _through_nullable(field: serializers.Field) -> bool:
    """Whether ``field``'s value is read through a nullable model field (so it may be null)."""
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    if model is None or not isinstance(parent, serializers.ModelSerializer) or field.source == "*":
        return False
    for attr in field.source_attrs:
        if model is None:
            return False
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return False
        if getattr(model_field, "null", False):
            return True
        model = model_field.related_model if model_field.is_relation else None
    return False
