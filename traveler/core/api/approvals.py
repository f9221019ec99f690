"""API of electronic signatures and the approval workflow, under /api/v1/core/.

Signing always takes the signer's password in the request body: an API token alone never signs.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from traveler.core.access import check
from traveler.core.api.base import (
    ChangeInput,
    RecordReadOnlyViewSet,
    RecordSerializer,
    RecordServices,
    RecordWriteViewSet,
    SlugRelatedField,
)
from traveler.core.api.permissions import TenantMember
from traveler.core.auth import client_ip
from traveler.core.errors import InvalidInput, NotFound
from traveler.core.models import ApprovalRequest, ApprovalTemplate, Role, Signature
from traveler.core.registry import registry
from traveler.core.services import approvals as svc
from traveler.core.services.approval_templates import (
    approval_template_create,
    approval_template_set_approvers,
    approval_template_update,
)
from traveler.core.services.signatures import manifestation, records_visible, signable_by_key, signature_sign

User = get_user_model()


def _body(serializer_class, request: Request) -> dict:
    ser = serializer_class(data=request.data)
    ser.is_valid(raise_exception=True)
    return dict(ser.validated_data)


def visible_record(request: Request, model, record_id):
    """The record ``record_id`` of ``model`` if the user may see it (404 otherwise, as if absent)."""
    if not str(record_id).isdigit():
        raise NotFound(f"No {model._meta.verbose_name} {record_id!r} here.")
    obj = records_visible(model, request._request.access).filter(pk=record_id).first()
    if obj is None:
        raise NotFound(f"No {model._meta.verbose_name} {record_id} here.")
    return obj


# ---------- signatures ----------

class SignatureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    printed_name = serializers.CharField()
    signed_at = serializers.CharField(help_text="Date and time of signing, with its time zone (UTC).")
    signed_at_iso = serializers.DateTimeField()
    meaning = serializers.CharField()
    meaning_label = serializers.CharField()
    comment = serializers.CharField()
    record_version = serializers.IntegerField(help_text="The version of the record that was signed.")
    current_version = serializers.IntegerField(allow_null=True)
    changed_since = serializers.BooleanField(help_text="The record changed after it was signed.")
    version_note = serializers.CharField()
    content_hash = serializers.CharField(help_text="SHA-256 of the canonical content signed.")
    signer_active = serializers.BooleanField()
    text = serializers.CharField(help_text="The manifestation: printed name — meaning — date and time.")


class SignatureInput(serializers.Serializer):
    record_type = serializers.CharField(help_text="The signable record's type, '<app_label>.<model>' (e.g. core.documentrevision).")
    record_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    meaning = serializers.CharField(max_length=50)
    password = serializers.CharField(style={"input_type": "password"}, help_text="Your password, at every signing.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1,
                                       help_text="The version you reviewed; another version answers 409.")


class SignatureViewSet(viewsets.GenericViewSet):
    """Electronic signatures of one record (list), and signing a record (create, with your password)."""

    permission_classes = [TenantMember]
    permission_map = {"list": "core.view_signatures", "create": "core.sign_records"}
    serializer_class = SignatureSerializer
    queryset = Signature.objects.none()
    pagination_class = None

    @extend_schema(parameters=[
        OpenApiParameter("record_type", str, required=True, description="'<app_label>.<model>'"),
        OpenApiParameter("record_id", int, required=True),
    ], responses={200: SignatureSerializer(many=True)})
    def list(self, request: Request) -> Response:
        signable = signable_by_key(request.query_params.get("record_type", ""))
        record = visible_record(request, signable.model, request.query_params.get("record_id", ""))
        from traveler.core.services.signatures import manifestations

        return Response(SignatureSerializer(manifestations(record), many=True).data)

    @extend_schema(request=SignatureInput, responses={201: SignatureSerializer})
    def create(self, request: Request) -> Response:
        d = _body(SignatureInput, request)
        signable = signable_by_key(d["record_type"])
        if signable.permission:
            check(request._request.access, request.user, signable.permission)
        record = visible_record(request, signable.model, d["record_id"])
        sig = signature_sign(user=request.user, password=d["password"], record=record, meaning=d["meaning"],
                             comment=d["comment"], expected_version=d.get("version"), ip=client_ip(request._request))
        return Response(SignatureSerializer(manifestation(sig, sig.record_version)).data, status=status.HTTP_201_CREATED)


# ---------- templates ----------

class ApprovalTemplateApproverInput(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    role = SlugRelatedField(slug_field="code", queryset=Role.objects.all(), required=False, allow_null=True)
    required = serializers.BooleanField(default=True)
    position = serializers.IntegerField(required=False, min_value=1, max_value=1000)


class ApprovalTemplateApproverOut(serializers.Serializer):
    user = serializers.IntegerField(source="user_id", allow_null=True)
    role = serializers.CharField(source="role.code", allow_null=True, default=None)
    required = serializers.BooleanField()
    position = serializers.IntegerField()


class ApprovalTemplateSerializer(RecordSerializer):
    approvers = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalTemplate
        fields = ["id", "name", "template_type", "description", "flow", "order", "threshold", "sla_days",
                  "allow_self_approval", "approvers", "version", "created_at", "updated_at", "archived_at"]

    @extend_schema_field(ApprovalTemplateApproverOut(many=True))
    def get_approvers(self, obj) -> list[dict]:
        rows = [a for a in obj.approvers.all() if a.archived_at is None]
        return ApprovalTemplateApproverOut(rows, many=True).data


class ApprovalTemplateInput(ChangeInput, serializers.ModelSerializer):
    approvers = ApprovalTemplateApproverInput(many=True, required=False)
    template_type = serializers.ChoiceField(choices=[])

    class Meta:
        model = ApprovalTemplate
        fields = ["name", "template_type", "description", "flow", "order", "threshold", "sla_days",
                  "allow_self_approval", "approvers", "version", "reason"]
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template_type"].choices = sorted(registry.approval_template_types.items())


def _template_create(*, data, reason):
    approvers = data.pop("approvers", None)
    return approval_template_create(data=data, approvers=approvers, reason=reason)


def _template_update(*, approvaltemplate, version, data, reason):
    approvers = data.pop("approvers", None)
    t = approval_template_update(template=approvaltemplate, version=version, data=data, reason=reason)
    if approvers is not None:
        approval_template_set_approvers(template=t, approvers=approvers, reason=reason)
    return t


class ApprovalTemplateViewSet(RecordWriteViewSet):
    """Approval templates: who approves a kind of record, how many, in which order, in how many days."""

    model = ApprovalTemplate
    queryset = ApprovalTemplate.objects.all()
    serializer_class = ApprovalTemplateSerializer
    input_serializer_class = ApprovalTemplateInput
    permission_prefix = "core"
    services = RecordServices(create=_template_create, update=_template_update)

    @property
    def permission_map(self) -> dict[str, str]:
        manage = "core.manage_approval_templates"
        return {"list": "core.view_approvals", "retrieve": "core.view_approvals", "history": "core.view_approvals",
                "create": manage, "update": manage, "partial_update": manage, "archive": manage, "restore": manage}

    def get_queryset(self):
        return super().get_queryset().prefetch_related("approvers__role")


# ---------- requests ----------

class ApprovalApproverOut(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.IntegerField(source="user_id")
    name = serializers.CharField(source="user.full_name")
    required = serializers.BooleanField()
    position = serializers.IntegerField()
    delegated_from = serializers.IntegerField(source="delegated_from_id", allow_null=True)


class ApprovalResponseOut(serializers.Serializer):
    id = serializers.IntegerField()
    approver = serializers.IntegerField(source="approver_id")
    user = serializers.IntegerField(source="user_id")
    decision = serializers.CharField()
    comment = serializers.CharField()
    self_approval = serializers.BooleanField()
    self_approval_justification = serializers.CharField()
    delegated_to = serializers.IntegerField(source="delegated_to_id", allow_null=True)
    responded_at = serializers.DateTimeField()
    signature = serializers.IntegerField(source="signature_id")


class ApprovalRequestSerializer(RecordSerializer):
    record_type = serializers.SerializerMethodField()
    approvers = serializers.SerializerMethodField()
    responses = serializers.SerializerMethodField()
    waiting_for = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalRequest
        fields = ["id", "template", "template_type", "flow", "order", "threshold", "sla_days", "allow_self_approval",
                  "record_type", "record_id", "record_label", "record_version", "requested_by", "status", "notes",
                  "started_at", "due_at", "completed_at", "outcome_reason", "approvers", "responses", "waiting_for",
                  "version", "created_at", "updated_at", "archived_at"]

    def _state(self, obj):
        cache = self.context.setdefault("_states", {})
        if obj.pk not in cache:
            cache[obj.pk] = svc.approval_state(obj, prefetched=True)
        return cache[obj.pk]

    def get_record_type(self, obj) -> str:
        return f"{obj.record_type.app_label}.{obj.record_type.model}"

    @extend_schema_field(ApprovalApproverOut(many=True))
    def get_approvers(self, obj) -> list[dict]:
        return ApprovalApproverOut(self._state(obj).places, many=True).data

    @extend_schema_field(ApprovalResponseOut(many=True))
    def get_responses(self, obj) -> list[dict]:
        return ApprovalResponseOut(sorted(self._state(obj).responses.values(), key=lambda r: r.pk), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1)))
    def get_waiting_for(self, obj) -> list[int]:
        return [p.user_id for p in self._state(obj).turn] if obj.status == ApprovalRequest.Status.PENDING else []


class ApprovalApproverInput(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    required = serializers.BooleanField(default=True)
    position = serializers.IntegerField(required=False, min_value=1, max_value=1000)


class ApprovalRequestInput(serializers.Serializer):
    record_type = serializers.CharField(help_text="'<app_label>.<model>' of an approvable record.")
    record_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    template = serializers.PrimaryKeyRelatedField(queryset=ApprovalTemplate.objects.all())
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    approvers = ApprovalApproverInput(many=True, required=False, help_text="Instead of the template's default approvers.")
    start = serializers.BooleanField(default=True, help_text="False: a draft whose approvers can still be edited.")


class ApprovalApproversInput(serializers.Serializer):
    approvers = ApprovalApproverInput(many=True)


class ApprovalRespondInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approved", "rejected"])
    password = serializers.CharField(style={"input_type": "password"})
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    self_approval_justification = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ApprovalDelegateInput(serializers.Serializer):
    to_user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    password = serializers.CharField(style={"input_type": "password"})
    reason = serializers.CharField(max_length=2000)


class ApprovalCancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ApprovalRequestViewSet(mixins.CreateModelMixin, RecordReadOnlyViewSet):
    """Approval requests: ask for one on an approvable record, respond (with your password), delegate,
    cancel. ``?waiting=me`` lists what waits for you now; ``?requested=me`` what you asked for."""

    model = ApprovalRequest
    queryset = ApprovalRequest.objects.all()
    serializer_class = ApprovalRequestSerializer
    permission_prefix = "core"
    view_permission = "core.view_approvals"
    extra_permissions = {"create": "core.request_approvals", "start": "core.request_approvals",
                         "approvers": "core.request_approvals", "respond": "core.respond_approvals",
                         "delegate": "core.respond_approvals", "cancel": "core.request_approvals"}

    def get_queryset(self):
        access = self.request._request.access
        qs = svc.approval_prefetch(svc.approval_requests_visible(super().get_queryset(), access)
                                   .select_related("record_type"))
        params = self.request.query_params
        if self.action == "list":
            if params.get("waiting") == "me":
                qs = qs.filter(pk__in=[r.pk for r in svc.approvals_for_user(user=self.request.user, access=access)["waiting"]])
            if params.get("requested") == "me":
                qs = qs.filter(requested_by=self.request.user)
            if params.get("status"):
                qs = qs.filter(status=params["status"])
        return qs

    @extend_schema(parameters=[
        OpenApiParameter("waiting", str, enum=["me"], description="Only requests waiting for you now."),
        OpenApiParameter("requested", str, enum=["me"], description="Only requests you made."),
        OpenApiParameter("status", str, enum=[c for c, _ in ApprovalRequest.Status.choices]),
    ])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ApprovalRequestInput, responses={201: ApprovalRequestSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        d = _body(ApprovalRequestInput, request)
        approvable = registry.approvables.get(d["record_type"].lower())
        if approvable is None:
            raise InvalidInput(f"{d['record_type']!r} records cannot be put through an approval.",
                               fields={"record_type": ["not approvable"]})
        check(request._request.access, request.user, approvable.permission)
        record = visible_record(request, approvable.model, d["record_id"])
        req = svc.approval_request_create(record=record, template=d["template"], requested_by=request.user,
                                          notes=d["notes"], approvers=d.get("approvers"), start=d["start"])
        self.kwargs["pk"] = str(req.pk)
        return self.out(ApprovalRequestSerializer, self.get_object(), status.HTTP_201_CREATED)

    def _own(self, req: ApprovalRequest) -> None:
        if req.requested_by_id != self.request.user.pk and not self.request._request.access.has("core.cancel_approvals"):
            raise PermissionDenied("Only the requester (or a holder of core.cancel_approvals) can do this.")

    @extend_schema(request=None, responses={200: ApprovalRequestSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk=None) -> Response:
        """Start a draft request: its approvers are notified."""
        req = self.get_object()
        self._own(req)
        svc.approval_request_start(request=req)
        return self.out(ApprovalRequestSerializer, self.get_object())

    @extend_schema(request=ApprovalApproversInput, responses={200: ApprovalRequestSerializer})
    @action(detail=True, methods=["post"])
    def approvers(self, request: Request, pk=None) -> Response:
        """Replace the approvers of a draft request."""
        req = self.get_object()
        self._own(req)
        d = _body(ApprovalApproversInput, request)
        svc.approval_request_set_approvers(request=req, approvers=d["approvers"])
        return self.out(ApprovalRequestSerializer, self.get_object())

    @extend_schema(request=ApprovalRespondInput, responses={200: ApprovalRequestSerializer})
    @action(detail=True, methods=["post"])
    def respond(self, request: Request, pk=None) -> Response:
        """Approve or reject as a named approver whose turn it is: an electronic signature of the record
        (your password is required every time)."""
        req = self.get_object()
        check(request._request.access, request.user, "core.sign_records")
        d = _body(ApprovalRespondInput, request)
        svc.approval_respond(request=req, user=request.user, password=d["password"], decision=d["decision"],
                             comment=d["comment"], self_approval_justification=d["self_approval_justification"],
                             ip=client_ip(request._request))
        return self.out(ApprovalRequestSerializer, self.get_object())

    @extend_schema(request=ApprovalDelegateInput, responses={200: ApprovalRequestSerializer})
    @action(detail=True, methods=["post"])
    def delegate(self, request: Request, pk=None) -> Response:
        """Hand your turn to another member who may approve (signed with your password)."""
        req = self.get_object()
        check(request._request.access, request.user, "core.sign_records")
        d = _body(ApprovalDelegateInput, request)
        svc.approval_delegate(request=req, user=request.user, password=d["password"], to_user=d["to_user"],
                              reason=d["reason"], ip=client_ip(request._request))
        return self.out(ApprovalRequestSerializer, self.get_object())

    @extend_schema(request=ApprovalCancelInput, responses={200: ApprovalRequestSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        """Cancel an open request, with the reason (recorded)."""
        req = self.get_object()
        self._own(req)
        d = _body(ApprovalCancelInput, request)
        svc.approval_request_cancel(request=req, user=request.user, reason=d["reason"])
        return self.out(ApprovalRequestSerializer, self.get_object())

