"""Forms of MES Lite's pages. They parse input; the services decide and write."""

from __future__ import annotations

from datetime import date

from django import forms

from traveler.core.models import Company
from traveler.mes_lite.choices import CalibrationResult, MeasurementKind, OrderStatus, ProcessStatus
from traveler.mes_lite.models import Equipment, EquipmentType, Order, PartType, Process, WorkOrder

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PartTypeForm(forms.ModelForm):
    class Meta:
        model = PartType
        fields = ["part_number", "revision", "name", "description", "max_rework_attempts"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ProcessForm(forms.ModelForm):
    class Meta:
        model = Process
        fields = ["part_type", "name"]
        help_texts = {"name": "A new process starts as draft version 1: add its steps, then release it."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part_type"].queryset = PartType.objects.filter(archived_at__isnull=True)


class StepForm(forms.Form):
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="Work instruction shown to the operator.")


class MeasurementDefinitionForm(forms.Form):
    label = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    kind = forms.ChoiceField(choices=MeasurementKind.choices, initial=MeasurementKind.NUMERIC,
                             widget=forms.RadioSelect)
    unit = forms.CharField(max_length=30, required=False, help_text="For numeric values, e.g. mm, bar, N·m.")
    nominal = forms.DecimalField(max_digits=20, decimal_places=8, required=False,
                                 widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    lower_tol = forms.DecimalField(label="Lower tolerance", max_digits=20, decimal_places=8, required=False,
                                   widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                                   help_text="How far below nominal is still in spec (a positive number).")
    upper_tol = forms.DecimalField(label="Upper tolerance", max_digits=20, decimal_places=8, required=False,
                                   widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                                   help_text="How far above nominal is still in spec (a positive number).")
    required = forms.BooleanField(required=False, initial=True, label="Required: the part cannot advance without it")
    equipment_type = forms.ModelChoiceField(
        queryset=EquipmentType.objects.none(), required=False, label="Measured with",
        help_text="A type of gauge: recording this value then needs calibrated equipment of the type.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["equipment_type"].queryset = EquipmentType.objects.filter(archived_at__isnull=True)


class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["number", "company", "name", "estimated_completion"]
        widgets = {"estimated_completion": DATE}
        labels = {"name": "Description", "company": "Customer"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.filter(archived_at__isnull=True).order_by("name")


class WorkOrderForm(forms.ModelForm):
    class Meta:
        model = WorkOrder
        fields = ["number", "order", "process", "quantity", "erp_id", "expected_completion"]
        widgets = {"expected_completion": DATE}
        labels = {"erp_id": "ERP id", "process": "Process (released)"}
        help_texts = {"process": "The route the parts follow; it decides the part type."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["process"].queryset = Process.objects.filter(
            status=ProcessStatus.RELEASED, archived_at__isnull=True).select_related("part_type")
        self.fields["process"].label_from_instance = lambda p: f"{p} · {p.part_type}"
        self.fields["order"].queryset = Order.objects.filter(archived_at__isnull=True).exclude(
            status__in=[OrderStatus.COMPLETED, OrderStatus.CANCELLED])


class CreatePartsForm(forms.Form):
    pattern = forms.CharField(
        label="Serial-number pattern", max_length=80, initial="{pn}-{yyyy}-{seq:05}",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Tokens: {yyyy} {yy} {mm} {dd} {wo} (work order) {pn} (part number) and one {seq} or {seq:05}.")
    quantity = forms.IntegerField(min_value=1, required=False, help_text="Empty: all the parts still to create.")


class EquipmentTypeForm(forms.ModelForm):
    class Meta:
        model = EquipmentType
        fields = ["name", "calibration_interval_days", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class EquipmentForm(forms.ModelForm):
    """New equipment may come with its calibration; afterwards the calibration changes only by recording one
    (the page's calibration form), so editing shows no calibration fields."""

    class Meta:
        model = Equipment
        fields = ["equipment_type", "name", "serial_number", "last_calibration", "calibration_certificate"]
        widgets = {"last_calibration": DATE}
        labels = {"last_calibration": "Calibrated on"}
        help_texts = {"last_calibration": "Its calibration, if it arrives calibrated: the due date follows from the "
                                          "type's interval. Empty: record a calibration before it is used."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["equipment_type"].queryset = EquipmentType.objects.filter(archived_at__isnull=True)
        if self.instance.pk:
            for name in ("last_calibration", "calibration_certificate"):
                del self.fields[name]


class CalibrationForm(forms.Form):
    calibrated_on = forms.DateField(widget=DATE, initial=date.today, label="Calibrated on")
    result = forms.ChoiceField(choices=CalibrationResult.choices, initial=CalibrationResult.PASS, required=False)

    def clean_result(self):
        return self.cleaned_data["result"] or CalibrationResult.PASS
    certificate = forms.CharField(required=False, max_length=200, label="Certificate reference",
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    reason = forms.CharField(required=False, max_length=1000, label="Note",
                             widget=forms.TextInput(attrs={"autocomplete": "off"}))
