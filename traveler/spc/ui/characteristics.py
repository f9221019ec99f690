"""The pages a QA engineer charts the traveler's measurements with: the list of characteristics, a
characteristic's chart (filters, limits, violations, its points), a point's measurements and parts,
the chart settings, and the baselines (history, compute a draft, review it, freeze it signed, discard).

The services compute and write (``services/characteristics.py``, ``services/baselines.py``); these
views parse, check the permission, call one service and render.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe

from traveler.core.auth import client_ip
from traveler.core.errors import TravelerError
from traveler.core.ui.generic import ShellView, add_service_error, panels_for
from traveler.mes_lite.choices import MeasurementKind
from traveler.mes_lite.models import (
    EquipmentUsage,
    MeasurementDefinition,
    PartType,
    Step,
    StepMeasurement,
    WorkOrder,
)
from traveler.spc.choices import BaselineStatus, ChartType
from traveler.spc.models import Characteristic, SPCBaseline
from traveler.spc.services import characteristics as chars
from traveler.spc.services.baselines import baseline_compute, baseline_discard, baseline_freeze
from traveler.spc.services.characteristics import definition_or_404, numeric_definitions
from traveler.spc.stats import chart_svg
from traveler.spc.ui.characteristic_forms import (
    BaselineComputeForm,
    ChartFilterForm,
    DiscardForm,
    FreezeForm,
    SettingsForm,
)

VIEW, CHANGE = "spc.view_characteristic", "spc.change_characteristic"
COMPUTE, FREEZE = "spc.compute_baseline", "spc.freeze_baseline"
STATUS_BADGES = {BaselineStatus.DRAFT: "badge-queued", BaselineStatus.ACTIVE: "badge-success",
                 BaselineStatus.SUPERSEDED: "badge-archived", BaselineStatus.DISCARDED: "badge-dead"}
OPEN_POINTS = 60  # the points table starts folded beyond this many points




def _int(value) -> int | None:
    return int(value) if str(value or "").isdigit() else None


def chart_label(chart: chars.Chart) -> str:
    if chart.baseline is None:
        return "Trial limits: no frozen baseline"
    b = chart.baseline
    if b.status == BaselineStatus.DRAFT:
        return f"Draft baseline #{b.pk} (not frozen), computed {b.created_at:%Y-%m-%d}"
    who = b.frozen_by.full_name or b.frozen_by.email if b.frozen_by else "unknown"
    return f"Baseline #{b.pk}, frozen {b.frozen_at:%Y-%m-%d} by {who}"


def point_url(definition: MeasurementDefinition, key: int, query: str = "") -> str:
    url = reverse("spc:characteristic-point", args=[definition.pk, key])
    return f"{url}?{query}" if query else url


def _violations(chart: chars.Chart, links: list[str]) -> list[dict]:
    """One row per point that breaks a rule: the run rules on the primary chart, the limits on the
    secondary (R, S or MR)."""
    result = chart.result or {}
    by_index: dict[int, list[str]] = {}
    for v in (result.get("rules") or {}).get("violations", []):
        by_index.setdefault(int(v["index"]), []).extend(str(r) for r in v["rules"])
    secondary = result.get("secondary") or {}
    for v in secondary.get("violations", []):
        by_index.setdefault(int(v["index"]), []).append(f"{secondary.get('name', 'secondary')} beyond its limits")
    descriptions = (result.get("rules") or {}).get("descriptions", {})
    rows = []
    for i in sorted(by_index):
        g = chart.groups[i]
        rows.append({"number": i + 1, "key": g.key, "start": g.start, "url": links[i],
                     "rules": [{"code": r, "text": descriptions.get(r, r)} for r in by_index[i]]})
    return rows


def _points(chart: chars.Chart, links: list[str], excluded: dict[int, str] | None = None) -> list[dict]:
    result = chart.result or {}
    values = (result.get("primary") or {}).get("values") or []
    flagged = {int(v["index"]) for v in (result.get("rules") or {}).get("violations", [])}
    flagged |= {int(v["index"]) for v in (result.get("secondary") or {}).get("violations", [])}
    rows = []
    for i, g in enumerate(chart.groups):
        rows.append({"number": i + 1, "key": g.key, "start": g.start, "size": len(g.rows),
                     "value": values[i] if i < len(values) else (sum(g.values) / len(g.values)),
                     "flagged": i in flagged, "url": links[i], "excluded": (excluded or {}).get(g.key)})
    return rows


def _value_label(chart: chars.Chart) -> str:
    return "Value" if (chart.baseline or chart.characteristic).chart_type == ChartType.IMR else "Mean"


def _limits(chart: chars.Chart) -> dict | None:
    """The limits panel: the frozen values of the baseline, or the trial limits of the points shown."""
    result = chart.result
    if result is None and chart.baseline is None:
        return None
    if chart.baseline is not None:
        b = chart.baseline
        return {"source": "baseline", "center": b.center, "ucl": b.ucl, "lcl": b.lcl, "sigma": b.sigma,
                "secondary_center": b.secondary_center, "secondary_ucl": b.secondary_ucl,
                "secondary_lcl": b.secondary_lcl, "subgroup_size": b.subgroup_size,
                "secondary_name": ((result or {}).get("secondary") or {}).get("name", "Range"),
                "primary_name": ((result or {}).get("primary") or {}).get("name", "Values"),
                "vary": bool(((result or {}).get("primary") or {}).get("limits_vary")),
                "sigma_method": (result or {}).get("sigma_method", "")}
    primary, secondary = result["primary"], result.get("secondary") or {}

    def first(v):
        return v[0] if isinstance(v, list) else v

    return {"source": "trial", "center": first(primary["center"]), "ucl": first(primary["ucl"]),
            "lcl": first(primary["lcl"]), "sigma": result.get("sigma"), "sigma_method": result.get("sigma_method"),
            "secondary_center": first(secondary.get("center")), "secondary_ucl": first(secondary.get("ucl")),
            "secondary_lcl": first(secondary.get("lcl")), "primary_name": primary.get("name", "Values"),
            "secondary_name": secondary.get("name", ""), "vary": bool(primary.get("limits_vary"))}


def _drawn(chart: chars.Chart, definition: MeasurementDefinition, query: str, title: str):
    links = [point_url(definition, g.key, query) for g in chart.groups]
    svg = (mark_safe(chart_svg(result=chart.result, title=title, point_links=links))  # engine output, text escaped
           if chart.result is not None else None)
    return links, svg


class CharacteristicList(ShellView):
    """Every numeric measurement definition, by part type and step, with how it is charted."""

    permission = VIEW

    def get(self, request):
        defs = numeric_definitions().order_by("step__process__part_type__part_number", "step__process_id",
                                              "step__sequence", "sequence", "pk")
        part_type, step = _int(request.GET.get("part_type")), _int(request.GET.get("step"))
        if part_type:
            defs = defs.filter(step__process__part_type_id=part_type)
        if step:
            defs = defs.filter(step_id=step)
        defs = list(defs)
        saved = {c.definition_id: c for c in Characteristic.objects.filter(definition__in=defs)}
        active = {b.definition_id: b for b in SPCBaseline.objects.filter(definition__in=defs,
                                                                          status=BaselineStatus.ACTIVE)
                  .select_related("frozen_by")}
        counts = dict(StepMeasurement.objects.filter(definition__in=defs, value__isnull=False)
                      .values_list("definition_id").annotate(n=Count("*")).order_by())
        groups: list[dict] = []
        for d in defs:
            pt = d.step.process.part_type
            if not groups or groups[-1]["part_type"].pk != pt.pk:
                groups.append({"part_type": pt, "rows": []})
            c = saved.get(d.pk)
            groups[-1]["rows"].append({
                "definition": d, "configured": c is not None,
                "chart_type": c.get_chart_type_display() if c else ChartType(chars.DEFAULTS["chart_type"]).label,
                "baseline": active.get(d.pk), "count": counts.get(d.pk, 0),
                "url": reverse("spc:characteristic", args=[d.pk])})
        part_types = PartType.objects.filter(archived_at__isnull=True, processes__steps__measurement_definitions__kind=(
            MeasurementKind.NUMERIC)).distinct().order_by("part_number")
        steps = (Step.objects.filter(process__part_type_id=part_type).select_related("process")
                 .order_by("process_id", "sequence") if part_type else Step.objects.none())
        return render(request, "spc/characteristic_list.html", {
            "groups": groups, "total": len(defs), "part_types": part_types, "steps": steps,
            "part_type": part_type, "step": step})


class CharacteristicChart(ShellView):
    """The chart page: filters, the chart against the active baseline (or trial limits), its
    violations, limits and points."""

    permission = VIEW

    def get(self, request, definition):
        d = definition_or_404(definition)
        form = ChartFilterForm(request.GET or None, definition=d)
        chart = chars.characteristic_chart(d, form.filters())
        query = form.query()
        label = chart_label(chart)
        links, svg = _drawn(chart, d, query, f"{d.label}: {label}")
        if svg is None:
            from traveler.spc.ui.live import message_svg

            svg = mark_safe(message_svg(chart.message))  # its text escaped
        return render(request, "spc/characteristic_detail.html", {
            **_head(request, d, chart.characteristic), "form": form, "chart": chart, "label": label, "svg": svg,
            "query": query, "violations": _violations(chart, links) if chart.result else [],
            "limits": _limits(chart), "capability": (chart.result or {}).get("capability"),
            "points": _points(chart, links), "open_points": len(chart.groups) <= OPEN_POINTS,
            "value_label": _value_label(chart),
            "measurement_count": sum(len(g.rows) for g in chart.groups),
            "descriptions": ((chart.result or {}).get("rules") or {}).get("descriptions", {})})


def plain(value) -> str:
    """A decimal as people write it: 6.01, not 6.01000000."""
    if value is None:
        return "–"
    return format(Decimal(value).normalize(), "f")


def _head(request, d: MeasurementDefinition, c: Characteristic) -> dict:
    lower = c.spec_lower if c.spec_lower is not None else d.lower_limit
    upper = c.spec_upper if c.spec_upper is not None else d.upper_limit
    return {"definition": d, "characteristic": c, "configured": c.pk is not None,
            "part_type": d.step.process.part_type, "spec_text": (plain(lower), plain(upper), plain(d.nominal)),
            "chart_url": reverse("spc:characteristic", args=[d.pk]),
            "settings_url": (reverse("spc:characteristic-settings", args=[d.pk]) if request.access.has(CHANGE)
                             else None),
            "baselines_url": reverse("spc:characteristic-baselines", args=[d.pk]),
            "capability_url": reverse("spc:characteristic-capability", args=[d.pk]),
            "signals_url": (reverse("spc:spcsignal-list") + f"?definition={d.pk}"
                            if request.access.has("spc.view_spcsignal") else None),
            "reaction_plan_url": (reverse("spc:characteristic-reaction-plan", args=[d.pk])
                                  if request.access.has("spc.view_spcsignal") else None)}


class CharacteristicPoint(ShellView):
    """One point of the chart: its subgroup's measurements, parts, steps, work orders, equipment."""

    permission = VIEW

    def get(self, request, definition, key):
        d = definition_or_404(definition)
        form = ChartFilterForm(request.GET or None, definition=d)
        baseline_pk = _int(request.GET.get("baseline"))
        if baseline_pk:  # a point of a baseline's page: its phase I, drawn against it
            base = get_object_or_404(SPCBaseline, pk=baseline_pk, definition=d)
            chart = chars.characteristic_chart(d, _baseline_filters(base), baseline=base)
            query = urlencode({"baseline": baseline_pk})
        else:
            chart = chars.characteristic_chart(d, form.filters())
            query = form.query()
        index = next((i for i, g in enumerate(chart.groups) if g.key == key), None)
        if index is None:
            raise Http404
        group = chart.groups[index]
        rows = list(StepMeasurement.objects.filter(pk__in=[r.id for r in group.rows], definition=d)
                    .select_related("part__work_order", "part__part_type", "step", "recorded_by")
                    .order_by("recorded_at", "pk"))
        used: dict[int, list] = {}
        for u in (EquipmentUsage.objects.filter(transition_id__in=[m.transition_id for m in rows])
                  .select_related("equipment").order_by("pk")):
            used.setdefault(u.transition_id, []).append(u.equipment)
        result = chart.result or {}
        descriptions = (result.get("rules") or {}).get("descriptions", {})
        rules = [{"code": str(r), "text": descriptions.get(r, r)} for v in (result.get("rules") or {}).get("violations", [])
                 if int(v["index"]) == index for r in v["rules"]]
        secondary = result.get("secondary") or {}
        if any(int(v["index"]) == index for v in secondary.get("violations", [])):
            rules.append({"code": "limit", "text": f"{secondary.get('name', 'Range')} beyond its control limits"})
        values = (result.get("primary") or {}).get("values") or []
        return render(request, "spc/characteristic_point.html", {
            **_head(request, d, chart.characteristic), "chart": chart, "label": chart_label(chart),
            "number": index + 1, "of": len(chart.groups), "group": group, "rules": rules,
            "value_label": _value_label(chart),
            "value": values[index] if index < len(values) else None,
            "measurements": [{"m": m, "value": plain(m.value), "equipment": used.get(m.transition_id, [])}
                             for m in rows],
            "back_url": (reverse("spc:spcbaseline-detail", args=[baseline_pk]) if baseline_pk
                         else reverse("spc:characteristic", args=[d.pk]) + (f"?{form.query()}" if form.query() else "")),
            "previous_url": point_url(d, chart.groups[index - 1].key, query) if index > 0 else None,
            "next_url": point_url(d, chart.groups[index + 1].key, query) if index + 1 < len(chart.groups) else None})


