"""The quality dashboard page: who sees it, the Pareto with its "by" switch, first-pass yield, the
panels registered on "qms.dashboard", bad filters, and a query count that does not grow with rows."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from traveler.core.registry import Panel, registry
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, make_member
from traveler.core.tests.test_ui_shell import nav_labels, signed_in
from traveler.mes_lite.models import Part, StepTransitionLog
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_work_order
from traveler.qms.choices import ReportStatus
from traveler.qms.services.reports import quality_report_create
from traveler.qms.tests.factories import make_defect_code

pytestmark = pytest.mark.django_db
PAGE = "/qms/dashboard/"
NS = "{http://www.w3.org/2000/svg}"


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg xmlns=.*?</svg>", html, flags=re.S)]


def _data(tenant, parts: int, codes):
    """``parts`` new parts, each with a report of every code and an advance from the first step."""
    wo = make_work_order(tenant, quantity=parts)
    with tenant_context(tenant):
        route = route_steps(wo.process)
        for part in Part.objects.filter(work_order=wo):
            quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL,
                                  defects=[{"code": c, "count": 1} for c in codes])
            StepTransitionLog.objects.create(part=part, action="advance", from_step=route[0], to_step=route[1],
                                             from_status="pending", to_status="in_process",
                                             transition_time=timezone.now())
    return route


@pytest.fixture
def manager(tenant):
    return make_member(tenant, roles=["qa_manager"], full_name="Quinn Manager")


def test_the_dashboard_shows_the_pareto_the_yield_and_its_menu_entry(tenant, manager):
    codes = [make_defect_code(tenant, code="BURR", description="Burr <on> bore"),
             make_defect_code(tenant, code="PIT", severity="minor")]
    route = _data(tenant, 2, codes)
    client = signed_in(manager, tenant)
    r = client.get(PAGE)
    assert r.status_code == 200
    assert "Quality dashboard" in nav_labels(r)
    html = r.content.decode()
    assert "4 defects by defect code" in html and "Burr &lt;on&gt; bore" in html
    pareto, fpy = _svgs(html)
    assert len([e for e in pareto.iter(f"{NS}rect") if e.get("class") == "bar"]) == 2
    assert [e for e in fpy.iter(f"{NS}rect") if e.get("class") == "bar"]
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert f"10. {route[0].name}" in html and "100.0 %" in html
    # The "by" switch keeps the filters.
    assert 'href="?severity=minor&amp;by=step"' in client.get(PAGE, {"severity": "minor"}).content.decode()
    by_step = client.get(PAGE, {"by": "step", "severity": "minor"}).content.decode()
    assert "2 defects by step" in by_step and 'aria-current="page">Step<' in by_step


def test_who_sees_the_dashboard(tenant):
    for role in ("qa_inspector", "production_manager", "auditor", "tenant_admin"):
        client = signed_in(make_member(tenant, roles=[role]), tenant)
        assert client.get(PAGE).status_code == 200, role
    for role in ("operator", "engineering"):
        client = signed_in(make_member(tenant, roles=[role]), tenant)
        assert client.get(PAGE).status_code == 403, role
        assert "Quality dashboard" not in client.get("/", follow=True).content.decode()
    customer = signed_in(make_member(tenant, roles=["customer"], company=make_company(tenant)), tenant)
    assert customer.get(PAGE).status_code == 403
    assert "Quality dashboard" not in nav_labels(customer.get("/"))


def test_bad_filters_are_named_on_the_page(tenant, manager):
    r = signed_in(manager, tenant).get(PAGE, {"from": "2026-04-31", "by": "colour"})
    assert r.status_code == 400
    html = r.content.decode()
    assert "<strong>from</strong>" in html and 'aria-invalid="true"' in html


def test_panels_registered_on_the_dashboard_are_rendered(tenant, manager, monkeypatch):
    seen = []

    def render(request, obj):
        seen.append(obj)
        return "<p>3 nonconformances older than 30 days</p>"

    panels = [Panel("qms", "qms.dashboard", "Open nonconformances by age", render, permission="qms.view_qualityreport"),
              Panel("qms", "qms.dashboard", "Secret", lambda request, obj: "<p>hidden</p>", permission="core.no_such")]
    monkeypatch.setitem(registry.panels, "qms.dashboard", panels)
    html = signed_in(manager, tenant).get(PAGE).content.decode()
    assert "Open nonconformances by age" in html and "3 nonconformances older than 30 days" in html
    assert "Secret" not in html and seen == [None]


def test_query_count_does_not_grow_with_rows(tenant, manager):
    codes = [make_defect_code(tenant) for _ in range(3)]
    _data(tenant, 1, codes[:1])
    client = signed_in(manager, tenant)
    client.get(PAGE)  # warm caches (session, module flags)

    def count(params=None) -> int:
        with CaptureQueriesContext(connection) as q:
            assert client.get(PAGE, params or {}).status_code == 200
        return len(q)

    few = count()
    few_by_step = count({"by": "step"})
    _data(tenant, 12, codes)
    _data(tenant, 5, codes[1:])
    many = count()
    assert many == few, (few, many)
    assert count({"by": "step"}) == few_by_step
    # The shell's own (session, user, tenant, access, menu, notifications: 15, once per request even
    # with panels), the page's five (the Pareto, first-pass yield and its steps, the part types and
    # steps of the filters) and the panels' six (open NCRs by age: a count per age bucket and the
    # oldest; overdue CAPAs).
    assert few <= 26, few
