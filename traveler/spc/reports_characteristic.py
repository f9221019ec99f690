"""The characteristic report (PDF) for one period, and the characteristic's measurements as CSV rows.

The report is a list of sections (``SECTIONS``), each a function that writes onto the PDF from one
``ReportContext``: the heading, the control chart (the engine's SVG, as the page shows it), the baseline
it is drawn against (or that it has trial limits), the signals of the period and how each was
handled, and the capability. A section added later is one function appended to the list.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from traveler.core.pdf import RecordPdf, signature_block
from traveler.core.services.signatures import format_signed_at, manifestations
from traveler.mes_lite.models import EquipmentUsage, MeasurementDefinition, StepMeasurement
from traveler.spc.models import SPCSignal
from traveler.spc.services.capability import Capability, characteristic_capability
from traveler.spc.services.characteristics import Filters, measurements, subgroups
from traveler.spc.stats import chart_svg
from traveler.spc.stats.histogram import histogram_svg

PAGE_WIDTH = 190  # A4 portrait inside the margins, in mm


@dataclass
class ReportContext:
    definition: MeasurementDefinition
    filters: Filters
    capability: Capability
    signals: list[SPCSignal]

    @property
    def chart(self):
        return self.capability.chart

    @property
    def title(self) -> str:
        return f"Characteristic report: {self.definition.label}"


def _when(value: datetime | None) -> str:
    return format_signed_at(value) if value else "-"


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _period(filters: Filters) -> str:
    start = _when(filters.date_from) if filters.date_from else "the first measurement"
    end = _when(filters.date_to) if filters.date_to else "now"
    return f"From {start} until {end}" + (" (exclusive)" if filters.date_to else "")


def signals_of_period(definition: MeasurementDefinition, filters: Filters) -> list[SPCSignal]:
    """The definition's signals whose run overlaps the period, oldest first."""
    qs = SPCSignal.objects.filter(definition=definition)
    if filters.date_from:
        qs = qs.filter(last_at__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(first_at__lt=filters.date_to)
    return list(qs.select_related("acknowledged_by", "investigated_by", "closed_by", "step", "baseline")
                .order_by("first_at", "pk"))


def heading_section(pdf: RecordPdf, ctx: ReportContext) -> None:
    d = ctx.definition
    pdf.heading(ctx.title)
    c = ctx.capability
    spec = ", ".join(f"{k} {v:g}" for k, v in (("LSL", c.lsl), ("USL", c.usl), ("target", c.target)) if v is not None)
    pdf.fields([
        ("Characteristic", f"{d.label}{f' ({d.unit})' if d.unit else ''}"),
        ("Step", f"{d.step.process.name} v{d.step.process.route_version}: {d.step.name}"),
        ("Part type", str(d.step.process.part_type)),
        ("Period", _period(ctx.filters)),
        ("Specification", spec or "none"),
        ("Chart", f"{ctx.chart.characteristic.get_chart_type_display()}, {len(ctx.chart.groups)} subgroup(s), "
                  f"{c.n} value(s)"),
    ])


def chart_section(pdf: RecordPdf, ctx: ReportContext) -> None:
    pdf.ln(2)
    pdf.heading("Control chart", 12)
    chart = ctx.chart
    if chart.result is None:
        pdf.line_text(chart.message or "No chart for this period.")
        return
    title = (f"{ctx.definition.label}: trial limits (no frozen baseline)" if chart.baseline is None
             else f"{ctx.definition.label}: baseline {chart.baseline.pk}")
    svg = chart_svg(result=chart.result, title=title)
    pdf.image(io.BytesIO(svg.encode()), x=pdf.l_margin, w=PAGE_WIDTH)
    violations = (chart.result.get("rules") or {}).get("violations", [])
    descriptions = (chart.result.get("rules") or {}).get("descriptions", {})
    pdf.line_text(f"Rule violations: {len(violations)}.")
    for v in violations[:100]:
        rules = ", ".join(f"{r} ({descriptions.get(r, '')})".replace(" ()", "") for r in v["rules"])
        pdf.line_text(f"Point {v['index'] + 1}: {rules}", size=8)


def baseline_section(pdf: RecordPdf, ctx: ReportContext) -> None:
    pdf.ln(2)
    pdf.heading("Baseline", 12)
    b = ctx.chart.baseline
    if b is None:
        pdf.line_text("No frozen baseline: the chart shows TRIAL LIMITS computed from the points of this period. "
                      "They are not approved limits; freeze a baseline to monitor against fixed limits.", bold=True)
        return
    rng = f"{_when(b.range_from) if b.range_from else 'start'} to {_when(b.range_to) if b.range_to else 'end'}"
    pdf.fields([
        ("Baseline", f"Baseline {b.pk} ({b.get_status_display().lower()})"),
        ("Chart", f"{b.get_chart_type_display()}, subgroups of {b.subgroup_size}, {b.get_subgrouping_display().lower()}"),
        ("Phase I", f"{rng}: {b.sample_count} measurements in {b.subgroup_count} subgroups"
                    f"{f', {len(b.excluded)} excluded' if b.excluded else ''}"),
        ("Center line", f"{float(b.center):.6g}"),
        ("Control limits", f"LCL {float(b.lcl):.6g}, UCL {float(b.ucl):.6g}"),
        ("Sigma", f"{float(b.sigma):.6g}"),
        ("Frozen", f"{b.frozen_by.full_name if b.frozen_by else '-'}, {_when(b.frozen_at)}"),
    ])
    for item in b.excluded or []:
        pdf.line_text(f"Excluded subgroup {item.get('key')}: {item.get('reason')}", size=8)
    signature_block(pdf, manifestations(b), title="Baseline signature")


def signals_section(pdf: RecordPdf, ctx: ReportContext) -> None:
    pdf.ln(2)
    pdf.heading(f"Signals of the period ({len(ctx.signals)})", 12)
    if not ctx.signals:
        pdf.line_text("No signal in this period.")
        return
    for s in ctx.signals:
        pdf.line_text(f"{s.rule}: {s.description}", size=10, bold=True)
        rows = [
            ("Status", f"{s.get_status_display()} ({s.get_severity_display().lower()})"),
            ("Run", f"{_when(s.first_at)} to {_when(s.last_at)}, {s.points} subgroup(s)"
                    f"{f', at {s.step.name}' if s.step_id else ''}"),
            ("Acknowledged", f"{s.acknowledged_by.full_name}, {_when(s.acknowledged_at)}"
                             f"{f': {s.acknowledged_comment}' if s.acknowledged_comment else ''}"
             if s.acknowledged_by_id else "not yet"),
            ("Investigated", f"{s.investigated_by.full_name}, {_when(s.investigated_at)}"
             if s.investigated_by_id else "not yet"),
            ("Cause", s.cause or None),
            ("Closed", f"{s.closed_by.full_name}, {_when(s.closed_at)}"
                       f"{f': {s.closed_comment}' if s.closed_comment else ''}" if s.closed_by_id else "not yet"),
        ]
        if s.actions:
            rows.append(("Reaction", "; ".join(str(a.get("label", a) if isinstance(a, dict) else a)
                                              for a in s.actions)))
        if s.links:
            rows.append(("Records", ", ".join(str(link.get("label") or f"{link.get('kind')} {link.get('id')}")
                                              for link in s.links if isinstance(link, dict))))
        pdf.fields(rows)
        pdf.ln(1.5)


def capability_section(pdf: RecordPdf, ctx: ReportContext) -> None:
    pdf.ln(2)
    pdf.heading("Capability", 12)
    c = ctx.capability
    for w in c.warnings:
        pdf.line_text(f"Warning: {w.message}", size=9, bold=True)
    if c.indices is None:
        if not c.warnings:
            pdf.line_text("No capability for this period.")
        return
    within = ("the active baseline" if c.within_from == "baseline" else "the chart's trial estimate"
              if c.within_from == "trial" else "-")
    conf = int(round((c.index("confidence") or 0.95) * 100))
    rows = []
    for name, label in (("cp", "Cp"), ("cpk", "Cpk"), ("pp", "Pp"), ("ppk", "Ppk"), ("cpm", "Cpm")):
        value, ci = c.index(name), c.index(f"{name}_ci") or [None, None]
        if value is None and name == "cpm":
            continue
        rows.append((label, f"{_fmt(value)}   ({conf} % interval {_fmt(ci[0])} to {_fmt(ci[1])})"))
    rows += [
        ("Within sigma", f"{_fmt(c.index('sigma_within'), 6)} from {within} ({c.index('sigma_within_method') or '-'})"),
        ("Overall sigma", f"{_fmt(c.index('sigma_overall'), 6)} ({c.index('sigma_overall_method')})"),
        ("Mean", _fmt(c.index("mean"), 6)),
        ("Expected PPM (overall)", _fmt((c.index("expected_overall") or {}).get("ppm_total"), 1)),
        ("Observed PPM", _fmt((c.index("observed") or {}).get("ppm_total"), 1)),
    ]
    if c.normality:
        rows.append(("Normality", f"Anderson-Darling A² {_fmt(c.normality.get('a_squared'))}, "
                                  f"p = {_fmt(c.normality.get('p_value'))}"))
    pdf.fields(rows)
    if c.histogram:
        svg = histogram_svg(histogram=c.histogram, title=f"{ctx.definition.label}: histogram")
        pdf.ln(2)
        pdf.image(io.BytesIO(svg.encode()), x=pdf.l_margin, w=PAGE_WIDTH)


Section = Callable[[RecordPdf, ReportContext], None]
SECTIONS: list[Section] = [heading_section, chart_section, baseline_section, signals_section, capability_section]


def characteristic_report_pdf(*, definition: MeasurementDefinition, filters: Filters, tenant: str,
                              printed_by: str) -> bytes:
    """The characteristic report of ``definition`` over the period of ``filters``."""
    ctx = ReportContext(definition=definition, filters=filters,
                        capability=characteristic_capability(definition, filters),
                        signals=signals_of_period(definition, filters))
    pdf = RecordPdf(title=ctx.title, tenant=tenant, printed_by=printed_by)
    for section in SECTIONS:
        section(pdf, ctx)
    pdf.alias_nb_pages()
    return pdf.output_bytes()


# --- measurements as CSV ------------------------------------------------------------------------

MEASUREMENT_COLUMNS = ["id", "recorded_at", "value", "subgroup", "part_serial", "work_order", "step", "operator",
                       "equipment"]
CHUNK = 2000


def measurement_rows(definition: MeasurementDefinition, filters: Filters) -> Iterator[list[Any]]:
    """One row per measurement (oldest first) with its subgroup's key as the chart forms it (empty
    for a measurement in no subgroup yet), read in chunks so a long period streams."""
    from traveler.spc.services.characteristics import active_baseline, characteristic_for

    rows = measurements(definition, filters)
    c = characteristic_for(definition)
    key_of = {r.id: g.key for g in subgroups(rows, active_baseline(definition) or c, c) for r in g.rows}
    ids = [r.id for r in rows]
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        detail = {m["pk"]: m for m in StepMeasurement.objects.filter(pk__in=chunk).values(
            "pk", "recorded_at", "value", "transition_id", "part__serial_number", "part__work_order__number",
            "step__name", "recorded_by__full_name")}
        equipment: dict[int, list[str]] = {}
        for t, name, serial in (EquipmentUsage.objects.filter(transition_id__in={m["transition_id"] for m in detail.values()})
                                .order_by("pk").values_list("transition_id", "equipment__name",
                                                            "equipment__serial_number")):
            equipment.setdefault(t, []).append(f"{name} ({serial})")
        for pk in chunk:
            m = detail[pk]
            yield [pk, m["recorded_at"], m["value"], key_of.get(pk), m["part__serial_number"],
                   m["part__work_order__number"], m["step__name"], m["recorded_by__full_name"],
                   "; ".join(equipment.get(m["transition_id"], []))]
