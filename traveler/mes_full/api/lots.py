"""Lot acceptance over HTTP: open a lot inspection (its plan drawn by the statistics engine), record
what its sample showed, draw its plan again; the Z1.4 switching state of each part type and supplier
(approve reduced inspection, resume a discontinued one)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from traveler.core.api.base import (
    InputSerializer,
    RecordReadOnlyViewSet,
    RecordSerializer,
    RecordUpdateMixin,
    TenantRecordViewSet,
)
from traveler.core.models import Company
from traveler.mes_full.models import LotInspection, Z14SwitchingState
from traveler.mes_full.services import lots as svc
from traveler.mes_lite.models import PartType, Step, WorkOrder

VIEW, INSPECT, CHANGE_STATE = "mes_full.view_lotinspection", "mes_full.inspect_lot", "mes_full.change_z14switchingstate"
VERSION = {"required": False, "allow_null": True, "min_value": 0, "max_value": 2**31 - 1}


class LotSerializer(RecordSerializer):
    class Meta:
        model = LotInspection
        fields = ["id", "number", "part_type", "work_order", "step", "supplier", "supplier_company",
                  "supplier_lot_number", "lot_size", "part_ids", "switching_state", "level", "aql", "severity",
                  "code_letter", "plan_code_letter", "sample_size", "acceptance_number", "rejection_number", "status",
                  "defects_found", "decision", "severity_after", "switching_reason", "production_steady", "note",
                  "opened_by", "inspected_by", "inspected_at", "archived_at", "version", "created_at", "updated_at"]


class LotOpenInput(InputSerializer):
    aql = serializers.CharField(max_length=8, help_text="The acceptance quality limit, e.g. 1.0 or 0.65.")
    level = serializers.CharField(max_length=5, required=False, default="II",
                                  help_text="The inspection level: I, II, III or S-1 to S-4.")
    work_order = serializers.PrimaryKeyRelatedField(queryset=WorkOrder.objects.all(), required=False, allow_null=True,
                                                    help_text="A work order's lot: its parts waiting at ``step``.")
    step = serializers.PrimaryKeyRelatedField(queryset=Step.objects.all(), required=False, allow_null=True)
    part_type = serializers.PrimaryKeyRelatedField(queryset=PartType.objects.all(), required=False, allow_null=True,
                                                   help_text="A received lot: its part type.")
    supplier = serializers.CharField(max_length=200, required=False, allow_blank=True)
    supplier_company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all(), required=False,
                                                          allow_null=True)
    supplier_lot_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    lot_size = serializers.IntegerField(required=False, allow_null=True, min_value=2, max_value=2**31 - 1,
                                        help_text="A received lot: its quantity.")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class LotRecordInput(InputSerializer):
    defects_found = serializers.IntegerField(min_value=0, max_value=2**31 - 1,
                                             help_text="Nonconforming units found in the sample.")
    production_steady = serializers.BooleanField(required=False, default=True,
                                                 help_text="False: production was irregular or delayed (Z1.4 8.3.4 c).")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    version = serializers.IntegerField(**VERSION)


class LotReplanInput(InputSerializer):
    version = serializers.IntegerField(**VERSION)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)


def _input(cls, request: Request) -> dict:
    ser = cls(data=request.data)
    ser.is_valid(raise_exception=True)
    return dict(ser.validated_data)


@extend_schema(tags=["mes-full: lot acceptance"])
class LotInspectionViewSet(RecordReadOnlyViewSet):
    """Lots judged by ANSI/ASQ Z1.4 single sampling: a work order's parts at a step, or a lot received
    from a supplier. Opening one draws its plan (sample size, Ac, Re) on its part type's and supplier's
    switching state; recording the nonconforming units found accepts or rejects it and moves the state.
    A rejected lot holds its parts. Needs the SPC module (409 without it)."""

    model = LotInspection
    queryset = LotInspection.objects.all()
    permission_prefix = "mes_full"
    view_permission = VIEW
    serializer_class = LotSerializer
    extra_permissions = {"create": INSPECT, "record": INSPECT, "replan": INSPECT}
    filterset_fields = ["status", "work_order", "step", "part_type", "severity", "supplier"]
    ordering_fields = ["created_at", "inspected_at"]
    search_fields = ["number", "supplier", "supplier_lot_number"]

    @extend_schema(request=LotOpenInput, responses={201: LotSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Open a lot inspection: the answer holds the sample size to inspect and Ac/Re."""
        d = _input(LotOpenInput, request)
        lot = svc.lot_inspection_open(
            aql=d["aql"], level=d.get("level") or "II", work_order=d.get("work_order"), step=d.get("step"),
            part_type=d.get("part_type"), supplier=d.get("supplier", ""), supplier_company=d.get("supplier_company"),
            supplier_lot_number=d.get("supplier_lot_number", ""), lot_size=d.get("lot_size"), note=d.get("note", ""),
            reason=d.get("reason") or None)
        return self.out(LotSerializer, lot, status.HTTP_201_CREATED)

    @extend_schema(request=LotRecordInput, responses=LotSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request: Request, pk=None) -> Response:
        """Record the nonconforming units found in the sample: the lot is accepted or rejected."""
        lot = self.get_object()
        d = _input(LotRecordInput, request)
        return self.out(LotSerializer, svc.lot_inspection_record(
            lot=lot, defects_found=d["defects_found"], user=request.user,
            production_steady=d.get("production_steady", True), note=d.get("note", ""), version=d.get("version")))

    @extend_schema(request=LotReplanInput, responses=LotSerializer)
    @action(detail=True, methods=["post"])
    def replan(self, request: Request, pk=None) -> Response:
        """Draw the plan of a lot under inspection again on its switching state as it is now."""
        lot = self.get_object()
        d = _input(LotReplanInput, request)
        return self.out(LotSerializer, svc.lot_inspection_replan(lot=lot, version=d.get("version"),
                                                                 reason=d.get("reason") or None))


