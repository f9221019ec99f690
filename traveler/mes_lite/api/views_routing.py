"""Route design over HTTP: part types, processes (draft, release, new version, route), steps and
measurement definitions."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action

from traveler.core.api.base import RecordServices, RecordUpdateMixin, TenantRecordViewSet
from traveler.core.errors import InvalidInput
from traveler.mes_lite.api import serializers as s
from traveler.mes_lite.api.views import MES, MesReadOnlyViewSet, MesRecordViewSet, parsed, reason_of
from traveler.mes_lite.choices import ProcessStatus
from traveler.mes_lite.models import MeasurementDefinition, PartType, Process, Step
from traveler.mes_lite.services import routing

TAGS = ["mes: routes"]


class PartTypeFilter(filters.FilterSet):
    class Meta:
        model = PartType
        fields = {"part_number": ["exact", "icontains"], "revision": ["exact"], "name": ["icontains"]}


@extend_schema(tags=TAGS)
class PartTypeViewSet(MesRecordViewSet):
    """What is made: a part number at a revision."""

    model = PartType
    queryset = PartType.objects.all()
    serializer_class = s.PartTypeSerializer
    input_serializer_class = s.PartTypeInput
    filterset_class = PartTypeFilter
    search_fields = ["part_number", "name", "description"]
    ordering_fields = ["part_number", "revision", "name", "created_at"]
    services = RecordServices(create=routing.part_type_create, update=routing.part_type_update)
    service_kwarg = "part_type"


class ProcessFilter(filters.FilterSet):
    class Meta:
        model = Process
        fields = {"part_type": ["exact"], "status": ["exact"], "name": ["exact", "icontains"]}


def process_route(process: Process) -> dict:
    """The route of ``process`` with each step's measurement definitions, and whether it can be released.

    Six queries whatever the size of the route.
    """
    try:
        route, problem = routing.route_steps(process, strict=True), None
    except InvalidInput as exc:
        route, problem = routing.route_steps(process, strict=False), exc.message
    on_route = {step.pk for step in route}
    unrouted = [st for st in Step.objects.filter(process=process, archived_at__isnull=True).order_by("sequence")
                if st.pk not in on_route]
    definitions: dict[int, list[MeasurementDefinition]] = {}
    for d in MeasurementDefinition.objects.filter(step__process=process, archived_at__isnull=True) \
            .order_by("sequence", "pk"):
        definitions.setdefault(d.step_id, []).append(d)
    return {
        "process": process,
        "steps": [{"step": st, "next_step": route[i + 1].pk if i + 1 < len(route) else None,
                   "definitions": definitions.get(st.pk, [])} for i, st in enumerate(route)],
        "unrouted_steps": unrouted,
        "ready_to_release": problem is None and process.status == ProcessStatus.DRAFT,
        "problem": problem,
    }


@extend_schema(tags=TAGS)
class ProcessViewSet(MesRecordViewSet):
    """Routes of part types. Created as drafts and changed only while draft; ``release/`` freezes one,
    ``new-version/`` copies it into the next draft version."""

    model = Process
    queryset = Process.objects.all()
    serializer_class = s.ProcessSerializer
    input_serializer_class = s.ProcessInput
    filterset_class = ProcessFilter
    search_fields = ["name", "part_type__part_number"]
    ordering_fields = ["name", "route_version", "status", "created_at"]
    services = RecordServices(create=routing.process_create, update=routing.process_update)
    extra_permissions = {
        "release": f"{MES}.release_process",
        "new_version": f"{MES}.add_process",
        "route": f"{MES}.view_process",
        "steps": f"{MES}.add_process",
    }

    def get_queryset(self):
        return super().get_queryset().select_related("part_type")

    @extend_schema(request=s.MesReasonInput, responses={200: s.ProcessSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Release a draft: its route must be one chain from first to last step. An earlier released
        version of the same process becomes obsolete. Publishes ``mes.process.released``."""
        process = self.get_object()
        data = parsed(s.MesReasonInput, request)
        return self.out(s.ProcessSerializer, routing.process_release(process=process, reason=reason_of(request, data)))

    @extend_schema(request=s.MesReasonInput, responses={201: s.ProcessSerializer})
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        """A draft copy (steps, route, measurement definitions) with the next version number."""
        process = self.get_object()
        data = parsed(s.MesReasonInput, request)
        new = routing.process_new_version(process=process, reason=reason_of(request, data))
        return self.out(s.ProcessSerializer, new, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ProcessRouteSerializer})
    @action(detail=True, methods=["get"])
    def route(self, request, pk=None):
        """The ordered steps with their measurement definitions, and what still blocks release."""
        return self.out(s.ProcessRouteSerializer, process_route(self.get_object()))

    @extend_schema(request=s.StepAddInput, responses={201: s.StepSerializer})
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        """Add a step to a draft process (appended to the route after the last step)."""
        process = self.get_object()
        data = parsed(s.StepAddInput, request)
        step = routing.step_add(process=process, name=data["name"], description=data["description"],
                                sequence=data.get("sequence"), reason=reason_of(request, data))
        return self.out(s.StepSerializer, step, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS)
class StepViewSet(RecordUpdateMixin, TenantRecordViewSet):
    """Steps of processes. Added with POST processes/{id}/steps/; name and description change while
    the process is a draft. Steps are not removed one by one: make a new process version."""

    model = Step
    queryset = Step.objects.all()
    serializer_class = s.StepSerializer
    input_serializer_class = s.StepInput
    permission_prefix = MES
    filterset_fields = ["process"]
    search_fields = ["name", "description"]
    ordering_fields = ["sequence", "name"]
    services = RecordServices(update=routing.step_update)
    permission_map = {
        "list": f"{MES}.view_process", "retrieve": f"{MES}.view_process", "history": f"{MES}.view_process",
        "update": f"{MES}.change_process", "partial_update": f"{MES}.change_process",
        "measurement_definitions": f"{MES}.add_process",
    }

    @extend_schema(request=s.MeasurementDefinitionInput, responses={201: s.MeasurementDefinitionSerializer})
    @action(detail=True, methods=["post"], url_path="measurement-definitions")
    def measurement_definitions(self, request, pk=None):
        """Define what is measured at this step (the process must be a draft)."""
        step = self.get_object()
        data = parsed(s.MeasurementDefinitionInput, request)
        reason = data.pop("reason", None) or reason_of(request, {})
        definition = routing.measurement_definition_add(step=step, data=data, reason=reason)
        return self.out(s.MeasurementDefinitionSerializer, definition, status.HTTP_201_CREATED)


@extend_schema(tags=TAGS)
class MeasurementDefinitionViewSet(MesReadOnlyViewSet):
    """What is measured at each step. Added with POST steps/{id}/measurement-definitions/."""

    model = MeasurementDefinition
    queryset = MeasurementDefinition.objects.all()
    serializer_class = s.MeasurementDefinitionSerializer
    view_permission = f"{MES}.view_process"
    filterset_fields = ["step", "step__process", "kind", "required"]
    search_fields = ["label"]
    ordering_fields = ["sequence", "label"]
