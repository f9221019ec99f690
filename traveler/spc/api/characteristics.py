"""Control charts of the traveler's own measurements over HTTP: characteristics (settings, chart as
JSON or SVG) and baselines (compute a draft, freeze it with your password, discard it)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from traveler.core.api.base import (
    InputSerializer,
    RecordCreateMixin,
    RecordReadOnlyViewSet,
    RecordSerializer,
    RecordServices,
)
from traveler.core.auth import client_ip
from traveler.core.errors import Conflict
from traveler.mes_lite.models import Equipment, MeasurementDefinition, PartType, Step, WorkOrder
from traveler.spc.choices import ChartType, Subgrouping
from traveler.spc.models import Characteristic, SPCBaseline
from traveler.spc.services import characteristics as chars
from traveler.spc.services.baselines import baseline_compute, baseline_discard, baseline_freeze
from traveler.spc.services.characteristics import definition_or_404, numeric_definitions
from traveler.spc.stats import chart_svg

VIEW, CHANGE = "spc.view_characteristic", "spc.change_characteristic"




class SettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = Characteristic
        fields = list(chars.SETTINGS)


class CharacteristicSerializer(serializers.Serializer):
    definition = serializers.IntegerField(source="definition.pk")
    label = serializers.CharField(source="definition.label")
    unit = serializers.CharField(source="definition.unit")
    step = serializers.IntegerField(source="definition.step_id")
    step_name = serializers.CharField(source="definition.step.name")
    part_type = serializers.IntegerField(source="definition.step.process.part_type_id")
    lower_limit = serializers.DecimalField(max_digits=20, decimal_places=8, source="definition.lower_limit")
    upper_limit = serializers.DecimalField(max_digits=20, decimal_places=8, source="definition.upper_limit")
    configured = serializers.SerializerMethodField(help_text="False: the defaults apply (nothing saved yet).")
    version = serializers.IntegerField(allow_null=True, help_text="The settings' version (null until saved).")
    settings = serializers.SerializerMethodField()

    def get_configured(self, obj) -> bool:
        return obj.pk is not None

    def get_settings(self, obj) -> dict:
        return SettingsSerializer(obj).data


class SettingsInput(InputSerializer):
    chart_type = serializers.ChoiceField(choices=ChartType.choices, required=False)
    subgroup_size = serializers.IntegerField(required=False, min_value=1, max_value=chars.MAX_SUBGROUP)
    subgrouping = serializers.ChoiceField(choices=Subgrouping.choices, required=False)
    window_minutes = serializers.IntegerField(required=False, min_value=1, max_value=7 * 24 * 60)
    shift_start = serializers.TimeField(required=False)
    shift_hours = serializers.IntegerField(required=False, min_value=1, max_value=24)
    rules = serializers.CharField(required=False, allow_blank=True, max_length=200)
    show_capability = serializers.BooleanField(required=False)
    spec_lower = serializers.DecimalField(max_digits=20, decimal_places=8, required=False, allow_null=True)
    spec_upper = serializers.DecimalField(max_digits=20, decimal_places=8, required=False, allow_null=True)
    target = serializers.DecimalField(max_digits=20, decimal_places=8, required=False, allow_null=True)
    version = serializers.IntegerField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ChartQuery(InputSerializer):
    part_type = serializers.PrimaryKeyRelatedField(queryset=PartType.objects.all(), required=False)
    step = serializers.PrimaryKeyRelatedField(queryset=Step.objects.all(), required=False)
    work_order = serializers.PrimaryKeyRelatedField(queryset=WorkOrder.objects.all(), required=False)
    equipment = serializers.PrimaryKeyRelatedField(queryset=Equipment.objects.all(), required=False)
    operator = serializers.IntegerField(required=False, min_value=1)
    date_from = serializers.DateTimeField(required=False, help_text="From this time (inclusive).")
    date_to = serializers.DateTimeField(required=False, help_text="Until this time (exclusive).")


def chart_filters(params) -> chars.Filters:
    q = ChartQuery(data=params)
    q.is_valid(raise_exception=True)
    d = q.validated_data
    return chars.Filters(part_type=getattr(d.get("part_type"), "pk", None), step=getattr(d.get("step"), "pk", None),
                         work_orders=(d["work_order"].pk,) if d.get("work_order") else (),
                         equipment=getattr(d.get("equipment"), "pk", None), operator=d.get("operator"),
                         date_from=d.get("date_from"), date_to=d.get("date_to"))


def chart_title(chart: chars.Chart) -> str:
    d = chart.characteristic.definition
    if chart.baseline is None:
        return f"{d.label}: trial limits (no frozen baseline)"
    b = chart.baseline
    return f"{d.label}: baseline {b.pk}, frozen {b.frozen_at:%Y-%m-%d}"


def chart_json(chart: chars.Chart) -> dict:
    return {
        "limits": "trial" if chart.trial else "baseline",
        "baseline": chart.baseline.pk if chart.baseline else None,
        "title": chart_title(chart),
        "message": chart.message,
        "subgroups": [{"key": g.key, "start": g.start.isoformat(), "measurements": [r.id for r in g.rows],
                       "parts": [r.part_id for r in g.rows]} for g in chart.groups],
        "result": chart.result,
    }


class _Characteristics(APIView):
    read_action = "retrieve"  # what a GET is: one characteristic (or something of one), or the list

    @property
    def permission_map(self):
        return {"list": VIEW, "retrieve": VIEW, "update": CHANGE}

    @property
    def action(self):
        # From the class, not the request's arguments: the schema generator asks without any.
        request = getattr(self, "request", None)
        if request is not None and request.method == "PUT":
            return "update"
        return self.read_action


class CharacteristicListView(_Characteristics):
    read_action = "list"

    @extend_schema(responses=CharacteristicSerializer(many=True), tags=["spc: characteristics"])
    def get(self, request: Request):
        """Every numeric measurement definition of the traveler, with how it is charted (its saved
        settings, or the defaults)."""
        defs = list(numeric_definitions().order_by("step__process__part_type_id", "step__process_id", "step__sequence",
                                                    "sequence", "pk"))
        saved = {c.definition_id: c for c in Characteristic.objects.filter(definition__in=defs)}
        rows = []
        for d in defs:
            c = saved.get(d.pk) or chars.Characteristic(definition=d, **chars.DEFAULTS)
            c.definition = d
            rows.append(c)
        return Response(CharacteristicSerializer(rows, many=True).data)


class CharacteristicView(_Characteristics):
    @extend_schema(responses=CharacteristicSerializer, tags=["spc: characteristics"],
                   operation_id="spc_characteristics_retrieve")
    def get(self, request: Request, definition: int):
        """One characteristic: its definition and chart settings."""
        return Response(CharacteristicSerializer(chars.characteristic_for(definition_or_404(definition))).data)

    @extend_schema(request=SettingsInput, responses=CharacteristicSerializer, tags=["spc: characteristics"])
    def put(self, request: Request, definition: int):
        """Save chart settings (the fields given; the rest keep their values). ``version`` is the
        settings' version you read, once they have been saved."""
        d = definition_or_404(definition)
        ser = SettingsInput(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        version, reason = data.pop("version", None), data.pop("reason", None) or None
        return Response(CharacteristicSerializer(chars.characteristic_save(definition=d, data=data, version=version,
                                                                           reason=reason)).data)


class ChartView(_Characteristics):
    @extend_schema(parameters=[ChartQuery], responses={200: OpenApiTypes.OBJECT}, tags=["spc: characteristics"])
    def get(self, request: Request, definition: int):
        """The control chart of the characteristic from the traveler's measurements: against its active
        frozen baseline, or trial limits (``limits``: "trial") when none is frozen; each subgroup with its
        measurements and parts."""
        return Response(chart_json(chars.characteristic_chart(definition_or_404(definition), chart_filters(request.query_params))))


class ChartSvgView(_Characteristics):
    @extend_schema(parameters=[ChartQuery], responses={(200, "image/svg+xml"): OpenApiTypes.STR},
                   tags=["spc: characteristics"])
    def get(self, request: Request, definition: int):
        """The same chart as a standalone SVG."""
        chart = chars.characteristic_chart(definition_or_404(definition), chart_filters(request.query_params))
        if chart.result is None:
            raise Conflict(chart.message)
        return HttpResponse(chart_svg(result=chart.result, title=chart_title(chart)), content_type="image/svg+xml")


class BaselineSerializer(RecordSerializer):
    class Meta:
        model = SPCBaseline
        fields = ["id", "definition", "status", "chart_type", "subgroup_size", "subgrouping", "range_from", "range_to",
                  "work_order_ids", "excluded", "sample_count", "subgroup_count", "center", "ucl", "lcl", "sigma",
                  "secondary_center", "secondary_ucl", "secondary_lcl", "notes", "computed_by", "frozen_by",
                  "frozen_at", "archived_at", "superseded_by", "superseded_at", "superseded_reason", "version", "created_at",
                  "updated_at"]


class ExcludedInput(serializers.Serializer):
    key = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The subgroup's key (its first measurement).")
    reason = serializers.CharField(max_length=500)


class BaselineInput(InputSerializer):
    definition = serializers.PrimaryKeyRelatedField(queryset=MeasurementDefinition.objects.all())
    range_from = serializers.DateTimeField(required=False, allow_null=True)
    range_to = serializers.DateTimeField(required=False, allow_null=True)
    work_orders = serializers.PrimaryKeyRelatedField(queryset=WorkOrder.objects.all(), many=True, required=False)
    excluded = ExcludedInput(many=True, required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class FreezeInput(InputSerializer):
    password = serializers.CharField(style={"input_type": "password"}, help_text="Your password: freezing is signed.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   help_text="Why the active baseline is superseded (required when there is one).")
    version = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)


class DiscardInput(InputSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


def _compute(*, data: dict, reason: str | None = None) -> SPCBaseline:
    return baseline_compute(**{**data, "excluded": [dict(x) for x in data.get("excluded", [])]})


@extend_schema(tags=["spc: baselines"])
class BaselineViewSet(RecordCreateMixin, RecordReadOnlyViewSet):
    """Baselines of characteristics: compute a draft from a phase I range (POST), review it, freeze it
    (signed with your password; it becomes the active baseline and supersedes the one before), or
    discard it. Frozen limits never change."""

    model = SPCBaseline
    queryset = SPCBaseline.objects.all()
    permission_prefix = "spc"
    view_permission = VIEW
    serializer_class = BaselineSerializer
    input_serializer_class = BaselineInput
    services = RecordServices(create=_compute)
    extra_permissions = {"create": "spc.compute_baseline", "freeze": "spc.freeze_baseline",
                         "discard": "spc.compute_baseline"}
    filterset_fields = ["definition", "status"]
    ordering_fields = ["created_at", "frozen_at"]

    @extend_schema(request=FreezeInput, responses=BaselineSerializer)
    @action(detail=True, methods=["post"])
    def freeze(self, request: Request, pk=None) -> Response:
        """Freeze this draft: your signature (meaning "approved"), then it is the active baseline."""
        obj = self.get_object()
        ser = FreezeInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        frozen = baseline_freeze(baseline=obj, user=request.user, password=d["password"], reason=d.get("reason"),
                                 version=d.get("version"), ip=client_ip(request._request))
        return self.out(BaselineSerializer, frozen)

    @extend_schema(request=DiscardInput, responses=BaselineSerializer)
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk=None) -> Response:
        """Discard this draft (it stays in the history)."""
        ser = DiscardInput(data=request.data)
        ser.is_valid(raise_exception=True)
        return self.out(BaselineSerializer, baseline_discard(baseline=self.get_object(),
                                                             reason=ser.validated_data.get("reason") or None))