class SwitchingStateSerializer(RecordSerializer):
    class Meta:
        model = Z14SwitchingState
        fields = ["id", "part_type", "supplier", "level", "aql", "severity", "state", "reduced_approved", "lots",
                  "last_reason", "archived_at", "version", "created_at", "updated_at"]


class SwitchingStateInput(InputSerializer):
    reduced_approved = serializers.BooleanField(help_text="The responsible authority allows reduced inspection.")
    version = serializers.IntegerField(**VERSION)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class ResumeInput(InputSerializer):
    reason = serializers.CharField(max_length=1000, help_text="The corrective action taken.")
    version = serializers.IntegerField(**VERSION)


@extend_schema(tags=["mes-full: lot acceptance"])
class SwitchingStateViewSet(RecordUpdateMixin, TenantRecordViewSet):
    """Where Z1.4's switching rules stand for each part type, supplier and plan: normal, tightened,
    reduced or discontinued, moved by the statistics engine after each lot. Change only whether reduced
    inspection is approved; resume a discontinued inspection after corrective action."""

    model = Z14SwitchingState
    queryset = Z14SwitchingState.objects.all()
    permission_prefix = "mes_full"
    serializer_class = SwitchingStateSerializer
    input_serializer_class = SwitchingStateInput
    filterset_fields = ["part_type", "supplier", "severity"]
    ordering_fields = ["created_at", "updated_at"]

    @property
    def permission_map(self) -> dict[str, str]:
        # Only what this viewset has: a method it lacks answers 405, not 403.
        return {"list": VIEW, "retrieve": VIEW, "history": VIEW, "update": CHANGE_STATE,
                "partial_update": CHANGE_STATE, "resume": CHANGE_STATE}

    @extend_schema(request=SwitchingStateInput, responses=SwitchingStateSerializer)
    def update(self, request: Request, *args, partial: bool = False, **kwargs) -> Response:
        """Approve (or withdraw) reduced inspection for this part type and supplier."""
        obj = self.get_object()
        ser = SwitchingStateInput(data=request.data, partial=partial)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        version = self._version(request, {"version": data.pop("version", None)})
        reason = data.pop("reason", None) or self._reason(request)
        return self.out(SwitchingStateSerializer, svc.switching_state_update(state=obj, version=version, data=data,
                                                                             reason=reason))

    @extend_schema(request=SwitchingStateInput, responses=SwitchingStateSerializer)
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=ResumeInput, responses=SwitchingStateSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk=None) -> Response:
        """Resume a discontinued inspection after corrective action: tightened inspection (Z1.4 8.4)."""
        obj = self.get_object()
        d = _input(ResumeInput, request)
        return self.out(SwitchingStateSerializer, svc.switching_state_resume(state=obj, reason=d["reason"],
                                                                             version=d.get("version")))
