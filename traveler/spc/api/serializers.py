from rest_framework import serializers

from traveler.core.api.base import InputSerializer
from traveler.spc.stats.analyze import CAPABILITY_PHASES, CHART_TYPES


class AnalyzeInput(InputSerializer):
    chart_type = serializers.ChoiceField(choices=CHART_TYPES)
    data = serializers.JSONField(help_text="Subgroups (list of lists) for xbar_r/xbar_s, values for imr, "
                                           "counts for p/np/c/u.")
    sample_sizes = serializers.JSONField(required=False, allow_null=True,
                                         help_text="Sample size per point (p, np, u), or one number.")
    phase1 = serializers.IntegerField(required=False, allow_null=True,
                                      help_text="Compute the limits from the first k subgroups only.")
    baseline = serializers.DictField(required=False, allow_null=True,
                                     help_text="Frozen limits: center and sigma, or ucl/lcl (plus secondary_*).")
    rules = serializers.JSONField(required=False, default="nelson",
                                  help_text='"nelson", "we", a list such as ["N1", "WE2"], or {"nelson": [1, 5]}.')
    lsl = serializers.FloatField(required=False, allow_null=True)
    usl = serializers.FloatField(required=False, allow_null=True)
    target = serializers.FloatField(required=False, allow_null=True)
    confidence = serializers.FloatField(required=False, default=0.95)
    sigma_method = serializers.CharField(required=False, allow_null=True)
    capability_phase = serializers.ChoiceField(
        choices=CAPABILITY_PHASES, required=False, allow_null=True,
        help_text="Points capability is computed over: phase1 (default when phase1 is given), phase2 or all.")
    title = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                  help_text="Heading of the SVG / PDF.")


class PlanQuery(InputSerializer):
    lot_size = serializers.IntegerField(help_text="Number of units in the lot (2 or more).")
    level = serializers.CharField(default="II", help_text="S-1, S-2, S-3, S-4, I, II or III.")
    aql = serializers.CharField(help_text="One of the 26 AQLs of the standard, 0.010 to 1000.")
    severity = serializers.CharField(default="normal", help_text="normal, tightened or reduced.")


class _LastResults(serializers.ListField):
    """The last lots' results: JSON true/false only (not "no", 0 or "false"), at most five."""

    child = serializers.BooleanField()

    def to_internal_value(self, data):
        if not isinstance(data, list) or len(data) > 5 or not all(isinstance(x, bool) for x in data):
            raise serializers.ValidationError("Give a list of at most 5 true/false values, as the last call returned.")
        return list(data)


class SwitchStateInput(InputSerializer):
    """The switching state a previous call returned (``state``), sent back as it was."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError(
                f"Unknown field(s) {', '.join(unknown)}: send the state back as the last call returned it.")
        return super().to_internal_value(data)

    aql = serializers.CharField()
    level = serializers.CharField(default="II")
    severity = serializers.ChoiceField(choices=["normal", "tightened", "reduced", "discontinued"], default="normal")
    switching_score = serializers.IntegerField(default=0)
    normal_results = _LastResults(default=list)
    tightened_accepted_in_row = serializers.IntegerField(min_value=0, default=0)
    tightened_not_accepted = serializers.IntegerField(min_value=0, default=0)
    lots = serializers.IntegerField(min_value=0, default=0)


class SwitchInput(InputSerializer):
    state = SwitchStateInput(default=None, allow_null=True,
                             help_text="The state this call returned last time; omit to start on normal.")
    lot = serializers.DictField(help_text="lot_size, defectives, and optionally production_steady, "
                                          "authority_approves_reduced, other_conditions_require_normal.")
    aql = serializers.CharField(required=False, allow_null=True)
    level = serializers.CharField(default="II")


class OcQuery(InputSerializer):
    n = serializers.IntegerField()
    c = serializers.IntegerField()
    lot_size = serializers.IntegerField(required=False, allow_null=True)
    points = serializers.IntegerField(required=False, default=101)
    p_max = serializers.FloatField(required=False, allow_null=True)
