"""Capability of the traveler's characteristics, and the tenant's SPC settings.

``characteristic_capability`` answers how capable one characteristic is over a period: Cp, Cpk (within
sigma: the active baseline's when there is one, else the chart's trial estimate), Pp, Ppk (overall
sigma of the values), Cpm when a target is set, each with its confidence interval, the histogram
with the fitted normal curves, the normality test, and warnings that say when the numbers cannot be
trusted (process not in control, data not normal, no specification, too few values).
``capability_summary`` ranks every numeric characteristic of a part type against the tenant's Cpk
threshold. Every number comes from the statistics engine; this module only chooses the values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.services.records import record_update
from traveler.core.tenancy import audit_reason
from traveler.mes_lite.choices import MeasurementKind
from traveler.mes_lite.models import MeasurementDefinition, PartType
from traveler.spc.choices import ChartType
from traveler.spc.models import Characteristic, SPCSettings
from traveler.spc.services.characteristics import Chart, Filters, _spec, characteristic_chart
from traveler.spc.stats import StatsInputError, anderson_darling, capability
from traveler.spc.stats.histogram import histogram

DEFAULT_CPK_THRESHOLD = Decimal("1.330")
THRESHOLD_MIN, THRESHOLD_MAX = Decimal("0.5"), Decimal("3")
WARN_MARGIN = Decimal("1.1")  # within 10 % above the threshold: "warn"
FEW_VALUES = 30  # below this, the indices are rough (see their intervals)
NORMALITY_ALPHA = 0.05


@dataclass(frozen=True)
class CapabilityWarning:
    code: str  # not_in_control, not_normal, no_specification, too_few_values, few_values
    message: str

    @property
    def label(self) -> str:
        return self.code.replace("_", " ")


@dataclass
class Capability:
    """One characteristic's capability over the measurements chosen by the filters."""

    definition: MeasurementDefinition
    characteristic: Characteristic
    chart: Chart
    values: list[float]
    lsl: float | None
    usl: float | None
    target: float | None
    indices: dict[str, Any] | None  # the engine's capability(); None without a specification or values
    normality: dict[str, Any] | None
    histogram: dict[str, Any] | None
    warnings: list[CapabilityWarning] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def within_from(self) -> str | None:
        """Where the within sigma comes from: "baseline", "trial" (the chart's own estimate) or None."""
        if self.indices is None or self.indices.get("sigma_within") is None:
            return None
        return "baseline" if self.chart.baseline is not None else "trial"

    def index(self, name: str) -> float | None:
        return (self.indices or {}).get(name)


