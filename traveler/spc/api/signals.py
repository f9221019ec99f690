"""SPC signals over HTTP (list, read, acknowledge with your password, investigate, close) and the
reaction plan of a characteristic (read, change)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from traveler.core.api.base import InputSerializer, RecordReadOnlyViewSet, RecordSerializer, SlugRelatedField
from traveler.core.auth import client_ip
from traveler.core.models import Role, User
from traveler.spc.choices import SignalSeverity
from traveler.spc.models import SPCSignal
from traveler.spc.services import signals as svc
from traveler.spc.services.characteristics import definition_or_404

VIEW, HANDLE, CHANGE_PLAN = "spc.view_spcsignal", "spc.handle_signal", "spc.change_reactionplan"

class SignalSerializer(RecordSerializer):
    class Meta:
        model = SPCSignal
        fields = ["id", "definition", "baseline", "step", "rule", "description", "severity", "first_key", "last_key",
                  "points", "values", "part_ids", "first_at", "last_at", "status", "actions", "links", "step_held",
                  "acknowledged_by", "acknowledged_at", "acknowledged_comment", "investigated_by", "investigated_at",
                  "cause", "closed_by", "closed_at", "closed_comment", "archived_at", "version", "created_at",
                  "updated_at"]

class AcknowledgeInput(InputSerializer):
    password = serializers.CharField(style={"input_type": "password"},
                                     help_text="Your password: the acknowledgement is signed.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    version = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)

class InvestigateInput(InputSerializer):
    cause = serializers.CharField(max_length=2000, help_text="What the investigation found.")
    version = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)

class CloseInput(InputSerializer):
    comment = serializers.CharField(max_length=2000, help_text="What was done, or why nothing is.")
    version = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)

@extend_schema(tags=["spc: signals"])
class SignalViewSet(RecordReadOnlyViewSet):
    """Run-rule violations of characteristics with an active baseline, one per violation, with what
    their reaction plan did: acknowledge one (signed; a step it stopped moves again), record what
    its investigation found, close it."""

    model = SPCSignal
    queryset = SPCSignal.objects.all()
    permission_prefix = "spc"
    view_permission = VIEW
    serializer_class = SignalSerializer
    extra_permissions = {"acknowledge": HANDLE, "investigate": HANDLE, "close": HANDLE}
    filterset_fields = ["definition", "status", "rule", "step", "baseline"]
    ordering_fields = ["first_at", "last_at", "created_at"]

    def _input(self, cls, request: Request) -> dict:
        ser = cls(data=request.data)
        ser.is_valid(raise_exception=True)
        return ser.validated_data

    @extend_schema(request=AcknowledgeInput, responses=SignalSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk=None) -> Response:
        """Acknowledge a new signal: your signature (meaning "acknowledged")."""
        obj = self.get_object()
        d = self._input(AcknowledgeInput, request)
        return self.out(SignalSerializer, svc.signal_acknowledge(
            signal=obj, user=request.user, password=d["password"], comment=d.get("comment", ""),
            version=d.get("version"), ip=client_ip(request._request)))

    @extend_schema(request=InvestigateInput, responses=SignalSerializer)
    @action(detail=True, methods=["post"])
    def investigate(self, request: Request, pk=None) -> Response:
        """Record the cause an investigation of an acknowledged signal found."""
        obj = self.get_object()
        d = self._input(InvestigateInput, request)
        return self.out(SignalSerializer, svc.signal_investigate(signal=obj, cause=d["cause"], version=d.get("version")))

    @extend_schema(request=CloseInput, responses=SignalSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        """Close an acknowledged or investigated signal, saying why."""
        obj = self.get_object()
        d = self._input(CloseInput, request)
        return self.out(SignalSerializer, svc.signal_close(signal=obj, comment=d["comment"], version=d.get("version")))

class ReactionPlanSerializer(serializers.Serializer):
    definition = serializers.IntegerField(source="definition_id")
    configured = serializers.SerializerMethodField(help_text="False: the defaults apply (nothing saved yet).")
    version = serializers.IntegerField(allow_null=True, help_text="The plan's version (null until saved).")
    notify_roles = serializers.ListField(child=serializers.CharField())
    notify_users = serializers.SerializerMethodField()
    hold_parts = serializers.BooleanField()
    hold_step = serializers.BooleanField()
    open_nonconformance = serializers.BooleanField()
    open_capa = serializers.BooleanField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    severity = serializers.ChoiceField(choices=SignalSeverity.choices)
    instructions = serializers.CharField()

    def get_configured(self, obj) -> bool:
        return obj.pk is not None

    def get_notify_users(self, obj) -> list[int]:
        return sorted(u.pk for u in svc.plan_users(obj))

class ReactionPlanInput(InputSerializer):
    notify_roles = SlugRelatedField(slug_field="code", queryset=Role.objects.filter(archived_at__isnull=True),
                                                many=True, required=False)
    notify_users = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)
    hold_parts = serializers.BooleanField(required=False)
    hold_step = serializers.BooleanField(required=False)
    open_nonconformance = serializers.BooleanField(required=False)
    open_capa = serializers.BooleanField(required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    severity = serializers.ChoiceField(choices=SignalSeverity.choices, required=False)
    instructions = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    version = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)

class ReactionPlanView(APIView):
    @property
    def permission_map(self):
        return {"retrieve": VIEW, "update": CHANGE_PLAN}

    @property
    def action(self):
        request = getattr(self, "request", None)
        return "update" if request is not None and request.method == "PUT" else "retrieve"

    @extend_schema(responses=ReactionPlanSerializer, tags=["spc: signals"], operation_id="spc_reaction_plan_retrieve")
    def get(self, request: Request, definition: int):
        """What a signal of this characteristic does (its saved plan, or the defaults)."""
        return Response(ReactionPlanSerializer(svc.reaction_plan_for(definition_or_404(definition))).data)

    @extend_schema(request=ReactionPlanInput, responses=ReactionPlanSerializer, tags=["spc: signals"],
                   operation_id="spc_reaction_plan_update")
    def put(self, request: Request, definition: int):
        """Change the reaction plan (the fields given; the rest keep their values). ``version`` is the
        plan's version you read, once it has been saved."""
        d = definition_or_404(definition)
        ser = ReactionPlanInput(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        version, reason = data.pop("version", None), data.pop("reason", None) or None
        if "notify_roles" in data:
            data["notify_roles"] = [r.code for r in data["notify_roles"]]
        plan = svc.reaction_plan_save(definition=d, data=data, version=version, reason=reason)
        return Response(ReactionPlanSerializer(plan).data)
