"""Step requirements, inspections, work-instruction acknowledgements, step executions, and what
blocks a part at its step, over HTTP."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from traveler.core.access import visible
from traveler.core.api.base import (
    ChangeInput,
    InputSerializer,
    RecordReadOnlyViewSet,
    RecordSerializer,
    RecordServices,
    RecordWriteViewSet,
)
from traveler.core.auth import client_ip
from traveler.core.models import Document
from traveler.mes_full.choices import RequirementKind
from traveler.mes_full.models import DocumentAcknowledgement, StepExecution, StepInspection, StepRequirement
from traveler.mes_full.services import requirements as svc
from traveler.mes_lite.models import Part

TAGS = ["mes-full: requirements"]


class RequirementSerializer(RecordSerializer):
    class Meta:
        model = StepRequirement
        fields = ["id", "step", "kind", "definition", "document", "training_type", "equipment_type", "note",
                  "version", "created_at", "updated_at", "archived_at"]


class RequirementInput(ChangeInput, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=RequirementKind.choices)

    class Meta:
        model = StepRequirement
        fields = ["step", "kind", "definition", "document", "training_type", "equipment_type", "note", "version",
                  "reason"]
        validators = []


@extend_schema(tags=TAGS)
class RequirementViewSet(RecordWriteViewSet):
    """What a step requires before a part passes it: a measurement recorded, an inspection signed off,
    the work instruction's released revision read, a current training, equipment of a type."""

    model = StepRequirement
    queryset = StepRequirement.objects.all()
    permission_prefix = "mes_full"
    serializer_class = RequirementSerializer
    input_serializer_class = RequirementInput
    filterset_fields = ["step", "kind"]
    ordering_fields = ["step", "kind", "created_at"]
    services = RecordServices(create=svc.requirement_create, update=svc.requirement_update,
                              archive=svc.requirement_archive)
    extra_permissions = {action: "mes_full.change_steprequirement" for action in ("create", "archive", "restore")}
    service_kwarg = "requirement"


class InspectionSerializer(RecordSerializer):
    class Meta:
        model = StepInspection
        fields = ["id", "part", "step", "passed", "inspector", "inspected_at", "note", "quality_report_id",
                  "version", "created_at", "archived_at"]


class InspectionInput(InputSerializer):
    part = serializers.IntegerField(min_value=1, help_text="The part, at the step it is inspected at.")
    passed = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                 help_text="What was found; required when the part fails.")
    password = serializers.CharField(style={"input_type": "password"},
                                     help_text="Your password: the inspection is signed.")


@extend_schema(tags=TAGS)
class InspectionViewSet(RecordReadOnlyViewSet):
    """Inspectors' signed decisions on parts at their steps. ``POST`` records one (with your password)."""

    model = StepInspection
    queryset = StepInspection.objects.all()
    permission_prefix = "mes_full"
    view_permission = "mes_full.view_steprequirement"
    serializer_class = InspectionSerializer
    extra_permissions = {"create": "mes_full.inspect_part"}
    filterset_fields = ["part", "step", "passed"]
    ordering_fields = ["inspected_at"]

    @extend_schema(request=InspectionInput, responses={201: InspectionSerializer})
    def create(self, request: Request) -> Response:
        ser = InspectionInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        part = get_object_or_404(visible(Part.objects.select_related("current_step"), request._request.access),
                                 pk=d["part"])
        inspection = svc.inspection_record(part=part, passed=d["passed"], user=request.user, password=d["password"],
                                           note=d.get("note", ""), ip=client_ip(request._request))
        return self.out(InspectionSerializer, inspection, code=201)


class ExecutionSerializer(RecordSerializer):
    class Meta:
        model = StepExecution
        fields = ["id", "part", "step", "transition", "started_at", "finished_at", "operator", "equipment_ids",
                  "outcome", "version", "created_at", "archived_at"]


@extend_schema(tags=TAGS)
class ExecutionViewSet(RecordReadOnlyViewSet):
    """Each visit of a part at a step: when it arrived, when the advance ended it, by whom, with which
    equipment, and how it ended."""

    model = StepExecution
    queryset = StepExecution.objects.all()
    permission_prefix = "mes_full"
    view_permission = "mes_full.view_steprequirement"
    serializer_class = ExecutionSerializer
    filterset_fields = ["part", "step", "operator", "outcome"]
    ordering_fields = ["finished_at", "started_at"]


class AcknowledgementSerializer(RecordSerializer):
    document = serializers.IntegerField(source="revision.document_id", read_only=True)

    class Meta:
        model = DocumentAcknowledgement
        fields = ["id", "user", "document", "revision", "acknowledged_at", "version", "created_at", "archived_at"]


class AcknowledgeInput(InputSerializer):
    document = serializers.IntegerField(min_value=1, help_text="The work instruction whose released revision you read.")


@extend_schema(tags=TAGS)
class AcknowledgementViewSet(RecordReadOnlyViewSet):
    """Who read which released revision of a work instruction. ``POST`` records that you read one."""

    model = DocumentAcknowledgement
    queryset = DocumentAcknowledgement.objects.all()
    permission_prefix = "mes_full"
    view_permission = "mes_full.view_steprequirement"
    serializer_class = AcknowledgementSerializer
    extra_permissions = {"create": "mes_full.acknowledge_document"}
    filterset_fields = ["user", "revision"]
    ordering_fields = ["acknowledged_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("revision")

    @extend_schema(request=AcknowledgeInput, responses={201: AcknowledgementSerializer})
    def create(self, request: Request) -> Response:
        ser = AcknowledgeInput(data=request.data)
        ser.is_valid(raise_exception=True)
        document = get_object_or_404(visible(Document.objects.all(), request._request.access),
                                     pk=ser.validated_data["document"])
        return self.out(AcknowledgementSerializer, svc.document_acknowledge(document=document, user=request.user),
                        code=201)


class GateSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="What blocks: an override of an overridable kind may lift it.")
    reason = serializers.CharField()
    overridable = serializers.BooleanField()
    part_ids = serializers.ListField(child=serializers.IntegerField())


class PartGatesSerializer(serializers.Serializer):
    part = serializers.IntegerField()
    step = serializers.IntegerField(allow_null=True)
    requirements = RequirementSerializer(many=True)
    blocks = GateSerializer(many=True)


class PartGatesView(APIView):
    """What the part's current step requires and what would block its advance now (for the station
    and for integrations): the measurements still to record show as blocks until they are given."""

    permission_map = {"retrieve": "mes_full.view_steprequirement"}
    action = "retrieve"

    @extend_schema(responses=PartGatesSerializer, tags=TAGS, operation_id="mes_full_part_gates")
    def get(self, request: Request, part: int):
        obj = get_object_or_404(visible(Part.objects.select_related("current_step"), request._request.access), pk=part)
        step, blocks = svc.part_gates(part=obj, operator=request.user)
        return Response(PartGatesSerializer({
            "part": obj.pk, "step": step.pk if step else None,
            "requirements": svc.requirements_of(step) if step else [],
            "blocks": [{"kind": r.kind, "reason": r.reason, "overridable": r.overridable, "part_ids": list(r.part_ids)}
                       for r in blocks]}).data)