class CharacteristicSettings(ShellView):
    """How the characteristic is charted, saved through ``characteristic_save``."""

    permission = CHANGE

    def page(self, request, d, c, form, status=200):
        return render(request, "spc/characteristic_settings.html", {**_head(request, d, c), "form": form},
                      status=status)

    def get(self, request, definition):
        d = definition_or_404(definition)
        c = chars.characteristic_for(d)
        initial = {k: getattr(c, k) for k in chars.SETTINGS}
        initial["version"] = c.version if c.pk else None
        return self.page(request, d, c, SettingsForm(initial=initial))

    def post(self, request, definition):
        d = definition_or_404(definition)
        c = chars.characteristic_for(d)
        form = SettingsForm(request.POST)
        if not form.is_valid():
            return self.page(request, d, c, form, status=400)
        try:
            chars.characteristic_save(definition=d, data=form.settings_data(),
                                      version=form.cleaned_data.get("version") if c.pk else None,
                                      reason=form.cleaned_data.get("reason") or None)
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(request, d, c, form, status=409 if exc.status == 409 else 400)
        messages.success(request, f"Chart settings of {d.label} saved.")
        return HttpResponseRedirect(reverse("spc:characteristic", args=[d.pk]))


class CharacteristicBaselines(ShellView):
    """Every baseline of the characteristic, newest first, and the form that computes a new draft."""

    permission = VIEW

    def get_permissions(self):
        return [VIEW, COMPUTE] if self.request.method == "POST" else [VIEW]

    def page(self, request, d, form=None, status=200):
        baselines = list(SPCBaseline.objects.filter(definition=d)
                         .select_related("computed_by", "frozen_by", "superseded_by__frozen_by")
                         .order_by("-created_at", "-pk"))
        can_compute = request.access.has(COMPUTE)
        if can_compute and form is None:
            form = BaselineComputeForm(definition=d)
        return render(request, "spc/baseline_list.html", {
            **_head(request, d, chars.characteristic_for(d)),
            "baselines": [{"b": b, "badge": STATUS_BADGES.get(b.status, ""),
                           "url": reverse("spc:spcbaseline-detail", args=[b.pk])} for b in baselines],
            "form": form if can_compute else None}, status=status)

    def get(self, request, definition):
        return self.page(request, definition_or_404(definition))

    def post(self, request, definition):
        d = definition_or_404(definition)
        form = BaselineComputeForm(request.POST, definition=d)
        if not form.is_valid():
            return self.page(request, d, form, status=400)
        data = form.cleaned_data
        try:
            draft = baseline_compute(definition=d, range_from=data.get("range_from"), range_to=data.get("range_to"),
                                     work_orders=list(data.get("work_orders") or []), excluded=data.get("excluded"),
                                     notes=data.get("notes") or "")
        except TravelerError as exc:
            exc.fields = {("excluded" if k.startswith("excluded") else k): v for k, v in (exc.fields or {}).items()}
            add_service_error(form, exc)
            return self.page(request, d, form, status=400)
        messages.success(request, f"Draft baseline #{draft.pk} computed from {draft.subgroup_count} "
                                  f"{'points' if draft.subgroup_size == 1 else 'subgroups'}: review it, then freeze it.")
        return HttpResponseRedirect(reverse("spc:spcbaseline-detail", args=[draft.pk]))


