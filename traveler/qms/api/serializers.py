"""Quality API serializers: outputs (what a record looks like) and inputs (what a write accepts).
Inputs only parse and type-check; the services decide what is allowed and name the problem."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from traveler.core.api.base import ChangeInput, InputSerializer, RecordSerializer
from traveler.core.models import User
from traveler.core.tenancy import current_tenant
from traveler.mes_lite.api.serializers import PersonSerializer
from traveler.mes_lite.models import Equipment, MeasurementDefinition, Part, PartType, Step
from traveler.qms.choices import ReportStatus
from traveler.qms.models import MeasurementResult, QualityErrorsList, QualityReport, QualityReportDefect


def _active(model):
    # Tenant-scoped manager: another tenant's ids are "does not exist" (400), never found.
    return model.objects.filter(archived_at__isnull=True)


class MemberField(serializers.PrimaryKeyRelatedField):
    """A user of the current tenant (active membership); anyone else is "does not exist"."""

    def get_queryset(self):
        return User.objects.filter(memberships__tenant=current_tenant(), memberships__is_active=True).distinct()


# Defect codes -------------------------------------------------------------------------------------

class DefectCodeSerializer(RecordSerializer):
    part_types = serializers.PrimaryKeyRelatedField(many=True, read_only=True,
                                                    help_text="Limited to these part types (none: any).")
    steps = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text="Limited to these steps (none: any).")

    class Meta:
        model = QualityErrorsList
        fields = ["id", "code", "description", "severity", "part_types", "steps", "version", "created_at",
                  "updated_at", "archived_at"]


class DefectCodeInput(ChangeInput, serializers.ModelSerializer):
    part_types = serializers.PrimaryKeyRelatedField(many=True, queryset=_active(PartType), required=False,
                                                    help_text="Limit the code to these part types; replaces the list.")
    steps = serializers.PrimaryKeyRelatedField(many=True, queryset=_active(Step), required=False,
                                               help_text="Limit the code to these steps; replaces the list.")

    class Meta:
        model = QualityErrorsList
        fields = ["code", "description", "severity", "part_types", "steps", "version", "reason"]
        validators = []  # uniqueness per tenant is the database's (answered 400 by the service)


# Quality reports ----------------------------------------------------------------------------------

class ReportDefectSerializer(serializers.ModelSerializer):
    code = serializers.IntegerField(source="error_id", help_text="The defect code's id.")
    code_text = serializers.CharField(source="error.code")
    severity = serializers.CharField(source="error.severity")

    class Meta:
        model = QualityReportDefect
        fields = ["code", "code_text", "severity", "count"]


class ResultSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="definition.label")
    unit = serializers.CharField(source="definition.unit")

    class Meta:
        model = MeasurementResult
        fields = ["id", "definition", "label", "unit", "value", "passed", "in_spec"]


class QualityReportSerializer(RecordSerializer):
    serial_number = serializers.CharField(source="part.serial_number", read_only=True)
    step_name = serializers.CharField(source="step.name", read_only=True)
    inspectors = serializers.SerializerMethodField()
    equipment = serializers.SerializerMethodField()
    defects = ReportDefectSerializer(source="defect_links", many=True, read_only=True)
    results = ResultSerializer(many=True, read_only=True)

    class Meta:
        model = QualityReport
        fields = ["id", "part", "serial_number", "step", "step_name", "status", "description", "origin",
                  "inspectors", "equipment", "defects", "results", "version", "created_at", "updated_at",
                  "archived_at"]

    @extend_schema_field(PersonSerializer(many=True))
    def get_inspectors(self, obj) -> list[dict]:
        return [{"id": link.user_id, "name": link.user.full_name} for link in obj.inspector_links.all()]

    def get_equipment(self, obj) -> list[int]:
        return [link.equipment_id for link in obj.equipment_links.all()]


class DefectInput(InputSerializer):
    code = serializers.PrimaryKeyRelatedField(queryset=_active(QualityErrorsList), help_text="A defect code's id.")
    count = serializers.IntegerField(min_value=1, default=1)


class ResultInput(InputSerializer):
    definition = serializers.PrimaryKeyRelatedField(queryset=_active(MeasurementDefinition))
    value = serializers.JSONField(help_text="A number for a numeric definition; pass or fail (or true/false) otherwise.")


class QualityReportInput(ChangeInput):
    part = serializers.PrimaryKeyRelatedField(queryset=_active(Part), help_text="Set on create; never changes.")
    step = serializers.PrimaryKeyRelatedField(queryset=_active(Step), help_text="Set on create; never changes.")
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    inspectors = MemberField(many=True, required=False)
    equipment = serializers.PrimaryKeyRelatedField(many=True, queryset=_active(Equipment), required=False)
    defects = DefectInput(many=True, required=False)
    results = ResultInput(many=True, required=False)

    class Meta:
        model = QualityReport  # integer ranges of the columns written
