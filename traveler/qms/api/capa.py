"""CAPA API, under /api/v1/qms/: CAPAs (with their transitions, verification and closure request as
actions), their tasks (completion signed with the password), their root-cause analyses and their
verifications. A CAPA's ``state`` is never written by create or update: a body that gives it is
refused (400 naming ``state``); the transitions are the actions."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action

from traveler.core.api.base import (
    ChangeInput,
    InputSerializer,
    RecordCreateMixin,
    RecordReadOnlyViewSet,
    RecordSerializer,
    RecordServices,
    RecordUpdateMixin,
    TenantRecordViewSet,
)
from traveler.mes_lite.api.serializers import PersonSerializer
from traveler.mes_lite.api.views import parsed, reason_of
from traveler.mes_lite.models import Part, Step, WorkOrder
from traveler.qms.api.serializers import MemberField
from traveler.qms.choices import (
    CapaType,
    CompletionRule,
    FishboneCategory,
    RcaMethod,
    Severity,
    TaskKind,
    VerificationOutcome,
)
from traveler.qms.models import (
    CAPA,
    CapaTask,
    CapaTaskAssignee,
    CapaVerification,
    QualityReport,
    QuarantineDisposition,
    RcaRecord,
)
from traveler.qms.services import capa as svc
from traveler.qms.services.rca import rca_create, rca_update

VIEW, ADD, CHANGE = "qms.view_capa", "qms.add_capa", "qms.change_capa"


def _person(user) -> dict | None:
    return {"id": user.pk, "name": user.full_name} if user is not None else None


# Outputs --------------------------------------------------------------------------------------------

class CapaSerializer(RecordSerializer):
    owner = serializers.SerializerMethodField()
    nonconformances = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    quality_reports = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    parts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    work_orders = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    steps = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    overdue = serializers.SerializerMethodField(help_text="Past its due date and not closed or cancelled.")
    progress = serializers.SerializerMethodField(
        help_text="Percent of its tasks and stages done (root cause identified, effectiveness confirmed, closed).")
    transitions = serializers.SerializerMethodField(help_text="The transitions its state allows now.")

    class Meta:
        model = CAPA
        fields = ["id", "number", "title", "capa_type", "severity", "state", "problem_statement", "immediate_action",
                  "due_date", "owner", "cancel_reason", "closed_at", "nonconformances", "quality_reports", "parts", "work_orders", "steps",
                  "overdue", "progress", "transitions", "version", "created_at", "updated_at", "archived_at"]

    @extend_schema_field(PersonSerializer)
    def get_owner(self, obj) -> dict | None:
        return _person(obj.owner)

    def get_overdue(self, obj) -> bool:
        return svc.capa_is_overdue(obj)

    def get_progress(self, obj) -> int:
        return svc.capa_progress(obj)

    def get_transitions(self, obj) -> list[str]:
        return svc.transitions_allowed(obj)


class AssigneeSerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()

    class Meta:
        model = CapaTaskAssignee
        fields = ["user", "completed_at"]

    @extend_schema_field(PersonSerializer)
    def get_user(self, obj) -> dict | None:
        return _person(obj.user)


class CapaTaskSerializer(RecordSerializer):
    owner = serializers.SerializerMethodField()
    assignees = AssigneeSerializer(source="assignee_links", many=True, read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = CapaTask
        fields = ["id", "capa", "kind", "title", "description", "owner", "assignees", "completion_rule", "due_date",
                  "completed_at", "overdue", "version", "created_at", "updated_at", "archived_at"]

    @extend_schema_field(PersonSerializer)
    def get_owner(self, obj) -> dict | None:
        return _person(obj.owner)

    def get_overdue(self, obj) -> bool:
        return svc.task_is_overdue(obj)


class WhySerializer(serializers.Serializer):
    position = serializers.IntegerField(read_only=True)
    question = serializers.CharField()
    answer = serializers.CharField()


class CauseSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=FishboneCategory.choices)
    description = serializers.CharField(max_length=300)


class RootCauseSerializer(serializers.Serializer):
    description = serializers.CharField()
    category = serializers.ChoiceField(choices=FishboneCategory.choices, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(default=False)


class RcaSerializer(RecordSerializer):
    whys = WhySerializer(many=True, read_only=True)
    causes = CauseSerializer(many=True, read_only=True)
    root_causes = RootCauseSerializer(many=True, read_only=True)

    class Meta:
        model = RcaRecord
        fields = ["id", "capa", "method", "summary", "whys", "causes", "root_causes", "version", "created_at",
                  "updated_at", "archived_at"]


class VerificationSerializer(RecordSerializer):
    verified_by = serializers.SerializerMethodField()

    class Meta:
        model = CapaVerification
        fields = ["id", "capa", "outcome", "method", "notes", "verified_by", "version", "created_at", "updated_at",
                  "archived_at"]

    @extend_schema_field(PersonSerializer)
    def get_verified_by(self, obj) -> dict | None:
        return _person(obj.verified_by)


class ClosureRequestResult(serializers.Serializer):
    approval_request = serializers.IntegerField(help_text="The approval request's id (/api/v1/core/approval-requests/).")
    status = serializers.CharField()


# Inputs ---------------------------------------------------------------------------------------------

def _many(model):
    return serializers.PrimaryKeyRelatedField(many=True, queryset=model.objects.filter(archived_at__isnull=True),
                                              required=False)


class CapaInput(ChangeInput):
    title = serializers.CharField(max_length=200)
    capa_type = serializers.ChoiceField(choices=CapaType.choices, default=CapaType.CORRECTIVE)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MAJOR)
    problem_statement = serializers.CharField()
    immediate_action = serializers.CharField(required=False, allow_blank=True, default="")
    due_date = serializers.DateField(required=False, allow_null=True)
    owner = MemberField()
    nonconformances = _many(QuarantineDisposition)
    quality_reports = _many(QualityReport)
    parts = _many(Part)
    work_orders = _many(WorkOrder)
    steps = _many(Step)
    state = serializers.CharField(required=False, help_text="Not writable: a value given is refused. The state "
                                                            "moves only through the transition actions.")

    class Meta:
        model = CAPA


class ReasonInput(InputSerializer):
    version = serializers.IntegerField(required=False, help_text="The version you read.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class CapaCancelInput(ReasonInput):
    reason = serializers.CharField(max_length=1000, help_text="Why it is cancelled: kept on the CAPA.")


class CapaVerifyInput(InputSerializer):
    outcome = serializers.ChoiceField(choices=VerificationOutcome.choices)
    method = serializers.CharField(max_length=300)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    password = serializers.CharField(write_only=True, help_text="Your password: it signs the verification.")


class ClosureRequestInput(InputSerializer):
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class CapaTaskInput(ChangeInput):
    capa = serializers.PrimaryKeyRelatedField(queryset=CAPA.objects.all(), help_text="Set on create; never changes.")
    kind = serializers.ChoiceField(choices=TaskKind.choices, default=TaskKind.CORRECTIVE)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    owner = MemberField()
    assignees = MemberField(many=True, required=False)
    completion_rule = serializers.ChoiceField(choices=CompletionRule.choices, default=CompletionRule.ANY)
    due_date = serializers.DateField(required=False, allow_null=True)

    class Meta:
        model = CapaTask


class CompleteInput(InputSerializer):
    password = serializers.CharField(write_only=True, help_text="Your password: it signs your completion.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RcaInput(ChangeInput):
    capa = serializers.PrimaryKeyRelatedField(queryset=CAPA.objects.all(), help_text="Set on create; never changes.")
    method = serializers.ChoiceField(choices=RcaMethod.choices, default=RcaMethod.FIVE_WHYS)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    whys = WhySerializer(many=True, required=False, help_text="In order; replaces the recorded ones.")
    causes = CauseSerializer(many=True, required=False, help_text="Fishbone causes; replaces the recorded ones.")
    root_causes = RootCauseSerializer(many=True, required=False,
                                      help_text="Exactly one primary when any are given; replaces the recorded ones.")

    class Meta:
        model = RcaRecord


# Views ----------------------------------------------------------------------------------------------

class _CapaPermissions:
    """Every CAPA record reads with ``qms.view_capa`` and writes with ``qms.change_capa`` (opening a CAPA:
    ``qms.add_capa``)."""

    create_permission = CHANGE

    @property
    def permission_map(self) -> dict[str, str]:
        return {"list": VIEW, "retrieve": VIEW, "history": VIEW, "create": self.create_permission,
                "update": CHANGE, "partial_update": CHANGE, **self.extra_permissions}


def _plain_lists(data: dict) -> dict:
    return {k: [dict(i) for i in v] if k in ("whys", "causes", "root_causes") else v for k, v in data.items()}


@extend_schema(tags=["qms: CAPA"])
class CapaViewSet(_CapaPermissions, RecordCreateMixin, RecordUpdateMixin, TenantRecordViewSet):
    """Corrective and preventive actions. States open → in progress → pending verification → closed, or
    cancelled (with a reason) from the first three; each move is an action here, never an update."""

    model = CAPA
    queryset = CAPA.objects.all()
    serializer_class = CapaSerializer
    input_serializer_class = CapaInput
    services = RecordServices(create=svc.capa_create, update=svc.capa_update)
    service_kwarg = "capa"
    create_permission = ADD
    filterset_fields = ["state", "severity", "capa_type", "owner"]
    search_fields = ["number", "title", "problem_statement"]
    ordering_fields = ["number", "due_date", "created_at", "severity", "state"]
    extra_permissions = {a: CHANGE for a in ("start", "submit", "close", "cancel", "verify", "request_closure")}

    def get_queryset(self):
        return svc.with_progress(super().get_queryset()).select_related("owner").prefetch_related(
            "nonconformances", "quality_reports", "parts", "work_orders", "steps")

    def _answer(self, capa: CAPA):
        return self.out(CapaSerializer, self.get_queryset().get(pk=capa.pk))

    def _move(self, request, service, input_class=ReasonInput, **extra):
        capa = self.get_object()
        data = parsed(input_class, request)
        return self._answer(service(capa=capa, version=data.get("version"), reason=reason_of(request, data), **extra))

    @extend_schema(request=ReasonInput, responses={200: CapaSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """open → in progress."""
        return self._move(request, svc.capa_start)

    @extend_schema(request=ReasonInput, responses={200: CapaSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """in progress → pending verification: every task completed and a primary root cause recorded."""
        return self._move(request, svc.capa_submit)

    @extend_schema(request=ReasonInput, responses={200: CapaSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """pending verification → closed: the latest verification confirmed it effective; a critical or
        major CAPA also needs its approved closure approval (an approval closes it by itself)."""
        return self._move(request, svc.capa_close)

    @extend_schema(request=CapaCancelInput, responses={200: CapaSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """open, in progress or pending verification → cancelled, with the reason. Publishes
        ``qms.capa.cancelled``."""
        return self._move(request, svc.capa_cancel, CapaCancelInput)

    @extend_schema(request=CapaVerifyInput, responses={201: VerificationSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Record the verification of effectiveness of a pending CAPA, signed with your password:
        *not_effective* sends it back to in progress with a new task; *inconclusive* keeps it pending."""
        capa = self.get_object()
        data = parsed(CapaVerifyInput, request)
        v = svc.capa_verify(capa=capa, user=request.user, password=data["password"], outcome=data["outcome"],
                            method=data["method"], notes=data["notes"], ip=request.META.get("REMOTE_ADDR"))
        return self.out(VerificationSerializer, v, status.HTTP_201_CREATED)

    @extend_schema(request=ClosureRequestInput, responses={201: ClosureRequestResult})
    @action(detail=True, methods=["post"], url_path="request-closure")
    def request_closure(self, request, pk=None):
        """Ask for the approval that closes a critical or major CAPA (template type ``capa_closure``, the
        tenant's default seeded on first use). Approved, the CAPA closes; rejected, it goes back to in
        progress."""
        capa = self.get_object()
        data = parsed(ClosureRequestInput, request)
        req = svc.capa_closure_request(capa=capa, requested_by=request.user, notes=data["notes"])
        return self.out(ClosureRequestResult, {"approval_request": req.pk, "status": req.status},
                        status.HTTP_201_CREATED)


