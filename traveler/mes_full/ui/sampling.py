"""Sampling pages: the rule sets, one rule set with its rules, preview and versions, the editor (with
a preview before saving) and the analytics of a rule set per work order."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse

from traveler.core.access import visible
from traveler.core.errors import TravelerError
from traveler.core.ui.generic import (
    RecordArchiveView,
    RecordDetailView,
    RecordHistoryView,
    RecordListView,
    RecordRestoreView,
    ShellView,
)
from traveler.mes_full.choices import SamplingMode, SamplingRuleKind
from traveler.mes_full.models import SamplingRuleSet
from traveler.mes_full.services import sampling as svc
from traveler.mes_full.services import sampling_rules as sr
from traveler.mes_lite.models import PartType, Process, Step

VIEW, CHANGE = "mes_full.view_samplingruleset", "mes_full.change_samplingruleset"
PREVIEW_QUANTITY = 50


class _Perms:
    """Sampling has one permission to read and one to change (create, change, archive)."""

    def can(self, action: str) -> bool:
        return self.request.access.has(VIEW if action == "view" else CHANGE)

    def get_permissions(self) -> list[str]:
        return [VIEW if self.action == "view" else CHANGE]


class RuleSetList(_Perms, RecordListView):
    model = SamplingRuleSet
    columns = ["name", "part_type", "process", "step", "revision", "updated_at"]
    search_fields = ["name", "description"]

    def get_queryset(self):
        return super().get_queryset().select_related("part_type", "process", "step")


def _version_rules(ruleset: SamplingRuleSet):
    version = svc.current_version(ruleset)
    return version, list(version.rules.all())


def _preview(rules, version, quantity: int) -> dict:
    return sr.preview(rules=[sr.rule_of(r) for r in rules], quantity=quantity, fallback_parts=version.fallback_parts,
                      fallback_passes=version.fallback_passes)


def _quantity(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) <= 10_000 else PREVIEW_QUANTITY


class RuleSetDetail(_Perms, RecordDetailView):
    model = SamplingRuleSet
    template_name = "mes_full/sampling/ruleset_detail.html"
    fields = ["name", "description", "part_type", "process", "step", "revision", "created_by", "modified_by"]

    def get_queryset(self):
        return super().get_queryset().select_related("part_type", "process", "step", "created_by", "modified_by")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            version, rules = _version_rules(obj)
            quantity = _quantity(self.request.GET.get("quantity"))
            context.update({
                "version": version, "rules": [(r, sr.describe(sr.rule_of(r))) for r in rules],
                "preview": _preview(rules, version, quantity), "quantity": quantity,
                "versions": [(v, [sr.describe(sr.rule_of(r)) + f" ({r.get_mode_display().lower()})"
                                  for r in v.rules.all()]) for v in svc.ruleset_versions(obj)],
                "analytics_url": reverse("mes_full:samplingruleset-analytics", args=[obj.pk]),
            })
        return context


class RuleSetArchive(RecordArchiveView):
    model = SamplingRuleSet
    permission = CHANGE
    service_kwarg = "ruleset"
    archive_service = svc.ruleset_archive


class RuleSetRestore(RecordRestoreView):
    model = SamplingRuleSet
    permission = CHANGE
    service_kwarg = "ruleset"
    restore_service = svc.ruleset_restore


class RuleSetHistory(RecordHistoryView):
    model = SamplingRuleSet

    def get_permissions(self) -> list[str]:
        return [VIEW, "core.view_history"]


# The editor ------------------------------------------------------------------------------------------

class RuleSetForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    part_type = forms.ModelChoiceField(queryset=PartType.objects.none())
    process = forms.ModelChoiceField(queryset=Process.objects.none(), required=False,
                                     help_text="Empty: every route of the part type.")
    step = forms.ModelChoiceField(queryset=Step.objects.none(), required=False,
                                  help_text="Empty: every step of the process.")
    fallback_parts = forms.IntegerField(required=False, min_value=1, max_value=svc.MAX_COUNT,
                                        label="After a defect, the fallback rules decide for this many parts")
    fallback_passes = forms.IntegerField(required=False, min_value=1, max_value=svc.MAX_COUNT,
                                         label="… or until this many inspections in a row pass")
    quantity = forms.IntegerField(required=False, min_value=1, max_value=10_000, initial=PREVIEW_QUANTITY,
                                  label="Preview for a work order of", help_text="parts")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                             label="Reason for change", help_text="Stored with the new version and in the history.")

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part_type"].queryset = PartType.objects.filter(archived_at__isnull=True).order_by("part_number")
        self.fields["process"].queryset = (Process.objects.filter(archived_at__isnull=True)
                                           .select_related("part_type").order_by("name", "-route_version"))
        self.fields["step"].queryset = (Step.objects.filter(archived_at__isnull=True).select_related("process")
                                        .order_by("process__name", "sequence"))
        self.fields["step"].label_from_instance = lambda s: f"{s.process.name}: {s}"
        if editing:
            for name in ("part_type", "process", "step"):
                self.fields[name].disabled = True


class RuleForm(forms.Form):
    mode = forms.ChoiceField(choices=SamplingMode.choices, initial=SamplingMode.PRIMARY)
    kind = forms.ChoiceField(choices=[("", "—"), *SamplingRuleKind.choices], required=False)
    count = forms.IntegerField(required=False, min_value=1, max_value=svc.MAX_COUNT, label="N")
    percent = forms.DecimalField(required=False, max_digits=7, decimal_places=4, label="%")
    seed = forms.IntegerField(required=False, min_value=0, max_value=svc.MAX_SEED)
    inspection_level = forms.CharField(required=False, max_length=5, label="Level")
    aql = forms.CharField(required=False, max_length=6, label="AQL")


RuleFormSet = forms.formset_factory(RuleForm, extra=3, max_num=50)


def _rule_rows(formset) -> list[dict]:
    rows = []
    for f in formset.forms:
        d = f.cleaned_data if f.is_valid() else {}
        if d.get("kind"):
            rows.append({k: d.get(k) for k in ("mode", "kind", "count", "percent", "seed", "inspection_level", "aql")})
    return rows


class RuleSetEdit(ShellView):
    """Create a rule set (``pk`` None) or change one (a new version when its rules change); the
    "Preview" button shows what the rules would select without saving."""

    permission = CHANGE
    template = "mes_full/sampling/ruleset_form.html"

    def _object(self, pk):
        if pk is None:
            return None
        return get_object_or_404(visible(SamplingRuleSet.objects.all(), self.request.access), pk=pk)

    def page(self, obj, form, rules, preview=None, status=200):
        return render(self.request, self.template, {"object": obj, "form": form, "rules": rules, "preview": preview,
                                                    "cancel_url": reverse("mes_full:samplingruleset-detail",
                                                                          args=[obj.pk]) if obj else
                                                    reverse("mes_full:samplingruleset-list")}, status=status)

    def get(self, request, pk=None):
        obj = self._object(pk)
        if obj is None:
            return self.page(None, RuleSetForm(initial={"quantity": PREVIEW_QUANTITY}), RuleFormSet(prefix="rules"))
        version, rules = _version_rules(obj)
        form = RuleSetForm(editing=True, initial={
            "name": obj.name, "description": obj.description, "part_type": obj.part_type_id, "process": obj.process_id,
            "step": obj.step_id, "fallback_parts": version.fallback_parts, "fallback_passes": version.fallback_passes,
            "quantity": PREVIEW_QUANTITY, "version": obj.version})
        initial = [{k: getattr(r, k) for k in ("mode", "kind", "count", "percent", "seed", "inspection_level", "aql")}
                   for r in rules]
        return self.page(obj, form, RuleFormSet(prefix="rules", initial=initial),
                         preview=_preview(rules, version, PREVIEW_QUANTITY))

    def post(self, request, pk=None):
        obj = self._object(pk)
        form = RuleSetForm(request.POST, editing=obj is not None,
                           initial={"part_type": obj.part_type_id, "process": obj.process_id,
                                    "step": obj.step_id} if obj else None)
        rules = RuleFormSet(request.POST, prefix="rules")
        if not form.is_valid() or not rules.is_valid():
            return self.page(obj, form, rules, status=400)
        d = form.cleaned_data
        rows = _rule_rows(rules)
        try:
            preview = svc.ruleset_preview(rules=rows, quantity=d.get("quantity") or PREVIEW_QUANTITY,
                                          fallback_parts=d.get("fallback_parts"),
                                          fallback_passes=d.get("fallback_passes"))
            if "preview" in request.POST:
                return self.page(obj, form, rules, preview=preview)
            data = {"name": d["name"], "description": d["description"], "rules": rows,
                    "fallback_parts": d.get("fallback_parts"), "fallback_passes": d.get("fallback_passes")}
            if obj is None:
                obj = svc.ruleset_create(data={**data, "part_type": d["part_type"], "process": d.get("process"),
                                               "step": d.get("step")}, reason=d.get("reason") or None)
                messages.success(request, f"Rule set “{obj}” created.")
            else:
                obj = svc.ruleset_update(ruleset=obj, version=d.get("version"), data=data, reason=d.get("reason") or None)
                messages.success(request, f"Rule set “{obj}” saved (version {obj.revision}).")
        except TravelerError as exc:
            fields = getattr(exc, "fields", None) or {}
            for name, errors in fields.items():
                target = name if name in form.fields else None
                form.add_error(target, f"{name}: {'; '.join(map(str, errors))}" if target is None else errors)
            if not fields:
                form.add_error(None, exc.message)
            return self.page(obj, form, rules, status=409 if exc.__class__.__name__ == "Conflict" else 400)
        return HttpResponseRedirect(reverse("mes_full:samplingruleset-detail", args=[obj.pk]))


# Analytics ---------------------------------------------------------------------------------------------

class RuleSetAnalytics(ShellView):
    permission = VIEW

    def get(self, request, pk):
        obj = get_object_or_404(visible(SamplingRuleSet.objects.all(), request.access), pk=pk)
        rows = svc.ruleset_analytics(obj)
        total = sum(r.parts_total for r in rows)
        sampled = sum(r.parts_sampled for r in rows)
        return render(request, "mes_full/sampling/ruleset_analytics.html", {
            "object": obj, "rows": rows, "total": total, "sampled": sampled,
            "fallback": sum(r.parts_fallback for r in rows), "defects": sum(r.defects_found for r in rows),
            "rate": sampled / total if total else None,
            "detail_url": reverse("mes_full:samplingruleset-detail", args=[obj.pk])})


def part_panel(request, part) -> str:
    """The part's sampling decisions: at which step, under which rule set and version, selected or not
    and by which rule."""
    from django.template.loader import render_to_string

    rows = [{"log": d, "rule": sr.describe(sr.rule_of(d.rule)) if d.rule_id else "",
             "url": reverse("mes_full:samplingruleset-detail", args=[d.ruleset_id])} for d in svc.part_decisions(part)]
    return render_to_string("mes_full/sampling/part_panel.html", {"rows": rows}, request=request)


urlpatterns = [
    path("sampling/rule-sets/", RuleSetList.as_view(), name="samplingruleset-list"),
    path("sampling/rule-sets/new/", RuleSetEdit.as_view(), name="samplingruleset-create"),
    path("sampling/rule-sets/<int:pk>/", RuleSetDetail.as_view(), name="samplingruleset-detail"),
    path("sampling/rule-sets/<int:pk>/edit/", RuleSetEdit.as_view(), name="samplingruleset-update"),
    path("sampling/rule-sets/<int:pk>/archive/", RuleSetArchive.as_view(), name="samplingruleset-archive"),
    path("sampling/rule-sets/<int:pk>/restore/", RuleSetRestore.as_view(), name="samplingruleset-restore"),
    path("sampling/rule-sets/<int:pk>/history/", RuleSetHistory.as_view(), name="samplingruleset-history"),
    path("sampling/rule-sets/<int:pk>/analytics/", RuleSetAnalytics.as_view(), name="samplingruleset-analytics"),
]
