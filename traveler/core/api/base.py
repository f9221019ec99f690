"""The shared shape of a record API: list, retrieve, create, versioned update, archive, restore,
history. A module's viewset declares its model, serializers, permissions and services; the rest
comes from here, and the contract tests run against every viewset built on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from traveler.core.access import visible
from traveler.core.models import History, User
from traveler.core.services.records import record_archive, record_create, record_restore, record_update


@dataclass(frozen=True)
class RecordServices:
    create: Callable[..., Any] = None
    update: Callable[..., Any] = None
    archive: Callable[..., Any] = None


def _model_field(model, path: str):
    """The model field at the end of ``path`` ("order.number"), or None when it is not one."""
    field = None
    for attr in path.split("."):
        if model is None:
            return None
        try:
            field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return None
        model = field.related_model if field.is_relation else None
    return field


def _column_range(model_field) -> tuple[int | None, int | None]:
    """What the database column of ``model_field`` holds; the widest integer it stores otherwise."""
    if model_field is not None and model_field.is_relation and hasattr(model_field, "target_field"):
        model_field = model_field.target_field
    internal = model_field.get_internal_type() if model_field is not None else ""
    ranges = connection.ops.integer_field_ranges
    return ranges.get(internal) or ranges["BigIntegerField"]


def _bound_integers(field: serializers.Field, model_field) -> None:
    if isinstance(field, serializers.ListField):
        _bound_integers(field.child, None)
        return
    if not isinstance(field, serializers.IntegerField) or field.read_only:
        return
    low, high = _column_range(model_field)
    if low is not None and (field.min_value is None or field.min_value < low):
        field.min_value = low
        field.validators.append(MinValueValidator(low, message=field.error_messages["min_value"].format(min_value=low)))
    if high is not None and (field.max_value is None or field.max_value > high):
        field.max_value = high
        field.validators.append(MaxValueValidator(high, message=field.error_messages["max_value"].format(max_value=high)))


class DatabaseRanges:
    """Every integer a serializer accepts fits the column it is written to: a value the database
    cannot store is a 400 naming the field, never a server error.

    A field named like a field of ``Meta.model`` (or with that ``source``) gets that column's range;
    any other integer (ids sent in a body, counts) gets the widest one the database stores. Ranges
    the field declares itself are kept when they are narrower. The schema shows the result.
    """

    def get_fields(self):
        fields = super().get_fields()
        model = getattr(getattr(self, "Meta", None), "model", None)
        for name, field in fields.items():
            source = field.source if field.source and field.source != "*" else name
            _bound_integers(field, _model_field(model, source))
        return fields


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's slug relation, refusing what PostgreSQL cannot compare (a NUL character) as a bad slug
    (400) instead of failing the query (500)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class InputSerializer(DatabaseRanges, serializers.Serializer):
    """Base of the serializers that parse a request (body or query)."""


class BlankChoices:
    """A model serializer whose read-only choice fields say when the column may be blank: DRF leaves
    ``allow_blank`` off for fields the model does not let anyone edit, so the schema's enum would not
    list the empty value a record really has (a disposition not decided yet)."""

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if kwargs.get("read_only") and "choices" in kwargs and getattr(model_field, "blank", False):
            kwargs["allow_blank"] = True
        return field_class, kwargs


class RecordSerializer(BlankChoices, DatabaseRanges, serializers.ModelSerializer):
    """Output: every record shows its version (send it back to change the record)."""

    version = serializers.IntegerField(read_only=True)
    archived_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ChangeInput(InputSerializer):
    version = serializers.IntegerField(required=False, help_text="The version you read; required to change.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   help_text="Why: stored in the record's history.")


class HistorySerializer(serializers.ModelSerializer):
    action = serializers.CharField(source="get_action_display")
    actor = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    class Meta:
        model = History
        fields = ["id", "occurred_at", "action", "actor", "reason", "changes"]

    def get_actor(self, obj) -> dict | None:
        names = self.context.get("actor_names", {})
        return {"id": obj.actor_id, "name": names.get(obj.actor_id, "")} if obj.actor_id else None

    def get_changes(self, obj) -> dict:
        return {k: {"old": o, "new": n} for k, (o, n) in obj.changes.items()}


def actor_names(rows) -> dict[int, str]:
    ids = {r.actor_id for r in rows if r.actor_id}
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "full_name")) if ids else {}


class TenantRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Base for the API of a tenant-owned model: list, retrieve and history.

    Set ``model``, ``serializer_class`` (output), ``permission_prefix`` ("core" gives core.view_<model>,
    core.add_<model>, ...). Writes come from the mixins below, and only the methods a viewset has are
    routed: a method it lacks answers 405 with an ``Allow`` header that lists what the schema lists.
    ``RecordWriteViewSet`` has them all; a record written only through other endpoints' actions uses
    ``RecordReadOnlyViewSet``.
    """

    model = None
    input_serializer_class: type[serializers.Serializer] | None = None
    permission_prefix: str = ""
    services = RecordServices()
    service_kwarg: str = ""
    extra_permissions: dict[str, str] = {}  # the permission of each extra action, by action name

    def _record_kwarg(self) -> str:
        return self.service_kwarg or self.model._meta.model_name

    @property
    def permission_map(self) -> dict[str, str]:
        name = self.model._meta.model_name
        p = self.permission_prefix
        view = f"{p}.view_{name}"
        return {
            "list": view, "retrieve": view, "history": view,
            "create": f"{p}.add_{name}", "update": f"{p}.change_{name}", "partial_update": f"{p}.change_{name}",
            "archive": f"{p}.archive_{name}", "restore": f"{p}.archive_{name}",
            **self.extra_permissions,
        }

    def get_queryset(self):
        qs = visible(self.model.objects.all(), self.request._request.access)
        if self.action == "list" and self.request.query_params.get("archived") not in ("true", "1", "all"):
            qs = qs.filter(archived_at__isnull=True)
        return qs.order_by(*(self.model._meta.ordering or ["pk"]), "pk")

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update") and self.input_serializer_class:
            return self.input_serializer_class
        return self.serializer_class

    def out(self, serializer_class, obj, code: int = status.HTTP_200_OK) -> Response:
        """Answer with ``obj`` through ``serializer_class`` (actions answer with other serializers)."""
        return Response(serializer_class(obj, context=self.get_serializer_context()).data, status=code)

    def _reason(self, request: Request, data: dict | None = None) -> str | None:
        return (data or {}).get("reason") or request.headers.get("X-Reason") or None

    def _version(self, request: Request, data: dict | None = None) -> int | None:
        """The version the client read: in the body, or ``If-Match``."""
        if (data or {}).get("version") is not None:
            return data["version"]
        header = request.headers.get("If-Match", "").strip('"W/')
        return int(header) if header.isdigit() else None

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, *args, **kwargs) -> Response:
        """Every change to this record: who, when (UTC), what changed, and why. Needs the record's view
        permission and ``core.view_history``, like the history page: customers have no history (it
        names employees)."""
        obj = self.get_object()
        if not request._request.access.has("core.view_history"):
            raise PermissionDenied("You do not have the permission core.view_history.")
        rows = History.objects.filter(table_name=obj._meta.db_table, record_id=str(obj.pk)).order_by("-id")
        page = self.paginate_queryset(rows)
        ctx = {"actor_names": actor_names(page)}
        return self.get_paginated_response(HistorySerializer(page, many=True, context=ctx).data)

    def get_object(self):
        # Archived records stay reachable by id (for history and restore): get_queryset hides them only
        # from lists. The list's filters, search and ordering do not apply to one record.
        queryset = self.get_queryset()
        pk = self.kwargs.get("pk")
        if pk is None or not str(pk).isdigit():
            raise Http404
        obj = get_object_or_404(queryset, pk=pk)
        self.check_object_permissions(self.request, obj)
        return obj


