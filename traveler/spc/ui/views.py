"""The control-chart and sampling-plan pages: the same engine and SVG as the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from traveler.core.access import check
from traveler.spc.reports import chart_pdf
from traveler.spc.stats import StatsInputError, analyze, chart_svg, oc_curve, z14_plan
from traveler.spc.ui.forms import ChartForm, SamplingForm

PERM = "spc.use_calculators"
ENGINE_TO_FORM = {"subgroups": "data", "values": "data", "counts": "data", "defectives": "data",
                  "sample_sizes": "data", "result": "data"}


def _allowed(request) -> None:
    check(request.access, request.user, PERM)


def _run(form: ChartForm):
    try:
        result = analyze(**form.cleaned_data["engine_kwargs"])
        svg = chart_svg(result=result, title=form.cleaned_data.get("title") or None)
        return result, svg
    except StatsInputError as exc:
        field = ENGINE_TO_FORM.get(exc.field, exc.field)
        form.add_error(field if field in form.fields else None, exc.message)
        return None, None


@login_required
def chart(request):
    _allowed(request)
    form = ChartForm(request.POST or None)
    result = svg = None
    if request.method == "POST" and form.is_valid():
        result, svg = _run(form)
        if result is not None and request.POST.get("format") == "pdf":
            pdf = chart_pdf(svg=svg, result=result, title=form.cleaned_data.get("title") or "Control chart",
                            tenant=request.tenant.name, user=request.user.full_name)
            resp = HttpResponse(pdf, content_type="application/pdf")
            resp["Content-Disposition"] = 'attachment; filename="control-chart.pdf"'
            return resp
    violations = result["rules"]["violations"] if result else []
    return render(request, "spc/chart.html", {
        "form": form, "result": result, "svg": mark_safe(svg) if svg else None,  # engine output, text escaped
        "violations": violations, "capability": (result or {}).get("capability"),
        "descriptions": (result or {}).get("rules", {}).get("descriptions", {}),
    })


@login_required
def sampling(request):
    _allowed(request)
    form = SamplingForm(request.GET or None)
    plan = oc = None
    if request.GET and form.is_valid():
        try:
            plan = z14_plan(**form.cleaned_data)
            oc = oc_curve(n=plan["sample_size"], c=plan["acceptance_number"], points=11,
                          lot_size=form.cleaned_data["lot_size"] if plan["sample_size"] < form.cleaned_data["lot_size"]
                          else None)
        except StatsInputError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            plan = None
    return render(request, "spc/sampling.html", {"form": form, "plan": plan, "oc": oc})


