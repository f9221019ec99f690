"""MES Lite API serializers: outputs (what a record looks like) and inputs (what a write accepts).

Inputs only parse and type-check; the services decide what is allowed and name the problem.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from traveler.core.api.base import ChangeInput, InputSerializer, RecordSerializer
from traveler.core.models import Company
from traveler.mes_lite.choices import CalibrationResult, MeasurementKind, PartStatus
from traveler.mes_lite.models import (
    Equipment,
    EquipmentType,
    EquipmentUsage,
    MeasurementDefinition,
    Order,
    Part,
    PartType,
    Process,
    Step,
    StepMeasurement,
    StepTransitionLog,
    WorkOrder,
)


def _active(model):
    # Tenant-scoped manager: another tenant's ids are "does not exist" (400), never found.
    return model.objects.filter(archived_at__isnull=True)


class MesReasonInput(InputSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   help_text="Why: stored in the history of every record changed.")


class MesReasonRequiredInput(InputSerializer):
    reason = serializers.CharField(max_length=1000, help_text="Why: required, stored in the part's history.")


class CancelInput(InputSerializer):
    reason = serializers.CharField(max_length=1000, allow_blank=True,
                                   help_text="Why: required, stored in the history of every record changed.")
    unfinished_parts = serializers.ChoiceField(
        choices=[("scrap", "Scrap the unfinished parts"), ("release", "Put them on hold (released from production)")],
        help_text="What happens to the parts neither completed nor scrapped: scrapped, or put on hold.")
    version = serializers.IntegerField(required=False, help_text="The version you read (409 if it changed).")


# Part types, processes, steps, measurement definitions -----------------------------------------

class PartTypeSerializer(RecordSerializer):
    class Meta:
        model = PartType
        fields = ["id", "part_number", "revision", "name", "description", "max_rework_attempts", "version",
                  "created_at", "updated_at", "archived_at"]


class PartTypeInput(ChangeInput, serializers.ModelSerializer):
    class Meta:
        model = PartType
        fields = ["part_number", "revision", "name", "description", "max_rework_attempts", "version", "reason"]
        validators = []  # uniqueness per tenant is the database's (answered 400 by the service)


class ProcessSerializer(RecordSerializer):
    route_version = serializers.IntegerField(read_only=True, help_text="The route's version: 1, 2, ...")
    part_number = serializers.CharField(source="part_type.part_number", read_only=True)

    class Meta:
        model = Process
        fields = ["id", "part_type", "part_number", "name", "route_version", "status", "released_at", "released_by",
                  "previous", "version", "created_at", "updated_at", "archived_at"]


class ProcessInput(ChangeInput, serializers.ModelSerializer):
    part_type = serializers.PrimaryKeyRelatedField(queryset=_active(PartType),
                                                   help_text="Set on create; a process never changes part type.")

    class Meta:
        model = Process
        fields = ["part_type", "name", "version", "reason"]
        validators = []

    def validate_part_type(self, value):
        if self.instance is not None and value.pk != self.instance.part_type_id:
            raise serializers.ValidationError("A process's part type cannot change; create a process for the other "
                                              "part type instead.")
        return value


class StepSerializer(RecordSerializer):
    class Meta:
        model = Step
        fields = ["id", "process", "sequence", "name", "description", "version", "created_at", "updated_at",
                  "archived_at"]


class StepInput(ChangeInput, serializers.ModelSerializer):
    """Change a step of a draft process: its name and description."""

    class Meta:
        model = Step
        fields = ["name", "description", "version", "reason"]


class StepAddInput(MesReasonInput):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    sequence = serializers.IntegerField(required=False, min_value=1,
                                        help_text="Position for display; default: after the last step (+10). "
                                                  "A step added after the last one is linked to it on the route.")

    class Meta:
        model = Step  # integer ranges of the columns written


class MeasurementDefinitionSerializer(RecordSerializer):
    lower_limit = serializers.DecimalField(max_digits=21, decimal_places=8, read_only=True, allow_null=True,
                                           help_text="nominal - lower_tol (numeric only).")
    upper_limit = serializers.DecimalField(max_digits=21, decimal_places=8, read_only=True, allow_null=True,
                                           help_text="nominal + upper_tol (numeric only).")

    class Meta:
        model = MeasurementDefinition
        fields = ["id", "step", "sequence", "label", "kind", "unit", "nominal", "upper_tol", "lower_tol",
                  "lower_limit", "upper_limit", "required", "equipment_type", "version", "archived_at"]


class MeasurementDefinitionInput(MesReasonInput):
    label = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=MeasurementKind.choices, default=MeasurementKind.NUMERIC)
    unit = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    nominal = serializers.DecimalField(max_digits=20, decimal_places=8, required=False, allow_null=True)
    upper_tol = serializers.DecimalField(max_digits=20, decimal_places=8, required=False, allow_null=True,
                                         help_text="Allowed deviation above nominal (0 or more).")
    lower_tol = serializers.DecimalField(max_digits=20, decimal_places=8, required=False, allow_null=True,
                                         help_text="Allowed deviation below nominal (0 or more).")
    required = serializers.BooleanField(default=True)
    sequence = serializers.IntegerField(required=False, min_value=1)
    equipment_type = serializers.PrimaryKeyRelatedField(
        queryset=_active(EquipmentType), required=False, allow_null=True,
        help_text="Measured with equipment of this type: an advance recording it must name calibrated "
                  "equipment of the type (else 409 blocked).")

    class Meta:
        model = MeasurementDefinition  # integer ranges of the columns written


class RouteEntrySerializer(serializers.Serializer):
    step = StepSerializer()
    next_step = serializers.IntegerField(allow_null=True, help_text="The step a part goes to from here.")
    definitions = MeasurementDefinitionSerializer(many=True)


class ProcessRouteSerializer(serializers.Serializer):
    process = ProcessSerializer()
    steps = RouteEntrySerializer(many=True, help_text="The route, first step to last.")
    unrouted_steps = StepSerializer(many=True, help_text="Steps of the process not on the route (drafts only).")
    ready_to_release = serializers.BooleanField()
    problem = serializers.CharField(allow_null=True, help_text="Why the route cannot be released yet, if so.")


# Orders and work orders ------------------------------------------------------------------------

class OrderSerializer(RecordSerializer):
    company_name = serializers.CharField(source="company.name", read_only=True)

    class Meta:
        model = Order
        fields = ["id", "number", "company", "company_name", "name", "status", "estimated_completion",
                  "completed_at", "version", "created_at", "updated_at", "archived_at"]


class OrderInput(ChangeInput, serializers.ModelSerializer):
    company = serializers.PrimaryKeyRelatedField(queryset=_active(Company), help_text="The customer.")

    class Meta:
        model = Order
        fields = ["number", "company", "name", "estimated_completion", "version", "reason"]
        validators = []


class WorkOrderSerializer(RecordSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True, allow_null=True)
    part_number = serializers.CharField(source="part_type.part_number", read_only=True)
    process_name = serializers.CharField(source="process.name", read_only=True)
    process_version = serializers.IntegerField(source="process.route_version", read_only=True)

    class Meta:
        model = WorkOrder
        fields = ["id", "number", "order", "order_number", "part_type", "part_number", "process", "process_name",
                  "process_version", "quantity", "erp_id", "status", "expected_completion", "completed_at", "version",
                  "created_at", "updated_at", "archived_at"]


class WorkOrderInput(ChangeInput, serializers.ModelSerializer):
    order = serializers.PrimaryKeyRelatedField(queryset=_active(Order), required=False, allow_null=True)
    part_type = serializers.PrimaryKeyRelatedField(queryset=_active(PartType), required=False,
                                                   help_text="Default: the process's part type.")
    process = serializers.PrimaryKeyRelatedField(queryset=_active(Process), help_text="A released process.")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)

    class Meta:
        model = WorkOrder
        fields = ["number", "order", "part_type", "process", "quantity", "erp_id", "expected_completion", "version",
                  "reason"]
        validators = []


class CreatePartsInput(MesReasonInput):
    pattern = serializers.CharField(max_length=200, help_text=(
        "Serial-number pattern: literal text and the tokens {yyyy} {yy} {mm} {dd} {wo} {pn} and exactly one "
        "{seq} or {seq:0N}, e.g. INJ-{yyyy}-{seq:05}."))
    quantity = serializers.IntegerField(required=False, min_value=1,
                                        help_text="How many parts; default: the rest of the work order's quantity.")


class CreatePartsResult(serializers.Serializer):
    created = serializers.IntegerField()
    first_serial = serializers.CharField()
    last_serial = serializers.CharField()
    work_order = WorkOrderSerializer()


PartStatusCounts = type("PartStatusCounts", (serializers.Serializer,),
                        {s: serializers.IntegerField() for s in PartStatus.values})


class StepBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sequence = serializers.IntegerField()


class ProgressStepSerializer(serializers.Serializer):
    step = StepBriefSerializer()
    counts = PartStatusCounts()
    in_work = serializers.IntegerField(help_text="Parts at this step not yet completed or scrapped.")


class _ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = PartStatusCounts()
    steps = ProgressStepSerializer(many=True)
    percent_complete = serializers.FloatField(
        help_text="Completed parts over parts not scrapped (total - by_status.scrapped), in percent.")


class OrderBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    estimated_completion = serializers.DateField(allow_null=True)


class WorkOrderBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    quantity = serializers.IntegerField()


class OrderProgressSerializer(_ProgressSerializer):
    order = OrderBriefSerializer()
    work_orders = WorkOrderBriefSerializer(many=True)


class WorkOrderBoardSerializer(_ProgressSerializer):
    work_order = WorkOrderBriefSerializer()


# Parts -----------------------------------------------------------------------------------------

class PartSerializer(RecordSerializer):
    part_number = serializers.CharField(source="part_type.part_number", read_only=True)
    current_step_name = serializers.CharField(source="current_step.name", read_only=True, allow_null=True)
    work_order_number = serializers.CharField(source="work_order.number", read_only=True, allow_null=True)
    order_number = serializers.CharField(source="order.number", read_only=True, allow_null=True)

    class Meta:
        model = Part
        fields = ["id", "serial_number", "status", "status_reason", "held_from_status", "held_from_reason",
                  "part_type", "part_number",
                  "process", "current_step", "current_step_name", "work_order", "work_order_number", "order",
                  "order_number", "version", "created_at", "updated_at", "archived_at"]


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string"}, {"type": "boolean"}],
                      "description": "A number (or numeric string) for numeric definitions; pass/fail "
                                     "(true/false, \"pass\"/\"fail\") for pass/fail ones."})
class ReadingValueField(serializers.JSONField):
    pass


class ReadingInput(InputSerializer):
    definition = serializers.IntegerField(help_text="A measurement definition of the step.")
    value = ReadingValueField(required=False, allow_null=True)


class AdvanceInput(InputSerializer):
    step = serializers.IntegerField(help_text="The step the part is at (as you saw it): a part elsewhere answers 409.")
    measurements = ReadingInput(many=True, required=False, default=list)
    equipment = serializers.ListField(child=serializers.IntegerField(), required=False, default=list,
                                      help_text="Ids of the equipment used (calibration is checked).")
    version = serializers.IntegerField(required=False, help_text="The part's version you read (optional).")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class AdvanceBySerialInput(AdvanceInput):
    serial_number = serializers.CharField(max_length=100, help_text="As scanned.")
    part_type = serializers.IntegerField(
        required=False, help_text="Needed only when parts of several part types carry this serial number.")


class AdvanceResult(serializers.Serializer):
    result = serializers.ChoiceField(choices=["advanced", "completed", "quarantined"])
    part = PartSerializer()


class BulkPartInput(InputSerializer):
    part = serializers.IntegerField(required=False, help_text="The part's id, or give serial_number.")
    serial_number = serializers.CharField(required=False, max_length=100)
    measurements = ReadingInput(many=True, required=False, default=list)

    def validate(self, attrs):
        if not attrs.get("part") and not attrs.get("serial_number"):
            raise serializers.ValidationError("Name the part by id (part) or serial_number.")
        return attrs


class BulkAdvanceInput(InputSerializer):
    step = serializers.IntegerField(help_text="The step every listed part is at.")
    parts = BulkPartInput(many=True, allow_empty=False)
    equipment = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class BulkAdvanceResult(serializers.Serializer):
    advanced = serializers.IntegerField()
    completed = serializers.IntegerField()
    quarantined = serializers.IntegerField()


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TransitionSerializer(RecordSerializer):
    from_step_name = serializers.CharField(source="from_step.name", read_only=True, allow_null=True)
    to_step_name = serializers.CharField(source="to_step.name", read_only=True, allow_null=True)
    operator = serializers.SerializerMethodField()

    class Meta:
        model = StepTransitionLog
        fields = ["id", "part", "action", "from_step", "from_step_name", "to_step", "to_step_name", "from_status",
                  "to_status", "operator", "transition_time", "note", "version", "archived_at"]

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_operator(self, obj) -> dict | None:
        # Customers following their parts see what happened, not which employee did it.
        if obj.operator_id is None or self.context.get("hide_people"):
            return None
        return {"id": obj.operator_id, "name": obj.operator.full_name}


class MeasurementSerializer(RecordSerializer):
    label = serializers.CharField(source="definition.label", read_only=True)

    class Meta:
        model = StepMeasurement
        fields = ["id", "part", "step", "definition", "label", "transition", "value", "passed", "in_spec",
                  "recorded_by", "recorded_at", "version", "archived_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("hide_people"):
            data["recorded_by"] = None
        return data


class EquipmentUsageSerializer(serializers.ModelSerializer):
    """One use of a gauge: on which part, at which step, by whom, when."""

    equipment_name = serializers.CharField(source="equipment.name", read_only=True)
    equipment_serial_number = serializers.CharField(source="equipment.serial_number", read_only=True)
    serial_number = serializers.CharField(source="part.serial_number", read_only=True)
    step_name = serializers.CharField(source="step.name", read_only=True)
    operator = serializers.SerializerMethodField()

    class Meta:
        model = EquipmentUsage
        fields = ["id", "equipment", "equipment_name", "equipment_serial_number", "part", "serial_number", "step",
                  "step_name", "transition", "operator", "start_time"]

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_operator(self, obj) -> dict | None:
        if obj.operator_id is None or self.context.get("hide_people"):
            return None
        return {"id": obj.operator_id, "name": obj.operator.full_name}


class TravelerRouteEntrySerializer(serializers.Serializer):
    step = StepSerializer()
    state = serializers.ChoiceField(choices=["done", "current", "ahead"])
    definitions = MeasurementDefinitionSerializer(many=True)


class TravelerSerializer(serializers.Serializer):
    part = PartSerializer()
    route = TravelerRouteEntrySerializer(many=True)
    required_here = MeasurementDefinitionSerializer(many=True,
                                                    help_text="What is measured at the part's current step.")
    transitions = TransitionSerializer(many=True)
    measurements = MeasurementSerializer(many=True)
    equipment_usages = EquipmentUsageSerializer(many=True, help_text="The equipment used at each step.")


# Equipment -------------------------------------------------------------------------------------

class EquipmentTypeSerializer(RecordSerializer):
    class Meta:
        model = EquipmentType
        fields = ["id", "name", "description", "calibration_interval_days", "version", "created_at", "updated_at",
                  "archived_at"]


class EquipmentTypeInput(ChangeInput, serializers.ModelSerializer):
    class Meta:
        model = EquipmentType
        fields = ["name", "description", "calibration_interval_days", "version", "reason"]
        validators = []


class EquipmentSerializer(RecordSerializer):
    equipment_type_name = serializers.CharField(source="equipment_type.name", read_only=True)
    calibration_overdue = serializers.SerializerMethodField()
    usable = serializers.SerializerMethodField(help_text="May be used today (the calibration guard lets it pass).")
    unusable_reason = serializers.SerializerMethodField()

    class Meta:
        model = Equipment
        fields = ["id", "equipment_type", "equipment_type_name", "name", "serial_number", "last_calibration",
                  "last_calibration_result", "calibration_certificate", "next_calibration", "calibration_overdue",
                  "usable", "unusable_reason", "version", "created_at", "updated_at", "archived_at"]

    def get_calibration_overdue(self, obj) -> bool:
        return obj.calibration_overdue()

    def get_usable(self, obj) -> bool:
        return obj.calibration_refusal() is None

    def get_unusable_reason(self, obj) -> str | None:
        return obj.calibration_refusal()


class EquipmentInput(ChangeInput, serializers.ModelSerializer):
    """Calibration fields are taken on create only (the calibration it arrives with; the due date is
    computed); afterwards POST calibrate/ records one, and a change naming them answers 400."""

    equipment_type = serializers.PrimaryKeyRelatedField(queryset=_active(EquipmentType))

    class Meta:
        model = Equipment
        fields = ["equipment_type", "name", "serial_number", "last_calibration", "last_calibration_result",
                  "calibration_certificate", "next_calibration", "version", "reason"]
        validators = []
        extra_kwargs = {"next_calibration": {"help_text": "Not accepted: follows from the calibration."}}


class CalibrateInput(MesReasonInput):
    calibrated_on = serializers.DateField(help_text="When it was calibrated (not in the future, not before the last).")
    result = serializers.ChoiceField(choices=CalibrationResult.choices, default=CalibrationResult.PASS,
                                     help_text="fail: the equipment may not be used until it passes a calibration.")
    certificate = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                        help_text="The calibration certificate's reference.")
    version = serializers.IntegerField(required=False, help_text="The version you read (or send If-Match).")

