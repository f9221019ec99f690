"""Calibration over HTTP: calibration records (recording one sets the equipment's calibration status),
a failed calibration's suspect parts and their report to Quality, and the calibration schedule."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from traveler.core.api.base import InputSerializer, RecordReadOnlyViewSet, RecordSerializer
from traveler.core.models import Document
from traveler.mes_full.api.training import MemberField
from traveler.mes_full.choices import CalibrationOutcome
from traveler.mes_full.models import CalibrationRecord
from traveler.mes_full.services import calibration as svc
from traveler.mes_lite.models import Equipment

TAGS = ["mes-full: calibration"]
VIEW, RECORD = "mes_full.view_calibrationrecord", "mes_full.record_calibration"


class CalibrationRecordSerializer(RecordSerializer):
    equipment_name = serializers.CharField(source="equipment.name", read_only=True)
    equipment_serial_number = serializers.CharField(source="equipment.serial_number", read_only=True)

    class Meta:
        model = CalibrationRecord
        fields = ["id", "equipment", "equipment_name", "equipment_serial_number", "calibrated_on", "result",
                  "next_due", "certificate", "certificate_number", "performed_by", "external_lab", "adjustment_note",
                  "note", "suspects_reported_at", "version", "created_at", "updated_at", "archived_at"]


class CalibrationInput(InputSerializer):
    equipment = serializers.PrimaryKeyRelatedField(queryset=Equipment.objects.filter(archived_at__isnull=True))
    calibrated_on = serializers.DateField(help_text="Not in the future, not before the equipment's last calibration.")
    result = serializers.ChoiceField(choices=CalibrationOutcome.choices,
                                     help_text="adjusted: passes after an adjustment (say what in adjustment_note).")
    certificate = serializers.PrimaryKeyRelatedField(queryset=Document.objects.all(), required=False, allow_null=True)
    certificate_number = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    performed_by = MemberField(required=False, allow_null=True, help_text="Empty with no external lab: you.")
    external_lab = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    adjustment_note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ReportInput(InputSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class SuspectPartSerializer(serializers.Serializer):
    part = serializers.IntegerField(source="part_id")
    serial_number = serializers.CharField()
    work_order = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    steps = serializers.ListField(child=serializers.CharField())
    uses = serializers.IntegerField()
    first_used = serializers.DateTimeField()
    last_used = serializers.DateTimeField()


class SuspectsSerializer(serializers.Serializer):
    calibration = serializers.IntegerField(source="record.pk")
    equipment = serializers.IntegerField(source="record.equipment_id")
    since = serializers.DateField(allow_null=True, help_text="The last passing calibration (that day included).")
    until = serializers.DateTimeField(allow_null=True, help_text="When it passed again, if it did.")
    reported_at = serializers.DateTimeField(source="record.suspects_reported_at", allow_null=True)
    parts = SuspectPartSerializer(many=True)


@extend_schema(tags=TAGS)
class CalibrationRecordViewSet(RecordReadOnlyViewSet):
    """Calibrations of equipment. Recording one (POST) sets the equipment's calibration status in the same
    transaction: pass and adjusted make it usable until the next due date, fail blocks it. A calibration
    recorded through the equipment's own calibrate action becomes a record here too."""

    model = CalibrationRecord
    queryset = CalibrationRecord.objects.all()
    serializer_class = CalibrationRecordSerializer
    view_permission = VIEW
    extra_permissions = {"create": RECORD, "suspects": VIEW, "report_suspects": RECORD}
    filterset_fields = ["equipment", "result"]
    ordering_fields = ["calibrated_on", "created_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("equipment")

    @extend_schema(request=CalibrationInput, responses={201: CalibrationRecordSerializer})
    def create(self, request: Request) -> Response:
        """Record a calibration."""
        ser = CalibrationInput(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        reason = data.pop("reason", None) or None
        return self.out(CalibrationRecordSerializer, svc.calibration_record(**data, reason=reason),
                        status.HTTP_201_CREATED)

    @extend_schema(responses=SuspectsSerializer)
    @action(detail=True, methods=["get"])
    def suspects(self, request: Request, pk=None) -> Response:
        """A failed calibration's suspect parts: every part measured with the equipment since its last passing
        calibration (409 for a calibration that passed)."""
        return Response(SuspectsSerializer(svc.calibration_suspects(record=self.get_object())).data)

    @extend_schema(request=ReportInput, responses=CalibrationRecordSerializer)
    @action(detail=True, methods=["post"], url_path="report-suspects")
    def report_suspects(self, request: Request, pk=None) -> Response:
        """Report the suspect parts to Quality, which opens one nonconformance for them (once)."""
        record = self.get_object()
        ser = ReportInput(data=request.data)
        ser.is_valid(raise_exception=True)
        reason = ser.validated_data.get("reason") or None
        return self.out(CalibrationRecordSerializer, svc.calibration_suspects_report(record=record, reason=reason))


class ScheduleRowSerializer(serializers.Serializer):
    equipment = serializers.IntegerField(source="equipment.pk")
    name = serializers.CharField(source="equipment.name")
    serial_number = serializers.CharField(source="equipment.serial_number")
    equipment_type = serializers.CharField(source="equipment.equipment_type.name")
    last_calibration = serializers.DateField(source="equipment.last_calibration", allow_null=True)
    next_calibration = serializers.DateField(source="equipment.next_calibration", allow_null=True)
    state = serializers.ChoiceField(choices=["overdue", "never", "due_soon", "ok"])


class CalibrationScheduleView(APIView):
    permission_map = {"list": VIEW}
    action = "list"

    @extend_schema(responses=ScheduleRowSerializer(many=True), tags=TAGS, operation_id="mes_full_calibration_schedule")
    def get(self, request: Request) -> Response:
        """Equipment whose type needs calibration, by due date (never calibrated first): overdue (past due or
        failed), never, due_soon (within 30 days) or ok."""
        return Response(ScheduleRowSerializer(svc.calibration_schedule(), many=True).data)
