"""Parts: search by serial, the traveler page, hold / release / scrap; the menu and MES Lite's panels."""

from __future__ import annotations

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, make_member
from traveler.core.tests.test_ui_shell import nav_labels, signed_in
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.parts import part_advance, part_hold
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_order, make_work_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def wo(tenant):
    return make_work_order(tenant, quantity=3, pattern="INJ-{seq:04}-X")


@pytest.fixture
def client(tenant):
    return signed_in(make_member(tenant, roles=["qa_manager"], full_name="Quinn Quality"), tenant)


def parts_of(tenant, wo) -> list[Part]:
    with tenant_context(tenant):
        return list(Part.objects.filter(work_order=wo).order_by("serial_number"))


def fresh(tenant, part) -> Part:
    with tenant_context(tenant):
        return Part.objects.get(pk=part.pk)


def quarantine(tenant, part, wo) -> None:
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        readings = good_readings(step)
        readings[0]["value"] = "9"
        part_advance(part=part, step=step.pk, measurements=readings)


def test_search_parts_by_serial_and_filter(client, tenant, wo):
    first, second, third = parts_of(tenant, wo)
    quarantine(tenant, second, wo)
    r = client.get("/mes/parts/", {"q": second.serial_number}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="record-results")
    assert r.status_code == 200 and r.content.decode().lstrip().startswith('<div id="record-results"')
    assert [row["object"].pk for row in r.context["rows"]] == [second.pk]
    r = client.get("/mes/parts/", {"status": "quarantined"})
    assert [row["object"].pk for row in r.context["rows"]] == [second.pk]
    assert "badge-dead status-quarantined" in r.content.decode()
    with tenant_context(tenant):
        first_step = route_steps(wo.process)[0]
    r = client.get("/mes/parts/", {"work_order": wo.pk, "step": first_step.pk})
    assert {row["object"].pk for row in r.context["rows"]} == {first.pk, second.pk, third.pk}
    r = client.get("/mes/parts/", {"work_order": wo.pk + 100000})
    assert r.context["rows"] == []