@extend_schema(tags=["qms: CAPA"])
class CapaTaskViewSet(_CapaPermissions, RecordCreateMixin, RecordUpdateMixin, TenantRecordViewSet):
    """A CAPA's tasks: containment, corrective or preventive; completed by any one or all of their
    assignees, each completion signed."""

    model = CapaTask
    queryset = CapaTask.objects.all()
    serializer_class = CapaTaskSerializer
    input_serializer_class = CapaTaskInput
    services = RecordServices(create=svc.capa_task_create, update=svc.capa_task_update)
    service_kwarg = "capa_task"
    filterset_fields = ["capa", "kind", "owner"]
    search_fields = ["title", "description"]
    ordering_fields = ["due_date", "created_at"]
    extra_permissions = {"complete": CHANGE}

    def get_queryset(self):
        return super().get_queryset().select_related("owner").prefetch_related(
            Prefetch("assignee_links", queryset=CapaTaskAssignee.objects.select_related("user").order_by("pk")))

    @extend_schema(request=CompleteInput, responses={200: CapaTaskSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """You, an assignee, complete the task: your completion is signed (meaning *completed*) with your
        password; an API token alone never signs."""
        task = self.get_object()
        data = parsed(CompleteInput, request)
        svc.capa_task_complete(capa_task=task, user=request.user, password=data["password"], comment=data["comment"],
                               ip=request.META.get("REMOTE_ADDR"))
        return self.out(CapaTaskSerializer, self.get_queryset().get(pk=task.pk))


@extend_schema(tags=["qms: CAPA"])
class RcaViewSet(_CapaPermissions, RecordCreateMixin, RecordUpdateMixin, TenantRecordViewSet):
    """Root-cause analyses (one per CAPA): method, summary, the ordered 5 Whys, fishbone causes under the
    six Ms, and root causes with exactly one primary. A list given replaces the one recorded."""

    model = RcaRecord
    queryset = RcaRecord.objects.all()
    serializer_class = RcaSerializer
    input_serializer_class = RcaInput
    services = RecordServices(create=lambda *, data, reason=None: rca_create(data=_plain_lists(data), reason=reason),
                              update=lambda *, rca, version, data, reason=None: rca_update(
                                  rca=rca, version=version, data=_plain_lists(data), reason=reason))
    service_kwarg = "rca"
    filterset_fields = ["capa", "method"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("whys", "causes", "root_causes")


@extend_schema(tags=["qms: CAPA"])
class CapaVerificationViewSet(RecordReadOnlyViewSet):
    """Verifications of CAPAs' effectiveness, each signed by its verifier (its signatures:
    /api/v1/core/signatures/?record_type=qms.capaverification&record_id=). Recorded with a CAPA's
    ``verify`` action."""

    model = CapaVerification
    queryset = CapaVerification.objects.all()
    serializer_class = VerificationSerializer
    view_permission = VIEW
    filterset_fields = ["capa", "outcome"]

    def get_queryset(self):
        return super().get_queryset().select_related("verified_by")
