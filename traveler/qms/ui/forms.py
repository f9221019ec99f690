"""Forms of Quality's pages. They parse input; the services decide and write."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from traveler.core.models import User
from traveler.core.tenancy import current_tenant
from traveler.mes_lite.choices import MeasurementKind
from traveler.mes_lite.models import Equipment, MeasurementDefinition, Part, PartType, Step
from traveler.qms.models import QualityErrorsList, QualityReport


class DefectCodeForm(forms.ModelForm):
    part_types = forms.ModelMultipleChoiceField(queryset=PartType.objects.none(), required=False,
                                                help_text="Only on parts of these types (none: any).")
    steps = forms.ModelMultipleChoiceField(queryset=Step.objects.none(), required=False,
                                           help_text="Only at these steps (none: any).")

    class Meta:
        model = QualityErrorsList
        fields = ["code", "description", "severity", "part_types", "steps"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part_types"].queryset = PartType.objects.filter(archived_at__isnull=True)
        self.fields["steps"].queryset = Step.objects.filter(archived_at__isnull=True).select_related("process")
        self.fields["steps"].label_from_instance = lambda s: f"{s.process.name} v{s.process.route_version}: {s}"
        if self.instance.pk:
            self.initial["part_types"] = list(self.instance.part_types.all())
            self.initial["steps"] = list(self.instance.steps.all())


EXTRA_DEFECT_ROWS = 2  # empty defect rows offered below the recorded ones


class QualityReportForm(forms.ModelForm):
    """Part and step are chosen on create and never change. Once the step is known (the report is
    being edited, or the new-report page was opened with ``?step=``), the form has a field for each of
    the step's measurement definitions and rows of defect code + count (the codes that apply to the
    part's type and the step); ``results()`` and ``defects()`` turn them into the service's lists."""

    part = forms.ModelChoiceField(queryset=Part.objects.none())
    step = forms.ModelChoiceField(queryset=Step.objects.none(), help_text="A step of the part's route.")
    inspectors = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False)
    equipment = forms.ModelMultipleChoiceField(queryset=Equipment.objects.none(), required=False)

    class Meta:
        model = QualityReport
        fields = ["part", "step", "status", "description", "inspectors", "equipment"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part"].queryset = Part.objects.filter(archived_at__isnull=True)
        self.fields["step"].queryset = Step.objects.filter(archived_at__isnull=True).select_related("process")
        self.fields["step"].label_from_instance = lambda s: f"{s.process.name} v{s.process.route_version}: {s}"
        self.fields["inspectors"].queryset = User.objects.filter(
            memberships__tenant=current_tenant(), memberships__is_active=True).distinct().order_by("full_name")
        self.fields["inspectors"].label_from_instance = lambda u: u.full_name or u.email
        self.fields["equipment"].queryset = Equipment.objects.filter(archived_at__isnull=True)
        if self.instance.pk:
            for name in ("part", "step"):
                self.fields[name].disabled = True
            self.initial["inspectors"] = list(self.instance.inspectors.all())
            self.initial["equipment"] = list(self.instance.equipment.all())
        self.choose(self.chosen("step", Step), self.chosen("part", Part))

    def chosen(self, name: str, model):
        """The step or part this form is about: the report's own, else the posted or initial one."""
        if self.instance.pk:
            return getattr(self.instance, name)
        raw = self.data.get(name) if self.is_bound else self.initial.get(name)
        raw = getattr(raw, "pk", raw)
        if raw in (None, "") or not str(raw).isdigit():
            return None
        return model.objects.filter(pk=int(raw), archived_at__isnull=True).first()

    def choose(self, step: Step | None, part: Part | None) -> None:
        """Add the result fields of ``step`` and the defect rows of codes that apply there."""
        for name in [n for n in self.fields if n.startswith(("result_", "defect_"))]:
            del self.fields[name]
        self.definitions: list[MeasurementDefinition] = []
        self.defect_rows = 0
        if step is None:
            return
        self.definitions = list(step.measurement_definitions.filter(archived_at__isnull=True).order_by("sequence", "pk"))
        recorded = {r.definition_id: r for r in self.instance.results.all()} if self.instance.pk else {}
        for d in self.definitions:
            name, r = f"result_{d.pk}", recorded.get(d.pk)
            if d.kind == MeasurementKind.PASS_FAIL:
                self.fields[name] = forms.ChoiceField(
                    label=d.label, required=False, choices=[("", "Not measured"), ("pass", "Pass"), ("fail", "Fail")])
                if r is not None:
                    self.initial[name] = "pass" if r.passed else "fail"
            else:
                spec = f"{d.lower_limit.normalize()} – {d.upper_limit.normalize()} {d.unit}".strip()
                self.fields[name] = forms.DecimalField(label=f"{d.label} ({d.unit})" if d.unit else d.label,
                                                       required=False, help_text=f"Specification {spec}.")
                if r is not None:
                    self.initial[name] = r.value.normalize() if r.value is not None else None
        codes = QualityErrorsList.objects.filter(archived_at__isnull=True).order_by("code")
        if part is not None:
            codes = codes.filter(Q(part_types__isnull=True) | Q(part_types=part.part_type_id))
        codes = codes.filter(Q(steps__isnull=True) | Q(steps=step.pk)).distinct()
        found = list(self.instance.defect_links.order_by("pk")) if self.instance.pk else []
        self.defect_rows = len(found) + EXTRA_DEFECT_ROWS
        for i in range(self.defect_rows):
            self.fields[f"defect_{i}_code"] = forms.ModelChoiceField(
                queryset=codes, required=False, label=f"Defect {i + 1}", empty_label="—")
            self.fields[f"defect_{i}_code"].label_from_instance = lambda c: f"{c.code} – {c.description}"
            self.fields[f"defect_{i}_count"] = forms.IntegerField(label="Count", min_value=1, required=False)
            if i < len(found):
                self.initial[f"defect_{i}_code"] = found[i].error_id
                self.initial[f"defect_{i}_count"] = found[i].count

    def clean(self):
        data = super().clean()
        for i in range(getattr(self, "defect_rows", 0)):
            if data.get(f"defect_{i}_count") and not data.get(f"defect_{i}_code"):
                self.add_error(f"defect_{i}_code", "Choose the defect code of this count.")
        return data

    def results_changed(self) -> bool:
        return any(f"result_{d.pk}" in self.changed_data for d in self.definitions)

    def defects_changed(self) -> bool:
        return any(n.startswith("defect_") for n in self.changed_data)

    def results(self) -> list[dict]:
        """Every measurement given, for the service (which decides in or out of specification)."""
        out = []
        for d in self.definitions:
            value = self.cleaned_data.get(f"result_{d.pk}")
            if value not in (None, ""):
                out.append({"definition": d, "value": value})
        return out

    def defects(self) -> list[dict]:
        return [{"code": self.cleaned_data[f"defect_{i}_code"], "count": self.cleaned_data.get(f"defect_{i}_count") or 1}
                for i in range(self.defect_rows) if self.cleaned_data.get(f"defect_{i}_code")]