def test_the_part_page_is_its_traveler(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        part_advance(part=part, step=step.pk, measurements=good_readings(step))
    r = client.get(f"/mes/parts/{part.pk}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert [n["state"] for n in r.context["route"]] == ["done", "current", "ahead"]
    assert "Bore diameter" in html and "In spec" in html and "spec 5.99 – 6.01" in html
    assert "Advanced" in html and "Machine body → Leak test" in html
    assert f"/mes/parts/{part.pk}/history/" in html
    assert client.get(f"/mes/parts/{part.pk}/history/").status_code == 200


def test_hold_release_and_scrap_from_the_part_page(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    r = client.post(f"/mes/parts/{part.pk}/hold/", {"reason": ""}, follow=True)
    assert "Give a reason" in r.content.decode() and fresh(tenant, part).status == PartStatus.PENDING
    r = client.post(f"/mes/parts/{part.pk}/hold/", {"reason": "suspect material lot 4471"}, follow=True)
    assert "is on hold" in r.content.decode() and fresh(tenant, part).status == PartStatus.ON_HOLD
    assert f"/mes/parts/{part.pk}/release/" in r.content.decode()
    client.post(f"/mes/parts/{part.pk}/release/", {"reason": "lot cleared"})
    assert fresh(tenant, part).status == PartStatus.PENDING
    client.post(f"/mes/parts/{part.pk}/scrap/", {"reason": "cracked casting"})
    assert fresh(tenant, part).status == PartStatus.SCRAPPED
    r = client.post(f"/mes/parts/{part.pk}/release/", follow=True)
    assert "with status scrapped" in r.content.decode()  # the refusal names the part's state


def test_an_operator_cannot_hold_or_scrap(tenant, wo):
    part = parts_of(tenant, wo)[0]
    operator = signed_in(make_member(tenant, roles=["operator"]), tenant)
    html = operator.get(f"/mes/parts/{part.pk}/").content.decode()
    assert "Open at the station" in html and "Put on hold" not in html and "Scrap" not in html
    assert operator.post(f"/mes/parts/{part.pk}/hold/", {"reason": "x"}).status_code == 403
    assert operator.post(f"/mes/parts/{part.pk}/scrap/", {"reason": "x"}).status_code == 403
    assert fresh(tenant, part).status == PartStatus.PENDING


def test_customers_do_not_get_the_part_pages(tenant):
    company = make_company(tenant)
    wo = make_work_order(tenant, order=make_order(tenant, company=company), quantity=1)
    part = parts_of(tenant, wo)[0]
    customer = signed_in(make_member(tenant, roles=["customer"], company=company), tenant)
    assert customer.get("/mes/parts/").status_code == 403
    assert customer.get(f"/mes/parts/{part.pk}/").status_code == 403


def test_parts_of_another_tenant_are_not_found(client, other_tenant):
    part = parts_of(other_tenant, make_work_order(other_tenant, quantity=1))[0]
    assert client.get(f"/mes/parts/{part.pk}/").status_code == 404
    assert client.post(f"/mes/parts/{part.pk}/hold/", {"reason": "x"}).status_code == 404


# ---------- menu and panels ----------

def test_the_production_menu_follows_permissions(tenant):
    def production(user):
        r = signed_in(user, tenant).get("/?menu=1")
        return [i["label"] for s in r.context["nav"] if s["name"] == "Production" for i in s["items"]]

    assert production(make_member(tenant, roles=["tenant_admin"])) == [
        "Station", "Orders", "Work orders", "Parts", "Part types", "Processes", "Equipment"]
    assert "Station" in production(make_member(tenant, roles=["operator"]))
    assert "Station" not in production(make_member(tenant, roles=["auditor"]))
    r = signed_in(make_member(tenant, roles=["tenant_admin"]), tenant).get("/")
    sections = [s["name"] for s in r.context["nav"]]
    assert sections.index("Production") < sections.index("Administration")
    assert "Station" in nav_labels(r)
    html = r.content.decode()
    assert '/static/mes_lite/icons.svg#station"' in html  # the module's own sprite
    assert '/static/core/icons.svg#archive"' in html  # core's, for a plain icon name


def test_recent_changes_name_parts_by_serial_number(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    with tenant_context(tenant):
        part_hold(part=part, reason="dropped on the floor")
    recent = client.get("/").context["recent"]
    held = next(r for r in recent if r["reason"] == "dropped on the floor")
    assert (held["kind"], held["label"]) == ("Part", part.serial_number)


def test_the_company_page_lists_its_orders(client, tenant):
    cummins, delphi = make_company(tenant, "Cummins Engines"), make_company(tenant, "Delphi Technologies")
    mine = make_order(tenant, company=cummins, name="X15 injectors")
    other = make_order(tenant, company=delphi, name="Other order")
    html = client.get(f"/companies/{cummins.pk}/").content.decode()
    assert "X15 injectors" in html and f"/mes/orders/{mine.pk}/" in html and "Other order" not in html
    assert "/mes/orders/new/" not in html  # QA managers do not plan orders
    planner = signed_in(make_member(tenant, roles=["production_manager"]), tenant)
    assert f"/mes/orders/new/?company={cummins.pk}" in planner.get(f"/companies/{cummins.pk}/").content.decode()
    r = planner.get(f"/mes/orders/new/?company={cummins.pk}")
    assert r.context["form"].initial["company"] == cummins.pk
    html = client.get(f"/companies/{delphi.pk}/").content.decode()
    assert other.number in html and mine.number not in html
    customer = signed_in(make_member(tenant, roles=["customer"], company=cummins), tenant)
    html = customer.get(f"/companies/{cummins.pk}/").content.decode()
    assert f"/mes/orders/{mine.pk}/progress/" in html and "New order" not in html


def test_the_dashboard_counts_parts_that_need_attention(client, tenant, wo):
    first, second, _ = parts_of(tenant, wo)
    quarantine(tenant, first, wo)
    with tenant_context(tenant):
        part_hold(part=second, reason="suspect lot")
    r = client.get("/")
    panel = next(p for p in r.context["panels"] if p["title"] == "Parts that need attention")
    assert "/mes/parts/?status=quarantined" in panel["html"] and "/mes/parts/?status=on_hold" in panel["html"]
    assert ">1</strong><span>part quarantined" in panel["html"]
    customer = signed_in(make_member(tenant, roles=["customer"], company=make_company(tenant)), tenant)
    assert all(p["title"] != "Parts that need attention" for p in customer.get("/").context["panels"])


def test_the_printed_traveler_lists_the_route_history_and_values(client, tenant, admin):
    import io

    from pypdf import PdfReader

    from traveler.core.tests.factories import PASSWORD, make_member
    from traveler.mes_lite.tests.factories import advanced_part

    part = advanced_part(tenant)
    viewer = make_member(tenant, roles=["qa_inspector"])
    assert client.login(email=viewer.email, password=PASSWORD)
    response = client.get(f"/mes/parts/{part.pk}/traveler.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split())
    from traveler.core.tenancy import tenant_context
    from traveler.mes_lite.services.routing import route_steps

    with tenant_context(tenant):
        first = route_steps(part.process)[0].name
    assert f"Traveler of part {part.serial_number}" in text and "Bore diameter = 6" in text
    assert f"at '{first}'" in text and "History" in text
    from traveler.core.tests.factories import make_company

    customer = make_member(tenant, roles=["customer"], company=make_company(tenant))
    client.logout()
    assert client.login(email=customer.email, password=PASSWORD)
    assert client.get(f"/mes/parts/{part.pk}/traveler.pdf").status_code in (403, 404)
