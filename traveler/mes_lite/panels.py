"""MES Lite's panels on pages it does not own (a company's orders, parts that need attention), and the
models of its own that accept documents (a "Documents" panel on their pages)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse

from traveler.core.access import visible
from traveler.core.registry import Panel, add_panel, register_attachable
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Order, Part, PartType, Step
from traveler.mes_lite.ui.common import status_badge

COMPANY_ORDERS_SHOWN = 10


def _company_orders(request, company) -> str:
    orders = visible(Order.objects.filter(company=company, archived_at__isnull=True), request.access)
    rows = list(orders.order_by("-created_at", "-pk")[:COMPANY_ORDERS_SHOWN + 1])
    customer = request.access.is_customer
    items = [{"order": o, "badge": status_badge(o),
              "url": reverse("mes_lite:order-progress" if customer else "mes_lite:order-detail", args=[o.pk])}
             for o in rows[:COMPANY_ORDERS_SHOWN]]
    return render_to_string("mes_lite/panels/company_orders.html", {
        "items": items, "more": len(rows) > COMPANY_ORDERS_SHOWN, "company": company,
        "list_url": reverse("mes_lite:order-list"),
        "new_url": (f"{reverse('mes_lite:order-create')}?company={company.pk}"
                    if request.access.has("mes_lite.add_order") else None),
    }, request=request)


def _parts_attention(request, obj=None) -> str:
    counts = visible(Part.objects.filter(archived_at__isnull=True), request.access).aggregate(
        quarantined=Count("pk", filter=Q(status=PartStatus.QUARANTINED)),
        on_hold=Count("pk", filter=Q(status=PartStatus.ON_HOLD)))
    url = reverse("mes_lite:part-list")
    return render_to_string("mes_lite/panels/parts_attention.html", {
        "counts": counts,
        "quarantined_url": f"{url}?status={PartStatus.QUARANTINED}",
        "on_hold_url": f"{url}?status={PartStatus.ON_HOLD}",
    }, request=request)


add_panel(Panel("mes_lite", "core.company.detail", "Orders", _company_orders, permission="mes_lite.view_order",
                order=30))
add_panel(Panel("mes_lite", "core.dashboard", "Parts that need attention", _parts_attention,
                permission="mes_lite.view_transition", order=20))

# Drawings and specifications on part types, work instructions on steps, certificates on parts.
register_attachable(PartType, panel_target="mes_lite.parttype.detail", permission="mes_lite.view_parttype")
register_attachable(Step, panel_target="mes_lite.step.detail", permission="mes_lite.view_process")
register_attachable(Part, panel_target="mes_lite.part.detail", permission="mes_lite.view_part")