def _baseline_filters(b: SPCBaseline) -> chars.Filters:
    """The baseline's phase I. Open-ended, it ended when the baseline was computed: values recorded
    since are not part of it."""
    return chars.Filters(work_orders=tuple(b.work_order_ids or ()), date_from=b.range_from,
                         date_to=b.range_to or b.created_at)


class BaselineDetail(ShellView):
    """A baseline: its phase I drawn against its limits with the violations (for review), its limits,
    exclusions, who computed and froze it, its signature, and the freeze and discard forms of a draft."""

    permission = VIEW

    def get(self, request, pk, *, freeze_form=None, discard_form=None, status=200):
        b = get_object_or_404(SPCBaseline.objects.select_related("computed_by", "frozen_by", "superseded_by"), pk=pk)
        d = get_object_or_404(MeasurementDefinition.objects.select_related("step__process__part_type"),
                              pk=b.definition_id)
        chart = chars.characteristic_chart(d, _baseline_filters(b), baseline=b)
        query = urlencode({"baseline": b.pk})
        links, svg = _drawn(chart, d, query, f"{d.label}: phase I of baseline #{b.pk}")
        excluded = {int(x["key"]): x["reason"] for x in b.excluded or []}
        draft = b.status == BaselineStatus.DRAFT
        active = (SPCBaseline.objects.filter(definition=d, status=BaselineStatus.ACTIVE).exclude(pk=b.pk).first()
                  if draft else None)
        work_orders = list(WorkOrder.objects.filter(pk__in=b.work_order_ids or []).order_by("number"))
        can_freeze = draft and request.access.has(FREEZE)
        can_discard = draft and request.access.has(COMPUTE)
        return render(request, "spc/baseline_detail.html", {
            **_head(request, d, chart.characteristic), "baseline": b, "badge": STATUS_BADGES.get(b.status, ""),
            "chart": chart, "svg": svg, "violations": _violations(chart, links) if chart.result else [],
            "points": _points(chart, links, excluded), "open_points": len(chart.groups) <= OPEN_POINTS,
            "value_label": _value_label(chart), "limits": _limits(chart),
            "excluded": b.excluded or [], "work_orders": work_orders, "active": active,
            "freeze_form": (freeze_form or FreezeForm(prefix="freeze", initial={"version": b.version}))
            if can_freeze else None,
            "discard_form": (discard_form or DiscardForm(prefix="discard")) if can_discard else None,
            "panels": panels_for(request, "spc.baseline.detail", b),
            "descriptions": ((chart.result or {}).get("rules") or {}).get("descriptions", {})}, status=status)


