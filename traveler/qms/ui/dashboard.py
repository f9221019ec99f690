"""The quality dashboard: the defect Pareto (with its "by" switch and filters), first-pass yield per
step, and the panels other parts of quality register on ``"qms.dashboard"``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.safestring import mark_safe

from traveler.core.access import check
from traveler.core.errors import InvalidInput
from traveler.core.ui.generic import panels_for
from traveler.mes_lite.models import PartType, Step
from traveler.qms.charts import pareto_svg, yield_svg
from traveler.qms.choices import Severity
from traveler.qms.services.analytics import PARETO_BY, analytics_filters, defect_pareto, first_pass_yield

PERM = "qms.view_quality_dashboard"
BY_LABELS = {"code": "Defect code", "part_type": "Part type", "step": "Step", "day": "Day", "week": "Week",
             "month": "Month"}
FILTERS = ("from", "to", "part_type", "step", "severity")


@login_required
def quality_dashboard(request):
    check(request.access, request.user, PERM)
    params = request.GET
    by = params.get("by") or "code"
    errors: dict[str, list[str]] = {}
    pareto = fpy = None
    try:
        filters = analytics_filters(params)
        pareto = defect_pareto(by=by, filters=filters)
        fpy = first_pass_yield(filters=filters)
    except InvalidInput as exc:
        errors, filters = exc.fields, None
    kept = {k: params[k] for k in FILTERS if params.get(k)}
    tabs = [{"value": b, "label": BY_LABELS[b], "active": b == by, "url": "?" + urlencode({**kept, "by": b})}
            for b in PARETO_BY]
    return render(request, "qms/dashboard.html", {
        "pareto": pareto, "fpy": fpy, "by_label": BY_LABELS.get(by, by), "tabs": tabs, "errors": errors,
        "error_message": " ".join(m for ms in errors.values() for m in ms),
        "pareto_svg": mark_safe(pareto_svg(pareto=pareto, title=f"Defects by {BY_LABELS[by].lower()}"))  # escaped
        if pareto else None,
        "yield_svg": mark_safe(yield_svg(steps=fpy["steps"])) if fpy else None,  # text escaped by the chart
        "by": by, "values": {k: params.get(k, "") for k in FILTERS},
        "period": filters.as_dict() if filters else None,
        "part_types": PartType.objects.filter(archived_at__isnull=True).order_by("part_number", "revision"),
        "steps": Step.objects.filter(archived_at__isnull=True).select_related("process")
        .order_by("process__name", "-process__route_version", "process_id", "sequence"),
        "severities": Severity.choices,
        "panels": panels_for(request, "qms.dashboard"),
    }, status=400 if errors else 200)
