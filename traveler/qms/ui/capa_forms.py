"""Forms of the CAPA pages. They parse input; the services decide and write. No form has a state
field: a CAPA's state moves only through its transition buttons."""

from __future__ import annotations

from django import forms

from traveler.core.models import User
from traveler.core.tenancy import current_tenant
from traveler.mes_lite.models import Part, Step, WorkOrder
from traveler.qms.choices import FishboneCategory, RcaMethod, VerificationOutcome
from traveler.qms.models import CAPA, CapaTask, QualityReport, QuarantineDisposition

WHY_ROWS = 5


def _members():
    return User.objects.filter(memberships__tenant=current_tenant(), memberships__is_active=True).distinct().order_by(
        "full_name")


def _people(field):
    field.queryset = _members()
    field.label_from_instance = lambda u: u.full_name or u.email


class CapaForm(forms.ModelForm):
    nonconformances = forms.ModelMultipleChoiceField(queryset=QuarantineDisposition.objects.none(), required=False)
    quality_reports = forms.ModelMultipleChoiceField(queryset=QualityReport.objects.none(), required=False)
    parts = forms.ModelMultipleChoiceField(queryset=Part.objects.none(), required=False)
    work_orders = forms.ModelMultipleChoiceField(queryset=WorkOrder.objects.none(), required=False)
    steps = forms.ModelMultipleChoiceField(queryset=Step.objects.none(), required=False)

    class Meta:
        model = CAPA
        fields = ["title", "capa_type", "severity", "problem_statement", "immediate_action", "due_date", "owner",
                  "nonconformances", "quality_reports", "parts", "work_orders", "steps"]
        widgets = {"problem_statement": forms.Textarea(attrs={"rows": 3}),
                   "immediate_action": forms.Textarea(attrs={"rows": 2}),
                   "due_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _people(self.fields["owner"])
        self.fields["nonconformances"].queryset = QuarantineDisposition.objects.order_by("-pk")
        self.fields["nonconformances"].label_from_instance = lambda n: f"{n.number}: {n.title}"
        self.fields["quality_reports"].queryset = QualityReport.objects.filter(archived_at__isnull=True)
        self.fields["parts"].queryset = Part.objects.filter(archived_at__isnull=True)
        self.fields["work_orders"].queryset = WorkOrder.objects.filter(archived_at__isnull=True)
        self.fields["steps"].queryset = Step.objects.filter(archived_at__isnull=True).select_related("process")
        self.fields["steps"].label_from_instance = lambda s: f"{s.process.name} v{s.process.route_version}: {s}"
        if self.instance.pk:
            for name in ("nonconformances", "quality_reports", "parts", "work_orders", "steps"):
                self.initial[name] = list(getattr(self.instance, name).all())


class CapaTaskForm(forms.ModelForm):
    assignees = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False,
                                               help_text="Who does it (none: the owner).")

    class Meta:
        model = CapaTask
        fields = ["kind", "title", "description", "owner", "assignees", "completion_rule", "due_date"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "due_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _people(self.fields["owner"])
        _people(self.fields["assignees"])


class SignForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="Your password signs it (21 CFR Part 11).")


class VerificationForm(forms.Form):
    outcome = forms.ChoiceField(choices=VerificationOutcome.choices)
    method = forms.CharField(max_length=300, help_text="How the effectiveness was verified (e.g. leak test of 50 parts).")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="Your password signs the verification.")


class RcaForm(forms.Form):
    """The whole analysis on one form: five rows of Why, the causes under each M (one a line), and the
    root causes (one a line) with the number of the primary one."""

    method = forms.ChoiceField(choices=RcaMethod.choices)
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    root_causes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="One root cause a line.")
    primary = forms.IntegerField(required=False, min_value=1, max_value=200,
                                 help_text="The line number of the primary root cause (1 for the first).")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, rca=None, **kwargs):
        super().__init__(*args, **kwargs)
        whys = list(rca.whys.all()) if rca else []
        for i in range(1, WHY_ROWS + 1):
            w = whys[i - 1] if i <= len(whys) else None
            self.fields[f"why_{i}_question"] = forms.CharField(label=f"Why {i}: question", required=False,
                                                               initial=w.question if w else "")
            self.fields[f"why_{i}_answer"] = forms.CharField(label=f"Why {i}: answer", required=False,
                                                             initial=w.answer if w else "")
        causes = list(rca.causes.all()) if rca else []
        for code, label in FishboneCategory.choices:
            self.fields[f"causes_{code}"] = forms.CharField(
                label=label, required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One cause a line.",
                initial="\n".join(c.description for c in causes if c.category == code))
        if rca:
            roots = list(rca.root_causes.all())
            self.initial.update({"method": rca.method, "summary": rca.summary, "version": rca.version,
                                 "root_causes": "\n".join(r.description for r in roots),
                                 "primary": next((i for i, r in enumerate(roots, 1) if r.is_primary), None)})

    def why_rows(self):
        return [(self[f"why_{i}_question"], self[f"why_{i}_answer"]) for i in range(1, WHY_ROWS + 1)]

    def cause_fields(self):
        return [self[f"causes_{code}"] for code in FishboneCategory.values]

    def analysis(self) -> dict:
        """The service's input: whys, causes and root causes."""
        d = self.cleaned_data
        whys = []
        for i in range(1, WHY_ROWS + 1):
            q, a = d.get(f"why_{i}_question", "").strip(), d.get(f"why_{i}_answer", "").strip()
            if q or a:
                whys.append({"question": q, "answer": a})
        causes = [{"category": code, "description": line.strip()} for code in FishboneCategory.values
                  for line in d.get(f"causes_{code}", "").splitlines() if line.strip()]
        lines = [line.strip() for line in d.get("root_causes", "").splitlines() if line.strip()]
        primary = d.get("primary") or (1 if len(lines) == 1 else None)
        roots = [{"description": text, "is_primary": i == primary} for i, text in enumerate(lines, 1)]
        return {"method": d["method"], "summary": d.get("summary", ""), "whys": whys, "causes": causes,
                "root_causes": roots}