def _float(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


def _chart_values(chart: Chart) -> list[float]:
    """The values the chart plots: each part of an I-MR chart, every value of the X̄ subgroups."""
    if chart.result is not None and chart.result.get("chart_type") == ChartType.IMR:
        return [g.rows[0].value for g in chart.groups]
    return [v for g in chart.groups for v in g.values]


def _violations(chart: Chart) -> int:
    if chart.result is None:
        return 0
    primary = len((chart.result.get("rules") or {}).get("violations", []))
    secondary = len((chart.result.get("secondary") or {}).get("violations", []))
    return primary + secondary


def characteristic_capability(definition: MeasurementDefinition, filters: Filters = Filters()) -> Capability:
    """Capability and performance of ``definition``'s measurements narrowed by ``filters``: over the
    values its chart plots (against the active baseline, else with trial limits)."""
    chart = characteristic_chart(definition, filters)
    c = chart.characteristic
    lower, upper = _spec(c)
    lsl, usl, target = _float(lower), _float(upper), _float(c.target)
    values = _chart_values(chart)
    warnings: list[CapabilityWarning] = []
    sigma_within = chart.result.get("sigma") if chart.result else None
    indices = normality = hist = None
    if lsl is None and usl is None:
        warnings.append(CapabilityWarning("no_specification", "No specification limit: set the definition's tolerances or "
                                "the characteristic's specification to compute capability."))
    if chart.result is None:
        warnings.append(CapabilityWarning("too_few_values", f"No capability: {chart.message}"))
    elif len(values) < FEW_VALUES:
        warnings.append(CapabilityWarning("few_values", f"Only {len(values)} values: indices from fewer than {FEW_VALUES} "
                                "values are rough estimates (see their confidence intervals)."))
    if chart.result is not None:
        violations = _violations(chart)
        if violations:
            against = "the active baseline" if chart.baseline else "trial limits"
            warnings.append(CapabilityWarning("not_in_control", f"Process not in control: the chart against {against} has "
                                    f"{violations} rule violation(s). Capability describes a stable process "
                                    "only; find and remove the special causes first."))
        try:
            if lsl is not None or usl is not None:
                indices = capability(values=values, lsl=lsl, usl=usl, target=target, sigma_within=sigma_within,
                                     within_method=chart.result.get("sigma_method") or "given")
                normality = indices["normality"]
            elif len(values) >= 3:
                normality = anderson_darling(values=values).to_dict()
            hist = histogram(values=values, lsl=lsl, usl=usl, target=target, sigma_within=sigma_within)
        except StatsInputError as exc:
            warnings.append(CapabilityWarning("too_few_values", f"No capability: {exc.field}: {exc.message}."))
            indices = None
    p = (normality or {}).get("p_value")
    if p is not None and p < NORMALITY_ALPHA:
        warnings.append(CapabilityWarning("not_normal", f"Data not normal: the Anderson-Darling test rejects normality at 5 % "
                                f"(p = {p:.3g}). The indices and expected PPM assume a normal distribution."))
    return Capability(definition=definition, characteristic=c, chart=chart, values=values, lsl=lsl, usl=usl,
                      target=target, indices=indices, normality=normality, histogram=hist, warnings=warnings)


# --- the tenant's settings ------------------------------------------------------------------------


def spc_settings() -> SPCSettings:
    """The current tenant's SPC settings: its row, or an unsaved one with the defaults."""
    return SPCSettings.objects.first() or SPCSettings(cpk_threshold=DEFAULT_CPK_THRESHOLD)


def _threshold(value: Any) -> Decimal:
    try:
        d = Decimal(str(value)).quantize(Decimal("0.001"))
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput("cpk_threshold must be a number.", fields={"cpk_threshold": ["must be a number"]}) from None
    if not d.is_finite() or not THRESHOLD_MIN <= d <= THRESHOLD_MAX:
        raise InvalidInput(f"cpk_threshold must be between {THRESHOLD_MIN} and {THRESHOLD_MAX}.",
                           fields={"cpk_threshold": [f"between {THRESHOLD_MIN} and {THRESHOLD_MAX}"]})
    return d


def spc_settings_save(*, cpk_threshold: Any, reason: str | None = None, version: int | None = None) -> SPCSettings:
    """Save the tenant's Cpk threshold (0.5 to 3). ``version``: the settings' version you read, once saved."""
    threshold = _threshold(cpk_threshold)
    current = SPCSettings.objects.first()
    if current is None:
        try:
            with transaction.atomic(), audit_reason(reason):
                row = SPCSettings(cpk_threshold=threshold)
                row.save()
        except IntegrityError:
            raise Conflict("Someone else saved the SPC settings meanwhile: review them again.") from None
        return row
    return record_update(current, version=version, data={"cpk_threshold": threshold}, reason=reason)


# --- summary per part type ----------------------------------------------------------------------


def capability_status(cpk: float | None, threshold: Decimal) -> str:
    """"bad" below the threshold, "warn" within 10 % above it, "good" above, "none" without a Cpk."""
    if cpk is None:
        return "none"
    if cpk < float(threshold):
        return "bad"
    if cpk < float(threshold * WARN_MARGIN):
        return "warn"
    return "good"


@dataclass
class SummaryRow:
    definition: MeasurementDefinition
    capability: Capability
    status: str

    @property
    def cpk(self) -> float | None:
        return self.capability.index("cpk")

    @property
    def ppk(self) -> float | None:
        return self.capability.index("ppk")


@dataclass
class Summary:
    part_type: PartType
    threshold: Decimal
    rows: list[SummaryRow]


def capability_summary(part_type: PartType, filters: Filters | None = None) -> Summary:
    """Every numeric characteristic of ``part_type`` with n, Cpk, Ppk and its status against the tenant's
    threshold, worst first (those without a Cpk last)."""
    threshold = spc_settings().cpk_threshold
    scoped = replace(filters or Filters(), part_type=part_type.pk)
    defs = (MeasurementDefinition.objects.filter(kind=MeasurementKind.NUMERIC, archived_at__isnull=True,
                                                 step__process__part_type=part_type)
            .select_related("step__process").order_by("step__process_id", "step__sequence", "sequence", "pk"))
    rows = []
    for d in defs:
        cap = characteristic_capability(d, scoped)
        rows.append(SummaryRow(definition=d, capability=cap, status=capability_status(cap.index("cpk"), threshold)))
    rows.sort(key=lambda r: (r.cpk is None, r.cpk if r.cpk is not None else 0.0))
    return Summary(part_type=part_type, threshold=threshold, rows=rows)
