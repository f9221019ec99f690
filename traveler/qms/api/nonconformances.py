"""Nonconformances over HTTP, at /api/v1/qms/nonconformances/: open (POST), change (PATCH), and one
action per transition (start, disposition, verify, close, cancel), the disposition's preview and
options, and the customer concessions. Customer users get their own serializer: their own parts,
no people, no internal notes."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from traveler.core.api.base import (
    BlankChoices,
    ChangeInput,
    InputSerializer,
    RecordCreateMixin,
    RecordSerializer,
    RecordServices,
    RecordUpdateMixin,
    TenantRecordViewSet,
)
from traveler.core.errors import InvalidInput
from traveler.core.models import Company, Document, User
from traveler.core.tenancy import current_tenant
from traveler.mes_lite.api.serializers import PersonSerializer
from traveler.mes_lite.api.views import parsed
from traveler.mes_lite.models import Part, Step, WorkOrder
from traveler.qms.choices import Disposition, Severity
from traveler.qms.models import Concession, NonconformancePart, QualityReport, QuarantineDisposition
from traveler.qms.services.dispositions import (
    concession_record,
    disposition_options,
    disposition_plan,
    nonconformance_disposition,
)
from traveler.qms.services.nonconformances import (
    concessions_visible,
    nonconformance_cancel,
    nonconformance_close,
    nonconformance_open,
    nonconformance_start,
    nonconformance_update,
    nonconformance_verify,
    nonconformances_visible,
)

P = "qms"


def _active(model):
    return model.objects.filter(archived_at__isnull=True)


class _Members(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return User.objects.filter(memberships__tenant=current_tenant(), memberships__is_active=True).distinct()


# Outputs -------------------------------------------------------------------------------------------

class NcrPartSerializer(serializers.ModelSerializer):
    serial_number = serializers.CharField(source="part.serial_number")
    status = serializers.CharField(source="part.status", help_text="The part's status now.")

    class Meta:
        model = NonconformancePart
        fields = ["part", "serial_number", "status", "outcome", "repaired", "resolved_at"]


class ConcessionSerializer(RecordSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Concession
        fields = ["id", "nonconformance", "customer", "customer_name", "granted_by", "reference", "granted_on",
                  "document", "created_at"]


class NonconformanceSerializer(RecordSerializer):
    parts = NcrPartSerializer(source="part_links", many=True, read_only=True)
    reports = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    step_found_name = serializers.CharField(source="step_found.name", read_only=True, allow_null=True)

    class Meta:
        model = QuarantineDisposition
        fields = ["id", "number", "title", "description", "severity", "state", "state_reason", "step_found",
                  "step_found_name", "owner", "due_date", "parts", "reports", "disposition", "disposition_status",
                  "disposition_note", "rework_step", "supplier", "rma_number", "shipment_reference", "decided_at",
                  "acted_at", "verified_at", "verification_note", "closed_at", "version", "created_at", "updated_at",
                  "archived_at"]

    def get_reports(self, obj) -> list[int]:
        return [link.report_id for link in obj.report_links.all()]

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_owner(self, obj) -> dict | None:
        return {"id": obj.owner_id, "name": obj.owner.full_name} if obj.owner_id else None


class CustomerNonconformanceSerializer(BlankChoices, serializers.ModelSerializer):
    """What a customer's user sees: the number, what it is about, its state and disposition, and only
    their own parts."""

    parts = serializers.SerializerMethodField()

    class Meta:
        model = QuarantineDisposition
        fields = ["id", "number", "title", "severity", "state", "disposition", "created_at", "closed_at", "parts",
                  "archived_at"]

    def get_parts(self, obj) -> list[str]:
        company = self.context["company_id"]
        return [link.part.serial_number for link in obj.part_links.all()
                if link.part.order_id and link.part.order.company_id == company]


class PlanSerializer(serializers.Serializer):
    disposition = serializers.CharField()
    consequences = serializers.ListField(child=serializers.CharField())
    problems = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    approval = serializers.CharField(allow_null=True, help_text="The approval template type it waits for, if any.")


class OptionsSerializer(serializers.Serializer):
    options = serializers.DictField(child=serializers.CharField(allow_null=True),
                                    help_text="For each disposition, why it is not offered (null: it is).")


# Inputs --------------------------------------------------------------------------------------------

class NonconformanceInput(ChangeInput):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MAJOR)
    parts = serializers.PrimaryKeyRelatedField(many=True, queryset=_active(Part), required=False,
                                               help_text="Set on open: the nonconforming parts.")
    work_order = serializers.PrimaryKeyRelatedField(queryset=_active(WorkOrder), required=False, allow_null=True,
                                                    help_text="Set on open: every open part of this work order.")
    reports = serializers.PrimaryKeyRelatedField(many=True, queryset=_active(QualityReport), required=False,
                                                 help_text="Set on open: the quality reports behind it.")
    step_found = serializers.PrimaryKeyRelatedField(queryset=_active(Step), required=False, allow_null=True)
    owner = _Members(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)

    class Meta:
        model = QuarantineDisposition


class DispositionInput(InputSerializer):
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    to_step = serializers.PrimaryKeyRelatedField(queryset=_active(Step), required=False, allow_null=True,
                                                 help_text="Rework and repair: the step the parts go back to.")
    supplier = serializers.PrimaryKeyRelatedField(queryset=_active(Company), required=False, allow_null=True)
    rma_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    shipment_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class DecideInput(DispositionInput):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    password = serializers.CharField(help_text="Your password: the disposition is signed (meaning dispositioned).",
                                     style={"input_type": "password"})
    version = serializers.IntegerField(required=False)


class NcrVerifyInput(InputSerializer):
    note = serializers.CharField(max_length=2000, help_text="How the disposition was verified.")
    version = serializers.IntegerField(required=False)


class NcrTransitionInput(InputSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    version = serializers.IntegerField(required=False)


class NcrCancelInput(NcrTransitionInput):
    reason = serializers.CharField(max_length=2000)


class ConcessionInput(InputSerializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=_active(Company))
    granted_by = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=100)
    granted_on = serializers.DateField()
    document = serializers.PrimaryKeyRelatedField(queryset=Document.objects.all(), required=False, allow_null=True)


# Views ---------------------------------------------------------------------------------------------

def _open(*, data: dict, reason: str | None = None) -> QuarantineDisposition:
    return nonconformance_open(**data, reason=reason)


def _update(*, nonconformance, version, data, reason=None):
    for fixed in ("parts", "work_order", "reports"):
        if fixed in data:
            raise InvalidInput(f"A nonconformance's {fixed.replace('_', ' ')} are set when it is opened.",
                               fields={fixed: ["cannot change"]})
    return nonconformance_update(nonconformance=nonconformance, version=version, data=data, reason=reason)


@extend_schema(tags=["qms: nonconformances"])
class NonconformanceViewSet(RecordCreateMixin, RecordUpdateMixin, TenantRecordViewSet):
    """Nonconformances (NCR-YYYY-NNNN): parts found not to conform, held until their disposition acts.
    Never archived: a nonconformance opened in error is cancelled, with a reason."""

    model = QuarantineDisposition
    queryset = QuarantineDisposition.objects.all()
    permission_prefix = P
    serializer_class = NonconformanceSerializer
    input_serializer_class = NonconformanceInput
    services = RecordServices(create=_open, update=_update)
    service_kwarg = "nonconformance"
    filterset_fields = ["state", "severity", "owner", "disposition"]
    search_fields = ["number", "title"]
    ordering_fields = ["created_at", "due_date", "severity", "state", "number"]
    extra_permissions = {
        "start": f"{P}.change_quarantinedisposition", "verify": f"{P}.change_quarantinedisposition",
        "close": f"{P}.change_quarantinedisposition", "cancel": f"{P}.change_quarantinedisposition",
        "disposition": f"{P}.disposition_quarantinedisposition",
        "preview": f"{P}.disposition_quarantinedisposition", "options": f"{P}.view_quarantinedisposition",
        "concessions": f"{P}.view_concession",
    }

    def _for_customer(self) -> bool:
        access = getattr(self.request._request, "access", None)
        return bool(access is not None and access.is_customer)

    def get_queryset(self):
        # Not the role type's rows (``core.access.visible``): a customer sees the nonconformances of its
        # orders' parts, which no single company path reaches.
        qs = nonconformances_visible(QuarantineDisposition.objects.all(), self.request._request.access)
        if self.action == "list" and self.request.query_params.get("archived") not in ("true", "1", "all"):
            qs = qs.filter(archived_at__isnull=True)
        return qs.order_by("-created_at", "-pk").select_related("owner", "step_found").prefetch_related(
            Prefetch("part_links", queryset=NonconformancePart.objects.select_related("part__order").order_by("pk")),
            "report_links")

    def get_serializer_class(self):
        if self._for_customer() and self.action in ("list", "retrieve"):
            return CustomerNonconformanceSerializer
        return super().get_serializer_class()

    def get_serializer_context(self):
        access = getattr(self.request._request, "access", None)
        return {**super().get_serializer_context(), "company_id": getattr(access, "company_id", None)}

    def _staff_only(self) -> None:
        if self._for_customer():
            raise PermissionDenied("Customers see a nonconformance's summary only.")

    @extend_schema(request=NcrTransitionInput, responses={200: NonconformanceSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Open → in progress: work on it has begun."""
        ncr = self.get_object()
        data = parsed(NcrTransitionInput, request)
        return self.out(NonconformanceSerializer, nonconformance_start(
            nonconformance=ncr, reason=data["reason"] or None, version=self._version(request, data)))

    @extend_schema(request=DispositionInput, responses={200: PlanSerializer})
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """What the disposition would do to each part ("part INJ-0042 will return to step 3 'Grind
        seat'; rework attempt 2 of 3"), what stops it, and the approval it would wait for. Writes nothing."""
        self._staff_only()
        ncr = self.get_object()
        data = parsed(DispositionInput, request)
        return self.out(PlanSerializer, disposition_plan(nonconformance=ncr, **data))

    @extend_schema(responses={200: OptionsSerializer})
    @action(detail=True, methods=["get"])
    def options(self, request, pk=None):
        """Which dispositions are offered (at the rework limit: only scrap and use as is)."""
        self._staff_only()
        ncr = self.get_object()
        return self.out(OptionsSerializer, {"options": disposition_options(nonconformance=ncr)})

    @extend_schema(request=DecideInput, responses={200: NonconformanceSerializer})
    @action(detail=True, methods=["post"])
    def disposition(self, request, pk=None):
        """Decide the disposition and sign it with your password. It acts at once, or after its
        approval (critical nonconformances, use as is, and what the tenant's settings ask)."""
        ncr = self.get_object()
        data = parsed(DecideInput, request)
        password = data.pop("password")
        version = data.pop("version", None)
        return self.out(NonconformanceSerializer, nonconformance_disposition(
            nonconformance=ncr, user=request.user, password=password, version=version, **data))

    @extend_schema(request=NcrVerifyInput, responses={200: NonconformanceSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Record that the disposition was carried out as decided (you, now, and how)."""
        ncr = self.get_object()
        data = parsed(NcrVerifyInput, request)
        return self.out(NonconformanceSerializer, nonconformance_verify(
            nonconformance=ncr, note=data["note"], version=self._version(request, data)))

    @extend_schema(request=NcrTransitionInput, responses={200: NonconformanceSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Dispositioned → closed, once the disposition is done and verified."""
        ncr = self.get_object()
        data = parsed(NcrTransitionInput, request)
        return self.out(NonconformanceSerializer, nonconformance_close(
            nonconformance=ncr, reason=data["reason"] or None, version=self._version(request, data)))

    @extend_schema(request=NcrCancelInput, responses={200: NonconformanceSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel (open or in progress), with a reason: its parts are released from its hold."""
        ncr = self.get_object()
        data = parsed(NcrCancelInput, request)
        return self.out(NonconformanceSerializer, nonconformance_cancel(
            nonconformance=ncr, reason=data["reason"], version=self._version(request, data)))

    @extend_schema(methods=["get"], responses={200: ConcessionSerializer(many=True)})
    @extend_schema(methods=["post"], request=ConcessionInput, responses={201: ConcessionSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def concessions(self, request, pk=None):
        """The customer concessions of this nonconformance (a customer's user: its own); ``POST``
        records one (needs ``qms.add_concession``)."""
        ncr = self.get_object()
        access = request._request.access
        if request.method == "POST":
            if not access.has(f"{P}.add_concession"):
                raise PermissionDenied("You do not have permission to record customer concessions (qms.add_concession).")
            data = parsed(ConcessionInput, request)
            return self.out(ConcessionSerializer, concession_record(nonconformance=ncr, **data),
                            status.HTTP_201_CREATED)
        rows = concessions_visible(Concession.objects.filter(nonconformance=ncr), access).select_related("customer")
        return Response(ConcessionSerializer(rows.order_by("-granted_on", "-pk"), many=True,
                                             context=self.get_serializer_context()).data)
