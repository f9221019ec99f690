"""Rollbacks over HTTP: ask to move a part back to an earlier step (the move waits for its approval,
given through core's approvals API), list and read them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from traveler.core.api.base import InputSerializer, RecordReadOnlyViewSet, RecordSerializer
from traveler.mes_full.models import StepRollback
from traveler.mes_full.services import rollbacks as svc
from traveler.mes_lite.models import Part, Step

VIEW, REQUEST = "mes_full.view_steprollback", "mes_full.request_steprollback"


class RollbackSerializer(RecordSerializer):
    class Meta:
        model = StepRollback
        fields = ["id", "part", "from_step", "to_step", "reason", "status", "requested_by", "requested_at",
                  "approval_request_id", "approval_notes", "decided_at", "completed_at", "transition",
                  "superseded_transition_ids", "archived_at", "version", "created_at", "updated_at"]


class RollbackInput(InputSerializer):
    part = serializers.PrimaryKeyRelatedField(queryset=Part.objects.all())
    to_step = serializers.PrimaryKeyRelatedField(queryset=Step.objects.all(),
                                                 help_text="An earlier step of the part's route.")
    reason = serializers.CharField(max_length=5000, help_text="Why the part goes back.")


@extend_schema(tags=["mes-full: rollbacks"])
class RollbackViewSet(RecordReadOnlyViewSet):
    """Parts moved back to an earlier step of their route. A request goes through an approval (template
    type ``step_rollback``); once approved the part moves, its original passages stay in its history and
    the measurements recorded with them are marked superseded (``superseded_transition_ids``)."""

    model = StepRollback
    queryset = StepRollback.objects.all()
    permission_prefix = "mes_full"
    view_permission = VIEW
    serializer_class = RollbackSerializer
    extra_permissions = {"create": REQUEST}
    filterset_fields = ["part", "status", "from_step", "to_step"]
    ordering_fields = ["requested_at", "created_at"]

    @extend_schema(request=RollbackInput, responses={201: RollbackSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Ask to move a part back to an earlier step of its route, saying why."""
        ser = RollbackInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        rollback = svc.rollback_request(part=d["part"], to_step=d["to_step"], reason=d["reason"], user=request.user)
        return self.out(RollbackSerializer, rollback, status.HTTP_201_CREATED)
