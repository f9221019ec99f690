"""The operator's home page is the station; the menu stays one click away."""

from __future__ import annotations

import pytest

from traveler.core.services.tenants import tenant_module_set
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.core.tests.test_ui_shell import signed_in

pytestmark = pytest.mark.django_db


def test_an_operator_signing_in_lands_on_the_station(client, tenant):
    operator = make_member(tenant, roles=["operator"])
    r = client.post("/signin/", {"email": operator.email, "password": PASSWORD}, follow=True)
    assert r.redirect_chain[-1] == ("/mes/station/", 302)
    assert r.status_code == 200 and 'name="serial"' in r.content.decode()


def test_an_operator_can_still_reach_the_menu(tenant):
    client = signed_in(make_member(tenant, roles=["operator"]), tenant)
    station = client.get("/mes/station/").content.decode()
    assert 'href="/?menu=1"' in station
    r = client.get("/?menu=1")
    assert r.status_code == 200 and 'class="tile"' in r.content.decode()


def test_a_production_manager_and_a_tenant_admin_operator_get_the_menu(tenant):
    for roles in (["production_manager"], ["tenant_admin", "operator"]):
        r = signed_in(make_member(tenant, roles=roles), tenant).get("/")
        assert r.status_code == 200, roles


def test_mes_lite_switched_off_means_no_redirect(tenant):
    client = signed_in(make_member(tenant, roles=["operator"]), tenant)
    assert client.get("/")["Location"] == "/mes/station/"
    tenant_module_set(tenant=tenant, module="mes_lite", enabled=False)
    r = client.get("/")
    assert r.status_code == 200 and "/mes/station/" not in r.content.decode()
