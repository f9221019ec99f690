"""Overrides over HTTP: list and read them, request one for a blocked part, approve it (signed with
your password; never your own), reject it, withdraw your own."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from traveler.core.api.base import InputSerializer, RecordReadOnlyViewSet, RecordSerializer
from traveler.core.auth import client_ip
from traveler.mes_full.choices import BlockKind, OverrideLimit
from traveler.mes_full.models import StepOverride
from traveler.mes_full.services import overrides as svc
from traveler.mes_lite.models import Part

VIEW, REQUEST, APPROVE = "mes_full.view_stepoverride", "mes_full.request_override", "mes_full.approve_override"


class OverrideSerializer(RecordSerializer):
    active = serializers.SerializerMethodField(help_text="Whether it lets parts through now.")

    class Meta:
        model = StepOverride
        fields = ["id", "part", "step", "work_order", "block_kind", "refusal", "reason", "limit", "max_parts",
                  "expires_at", "override_status", "uses", "active", "requested_by", "requested_at", "approved_by",
                  "approved_at", "approval_notes", "archived_at", "version", "created_at", "updated_at"]

    def get_active(self, obj) -> bool:
        return svc.is_active(obj)


class OverrideRequestInput(InputSerializer):
    part = serializers.PrimaryKeyRelatedField(queryset=Part.objects.all())
    block_kind = serializers.ChoiceField(choices=BlockKind.choices)
    reason = serializers.CharField(max_length=2000)
    limit = serializers.ChoiceField(choices=OverrideLimit.choices, required=False)
    max_parts = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=svc.MAX_PARTS)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    refusal = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class OverrideApproveInput(InputSerializer):
    password = serializers.CharField(style={"input_type": "password"}, help_text="Your password: the approval is signed.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    version = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)


class OverrideNoteInput(InputSerializer):
    note = serializers.CharField(max_length=2000)


def _input(cls, request: Request) -> dict:
    ser = cls(data=request.data)
    ser.is_valid(raise_exception=True)
    return dict(ser.validated_data)


@extend_schema(tags=["mes_full: overrides"])
class OverrideViewSet(RecordReadOnlyViewSet):
    """Overrides of blocks at a step: requested for a blocked part, approved by a second person's signature."""

    model = StepOverride
    queryset = StepOverride.objects.all()
    permission_prefix = "mes_full"
    view_permission = VIEW
    serializer_class = OverrideSerializer
    extra_permissions = {"request_override": REQUEST, "approve": APPROVE, "reject": APPROVE, "withdraw": REQUEST}
    filterset_fields = ["part", "step", "block_kind", "override_status", "requested_by", "work_order"]

    @extend_schema(request=OverrideRequestInput, responses={201: OverrideSerializer})
    @action(detail=False, methods=["post"], url_path="request")
    def request_override(self, request: Request) -> Response:
        """Request an override of one kind of block for a part at its current step (this part, N parts of
        its work order, or its work order's parts until a time)."""
        d = _input(OverrideRequestInput, request)
        o = svc.override_request(part=d["part"], block_kind=d["block_kind"], reason=d["reason"], user=request.user,
                                 limit=d.get("limit") or OverrideLimit.ONE_PART, max_parts=d.get("max_parts"),
                                 expires_at=d.get("expires_at"), refusal=d.get("refusal", ""))
        return self.out(OverrideSerializer, o, code=201)

    @extend_schema(request=OverrideApproveInput, responses=OverrideSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk=None) -> Response:
        """Approve with your signature (meaning "approved"). The requester cannot approve their own."""
        o = self.get_object()
        d = _input(OverrideApproveInput, request)
        return self.out(OverrideSerializer, svc.override_approve(
            override=o, user=request.user, password=d["password"], note=d.get("note", ""), version=d.get("version"),
            ip=client_ip(request._request)))

    @extend_schema(request=OverrideNoteInput, responses=OverrideSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk=None) -> Response:
        """Refuse a requested override, saying why."""
        o = self.get_object()
        d = _input(OverrideNoteInput, request)
        return self.out(OverrideSerializer, svc.override_reject(override=o, user=request.user, note=d["note"]))

    @extend_schema(request=OverrideNoteInput, responses=OverrideSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk=None) -> Response:
        """Withdraw your own request."""
        from traveler.core.errors import Conflict

        o = self.get_object()
        d = _input(OverrideNoteInput, request)
        if o.requested_by_id != request.user.pk:
            raise Conflict("Only the requester withdraws a request; an approver rejects it.",
                           fields={"requested_by": ["not you"]})
        return self.out(OverrideSerializer, svc.override_reject(override=o, user=request.user, note=d["note"]))
