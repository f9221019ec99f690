"""The statistics calculators over HTTP. Thin: parse, call the engine, answer."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from traveler.core.errors import InvalidInput
from traveler.spc.api import serializers as s
from traveler.spc.reports import chart_pdf
from traveler.spc.stats import StatsInputError, analyze, chart_svg, oc_curve, z14_plan, z14_switch

PERM = {"get": "spc.use_calculators", "post": "spc.use_calculators"}


# The engine names its inputs by what they hold; the API calls them all ``data``.
API_FIELDS = {"subgroups": "data", "values": "data", "counts": "data", "defectives": "data"}


def stats_call(func, **kwargs):
    """Run an engine function; its input errors become a 400 naming the API field."""
    try:
        return func(**kwargs)
    except StatsInputError as exc:
        field = API_FIELDS.get(exc.field, exc.field)
        raise InvalidInput(f"{field}: {exc.message}", fields={field: [exc.message]}) from exc


class _Calculator(APIView):
    @property
    def permission_map(self):
        return {"list": PERM["get"], "create": PERM["post"]}

    @property
    def action(self):
        return "list" if self.request.method == "GET" else "create"


def _analysis(request) -> tuple[dict, str]:
    ser = s.AnalyzeInput(data=request.data)
    ser.is_valid(raise_exception=True)
    d = dict(ser.validated_data)
    title = d.pop("title", "") or ""
    return stats_call(analyze, **d), title


class AnalyzeView(_Calculator):
    @extend_schema(request=s.AnalyzeInput, responses={200: OpenApiTypes.OBJECT}, tags=["spc"])
    def post(self, request):
        """Control chart, run-rule violations per point, and capability (when specification limits
        are given), computed on the server. See docs/statistics.md for every formula."""
        result, _ = _analysis(request)
        return Response(result)


class ChartSvgView(_Calculator):
    @extend_schema(request=s.AnalyzeInput, responses={(200, "image/svg+xml"): OpenApiTypes.STR}, tags=["spc"])
    def post(self, request):
        """The same analysis drawn as a standalone SVG (identical to the web page's and the PDF's)."""
        result, title = _analysis(request)
        svg = stats_call(chart_svg, result=result, title=title or None)
        return HttpResponse(svg, content_type="image/svg+xml")


class ChartPdfView(_Calculator):
    @extend_schema(request=s.AnalyzeInput, responses={(200, "application/pdf"): OpenApiTypes.BINARY}, tags=["spc"])
    def post(self, request):
        """A printable report: the chart (vector), limits, capability and violations."""
        result, title = _analysis(request)
        svg = stats_call(chart_svg, result=result, title=title or None)
        pdf = chart_pdf(svg=svg, result=result, title=title or "Control chart",
                        tenant=request._request.tenant.name, user=request.user.full_name)
        resp = HttpResponse(pdf, content_type="application/pdf")
        resp["Content-Disposition"] = 'attachment; filename="control-chart.pdf"'
        return resp


class Z14PlanView(_Calculator):
    @extend_schema(parameters=[s.PlanQuery], responses={200: OpenApiTypes.OBJECT}, tags=["spc"])
    def get(self, request):
        """ANSI/ASQ Z1.4 single sampling plan: code letter, sample size, Ac and Re (arrows followed)."""
        q = s.PlanQuery(data=request.query_params)
        q.is_valid(raise_exception=True)
        return Response(stats_call(z14_plan, **q.validated_data))


class Z14SwitchView(_Calculator):
    @extend_schema(request=s.SwitchInput, responses={200: OpenApiTypes.OBJECT}, tags=["spc"])
    def post(self, request):
        """Apply one lot's result to the Z1.4 switching rules: the next severity and why."""
        ser = s.SwitchInput(data=request.data)
        ser.is_valid(raise_exception=True)
        return Response(stats_call(z14_switch, **ser.validated_data))


class OcCurveView(_Calculator):
    @extend_schema(parameters=[s.OcQuery], responses={200: OpenApiTypes.OBJECT}, tags=["spc"])
    def get(self, request):
        """Operating characteristic of a single sampling plan (n, c): Pa, AOQ, AOQL, ATI."""
        q = s.OcQuery(data=request.query_params)
        q.is_valid(raise_exception=True)
        return Response(stats_call(oc_curve, **q.validated_data))
