"""Printable output: the same server-rendered SVG that the web page shows, embedded in a PDF."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from fpdf import FPDF


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def chart_pdf(*, svg: str, result: dict[str, Any], title: str, tenant: str, user: str) -> bytes:
    """A one-page landscape A4 report: heading, the chart (vector), capability and violations."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(title)
    pdf.set_creator("Traveler")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    pdf.cell(0, 5, f"{tenant} - printed by {user} - {stamp}", new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(svg.encode()), x=10, y=24, w=277)
    cap = result.get("capability")
    violations = result.get("rules", {}).get("violations", [])
    pdf.add_page()
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, "Limits", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    primary = result["primary"]
    for key in ("center", "ucl", "lcl", "sigma"):
        val = primary.get(key)
        if isinstance(val, list):
            val = "per point (see chart)"
        pdf.cell(0, 5, f"{key.upper()}: {_fmt(val)}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, f"Sigma estimate: {_fmt(result.get('sigma_method'))}", new_x="LMARGIN", new_y="NEXT")
    if cap:
        pdf.ln(3)
        pdf.set_font("helvetica", "B", 12)
        pdf.cell(0, 8, "Capability", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=9)
        for key, val in cap.items():
            if isinstance(val, dict):
                val = ", ".join(f"{k} {_fmt(v)}" for k, v in val.items())
            elif isinstance(val, list):
                val = " to ".join(_fmt(v) for v in val)
            pdf.multi_cell(0, 5, f"{key}: {_fmt(val) if not isinstance(val, str) else val}",
                           new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(0, 8, f"Rule violations ({len(violations)})", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=9)
    for v in violations[:200]:
        pdf.cell(0, 5, f"Point {v['index'] + 1}: {', '.join(v['rules'])}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
