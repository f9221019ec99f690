"""Capability over HTTP: one characteristic's indices with their intervals, histogram, normality test
and warnings; the summary of a part type's characteristics against the Cpk threshold; the tenant's
SPC settings."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from traveler.core.api.base import InputSerializer
from traveler.mes_lite.models import PartType
from traveler.spc.api.characteristics import VIEW, ChartQuery, chart_filters
from traveler.spc.services import capability as cap
from traveler.spc.services.capability import THRESHOLD_MAX, THRESHOLD_MIN
from traveler.spc.services.characteristics import definition_or_404

CHANGE_SETTINGS = "spc.change_spcsettings"
INDICES = ("cp", "cpk", "pp", "ppk", "cpm")
STATUSES = [("good", "good"), ("warn", "warn"), ("bad", "bad"), ("none", "none")]


def _interval():
    return serializers.ListField(child=serializers.FloatField(allow_null=True), min_length=2, max_length=2,
                                 allow_null=True, help_text="Lower and upper bound (null when undefined).")


class WarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[(c, c) for c in ("not_in_control", "not_normal", "no_specification",
                                                             "too_few_values", "few_values")])
    message = serializers.CharField()


class CapabilitySerializer(serializers.Serializer):
    definition = serializers.IntegerField(source="definition.pk")
    label = serializers.CharField(source="definition.label")
    unit = serializers.CharField(source="definition.unit")
    n = serializers.IntegerField(help_text="Values the indices are computed from (those the chart plots).")
    limits = serializers.SerializerMethodField(help_text="What the chart is drawn against: baseline or trial.")
    baseline = serializers.SerializerMethodField()
    lsl = serializers.FloatField(allow_null=True)
    usl = serializers.FloatField(allow_null=True)
    target = serializers.FloatField(allow_null=True)
    within_from = serializers.CharField(allow_null=True, help_text="Within sigma from: baseline, trial (the chart's "
                                        "own estimate) or null (no within indices).")
    confidence = serializers.SerializerMethodField()
    cp = serializers.SerializerMethodField()
    cpk = serializers.SerializerMethodField()
    pp = serializers.SerializerMethodField()
    ppk = serializers.SerializerMethodField()
    cpm = serializers.SerializerMethodField()
    cp_ci = serializers.SerializerMethodField()
    cpk_ci = serializers.SerializerMethodField()
    pp_ci = serializers.SerializerMethodField()
    ppk_ci = serializers.SerializerMethodField()
    cpm_ci = serializers.SerializerMethodField()
    indices = serializers.JSONField(allow_null=True, help_text="Everything the statistics engine computed "
                                    "(sigmas, one-sided indices, expected and observed PPM); docs/statistics.md.")
    normality = serializers.JSONField(allow_null=True, help_text="Anderson-Darling test: statistic and p-value.")
    histogram = serializers.JSONField(allow_null=True, help_text="Bins (edges, counts), spec limits and the fitted "
                                      "normal curves.")
    warnings = WarningSerializer(many=True)

    def get_limits(self, obj) -> str:
        return "trial" if obj.chart.baseline is None else "baseline"

    def get_baseline(self, obj) -> int | None:
        return obj.chart.baseline.pk if obj.chart.baseline else None

    def get_confidence(self, obj) -> float | None:
        return obj.index("confidence")

    def get_cp(self, obj) -> float | None:
        return obj.index("cp")

    def get_cpk(self, obj) -> float | None:
        return obj.index("cpk")

    def get_pp(self, obj) -> float | None:
        return obj.index("pp")

    def get_ppk(self, obj) -> float | None:
        return obj.index("ppk")

    def get_cpm(self, obj) -> float | None:
        return obj.index("cpm")

    def get_cp_ci(self, obj) -> list[float | None] | None:
        return obj.index("cp_ci")

    def get_cpk_ci(self, obj) -> list[float | None] | None:
        return obj.index("cpk_ci")

    def get_pp_ci(self, obj) -> list[float | None] | None:
        return obj.index("pp_ci")

    def get_ppk_ci(self, obj) -> list[float | None] | None:
        return obj.index("ppk_ci")

    def get_cpm_ci(self, obj) -> list[float | None] | None:
        return obj.index("cpm_ci")


class SummaryRowSerializer(serializers.Serializer):
    definition = serializers.IntegerField(source="definition.pk")
    label = serializers.CharField(source="definition.label")
    unit = serializers.CharField(source="definition.unit")
    step = serializers.IntegerField(source="definition.step_id")
    step_name = serializers.CharField(source="definition.step.name")
    n = serializers.IntegerField(source="capability.n")
    cpk = serializers.FloatField(allow_null=True)
    ppk = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(choices=STATUSES, help_text="Against the threshold: bad below it, warn within "
                                     "10 % above it, good above; none without a Cpk.")
    warnings = WarningSerializer(many=True, source="capability.warnings")


class SummarySerializer(serializers.Serializer):
    part_type = serializers.IntegerField(source="part_type.pk")
    threshold = serializers.DecimalField(max_digits=6, decimal_places=3)
    rows = SummaryRowSerializer(many=True, help_text="Worst Cpk first; characteristics without a Cpk last.")


class SummaryQuery(ChartQuery):
    part_type = serializers.PrimaryKeyRelatedField(queryset=PartType.objects.all())


class SPCSettingsSerializer(serializers.Serializer):
    cpk_threshold = serializers.DecimalField(max_digits=6, decimal_places=3)
    configured = serializers.SerializerMethodField(help_text="False: the defaults apply (nothing saved yet).")
    version = serializers.SerializerMethodField(help_text="The settings' version (null until saved).")

    def get_configured(self, obj) -> bool:
        return obj.pk is not None

    def get_version(self, obj) -> int | None:
        return obj.version if obj.pk is not None else None


class SPCSettingsInput(InputSerializer):
    cpk_threshold = serializers.DecimalField(max_digits=6, decimal_places=3, min_value=THRESHOLD_MIN,
                                             max_value=THRESHOLD_MAX,
                                             help_text="Capability below this Cpk is flagged (0.5 to 3).")
    version = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1,
                                       help_text="The settings' version you read, once they have been saved.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class _Read(APIView):
    @property
    def permission_map(self):
        return {"retrieve": VIEW, "update": CHANGE_SETTINGS}

    @property
    def action(self):
        return "update" if self.request.method == "PUT" else "retrieve"


class CharacteristicCapabilityView(_Read):
    @extend_schema(parameters=[ChartQuery], responses=CapabilitySerializer, tags=["spc: capability"],
                   operation_id="spc_characteristics_capability_retrieve")
    def get(self, request: Request, definition: int):
        """Capability (Cp, Cpk: within sigma of the active baseline, else of the chart's trial limits) and
        performance (Pp, Ppk: overall sigma) of the characteristic's measurements, Cpm when a target is
        set, each with its 95 % interval; the histogram, the normality test and the warnings that say
        when the indices are not to be trusted."""
        d = definition_or_404(definition)
        return Response(CapabilitySerializer(cap.characteristic_capability(d, chart_filters(request.query_params))).data)


class CapabilitySummaryView(_Read):
    @extend_schema(parameters=[SummaryQuery], responses=SummarySerializer, tags=["spc: capability"],
                   operation_id="spc_capability_summary")
    def get(self, request: Request):
        """Every numeric characteristic of the part type with n, Cpk, Ppk and its status against the
        tenant's Cpk threshold, worst first."""
        q = SummaryQuery(data=request.query_params)
        q.is_valid(raise_exception=True)
        part_type = q.validated_data["part_type"]
        filters = chart_filters({k: v for k, v in request.query_params.items() if k != "part_type"})
        return Response(SummarySerializer(cap.capability_summary(part_type, filters)).data)


class SPCSettingsView(_Read):
    @extend_schema(responses=SPCSettingsSerializer, tags=["spc: capability"], operation_id="spc_settings_retrieve")
    def get(self, request: Request):
        """The tenant's SPC settings (the defaults until saved)."""
        return Response(SPCSettingsSerializer(cap.spc_settings()).data)

    @extend_schema(request=SPCSettingsInput, responses=SPCSettingsSerializer, tags=["spc: capability"],
                   operation_id="spc_settings_update")
    def put(self, request: Request):
        """Save the tenant's Cpk threshold (tenant administrators and QA managers)."""
        ser = SPCSettingsInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        saved = cap.spc_settings_save(cpk_threshold=d["cpk_threshold"], version=d.get("version"),
                                      reason=d.get("reason") or None)
        return Response(SPCSettingsSerializer(saved).data)
