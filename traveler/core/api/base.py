"""The shared shape of a record API: list, retrieve, create, versioned update, archive, restore,
history. A module's viewset declares its model, serializers, permissions and services; the rest
comes from here, and the contract tests run against every viewset built on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.text import capfirst
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied
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


class RecordSerializer(serializers.ModelSerializer):
    """Output: every record shows its version (send it back to change the record)."""

    version = serializers.IntegerField(read_only=True)
    archived_at = serializers.DateTimeField(read_only=True)


class ChangeInput(serializers.Serializer):
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
    """Base for the API of a tenant-owned model.

    Set ``model``, ``serializer_class`` (output), ``input_serializer_class`` (writes; omit for a
    read-only API), ``permission_prefix`` ("core" gives core.view_<model>, core.add_<model>, ...)
    and optionally ``services``: ``update`` and ``archive`` are called with the record as the keyword
    ``service_kwarg`` (the model name unless set, e.g. ``part_type``), ``version``, ``data``, ``reason``.
    A record written only through other endpoints' actions uses ``RecordReadOnlyViewSet``.
    """

    model = None
    input_serializer_class: type[serializers.Serializer] | None = None
    permission_prefix: str = ""
    services = RecordServices()
    service_kwarg: str = ""
    extra_permissions: dict[str, str] = {}  # the permission of each extra action, by action name

    def _record_kwarg(self) -> str:
        return self.service_kwarg or self.model._meta.model_name

    def _writable_object(self):
        """The record to change: 404 when it is not visible, then 405 when this API takes no input."""
        obj = self.get_object()
        if not self.input_serializer_class:
            raise MethodNotAllowed(self.request.method)
        return obj

    @property
    def permission_map(self) -> dict[str, str]:
        name = self.model._meta.model_name
        p = self.permission_prefix
        view = f"{p}.view_{name}"
        return {
            "list": view, "retrieve": view, "history": view,
            "create": f"{p}.add_{name}", "update": f"{p}.change_{name}", "partial_update": f"{p}.change_{name}",
            "destroy": f"{p}.archive_{name}", "restore": f"{p}.archive_{name}",
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

    def create(self, request: Request, *args, **kwargs) -> Response:
        if not self.input_serializer_class:
            raise MethodNotAllowed(request.method)
        ser = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        reason = data.pop("reason", None) or self._reason(request)
        data.pop("version", None)
        create = self.services.create or (lambda *, data, reason: record_create(self.model, data=data, reason=reason))
        obj = create(data=data, reason=reason)
        return self.out(self.serializer_class, obj, status.HTTP_201_CREATED)

    def update(self, request: Request, *args, partial: bool = False, **kwargs) -> Response:
        obj = self._writable_object()
        ser = self.input_serializer_class(obj, data=request.data, partial=partial, context=self.get_serializer_context())
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        version = data.pop("version", None)
        if version is None and request.headers.get("If-Match", "").strip('"W/').isdigit():
            version = int(request.headers["If-Match"].strip('"W/'))
        reason = data.pop("reason", None) or self._reason(request)
        update = self.services.update or record_update
        if self.services.update:
            obj = update(**{self._record_kwarg(): obj}, version=version, data=data, reason=reason)
        else:
            obj = update(obj, version=version, data=data, reason=reason)
        return self.out(self.serializer_class, obj)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(parameters=[
        OpenApiParameter("version", int, description="The version you read (optional)."),
        OpenApiParameter("reason", str, description="Why the record is archived."),
    ], responses={200: None})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        """Archive the record (records are never deleted)."""
        obj = self.get_object()
        version = request.query_params.get("version")
        version = int(version) if version and version.isdigit() else None
        reason = request.query_params.get("reason") or self._reason(request, request.data if isinstance(request.data, dict) else None)
        if self.services.archive:
            obj = self.services.archive(**{self._record_kwarg(): obj}, version=version, reason=reason)
        else:
            obj = record_archive(obj, version=version, reason=reason)
        return self.out(self.serializer_class, obj)

    @extend_schema(request=ChangeInput, responses=None)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, *args, **kwargs) -> Response:
        """Bring an archived record back."""
        obj = self.get_object()
        return self.out(self.serializer_class, record_restore(obj, reason=self._reason(request, request.data)))

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


class RecordWriteViewSet(TenantRecordViewSet, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                         mixins.DestroyModelMixin):
    """A record API with writes (create, update, archive)."""


class RecordReadOnlyViewSet(TenantRecordViewSet):
    """A record written only through other endpoints' actions (parts, transition logs, ...): list,
    retrieve and history. Writes answer 405 after the lookup, so that another tenant's id still
    answers 404 like everywhere else; they need only the view permission (``view_permission``, by
    default ``<prefix>.view_<model>``) to get that far. ``extra_permissions`` covers the actions."""

    view_permission: str = ""

    @property
    def permission_map(self) -> dict[str, str]:
        view = self.view_permission or f"{self.permission_prefix}.view_{self.model._meta.model_name}"
        base = {a: view for a in ("list", "retrieve", "history", "create", "update", "partial_update", "destroy")}
        return {**base, **self.extra_permissions}

    def _refuse(self, request: Request, *, lookup: bool):
        if lookup:
            self.get_object()
        raise MethodNotAllowed(request.method, detail=f"{capfirst(self.model._meta.verbose_name_plural)} are "
                                                      "read-only here; use the actions that change them.")

    @extend_schema(exclude=True)
    def create(self, request, *args, **kwargs):
        self._refuse(request, lookup=False)

    @extend_schema(exclude=True)
    def update(self, request, *args, **kwargs):
        self._refuse(request, lookup=True)

    @extend_schema(exclude=True)
    def partial_update(self, request, *args, **kwargs):
        self._refuse(request, lookup=True)

    @extend_schema(exclude=True)
    def destroy(self, request, *args, **kwargs):
        self._refuse(request, lookup=True)

    def restore(self, request, *args, **kwargs):  # a plain method: no route (nothing here is archived)
        self._refuse(request, lookup=True)
