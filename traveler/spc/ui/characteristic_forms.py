"""Forms of the characteristic and baseline pages. They parse input; the services decide and write."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django import forms

from traveler.core.models import User
from traveler.mes_lite.models import Equipment, MeasurementDefinition, PartType, Step, StepMeasurement, WorkOrder
from traveler.spc.choices import ChartType, Subgrouping
from traveler.spc.services import characteristics as chars

DATETIME = {"type": "datetime-local"}
EXCLUDED_LINE = re.compile(r"^\s*#?(\d+)\s*[:,;\-–]\s*(.+?)\s*$")


def _when(label: str, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(required=False, label=label, help_text=help_text,
                               widget=forms.DateTimeInput(attrs=DATETIME, format="%Y-%m-%dT%H:%M"))


def _work_orders(definition: MeasurementDefinition):
    measured = StepMeasurement.objects.filter(definition=definition).values("part__work_order_id")
    return WorkOrder.objects.filter(pk__in=measured).order_by("-created_at", "-pk")


class _UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.full_name or obj.email


class ChartFilterForm(forms.Form):
    """The chart page's filters (GET), mapped to ``Filters``."""

    part_type = forms.ModelChoiceField(queryset=PartType.objects.none(), required=False, empty_label="Any")
    step = forms.ModelChoiceField(queryset=Step.objects.none(), required=False, empty_label="Any")
    work_order = forms.ModelChoiceField(queryset=WorkOrder.objects.none(), required=False, empty_label="Any")
    equipment = forms.ModelChoiceField(queryset=Equipment.objects.none(), required=False, empty_label="Any")
    operator = _UserChoice(queryset=User.objects.none(), required=False, empty_label="Anyone",
                           label="Recorded by")
    date_from = _when("From", "Measurements recorded at or after this time.")
    date_to = _when("Until", "Measurements recorded before this time.")

    def __init__(self, *args, definition: MeasurementDefinition, **kwargs):
        super().__init__(*args, **kwargs)
        part_type_id = definition.step.process.part_type_id
        measured = StepMeasurement.objects.filter(definition=definition)
        self.fields["part_type"].queryset = PartType.objects.filter(archived_at__isnull=True).order_by("part_number")
        self.fields["step"].queryset = (Step.objects.filter(process__part_type_id=part_type_id)
                                        .select_related("process").order_by("process_id", "sequence"))
        self.fields["step"].label_from_instance = lambda s: f"{s.process.name} v{s.process.route_version}: {s.name}"
        self.fields["work_order"].queryset = _work_orders(definition)
        self.fields["equipment"].queryset = Equipment.objects.filter(archived_at__isnull=True).order_by("name")
        self.fields["operator"].queryset = User.objects.filter(
            pk__in=measured.exclude(recorded_by__isnull=True).values("recorded_by_id")).order_by("full_name")

    def filters(self) -> chars.Filters:
        d = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return chars.Filters(
            part_type=getattr(d.get("part_type"), "pk", None), step=getattr(d.get("step"), "pk", None),
            work_orders=(d["work_order"].pk,) if d.get("work_order") else (),
            equipment=getattr(d.get("equipment"), "pk", None), operator=getattr(d.get("operator"), "pk", None),
            date_from=d.get("date_from"), date_to=d.get("date_to"))

    def query(self) -> str:
        """The valid filters as a URL query string (no "?"): carried to the point pages and the live chart."""
        if not self.is_bound or not self.is_valid():
            return ""
        out = []
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            out.append((name, value.strftime("%Y-%m-%dT%H:%M") if name.startswith("date_") else value.pk))
        return urlencode(out)

    @property
    def active(self) -> bool:
        return bool(self.query())


class SettingsForm(forms.Form):
    """How a characteristic is charted; saved through ``characteristic_save``."""

    chart_type = forms.ChoiceField(choices=ChartType.choices,
                                   help_text="I-MR plots each part; X̄-R and X̄-S plot subgroups of parts.")
    subgroup_size = forms.IntegerField(min_value=1, max_value=chars.MAX_SUBGROUP,
                                       help_text="Parts per subgroup (consecutive parts); 1 for an I-MR chart.")
    subgrouping = forms.ChoiceField(choices=Subgrouping.choices, help_text="How parts form a subgroup.")
    window_minutes = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, label="Time window (minutes)",
                                        help_text="Per time window: the length of a window.")
    shift_start = forms.TimeField(widget=forms.TimeInput(attrs={"placeholder": "06:00", "inputmode": "numeric"},
                                                         format="%H:%M"),
                                  help_text="Per shift: when the first shift of the day starts (HH:MM).")
    shift_hours = forms.IntegerField(min_value=1, max_value=24, label="Shift length (hours)")
    rules = forms.CharField(max_length=200, required=False, label="Run rules",
                            help_text="A set (nelson, western_electric) or rule codes, e.g. N1,N2,N5. "
                                      "Empty: the default set.")
    show_capability = forms.BooleanField(required=False, label="Show capability (Cp, Cpk, Pp, Ppk)")
    spec_lower = forms.DecimalField(max_digits=20, decimal_places=8, required=False,
                                    label="Lower specification", help_text="Empty: the measurement's own.")
    spec_upper = forms.DecimalField(max_digits=20, decimal_places=8, required=False,
                                    label="Upper specification", help_text="Empty: the measurement's own.")
    target = forms.DecimalField(max_digits=20, decimal_places=8, required=False,
                                help_text="For Cpm; empty: none.")
    reason = forms.CharField(max_length=1000, required=False, label="Reason for change",
                             widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the settings' history.")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def settings_data(self) -> dict:
        d = self.cleaned_data
        data = {k: d[k] for k in chars.SETTINGS if k in d}
        data["rules"] = (data.get("rules") or "").strip()
        return data


class BaselineComputeForm(forms.Form):
    """Phase I of a new draft baseline."""

    range_from = _when("From", "Measurements recorded at or after this time (empty: from the first).")
    range_to = _when("Until", "Measurements recorded before this time (empty: up to now).")
    work_orders = forms.ModelMultipleChoiceField(queryset=WorkOrder.objects.none(), required=False,
                                                 widget=forms.SelectMultiple(attrs={"size": 6}),
                                                 help_text="Only these work orders (none chosen: any).")
    excluded = forms.CharField(required=False, label="Excluded subgroups", widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="One per line: the subgroup's key (the Key column of the chart page), "
                                         "a colon, and why it is left out; e.g. “1234: gauge not zeroed”.")
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, definition: MeasurementDefinition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work_orders"].queryset = _work_orders(definition)

    def clean_excluded(self) -> list[dict]:
        out = []
        for number, line in enumerate((self.cleaned_data.get("excluded") or "").splitlines(), start=1):
            if not line.strip():
                continue
            m = EXCLUDED_LINE.match(line)
            if not m:
                raise forms.ValidationError(f"Line {number}: write the subgroup's key, a colon and the reason "
                                            f"(“{line.strip()[:40]}”).")
            out.append({"key": int(m.group(1)), "reason": m.group(2)})
        return out


class FreezeForm(forms.Form):
    password = forms.CharField(strip=False, label="Your password",
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               help_text="Freezing is signed: meaning “approved”.")
    reason = forms.CharField(max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Why the active baseline is superseded (required when there is one).")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class DiscardForm(forms.Form):
    reason = forms.CharField(max_length=1000, required=False, label="Why it is discarded",
                             widget=forms.Textarea(attrs={"rows": 2}))
