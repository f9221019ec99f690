"""Traveler statistics engine: pure functions over numbers (no Django).

Main entry points for the HTTP API:

* ``analyze(chart_type=..., data=..., ...)`` -> dict: control chart, run rules, capability.
* ``chart_svg(result=...)`` -> str: the chart result as a standalone SVG.
* ``z14_plan(lot_size=..., level=..., aql=..., severity=...)`` -> dict: Z1.4 sampling plan.
* ``z14_switch(state=..., lot=...)`` -> dict: Z1.4 switching rules, dict in / dict out.
* ``oc_curve(n=..., c=..., lot_size=...)`` -> dict: operating characteristics.
"""

from .analyze import CHART_TYPES, analyze, build_chart
from .attribute_charts import c_chart, np_chart, p_chart, u_chart
from .capability import capability, cp_interval, cpk_interval
from .charts import ChartResult, ChartSeries, imr_chart, xbar_r_chart, xbar_s_chart
from .constants import ChartConstants, c4, chart_constants, constants_table
from .errors import StatsInputError
from .normality import AndersonDarling, ad_p_value, anderson_darling
from .oc import aoql, oc_curve, oc_point
from .rules import RULE_DESCRIPTIONS, RULE_SETS, RuleResult, evaluate_rules, normalize_rules
from .svg import chart_svg
from .z14 import (
    SamplingPlan,
    Z14Switching,
    code_letter,
    lot_decision,
    sampling_plan,
    tighter_acceptance_number,
    z14_plan,
    z14_switch,
)

__all__ = [
    "CHART_TYPES",
    "RULE_DESCRIPTIONS",
    "RULE_SETS",
    "AndersonDarling",
    "ChartConstants",
    "ChartResult",
    "ChartSeries",
    "RuleResult",
    "SamplingPlan",
    "StatsInputError",
    "Z14Switching",
    "ad_p_value",
    "analyze",
    "anderson_darling",
    "aoql",
    "build_chart",
    "c4",
    "c_chart",
    "capability",
    "chart_constants",
    "chart_svg",
    "code_letter",
    "constants_table",
    "cp_interval",
    "cpk_interval",
    "evaluate_rules",
    "imr_chart",
    "lot_decision",
    "normalize_rules",
    "np_chart",
    "oc_curve",
    "oc_point",
    "p_chart",
    "sampling_plan",
    "tighter_acceptance_number",
    "u_chart",
    "xbar_r_chart",
    "xbar_s_chart",
    "z14_plan",
    "z14_switch",
]
