from __future__ import annotations

import re

from django import forms

from traveler.spc.stats.rules import RULE_SETS

CHARTS = [
    ("xbar_r", "X-bar / R (subgroups)"), ("xbar_s", "X-bar / S (subgroups)"), ("imr", "Individuals / moving range"),
    ("p", "p: fraction defective"), ("np", "np: number defective"), ("c", "c: defects per unit"),
    ("u", "u: defects per unit, varying size"),
]
ATTRIBUTE = {"p", "np", "u"}
RULE_CHOICES = [("nelson", "Nelson (8 rules)"), ("we", "Western Electric (4 rules)"), ("N1", "Beyond the limits only")]
LEVELS = [(x, x) for x in ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")]
SEVERITIES = [("normal", "Normal"), ("tightened", "Tightened"), ("reduced", "Reduced")]
SPLIT = re.compile(r"[,;\s]+")


class ChartForm(forms.Form):
    chart_type = forms.ChoiceField(choices=CHARTS, initial="xbar_r")
    data = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "mono"}),
        help_text="One line per subgroup (values separated by spaces or commas) for X-bar charts; one value per "
                  "line for individuals and c charts; “count, sample size” per line for p, np and u charts.",
    )
    rules = forms.ChoiceField(choices=RULE_CHOICES, initial="nelson")
    phase1 = forms.IntegerField(required=False, min_value=2, label="Limits from the first k points",
                                help_text="Leave empty to compute the limits from all points.")
    lsl = forms.FloatField(required=False, label="Lower specification limit")
    usl = forms.FloatField(required=False, label="Upper specification limit")
    target = forms.FloatField(required=False)
    capability_phase = forms.ChoiceField(
        required=False, label="Capability over",
        choices=[("", "Phase I if the limits come from the first k points, else all points"),
                 ("phase1", "Phase I: the first k points"), ("phase2", "Phase II: the points after the first k"),
                 ("all", "All points")])
    title = forms.CharField(required=False, max_length=200)

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get("data") or ""
        chart = cleaned.get("chart_type")
        rows = []
        for number, line in enumerate(text.strip().splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append([float(x) for x in SPLIT.split(line) if x])
            except ValueError:
                self.add_error("data", f"Line {number} is not a list of numbers: “{line[:40]}”.")
                return cleaned
        if not rows:
            self.add_error("data", "Enter the data, one line per point.")
            return cleaned
        kwargs = {"chart_type": chart, "rules": cleaned.get("rules") if cleaned.get("rules") in RULE_SETS
                  else [cleaned.get("rules")]}
        if chart in ("xbar_r", "xbar_s"):
            kwargs["data"] = rows
        elif chart in ATTRIBUTE:
            if any(len(r) != 2 for r in rows):
                self.add_error("data", "Each line needs two numbers: the count and the sample size.")
                return cleaned
            kwargs["data"] = [r[0] for r in rows]
            kwargs["sample_sizes"] = [r[1] for r in rows]
        else:
            kwargs["data"] = [v for r in rows for v in r]
        for key in ("phase1", "lsl", "usl", "target", "capability_phase"):
            if cleaned.get(key) not in (None, ""):
                kwargs[key] = cleaned[key]
        cleaned["engine_kwargs"] = kwargs
        return cleaned


class SamplingForm(forms.Form):
    lot_size = forms.IntegerField(min_value=1, label="Lot size")
    level = forms.ChoiceField(choices=LEVELS, initial="II", label="Inspection level")
    aql = forms.CharField(label="AQL (%)", initial="1.0", max_length=10)
    severity = forms.ChoiceField(choices=SEVERITIES, initial="normal")
