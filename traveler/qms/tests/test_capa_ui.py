"""CAPA pages: list with the overdue flag, the CAPA page and its tabs, forms that never carry a state,
state buttons only for allowed transitions, the fishbone SVG, the 8D report, the dashboard panel and
the demo."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from django.test import RequestFactory
from pypdf import PdfReader

from traveler.core.access import access_for
from traveler.core.models import Signature
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member
from traveler.core.tests.test_ui_shell import nav_labels, signed_in
from traveler.qms.choices import CapaState, FishboneCategory
from traveler.qms.fishbone import fishbone_svg
from traveler.qms.models import CAPA, CapaTask
from traveler.qms.tests.factories import capa_pending_verification, make_capa

pytestmark = pytest.mark.django_db
NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def qa(tenant):
    return make_member(tenant, roles=["qa_manager"], full_name="Quinn Quality")


def test_list_flags_overdue_capas(tenant, qa):
    late = make_capa(tenant, owner=qa, title="Late one", due_date=date.today() - timedelta(days=1))
    make_capa(tenant, owner=qa, title="On time", due_date=date.today() + timedelta(days=5))
    client = signed_in(qa, tenant)
    html = client.get("/qms/capas/").content.decode()
    assert "CAPAs" in nav_labels(client.get("/qms/capas/"))
    assert "Late one" in html and "On time" in html and html.count("Overdue") == 1
    only = client.get("/qms/capas/?overdue=1").content.decode()
    assert late.number in only and "On time" not in only


def test_the_form_creates_and_edits_but_never_sets_the_state(tenant, qa):
    client = signed_in(qa, tenant)
    form = client.get("/qms/capas/new/").content.decode()
    assert 'name="state"' not in form
    r = client.post("/qms/capas/new/", {"title": "Burr on bore", "capa_type": "corrective", "severity": "minor",
                                        "problem_statement": "Burrs found", "owner": qa.pk, "state": "closed"})
    assert r.status_code == 302, r.content.decode()[:3000]
    with tenant_context(tenant):
        capa = CAPA.objects.get(title="Burr on bore")
    assert capa.state == CapaState.OPEN
    r = client.post(f"/qms/capas/{capa.pk}/edit/", {"title": "Burr on bore edge", "capa_type": "corrective",
                                                    "severity": "minor", "problem_statement": "Burrs found",
                                                    "owner": qa.pk, "version": capa.version, "state": "closed"})
    assert r.status_code == 302
    with tenant_context(tenant):
        capa.refresh_from_db()
    assert (capa.title, capa.state) == ("Burr on bore edge", CapaState.OPEN)


def test_state_buttons_only_for_allowed_transitions_and_they_work(tenant, qa):
    capa = make_capa(tenant, owner=qa)
    client = signed_in(qa, tenant)
    html = client.get(f"/qms/capas/{capa.pk}/").content.decode()
    assert 'data-transition="start"' in html and 'data-transition="cancel"' in html
    assert 'data-transition="submit"' not in html and 'data-transition="close"' not in html
    # A transition the state does not allow, posted anyway, is refused and changes nothing.
    r = client.post(f"/qms/capas/{capa.pk}/transition/close/", {"version": capa.version}, follow=True)
    assert "can be closed only when pending verification" in r.content.decode()
    r = client.post(f"/qms/capas/{capa.pk}/transition/start/", {"version": capa.version})
    assert r.status_code == 302
    html = client.get(f"/qms/capas/{capa.pk}/").content.decode()
    assert 'data-state="in_progress"' in html and 'data-transition="submit"' in html
    assert 'data-transition="start"' not in html
    r = client.post(f"/qms/capas/{capa.pk}/transition/cancel/", {"reason": ""}, follow=True)
    assert "Give the reason" in r.content.decode()
    client.post(f"/qms/capas/{capa.pk}/transition/cancel/", {"reason": "duplicate"})
    with tenant_context(tenant):
        capa.refresh_from_db()
    assert capa.state == CapaState.CANCELLED
    assert "data-transition" not in client.get(f"/qms/capas/{capa.pk}/").content.decode()


def test_an_auditor_sees_the_capa_without_buttons_and_cannot_post(tenant, qa):
    capa = make_capa(tenant, owner=qa)
    auditor = signed_in(make_member(tenant, roles=["auditor"]), tenant)
    html = auditor.get(f"/qms/capas/{capa.pk}/").content.decode()
    assert capa.number in html and "data-transition" not in html
    assert auditor.post(f"/qms/capas/{capa.pk}/transition/start/", {}).status_code == 403
    customer = signed_in(make_member(tenant, roles=["customer"], company=make_company(tenant)), tenant)
    assert customer.get(f"/qms/capas/{capa.pk}/").status_code in (403, 404)


def test_tasks_tab_add_and_sign_a_task(tenant, qa):
    capa = make_capa(tenant, owner=qa)
    client = signed_in(qa, tenant)
    r = client.post(f"/qms/capas/{capa.pk}/tasks/new/", {"kind": "containment", "title": "Hold lot 12",
                                                         "owner": qa.pk, "completion_rule": "any"})
    assert r.status_code == 302, r.content.decode()[:3000]
    with tenant_context(tenant):
        task = CapaTask.objects.get(capa=capa)
    html = client.get(f"/qms/capas/{capa.pk}/?tab=tasks").content.decode()
    assert "Hold lot 12" in html and "Complete and sign" in html
    r = client.post(f"/qms/capas/{capa.pk}/tasks/{task.pk}/complete/", {"password": "wrong"}, follow=True)
    assert "not correct" in r.content.decode()
    client.post(f"/qms/capas/{capa.pk}/tasks/{task.pk}/complete/", {"password": PASSWORD, "comment": "held"})
    html = client.get(f"/qms/capas/{capa.pk}/?tab=tasks").content.decode()
    assert "Completed" in html and "Quinn Quality" in html and "SHA-256" in html
    with tenant_context(tenant):
        assert Signature.objects.filter(meaning="completed").count() == 1


def test_rca_tab_with_the_form_the_5_whys_and_the_fishbone(tenant, qa):
    capa = make_capa(tenant, owner=qa)
    client = signed_in(qa, tenant)
    r = client.post(f"/qms/capas/{capa.pk}/rca/", {
        "method": "fishbone", "summary": "", "why_1_question": "Why leak?", "why_1_answer": "Out of round",
        "why_2_question": "Why out of round?", "why_2_answer": "Wheel loaded",
        "causes_machine": "Loaded wheel\nSpindle runout", "causes_environment": "Hot shop",
        "root_causes": "Dressing interval too long\nNo roundness check", "primary": "3"})
    assert r.status_code == 400 and "exactly one" in r.content.decode()
    r = client.post(f"/qms/capas/{capa.pk}/rca/", {
        "method": "fishbone", "why_1_question": "Why leak?", "why_1_answer": "Out of round",
        "why_2_question": "Why out of round?", "why_2_answer": "Wheel loaded",
        "causes_machine": "Loaded wheel\nSpindle runout", "causes_environment": "Hot shop",
        "root_causes": "Dressing interval too long\nNo roundness check", "primary": "1"})
    assert r.status_code == 302, r.content.decode()[:3000]
    html = client.get(f"/qms/capas/{capa.pk}/?tab=rca").content.decode()
    assert html.index("Why leak?") < html.index("Why out of round?")
    assert "<svg" in html and "Spindle runout" in html and "Hot shop" in html and "Primary" in html
    edit = client.get(f"/qms/capas/{capa.pk}/rca/").content.decode()
    assert "Loaded wheel" in edit and "Why out of round?" in edit


def test_fishbone_svg_parses_and_holds_every_cause_under_its_m():
    causes = [(c, f"{c} cause {i} & <co>") for c in FishboneCategory.values for i in range(2)]
    causes.append(("method", "A very long cause description that does not fit on one rib of the diagram"))
    svg = fishbone_svg(problem="Seat leaks on lot 12", causes=causes)
    root = ET.fromstring(svg)
    bones = {g.get("data-category"): g for g in root.iter(f"{NS}g") if g.get("class") == "fishbone-bone"}
    assert set(bones) == set(FishboneCategory.values)
    for category, text in causes:
        titles = [t.text for t in bones[category].iter(f"{NS}title")]
        assert text in titles, (category, text)
    assert "Seat leaks on lot 12" in "".join(root.itertext())
    assert fishbone_svg(problem="Seat leaks on lot 12", causes=causes) == svg


def test_verification_and_approvals_tabs(tenant):
    capa = capa_pending_verification(tenant, severity="major")
    make_member(tenant, roles=["qa_manager"])
    client = signed_in(capa.owner, tenant)
    html = client.get(f"/qms/capas/{capa.pk}/?tab=verification").content.decode()
    assert "Record a verification" in html
    client.post(f"/qms/capas/{capa.pk}/verify/", {"outcome": "confirmed", "method": "Bench test of 50",
                                                  "password": PASSWORD})
    html = client.get(f"/qms/capas/{capa.pk}/?tab=verification").content.decode()
    assert "Bench test of 50" in html and "Verified" in html and "SHA-256" in html
    html = client.get(f"/qms/capas/{capa.pk}/?tab=approvals").content.decode()
    assert "Request closure approval" in html and "Signatures and approvals" in html
    r = client.post(f"/qms/capas/{capa.pk}/request-closure/", {"notes": "verified"})
    assert r.status_code == 302 and "/approvals/" in r["Location"]
    html = client.get(f"/qms/capas/{capa.pk}/?tab=timeline").content.decode()
    assert "Pending verification" in html or "pending_verification" in html


def test_the_8d_report_pdf_shows_every_section_and_signature(tenant):
    capa = capa_pending_verification(tenant)
    with tenant_context(tenant, actor=capa.owner):
        from traveler.qms.services.capa import capa_verify

        capa_verify(capa=capa, user=capa.owner, password=PASSWORD, outcome="confirmed", method="Bench test")
    client = signed_in(capa.owner, tenant)
    r = client.get(f"/qms/capas/{capa.pk}/report.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    # pypdf, like the other report tests: no program the machine may lack
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    for heading in ("D1 Team", "D2 Problem", "D3 Containment", "D4 Root cause", "D5 Corrective action",
                    "D6 Verification", "D7 Prevention", "D8 Closure"):
        assert heading in text, heading
    assert "Wheel dressed too rarely" in text and "Completed" in text and "Verified" in text
    assert text.count("SHA-256") >= 2


def test_the_dashboard_panel_lists_overdue_capas(tenant, qa):
    from traveler.qms.panels import capas_overdue_panel

    late = make_capa(tenant, owner=qa, due_date=date.today() - timedelta(days=4))
    make_capa(tenant, owner=qa, due_date=date.today() + timedelta(days=4))
    request = RequestFactory().get("/qms/")
    request.user = qa
    with tenant_context(tenant, actor=qa):
        request.tenant = tenant
        request.access = access_for(qa, tenant)
        html = capas_overdue_panel(request)
    assert late.number in html and html.count("Overdue") == 1 and "All 1 overdue CAPA" in html


def test_the_demo_makes_a_closed_and_an_in_progress_capa(tenant):
    from traveler.core.demo import DEMO_PASSWORD
    from traveler.core.services.users import member_add
    from traveler.qms.demo_capa import load_capa_demo

    with tenant_context(tenant):
        for role in ("qa_manager", "qa_inspector"):
            member_add(email=f"{role.replace('_', '.')}@{tenant.slug}.example.com", full_name=role.title(),
                       password=DEMO_PASSWORD, roles=[role])
    load_capa_demo(tenant)
    load_capa_demo(tenant)  # idempotent
    with tenant_context(tenant):
        capas = {c.title: c for c in CAPA.objects.all()}
        assert len(capas) == 2
        closed, working = (capas[t] for t in ("Seat leaks after seat grinding", "Bore gauge drifts between calibrations"))
        assert closed.state == CapaState.CLOSED and working.state == CapaState.IN_PROGRESS
        assert closed.rca.root_causes.filter(is_primary=True).count() == 1 and working.rca.whys.count() == 3
        assert closed.rca.causes.count() == 6 and closed.verifications.get().outcome == "confirmed"


def test_a_capa_opened_from_a_nonconformance_carries_its_problem_and_shows_on_its_page(tenant, qa):
    from traveler.qms.tests.factories import make_nonconformance

    ncr, parts = make_nonconformance(tenant, by=qa, severity="critical")
    client = signed_in(qa, tenant)
    page = client.get(f"/qms/nonconformances/{ncr.pk}/").content.decode()
    assert "No CAPA answers this nonconformance." in page and f"/qms/capas/new/?nonconformance={ncr.pk}" in page
    form = client.get(f"/qms/capas/new/?nonconformance={ncr.pk}").content.decode()
    assert ncr.number in form and f'value="{ncr.pk}" selected' in form and f'value="{parts[0].pk}" selected' in form
    assert '<option value="critical" selected' in form
    r = client.post("/qms/capas/new/", {"title": "Leak rate over limit", "capa_type": "corrective",
                                         "severity": "critical", "problem_statement": f"{ncr.number}: leaks",
                                         "owner": qa.pk, "nonconformances": [ncr.pk], "parts": [parts[0].pk]})
    assert r.status_code == 302, r.content.decode()[:2000]
    with tenant_context(tenant):
        capa = CAPA.objects.get()
        assert list(capa.nonconformances.all()) == [ncr]
    page = client.get(f"/qms/nonconformances/{ncr.pk}/").content.decode()
    assert capa.number in page and f"/qms/capas/{capa.pk}/" in page
    detail = client.get(f"/qms/capas/{capa.pk}/").content.decode()
    assert ncr.number in detail
