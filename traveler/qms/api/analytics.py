"""Quality analytics over HTTP: the defect Pareto (JSON or SVG) and first-pass yield per step.
Thin: parse the query, call the analytics service, answer."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from traveler.qms.charts import pareto_svg
from traveler.qms.services.analytics import PARETO_BY, analytics_filters, defect_pareto, first_pass_yield

PERM = "qms.view_quality_dashboard"

PERIOD = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 29 days before `to`)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today)."),
]
PARETO_PARAMS = [
    OpenApiParameter("by", str, enum=list(PARETO_BY), description="Group by (default: code)."),
    *PERIOD,
    OpenApiParameter("part_type", int, description="Only parts of this part type."),
    OpenApiParameter("step", int, description="Only reports at this step."),
    OpenApiParameter("severity", str, enum=["critical", "major", "minor"], description="Only codes of this severity."),
]


class ParetoRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The group: a defect code, part type or step id, or the period's first day.")
    label = serializers.CharField()
    count = serializers.IntegerField(help_text="Defects found (the sum of the counts on the reports).")
    percent = serializers.FloatField()
    cumulative_percent = serializers.FloatField()


class ParetoFiltersSerializer(serializers.Serializer):
    def get_fields(self):
        return {"from": serializers.DateField(), "to": serializers.DateField(),
                "part_type": serializers.IntegerField(allow_null=True), "step": serializers.IntegerField(allow_null=True),
                "severity": serializers.CharField(allow_null=True)}


class ParetoSerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=PARETO_BY)
    filters = ParetoFiltersSerializer()
    total = serializers.IntegerField()
    rows = ParetoRowSerializer(many=True)


class YieldStepSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    step_name = serializers.CharField()
    sequence = serializers.IntegerField()
    process = serializers.IntegerField()
    process_name = serializers.CharField()
    route_version = serializers.IntegerField()
    parts = serializers.IntegerField(help_text="Parts that left the step for the first time in the period.")
    first_pass = serializers.IntegerField(help_text="Of those, parts whose first departure was an advance or completion.")
    not_first_pass = serializers.IntegerField()
    yield_percent = serializers.FloatField()


class YieldFiltersSerializer(serializers.Serializer):
    def get_fields(self):
        return {"from": serializers.DateField(), "to": serializers.DateField(),
                "step": serializers.IntegerField(allow_null=True)}


class YieldSerializer(serializers.Serializer):
    filters = YieldFiltersSerializer()
    steps = YieldStepSerializer(many=True)
    attempts = serializers.IntegerField()
    first_pass = serializers.IntegerField()
    yield_percent = serializers.FloatField(allow_null=True)


class _Analytics(APIView):
    permission_map = {"retrieve": PERM}
    action = "retrieve"  # one answer (an object), not a list: what the schema says


def _pareto(request) -> dict:
    return defect_pareto(by=request.query_params.get("by") or "code", filters=analytics_filters(request.query_params))


class ParetoView(_Analytics):
    @extend_schema(parameters=PARETO_PARAMS, responses=ParetoSerializer, tags=["qms: analytics"])
    def get(self, request):
        """Defects found on quality reports, grouped by defect code, part type, step or period, largest
        first, with each group's share and the cumulative share (docs/qms.md)."""
        return Response(ParetoSerializer(_pareto(request)).data)


class ParetoSvgView(_Analytics):
    @extend_schema(parameters=PARETO_PARAMS, responses={(200, "image/svg+xml"): OpenApiTypes.STR},
                   tags=["qms: analytics"])
    def get(self, request):
        """The same Pareto drawn as SVG: bars and the cumulative line."""
        return HttpResponse(pareto_svg(pareto=_pareto(request)), content_type="image/svg+xml")


class FirstPassYieldView(_Analytics):
    @extend_schema(parameters=[*PERIOD, OpenApiParameter("step", int, description="Only this step.")],
                   responses=YieldSerializer, tags=["qms: analytics"])
    def get(self, request):
        """First-pass yield per step from the traveler's transition log: of the parts that left a step
        for the first time in the period, the share that advanced or completed (docs/qms.md)."""
        return Response(YieldSerializer(first_pass_yield(filters=analytics_filters(request.query_params))).data)
