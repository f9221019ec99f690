"""Per-part sampling over HTTP: rule sets (create, change: a new version, archive, their versions),
a preview of rules before saving them, the decisions made (a part's, a work order's) and the
analytics per rule set and work order."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from traveler.core.api.base import (
    ChangeInput,
    InputSerializer,
    RecordReadOnlyViewSet,
    RecordSerializer,
    RecordServices,
    RecordWriteViewSet,
)
from traveler.mes_full.choices import SamplingMode, SamplingRuleKind
from traveler.mes_full.models import SamplingAnalytics, SamplingAuditLog, SamplingRuleSet, SamplingRuleSetVersion
from traveler.mes_full.services import sampling as svc
from traveler.mes_full.services import sampling_rules as sr
from traveler.mes_lite.models import PartType, Process, Step

VIEW, CHANGE = "mes_full.view_samplingruleset", "mes_full.change_samplingruleset"
TAGS = ["mes-full: sampling"]


class RuleSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    mode = serializers.ChoiceField(choices=SamplingMode.choices)
    kind = serializers.ChoiceField(choices=SamplingRuleKind.choices)
    position = serializers.IntegerField()
    count = serializers.IntegerField(allow_null=True)
    percent = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)
    seed = serializers.IntegerField(allow_null=True)
    inspection_level = serializers.CharField(allow_blank=True)
    aql = serializers.CharField(allow_blank=True)
    describe = serializers.SerializerMethodField(help_text='The rule in words ("every 5th").')

    def get_describe(self, obj) -> str:
        return sr.describe(sr.rule_of(obj))


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    fallback_parts = serializers.IntegerField(allow_null=True)
    fallback_passes = serializers.IntegerField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
    created_at = serializers.DateTimeField()
    rules = RuleSerializer(many=True, source="rules.all")


def _current(obj: SamplingRuleSet) -> SamplingRuleSetVersion | None:
    return next((v for v in obj.versions.all() if v.number == obj.revision), None)


class RuleSetSerializer(RecordSerializer):
    revision = serializers.IntegerField(read_only=True, help_text="The current version's number.")
    fallback_parts = serializers.SerializerMethodField()
    fallback_passes = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()
    describe = serializers.SerializerMethodField(help_text="The primary rules in words.")

    class Meta:
        model = SamplingRuleSet
        fields = ["id", "name", "description", "part_type", "process", "step", "revision", "fallback_parts",
                  "fallback_passes", "rules", "describe", "created_by", "modified_by", "archived_at", "version",
                  "created_at", "updated_at"]

    def get_fallback_parts(self, obj) -> int | None:
        v = _current(obj)
        return v.fallback_parts if v else None

    def get_fallback_passes(self, obj) -> int | None:
        v = _current(obj)
        return v.fallback_passes if v else None

    @extend_schema_field(RuleSerializer(many=True))
    def get_rules(self, obj) -> list[dict]:
        v = _current(obj)
        return RuleSerializer(list(v.rules.all()) if v else [], many=True).data

    def get_describe(self, obj) -> str:
        v = _current(obj)
        rules = [sr.rule_of(r) for r in v.rules.all() if r.mode == SamplingMode.PRIMARY] if v else []
        return sr.describe_all(rules)


class RuleInput(InputSerializer):
    mode = serializers.ChoiceField(choices=SamplingMode.choices, required=False, default=SamplingMode.PRIMARY)
    kind = serializers.ChoiceField(choices=SamplingRuleKind.choices)
    count = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=svc.MAX_COUNT,
                                     help_text="N of every Nth, first N, last N and exact count.")
    percent = serializers.DecimalField(max_digits=7, decimal_places=4, required=False, allow_null=True,
                                       help_text="The share of a percentage or random rule (0 < percent ≤ 100).")
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=svc.MAX_SEED,
                                    help_text="A random rule's seed (drawn and recorded when not given).")
    inspection_level = serializers.CharField(required=False, allow_blank=True, max_length=5,
                                             help_text="A Z1.4 lot plan's inspection level (S-1 ... III).")
    aql = serializers.CharField(required=False, allow_blank=True, max_length=6, help_text="A Z1.4 lot plan's AQL.")


class RuleSetInput(ChangeInput):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    part_type = serializers.PrimaryKeyRelatedField(queryset=PartType.objects.filter(archived_at__isnull=True),
                                                   help_text="Set on create; a rule set keeps its scope.")
    process = serializers.PrimaryKeyRelatedField(queryset=Process.objects.filter(archived_at__isnull=True),
                                                 required=False, allow_null=True)
    step = serializers.PrimaryKeyRelatedField(queryset=Step.objects.filter(archived_at__isnull=True), required=False,
                                              allow_null=True, help_text="Empty: every step of the process.")
    rules = RuleInput(many=True, help_text="The rules; a change of them makes a new version.")
    fallback_parts = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=svc.MAX_COUNT,
                                              help_text="After a defect the fallback rules decide for this many parts.")
    fallback_passes = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=svc.MAX_COUNT,
                                               help_text="... or until this many inspections in a row pass.")


class PreviewInput(InputSerializer):
    rules = RuleInput(many=True)
    quantity = serializers.IntegerField(min_value=1, max_value=sr.MAX_PREVIEW, help_text="Parts in the work order.")
    fallback_parts = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=svc.MAX_COUNT)
    fallback_passes = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=svc.MAX_COUNT)


class PreviewSerializer(serializers.Serializer):
    quantity = serializers.IntegerField()
    primary = serializers.ListField(child=serializers.IntegerField(), help_text="Positions the primary rules select.")
    fallback = serializers.ListField(child=serializers.IntegerField(),
                                     help_text="Positions the fallback rules select (while they decide).")
    primary_rate = serializers.FloatField(allow_null=True)
    text = serializers.CharField()
    describe = serializers.CharField()


def _input(cls, request: Request) -> dict:
    ser = cls(data=request.data)
    ser.is_valid(raise_exception=True)
    return dict(ser.validated_data)


def _rules(data: dict) -> dict:
    if "rules" in data:
        data["rules"] = [dict(r) for r in data["rules"]]
    return data


class _Input(RuleSetInput):
    """The rule set input as the shared update reads it (``rules`` as plain dicts)."""

    def to_internal_value(self, data):
        return _rules(dict(super().to_internal_value(data)))


@extend_schema(tags=TAGS)
class RuleSetViewSet(RecordWriteViewSet):
    """Sampling rule sets: which parts of a part type's work orders are inspected at a step (the step,
    every step of a process, or of every route of the part type). A change of the rules or the
    fallback settings makes a new version; ``versions/`` lists them all."""

    model = SamplingRuleSet
    queryset = SamplingRuleSet.objects.all()
    serializer_class = RuleSetSerializer
    input_serializer_class = _Input
    services = RecordServices(create=svc.ruleset_create, update=svc.ruleset_update, archive=svc.ruleset_archive)
    service_kwarg = "ruleset"
    filterset_fields = ["part_type", "process", "step"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]

    @property
    def permission_map(self) -> dict[str, str]:
        return {"list": VIEW, "retrieve": VIEW, "history": VIEW, "versions": VIEW, "create": CHANGE,
                "update": CHANGE, "partial_update": CHANGE, "archive": CHANGE, "restore": CHANGE}

    def get_queryset(self):
        return super().get_queryset().prefetch_related("versions__rules")

    @extend_schema(request=ChangeInput)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, *args, **kwargs) -> Response:
        """Bring an archived rule set back (refused while another active one samples its scope)."""
        obj = self.get_object()
        data = self._change_input(request)
        return self.out(self.serializer_class, svc.ruleset_restore(ruleset=obj, reason=self._reason(request, data)))

    @extend_schema(responses=VersionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request: Request, pk=None) -> Response:
        """Every version of the rule set, newest first, with its rules and fallback settings."""
        return Response(VersionSerializer(svc.ruleset_versions(self.get_object()), many=True).data)


class PreviewView(APIView):
    """What rules would select in a work order of a given size (nothing is saved)."""

    permission_map = {"create": VIEW}
    action = "create"

    @extend_schema(request=PreviewInput, responses={200: PreviewSerializer}, tags=TAGS, operation_id="mes_full_sampling_preview")
    def post(self, request: Request) -> Response:
        """The positions the primary and fallback rules select, and the sentence the editor shows ("in a work
        order of 50 parts this selects parts 5, 10, 15, …; after a defect the next 10 parts")."""
        d = _rules(_input(PreviewInput, request))
        return Response(PreviewSerializer(svc.ruleset_preview(**d)).data)


class DecisionSerializer(RecordSerializer):
    rule_describe = serializers.SerializerMethodField(help_text="The rule that selected the part, in words.")

    class Meta:
        model = SamplingAuditLog
        fields = ["id", "ruleset", "ruleset_version", "revision", "rule", "rule_describe", "part", "work_order", "step",
                  "position", "quantity", "seed", "mode", "selected", "triggered_by", "decided_at", "archived_at",
                  "version", "created_at", "updated_at"]

    def get_rule_describe(self, obj) -> str:
        return sr.describe(sr.rule_of(obj.rule)) if obj.rule_id else ""


@extend_schema(tags=TAGS)
class DecisionViewSet(RecordReadOnlyViewSet):
    """Every sampling decision with the inputs it was computed from (filter by ``part`` for a part's
    decisions, by ``work_order`` for a work order's)."""

    model = SamplingAuditLog
    queryset = SamplingAuditLog.objects.all()
    view_permission = VIEW
    serializer_class = DecisionSerializer
    filterset_fields = ["part", "work_order", "ruleset", "step", "mode", "selected"]
    ordering_fields = ["decided_at", "position"]

    def get_queryset(self):
        return super().get_queryset().select_related("rule")


class AnalyticsSerializer(RecordSerializer):
    work_order_number = serializers.CharField(source="work_order.number", read_only=True)
    actual_rate = serializers.FloatField(read_only=True, allow_null=True,
                                         help_text="Parts sampled over parts decided.")

    class Meta:
        model = SamplingAnalytics
        fields = ["id", "ruleset", "work_order", "work_order_number", "parts_total", "parts_sampled", "parts_fallback",
                  "defects_found", "planned_rate", "actual_rate", "archived_at", "version", "created_at", "updated_at"]


@extend_schema(tags=TAGS)
class AnalyticsViewSet(RecordReadOnlyViewSet):
    """How each rule set sampled each work order: parts decided, sampled, by the fallback rules, defects
    found, and the planned against the actual rate."""

    model = SamplingAnalytics
    queryset = SamplingAnalytics.objects.all()
    view_permission = VIEW
    serializer_class = AnalyticsSerializer
    filterset_fields = ["ruleset", "work_order"]
    ordering_fields = ["updated_at", "parts_total"]

    def get_queryset(self):
        return super().get_queryset().select_related("work_order")
