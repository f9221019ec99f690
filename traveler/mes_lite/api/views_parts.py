"""Parts over HTTP: find them, follow their traveler, and move them (advance, hold, release, scrap);
their transition logs and measurements, read-only."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from traveler.core.errors import InvalidInput
from traveler.mes_lite.api import customer_serializers as cs
from traveler.mes_lite.api import serializers as s
from traveler.mes_lite.api.views import MES, MesReadOnlyViewSet, parsed, reason_of, version_of
from traveler.mes_lite.models import Part, StepMeasurement, StepTransitionLog
from traveler.mes_lite.selectors import part_get_by_serial, part_traveler
from traveler.mes_lite.services.parts import part_advance, part_hold, part_release, part_scrap

TAGS = ["mes: parts"]


class PartFilter(filters.FilterSet):
    class Meta:
        model = Part
        fields = ["serial_number", "status", "work_order", "order", "current_step", "part_type", "process"]


@extend_schema(tags=TAGS)
class PartViewSet(MesReadOnlyViewSet):
    """Serialized parts. Created by work orders (``create-parts/``), moved by the actions below.
    Customer users see their own company's parts and travelers only."""

    model = Part
    queryset = Part.objects.all()
    serializer_class = s.PartSerializer
    view_permission = f"{MES}.view_part"
    filterset_class = PartFilter
    search_fields = ["serial_number"]
    ordering_fields = ["serial_number", "status", "created_at", "updated_at"]
    extra_permissions = {
        "advance": f"{MES}.advance_part",
        "advance_by_serial": f"{MES}.advance_part",
        "hold": f"{MES}.hold_part",
        "release": f"{MES}.hold_part",
        "scrap": f"{MES}.scrap_part",
        "traveler": f"{MES}.view_part",
    }

    def get_queryset(self):
        return super().get_queryset().select_related("part_type", "current_step", "work_order", "order")

    def _for_customer(self) -> bool:
        # The OpenAPI schema is generated with a request that carries no access: staff's shape.
        access = getattr(self.request._request, "access", None)
        return bool(access is not None and access.is_customer)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "hide_people": self._for_customer()}

    def get_serializer_class(self):
        if self._for_customer():
            return cs.CustomerPartSerializer
        return super().get_serializer_class()

    def _advance(self, part: Part, data: dict):
        result = part_advance(part=part, step=data["step"], measurements=data["measurements"],
                              equipment=data["equipment"], version=version_of(self.request, data), note=data["note"])
        return self.out(s.AdvanceResult, result)

    @extend_schema(request=s.AdvanceInput, responses={200: s.AdvanceResult})
    @action(detail=True, methods=["post"])
    def advance(self, request, pk=None):
        """Record the part's measurements at its step and move it on: to the next step, to completed
        after the last one, or to quarantine when a value is out of specification. A part no longer at
        ``step`` answers 409 naming where it is; a registered guard refusing answers 409 ``blocked``."""
        part = self.get_object()
        return self._advance(part, parsed(s.AdvanceInput, request))

    @extend_schema(request=s.AdvanceBySerialInput, responses={200: s.AdvanceResult})
    @action(detail=False, methods=["post"], url_path="advance-by-serial")
    def advance_by_serial(self, request):
        """``advance/`` for scanner stations: the part is named by its serial number (400 if unknown)."""
        data = parsed(s.AdvanceBySerialInput, request)
        serial = data["serial_number"]
        part = part_get_by_serial(serial_number=serial, access=request._request.access,
                                  part_type=data.get("part_type"))
        if part is None:
            raise InvalidInput(f"No part with serial number {serial!r}.", fields={"serial_number": [f"unknown: {serial}"]})
        return self._advance(part, data)

    @extend_schema(request=s.MesReasonRequiredInput, responses={200: s.PartSerializer})
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        """Stop the part where it is until it is released."""
        part = self.get_object()
        data = parsed(s.MesReasonRequiredInput, request)
        return self.out(s.PartSerializer, part_hold(part=part, reason=data["reason"]))

    @extend_schema(request=s.MesReasonInput, responses={200: s.PartSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Release a held part back to the status it had, with the reason it had it (a quarantined part
        returns to quarantine, still saying what was out of specification). A reason (body or
        ``X-Reason``) is required: 400 without one, after 409 if the part is not on hold."""
        part = self.get_object()
        data = parsed(s.MesReasonInput, request)
        return self.out(s.PartSerializer, part_release(part=part, reason=reason_of(request, data)))

    @extend_schema(request=s.MesReasonRequiredInput, responses={200: s.PartSerializer})
    @action(detail=True, methods=["post"])
    def scrap(self, request, pk=None):
        """Scrap the part (final)."""
        part = self.get_object()
        data = parsed(s.MesReasonRequiredInput, request)
        return self.out(s.PartSerializer, part_scrap(part=part, reason=data["reason"]))

    @extend_schema(responses={200: s.TravelerSerializer},
                   description="Customers get CustomerTravelerSerializer: route states and moves only.")
    @action(detail=True, methods=["get"])
    def traveler(self, request, pk=None):
        """The part's digital traveler: its route with the current step, every transition, every
        measurement, the equipment used (not for customers), and what is measured at the step it is at."""
        part = self.get_object()
        if request._request.access.is_customer:
            return self.out(cs.CustomerTravelerSerializer, part_traveler(part=part))
        return self.out(s.TravelerSerializer, part_traveler(part=part))


@extend_schema(tags=TAGS)
class TransitionViewSet(MesReadOnlyViewSet):
    """Every move of every part: from which step and status to which, by whom, when and why."""

    model = StepTransitionLog
    queryset = StepTransitionLog.objects.all()
    serializer_class = s.TransitionSerializer
    view_permission = f"{MES}.view_transition"
    filterset_fields = ["part", "action", "from_step", "to_step", "operator"]
    ordering_fields = ["transition_time"]

    def get_queryset(self):
        return super().get_queryset().select_related("operator", "from_step", "to_step")


@extend_schema(tags=TAGS)
class MeasurementViewSet(MesReadOnlyViewSet):
    """Values measured on parts, with in/out of specification decided when recorded."""

    model = StepMeasurement
    queryset = StepMeasurement.objects.all()
    serializer_class = s.MeasurementSerializer
    view_permission = f"{MES}.view_part"
    filterset_fields = ["part", "definition", "step", "in_spec"]
    ordering_fields = ["recorded_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("definition")
