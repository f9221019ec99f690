"""The generic record pages, through Companies: list, search, create, edit with a stale version, archive, history."""

from __future__ import annotations

import pytest

from traveler.core.models import Company, History
from traveler.core.registry import Panel, add_panel, registry
from traveler.core.services.companies import company_update
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, make_member
from traveler.core.tests.test_ui_shell import signed_in

pytestmark = pytest.mark.django_db


def fresh(tenant, obj):
    with tenant_context(tenant):
        return type(obj).objects.get(pk=obj.pk)


@pytest.fixture
def client(tenant, admin):
    return signed_in(admin, tenant)


def test_list_shows_active_companies_with_search_and_filters(client, tenant):
    make_company(tenant, "Bosch Rexroth", kind="supplier")
    make_company(tenant, "Delphi Technologies", description="diesel injectors")
    archived = make_company(tenant, "Old Supplier Ltd")
    with tenant_context(tenant):
        from traveler.core.services.companies import company_archive

        company_archive(company=archived, reason="closed")
    r = client.get("/companies/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Bosch Rexroth" in html and "Delphi Technologies" in html and "Old Supplier Ltd" not in html
    assert "Supplier" in html  # the choice label, not the stored value
    r = client.get("/companies/", {"q": "injector"})
    names = [row["object"].name for row in r.context["rows"]]
    assert names == ["Delphi Technologies"]
    r = client.get("/companies/", {"kind": "supplier"})
    assert [row["object"].name for row in r.context["rows"]] == ["Bosch Rexroth"]
    r = client.get("/companies/", {"archived": "only"})
    assert [row["object"].name for row in r.context["rows"]] == ["Old Supplier Ltd"]
    r = client.get("/companies/", {"sort": "-name"})
    assert [row["object"].name for row in r.context["rows"]] == ["Delphi Technologies", "Bosch Rexroth"]


def test_inline_search_with_htmx_answers_only_the_results(client, tenant):
    make_company(tenant, "Bosch Rexroth")
    r = client.get("/companies/", {"q": "bosch"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="record-results")
    html = r.content.decode()
    assert r.status_code == 200
    assert html.lstrip().startswith('<div id="record-results"') and "<html" not in html
    assert "Bosch Rexroth" in html


def test_list_paginates_by_fifty(client, tenant):
    with tenant_context(tenant):
        Company.objects.bulk_create([Company(name=f"Company {i:03d}") for i in range(51)])
    r = client.get("/companies/")
    assert len(r.context["rows"]) == 50
    assert r.context["page"].paginator.num_pages == 2
    r = client.get("/companies/", {"page": 2})
    assert [row["object"].name for row in r.context["rows"]] == ["Company 050"]


def test_create_a_company(client, tenant):
    r = client.get("/companies/new/")
    assert r.status_code == 200 and 'name="reason"' in r.content.decode()
    r = client.post("/companies/new/", {"name": "Cummins", "kind": "customer", "description": "", "reason": "new customer"})
    assert r.status_code == 302
    with tenant_context(tenant):
        company = Company.objects.get(name="Cummins")
    assert r["Location"] == f"/companies/{company.pk}/"
    r = client.get(r["Location"])
    assert "Cummins" in r.content.decode() and "created" in r.content.decode()


def test_create_shows_service_errors_on_the_field(client, tenant):
    make_company(tenant, "Cummins")
    r = client.post("/companies/new/", {"name": "Cummins", "kind": "customer"})
    assert r.status_code == 400
    assert "already exists" in r.content.decode()
    assert r.context["form"].errors["name"]


def test_a_create_refused_as_a_conflict_is_shown_on_the_form(client, tenant, monkeypatch):
    from traveler.core.errors import Conflict
    from traveler.core.ui import companies

    def refuse(self, data, reason):
        raise Conflict("A company with this number is being created by someone else: try again.")

    monkeypatch.setattr(companies.CompanyEdit, "call_create", refuse)
    r = client.post("/companies/new/", {"name": "Cummins", "kind": "customer"})
    assert r.status_code == 409
    assert "being created by someone else" in r.content.decode()
    with tenant_context(tenant):
        assert not Company.objects.filter(name="Cummins").exists()


def test_create_needs_the_add_permission(tenant):
    operator = make_member(tenant, roles=["operator"])
    client = signed_in(operator, tenant)
    assert client.get("/companies/").status_code == 200
    r = client.get("/companies/new/")
    assert r.status_code == 403
    r = client.post("/companies/new/", {"name": "Sneaky", "kind": "customer"})
    assert r.status_code == 403
    with tenant_context(tenant):
        assert not Company.objects.filter(name="Sneaky").exists()


def test_edit_a_company_with_a_reason(client, tenant):
    company = make_company(tenant, "Cummins")
    r = client.get(f"/companies/{company.pk}/edit/")
    assert r.status_code == 200
    assert f'name="version" value="{company.version}"' in r.content.decode()
    r = client.post(f"/companies/{company.pk}/edit/", {"name": "Cummins Inc.", "kind": "customer", "description": "",
                                                       "version": company.version, "reason": "legal name"})
    assert r.status_code == 302
    company = fresh(tenant, company)
    assert company.name == "Cummins Inc." and company.version == 2


def test_edit_with_a_stale_version_shows_the_conflict_and_keeps_the_input(client, tenant, admin):
    company = make_company(tenant, "Cummins")
    with tenant_context(tenant, actor=admin):
        company_update(company=Company.objects.get(pk=company.pk), version=1, data={"description": "engines"})
    r = client.post(f"/companies/{company.pk}/edit/", {"name": "Cummins Engines", "kind": "customer",
                                                       "description": "mine", "version": 1})
    assert r.status_code == 409
    html = r.content.decode()
    assert "changed by someone else" in html
    assert 'value="Cummins Engines"' in html and "mine" in html  # the user's input is kept
    assert 'name="version" value="2"' in html  # saving again is a deliberate overwrite
    diff = {f["label"]: (f["current"], f["yours"]) for f in r.context["conflict"]["fields"]}
    assert diff["Description"] == ("engines", "mine")
    company = fresh(tenant, company)
    assert company.name == "Cummins" and company.description == "engines"
    r = client.post(f"/companies/{company.pk}/edit/", {"name": "Cummins Engines", "kind": "customer",
                                                       "description": "mine", "version": 2})
    assert r.status_code == 302
    company = fresh(tenant, company)
    assert company.name == "Cummins Engines" and company.version == 3


def test_archive_needs_a_reason_then_archives(client, tenant):
    company = make_company(tenant, "Cummins")
    r = client.post(f"/companies/{company.pk}/archive/", {"version": 1})
    assert r.status_code == 302
    company = fresh(tenant, company)
    assert company.archived_at is None
    r = client.post(f"/companies/{company.pk}/archive/", {"version": 1, "reason": "no longer a customer"})
    company = fresh(tenant, company)
    assert company.archived_at is not None
    r = client.get(f"/companies/{company.pk}/")
    assert r.status_code == 200 and "Archived" in r.content.decode()
    assert client.get(f"/companies/{company.pk}/edit/").status_code == 302
    assert client.get("/companies/archive/").status_code == 404
    r = client.post(f"/companies/{company.pk}/restore/", {"reason": "back in business"})
    company = fresh(tenant, company)
    assert company.archived_at is None


def test_history_shows_each_change_with_its_reason_and_author(client, tenant, admin):
    r = client.post("/companies/new/", {"name": "Cummins", "kind": "customer", "reason": "new customer"})
    company_url = r["Location"]
    with tenant_context(tenant):
        company = Company.objects.get(name="Cummins")
    client.post(f"{company_url}edit/", {"name": "Cummins", "kind": "supplier", "description": "",
                                        "version": 1, "reason": "they sell us pumps now"})
    r = client.get(f"{company_url}history/")
    assert r.status_code == 200
    entries = r.context["entries"]
    assert [e["action"] for e in entries] == ["Updated", "Created"]
    assert entries[0]["reason"] == "they sell us pumps now"
    assert entries[0]["who"] == admin.full_name
    assert entries[0]["when"].endswith("UTC")
    assert {"field": "Kind", "old": "Customer", "new": "Supplier"} in entries[0]["changes"]
    assert entries[1]["reason"] == "new customer"
    html = r.content.decode()
    assert "they sell us pumps now" in html and admin.full_name in html
    with tenant_context(tenant):
        assert History.objects.filter(table_name="core_company", record_id=str(company.pk)).count() == 2


def test_history_needs_view_history(tenant):
    customer_co = make_company(tenant, "Customer Co")
    customer = make_member(tenant, roles=["customer"], company=customer_co)
    client = signed_in(customer, tenant)
    assert client.get(f"/companies/{customer_co.pk}/").status_code == 200
    assert "/history/" not in client.get(f"/companies/{customer_co.pk}/").content.decode()
    assert client.get(f"/companies/{customer_co.pk}/history/").status_code == 403


def test_customers_see_only_their_own_company(tenant):
    mine = make_company(tenant, "Mine Co")
    theirs = make_company(tenant, "Theirs Co")
    customer = make_member(tenant, roles=["customer"], company=mine)
    client = signed_in(customer, tenant)
    r = client.get("/companies/")
    assert [row["object"].name for row in r.context["rows"]] == ["Mine Co"]
    assert client.get(f"/companies/{theirs.pk}/").status_code == 404


def test_records_of_another_tenant_are_not_found(client, other_tenant):
    foreign = make_company(other_tenant, "Foreign Co")
    assert client.get(f"/companies/{foreign.pk}/").status_code == 404
    assert client.get(f"/companies/{foreign.pk}/history/").status_code == 404


def test_detail_shows_panels_other_modules_registered(client, tenant):
    company = make_company(tenant, "Cummins")
    target = "core.company.detail"
    shown = Panel("core", target, "Open orders", lambda request, obj: f"<p>3 open orders for {obj.name}</p>")
    hidden = Panel("core", target, "Secret", lambda request, obj: "<p>secret</p>", permission="core.nobody_has")
    broken = Panel("core", target, "Broken", lambda request, obj: 1 / 0)
    for p in (shown, hidden, broken):
        add_panel(p)
    try:
        html = client.get(f"/companies/{company.pk}/").content.decode()
    finally:
        for p in (shown, hidden, broken):
            registry.panels[target].remove(p)
    assert "Open orders" in html and "3 open orders for Cummins" in html
    assert "secret" not in html
    assert "could not be shown" in html  # a broken panel does not take the page down
