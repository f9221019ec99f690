"""Forms of Quality's pages. They parse input; the services decide and write."""

from __future__ import annotations

from django import forms

from traveler.core.models import User
from traveler.core.tenancy import current_tenant
from traveler.mes_lite.models import Equipment, Part, PartType, Step
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


class QualityReportForm(forms.ModelForm):
    """Part and step are chosen on create and never change; results and defects are recorded through
    the API (the detail page shows them)."""

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