class RecordCreateMixin:
    """``POST`` on the list: ``input_serializer_class`` parses, ``services.create`` (or the generic
    ``record_create``) writes."""

    def create(self, request: Request, *args, **kwargs) -> Response:
        ser = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        reason = data.pop("reason", None) or self._reason(request)
        data.pop("version", None)
        create = self.services.create or (lambda *, data, reason: record_create(self.model, data=data, reason=reason))
        obj = create(data=data, reason=reason)
        return self.out(self.serializer_class, obj, status.HTTP_201_CREATED)


class RecordUpdateMixin:
    """``PUT``/``PATCH`` with the ``version`` read (body or ``If-Match``); ``services.update`` is called
    with the record as ``service_kwarg``."""

    def update(self, request: Request, *args, partial: bool = False, **kwargs) -> Response:
        obj = self.get_object()
        ser = self.input_serializer_class(obj, data=request.data, partial=partial, context=self.get_serializer_context())
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        version = self._version(request, {"version": data.pop("version", None)})
        reason = data.pop("reason", None) or self._reason(request)
        if self.services.update:
            obj = self.services.update(**{self._record_kwarg(): obj}, version=version, data=data, reason=reason)
        else:
            obj = record_update(obj, version=version, data=data, reason=reason)
        return self.out(self.serializer_class, obj)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


class RecordArchiveMixin:
    """``POST .../archive/`` and ``POST .../restore/``. Records are archived, never deleted, and an
    archived record stays readable by id (its history, its restore): so there is no ``DELETE``, whose
    meaning is that the resource is gone."""

    @extend_schema(request=ChangeInput)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, *args, **kwargs) -> Response:
        """Archive the record: it leaves the lists (``?archived=true`` shows it) and stays readable here."""
        obj = self.get_object()
        data = self._change_input(request)
        version, reason = self._version(request, data), self._reason(request, data)
        if self.services.archive:
            obj = self.services.archive(**{self._record_kwarg(): obj}, version=version, reason=reason)
        else:
            obj = record_archive(obj, version=version, reason=reason)
        return self.out(self.serializer_class, obj)

    @extend_schema(request=ChangeInput)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, *args, **kwargs) -> Response:
        """Bring an archived record back."""
        obj = self.get_object()
        data = self._change_input(request)
        return self.out(self.serializer_class, record_restore(obj, reason=self._reason(request, data)))

    def _change_input(self, request: Request) -> dict:
        ser = ChangeInput(data=request.data if isinstance(request.data, dict) else {})
        ser.is_valid(raise_exception=True)
        return dict(ser.validated_data)


class RecordWriteViewSet(RecordCreateMixin, RecordUpdateMixin, RecordArchiveMixin, TenantRecordViewSet):
    """A record API with writes: create, update, archive, restore."""


class RecordReadOnlyViewSet(TenantRecordViewSet):
    """A record written only through other endpoints' actions (parts, transition logs, ...): list,
    retrieve and history; any other method answers 405. ``view_permission`` (by default
    ``<prefix>.view_<model>``) covers the three; ``extra_permissions`` covers the actions."""

    view_permission: str = ""

    @property
    def permission_map(self) -> dict[str, str]:
        view = self.view_permission or f"{self.permission_prefix}.view_{self.model._meta.model_name}"
        return {"list": view, "retrieve": view, "history": view, **self.extra_permissions}