class BaselineFreeze(BaselineDetail):
    """POST: freeze the draft, signed with the QA manager's password."""

    permission = FREEZE
    http_method_names = ["post"]

    def post(self, request, pk):
        b = get_object_or_404(SPCBaseline, pk=pk)
        form = FreezeForm(request.POST, prefix="freeze")
        if not form.is_valid():
            return self.get(request, pk, freeze_form=form, status=400)
        d = form.cleaned_data
        try:
            frozen = baseline_freeze(baseline=b, user=request.user, password=d["password"], reason=d.get("reason"),
                                     version=d.get("version"), ip=client_ip(request))
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.get(request, pk, freeze_form=form, status=409 if exc.status == 409 else 400)
        messages.success(request, f"Baseline #{frozen.pk} is frozen: it is the active baseline of "
                                  f"{frozen.definition.label}.")
        return HttpResponseRedirect(reverse("spc:spcbaseline-detail", args=[frozen.pk]))


class BaselineDiscard(BaselineDetail):
    """POST: discard the draft (it stays in the history)."""

    permission = COMPUTE
    http_method_names = ["post"]

    def post(self, request, pk):
        b = get_object_or_404(SPCBaseline, pk=pk)
        form = DiscardForm(request.POST, prefix="discard")
        if not form.is_valid():
            return self.get(request, pk, discard_form=form, status=400)
        try:
            baseline_discard(baseline=b, reason=form.cleaned_data.get("reason") or None)
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.get(request, pk, discard_form=form, status=400)
        messages.success(request, f"Draft baseline #{b.pk} is discarded.")
        return HttpResponseRedirect(reverse("spc:characteristic-baselines", args=[b.definition_id]))
