"""Nonconformance pages: the board, the page with the disposition's consequences shown before it is
confirmed, opening one from a part, the station notice, the dashboard panel, and what customers see."""

from __future__ import annotations

import io

import pytest
from django.test import RequestFactory
from pypdf import PdfReader

from traveler.core.access import access_for
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member
from traveler.core.tests.test_ui_shell import signed_in
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_order
from traveler.qms.models import QuarantineDisposition
from traveler.qms.tests.factories import make_nonconformance, quarantined_parts
from traveler.qms.ui.nonconformances import open_by_age_panel


@pytest.fixture
def qa(tenant):
    return make_member(tenant, roles=["qa_manager"], full_name="Quinn Quality")


def test_the_board_has_a_column_per_state_with_age_severity_and_owner(tenant, qa):
    ncr, _ = make_nonconformance(tenant, by=qa, severity="critical")
    page = signed_in(qa, tenant).get("/qms/nonconformances/").content.decode()
    for label in ("Open", "In progress", "Dispositioned", "Closed", "Cancelled"):
        assert f">{label}</h2>" in page
    assert ncr.number in page and "Critical" in page and "Quinn Quality" in page and "0 days" in page
    filtered = signed_in(qa, tenant).get("/qms/nonconformances/?severity=minor").content.decode()
    assert ncr.number not in filtered


def test_the_page_shows_the_consequence_before_the_signed_confirmation(tenant, qa):
    ncr, [part] = make_nonconformance(tenant, by=qa)
    with tenant_context(tenant):
        route = route_steps(part.process)
    client = signed_in(qa, tenant)
    page = client.get(f"/qms/nonconformances/{ncr.pk}/?disposition=rework&to_step={route[0].pk}").content.decode()
    expected = (f"Part {part.serial_number} will return to step {route[0].sequence} &#x27;{route[0].name}&#x27;; "
                "rework attempt 1 of 3")
    assert expected in page and "Confirm and sign" in page
    with tenant_context(tenant):
        assert Part.objects.get(pk=part.pk).status == PartStatus.ON_HOLD  # the preview changed nothing
    r = client.post(f"/qms/nonconformances/{ncr.pk}/disposition/", {"disposition": "rework", "to_step": route[0].pk,
                                                                   "password": "wrong"})
    assert r.status_code == 400 and "password is not correct" in r.content.decode()
    r = client.post(f"/qms/nonconformances/{ncr.pk}/disposition/", {"disposition": "rework", "to_step": route[0].pk,
                                                                   "password": PASSWORD, "note": "Regrind"})
    assert r.status_code == 302
    page = client.get(f"/qms/nonconformances/{ncr.pk}/").content.decode()
    assert "Dispositioned" in page and "Quinn Quality</strong>" in page  # the signature's manifestation
    client.post(f"/qms/nonconformances/{ncr.pk}/verify/", {"note": "Bore re-measured"})
    client.post(f"/qms/nonconformances/{ncr.pk}/close/", {})
    with tenant_context(tenant):
        assert QuarantineDisposition.objects.get(pk=ncr.pk).state == "closed"
    pdf = client.get(f"/qms/nonconformances/{ncr.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert ncr.number in text and "Quinn Quality - Dispositioned" in text and "Bore re-measured" in text


def test_open_from_the_part_page_holds_the_part(tenant, qa):
    parts, _ = quarantined_parts(tenant, 1)
    client = signed_in(qa, tenant)
    part_page = client.get(f"/mes/parts/{parts[0].pk}/").content.decode()
    assert f"/qms/nonconformances/new/?part={parts[0].pk}" in part_page
    form = client.get(f"/qms/nonconformances/new/?part={parts[0].pk}").content.decode()
    assert parts[0].serial_number in form
    r = client.post("/qms/nonconformances/new/", {"title": "Bore oversize", "severity": "major",
                                                  "serials": parts[0].serial_number})
    assert r.status_code == 302
    with tenant_context(tenant):
        assert Part.objects.get(pk=parts[0].pk).status == PartStatus.ON_HOLD
    r = client.post("/qms/nonconformances/new/", {"title": "x", "severity": "major", "serials": "NOPE-1"})
    assert r.status_code == 400 and "NOPE-1" in r.content.decode()


def test_the_station_tells_the_operator_the_part_is_under_an_ncr(tenant, qa):
    ncr, [part] = make_nonconformance(tenant, by=qa)
    operator = make_member(tenant, roles=["operator"])
    page = signed_in(operator, tenant).get(f"/mes/station/?serial={part.serial_number}").content.decode()
    assert f"Under nonconformance {ncr.number}" in page and "tell quality" in page


def test_the_dashboard_panel_counts_open_ncrs_by_age(tenant, qa):
    make_nonconformance(tenant, by=qa, severity="critical")
    make_nonconformance(tenant, by=qa, severity="minor")
    with tenant_context(tenant):
        request = RequestFactory().get("/qms/")
        request.access, request.user, request.tenant = access_for(qa, tenant), qa, tenant
        html = open_by_age_panel(request)
    assert "<th scope=\"row\">Up to a week</th><td>1</td><td>0</td><td>1</td><td>2</td>" in html
    assert "2 open" in html


def test_a_customer_sees_only_its_own_ncrs(tenant, qa):
    mine = make_company(tenant)
    ours, [part] = make_nonconformance(tenant, by=qa, order=make_order(tenant, company=mine))
    other, _ = make_nonconformance(tenant, by=qa)
    customer = signed_in(make_member(tenant, roles=["customer"], company=mine), tenant)
    page = customer.get("/qms/nonconformances/").content.decode()
    assert ours.number in page and other.number not in page
    detail = customer.get(f"/qms/nonconformances/{ours.pk}/").content.decode()
    assert part.serial_number in detail and "Quinn Quality" not in detail
    assert customer.get(f"/qms/nonconformances/{other.pk}/").status_code == 404
    assert customer.get(f"/qms/nonconformances/{ours.pk}/pdf/").status_code == 404
