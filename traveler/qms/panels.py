"""Quality's panels on pages it does not own (a part's traveler lists its quality reports), and the
records of its own that accept documents (evidence on a quality report)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse

from traveler.core.registry import Panel, add_panel, register_attachable
from traveler.qms.models import QualityReport

PART_REPORTS_SHOWN = 20


def _part_reports(request, part) -> str:
    rows = list(QualityReport.objects.filter(part=part, archived_at__isnull=True).select_related("step")
                .order_by("-created_at", "-pk")[:PART_REPORTS_SHOWN + 1])
    return render_to_string("qms/panels/part_reports.html", {
        "reports": [{"report": r, "url": reverse("qms:qualityreport-detail", args=[r.pk])}
                    for r in rows[:PART_REPORTS_SHOWN]],
        "more": len(rows) > PART_REPORTS_SHOWN,
        "list_url": f"{reverse('qms:qualityreport-list')}?part={part.pk}",
        "new_url": (f"{reverse('qms:qualityreport-create')}?part={part.pk}"
                    + (f"&step={part.current_step_id}" if part.current_step_id else "")  # its fields shown
                    if request.access.has("qms.add_qualityreport") else None),
    }, request=request)


add_panel(Panel("qms", "mes_lite.part.detail", "Quality reports", _part_reports, permission="qms.view_qualityreport",
                order=40))

# Evidence (photos, inspection sheets, certificates) on quality reports.
register_attachable(QualityReport, panel_target="qms.qualityreport.detail", permission="qms.view_qualityreport")

# Nonconformances: on a part's page and a quality report's page (with "Open a nonconformance"), at
# the operator station when the part is under one, and on the quality dashboard by age.
from traveler.qms.ui import nonconformances as _ncr  # noqa: E402

add_panel(Panel("qms", "mes_lite.part.detail", "Nonconformances", _ncr.part_panel,
                permission="qms.view_quarantinedisposition", order=41))
add_panel(Panel("qms", "qms.qualityreport.detail", "Nonconformances", _ncr.report_panel,
                permission="qms.view_quarantinedisposition", order=30))
add_panel(Panel("qms", "mes_lite.station.part", "Nonconformance", _ncr.station_panel,
                permission="qms.view_quarantinedisposition", order=10))
add_panel(Panel("qms", "qms.dashboard", "Open nonconformances by age", _ncr.open_by_age_panel,
                permission="qms.view_quarantinedisposition", order=10))

# CAPA --------------------------------------------------------------------------------------------

from traveler.qms.models import CapaVerification  # noqa: E402

CAPAS_OVERDUE_SHOWN = 10


def capas_overdue_panel(request, obj=None) -> str:
    """The "CAPAs overdue" panel of the quality dashboard: the most overdue first, with their owners."""
    from traveler.qms.services.capa import capas_overdue

    qs = capas_overdue().select_related("owner").order_by("due_date", "pk")
    rows = list(qs[:CAPAS_OVERDUE_SHOWN + 1])
    return render_to_string("qms/panels/capas_overdue.html", {
        "capas": [{"capa": c, "url": reverse("qms:capa-detail", args=[c.pk])} for c in rows[:CAPAS_OVERDUE_SHOWN]],
        "count": qs.count() if len(rows) > CAPAS_OVERDUE_SHOWN else len(rows),
        "list_url": f"{reverse('qms:capa-list')}?overdue=1",
    }, request=request)


add_panel(Panel("qms", "qms.dashboard", "CAPAs overdue", capas_overdue_panel, permission="qms.view_capa", order=20))

# Evidence of a CAPA's effectiveness (measurements, audit reports) on its verifications.
register_attachable(CapaVerification, panel_target="qms.capaverification.detail", permission="qms.view_capa")


def ncr_capas_panel(request, obj) -> str:
    """The "CAPAs" panel of a nonconformance's page: the CAPAs linked to it, and a button that opens a
    new one with the nonconformance's problem, parts, reports and step filled in."""
    from traveler.qms.models import CAPA

    capas = list(CAPA.objects.filter(nonconformance_links__nonconformance=obj).select_related("owner")
                 .order_by("-pk"))
    return render_to_string("qms/panels/ncr_capas.html", {
        "capas": [{"capa": c, "url": reverse("qms:capa-detail", args=[c.pk])} for c in capas],
        "new_url": (f"{reverse('qms:capa-create')}?nonconformance={obj.pk}"
                    if request.access.has("qms.add_capa") else None),
    }, request=request)


add_panel(Panel("qms", "qms.quarantinedisposition.detail", "CAPAs", ncr_capas_panel, permission="qms.view_capa",
                order=20))
