"""First-piece inspection over HTTP: which steps need one (and setting it), the first pieces with
their status, and what is done to one: designate, record its inspection (signed), ask for a waiver,
start its scope over."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from traveler.core.api.base import InputSerializer, RecordReadOnlyViewSet, RecordSerializer
from traveler.core.auth import client_ip
from traveler.core.models import User
from traveler.mes_full.choices import FPIScope
from traveler.mes_full.models import FPIRecord, FPIRequirement
from traveler.mes_full.services import fpi as svc
from traveler.mes_lite.models import Equipment, Part, Step

VIEW, WAIVE, INSPECT = "mes_full.view_fpirecord", "mes_full.waive_fpi", "mes_full.inspect_part"


class FPIRequirementSerializer(RecordSerializer):
    class Meta:
        model = FPIRequirement
        fields = ["id", "step", "scope", "shift_hours", "note", "archived_at", "version", "created_at", "updated_at"]


class FPIRecordSerializer(RecordSerializer):
    serial_number = serializers.CharField(source="part.serial_number", read_only=True)

    class Meta:
        model = FPIRecord
        fields = ["id", "step", "scope", "scope_key", "scope_label", "work_order", "part", "serial_number", "fpi_status",
                  "current", "designated_at", "designated_by", "inspection", "verified_at", "verified_by",
                  "waiver_reason", "waiver_request", "waived_at", "notes", "archived_at", "version", "created_at",
                  "updated_at"]


class FPIRequirementInput(InputSerializer):
    step = serializers.PrimaryKeyRelatedField(queryset=Step.objects.all())
    scope = serializers.ChoiceField(choices=FPIScope.choices)
    shift_hours = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=23), required=False,
                                        max_length=24, help_text="Hours (local time) at which shifts start.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class FPIDesignateInput(InputSerializer):
    part = serializers.PrimaryKeyRelatedField(queryset=Part.objects.all())
    operator = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True,
                                                  help_text="Whose first piece (per operator scope); default: you.")
    equipment = serializers.PrimaryKeyRelatedField(queryset=Equipment.objects.all(), many=True, required=False)


class FPIInspectInput(InputSerializer):
    passed = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    password = serializers.CharField(style={"input_type": "password"}, help_text="Your password: the inspection is signed.")


class FPIReasonInput(InputSerializer):
    reason = serializers.CharField(max_length=2000)


class FPIWaiverSerializer(serializers.Serializer):
    approval_request = serializers.IntegerField(source="pk")
    status = serializers.CharField()


def _input(cls, request: Request) -> dict:
    ser = cls(data=request.data)
    ser.is_valid(raise_exception=True)
    return dict(ser.validated_data)


@extend_schema(tags=["mes_full: first-piece inspection"])
class FPIRequirementViewSet(RecordReadOnlyViewSet):
    """The steps that need a first-piece inspection, and for which scope."""

    model = FPIRequirement
    queryset = FPIRequirement.objects.all()
    permission_prefix = "mes_full"
    view_permission = "mes_full.view_steprequirement"
    serializer_class = FPIRequirementSerializer
    extra_permissions = {"set": "mes_full.change_fpirequirement"}
    filterset_fields = ["step", "scope"]

    @extend_schema(request=FPIRequirementInput, responses=FPIRequirementSerializer)
    @action(detail=False, methods=["post"], url_path="set")
    def set(self, request: Request) -> Response:
        """Require a first-piece inspection at a step for a scope (replacing the step's current one)."""
        d = _input(FPIRequirementInput, request)
        return self.out(FPIRequirementSerializer, svc.requirement_set(
            step=d["step"], scope=d["scope"], shift_hours=d.get("shift_hours"), note=d.get("note", "")))


@extend_schema(tags=["mes_full: first-piece inspection"])
class FPIRecordViewSet(RecordReadOnlyViewSet):
    """First pieces: one current record per step and scope, with the designated part and its status."""

    model = FPIRecord
    queryset = FPIRecord.objects.all()
    permission_prefix = "mes_full"
    view_permission = VIEW
    serializer_class = FPIRecordSerializer
    extra_permissions = {"designate": "mes_lite.advance_part", "inspect": INSPECT, "waiver": WAIVE, "restart": WAIVE}
    filterset_fields = ["step", "fpi_status", "work_order", "part", "current", "scope"]

    def get_queryset(self):
        return super().get_queryset().select_related("part")

    @extend_schema(request=FPIDesignateInput, responses=FPIRecordSerializer)
    @action(detail=False, methods=["post"])
    def designate(self, request: Request) -> Response:
        """Make a part the first piece of its scope at its step."""
        d = _input(FPIDesignateInput, request)
        return self.out(FPIRecordSerializer, svc.fpi_designate(
            part=d["part"], operator=d.get("operator") or request.user, equipment=d.get("equipment") or []))

    @extend_schema(request=FPIInspectInput, responses=FPIRecordSerializer)
    @action(detail=True, methods=["post"])
    def inspect(self, request: Request, pk=None) -> Response:
        """Record the first piece's inspection (signed with your password): passed, its scope goes on."""
        record = self.get_object()
        d = _input(FPIInspectInput, request)
        return self.out(FPIRecordSerializer, svc.fpi_inspection_record(
            part=record.part, record=record, passed=d["passed"], user=request.user, password=d["password"],
            note=d.get("note", ""), ip=client_ip(request._request)))

    @extend_schema(request=FPIReasonInput, responses={201: FPIWaiverSerializer})
    @action(detail=True, methods=["post"])
    def waiver(self, request: Request, pk=None) -> Response:
        """Ask for the waiver of a failed first piece: an approval request ("fpi waiver") whose approver
        signs it; once approved, the scope goes on."""
        record = self.get_object()
        d = _input(FPIReasonInput, request)
        req = svc.fpi_waiver_request(record=record, reason=d["reason"], user=request.user)
        return Response(FPIWaiverSerializer(req).data, status=201)

    @extend_schema(request=FPIReasonInput, responses=FPIRecordSerializer)
    @action(detail=True, methods=["post"])
    def restart(self, request: Request, pk=None) -> Response:
        """Start a failed scope over: the next part to pass the step is its new first piece."""
        record = self.get_object()
        d = _input(FPIReasonInput, request)
        return self.out(FPIRecordSerializer, svc.fpi_restart(record=record, reason=d["reason"]))
