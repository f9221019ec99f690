"""The UI shell: sign-in and sign-out, tenant switch, navigation by permission and module switch, error pages."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import path

from traveler.core.middleware import SESSION_TENANT
from traveler.core.registry import HomePage, MenuItem, add_menu_item, registry, set_home_page
from traveler.core.services.tenants import tenant_module_set
from traveler.core.tests.factories import PASSWORD, make_member, make_tenant
from traveler.core.ui import errors
from traveler.server import urls as site_urls

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_module():
    """A switchable module with one menu entry, registered for one test (core itself cannot be switched)."""
    module = SimpleNamespace(label="uitest", verbose_name="UI test module", switchable=True, default_enabled=True,
                             requires=("core",))
    item = MenuItem("uitest", "UI test page", "core:token-list", None, "UI test", 1)
    registry.modules[module.label] = module
    add_menu_item(item)
    yield module
    registry.modules.pop(module.label)
    registry.menu.remove(item)


def signed_in(user, tenant=None) -> Client:
    client = Client()
    client.force_login(user)
    if tenant is not None:
        session = client.session
        session[SESSION_TENANT] = tenant.pk
        session.save()
    return client


def nav_labels(response) -> list[str]:
    return [item["label"] for section in response.context["nav"] for item in section["items"]]


# ---------- sign-in, sign-out ----------

def test_signin_page_renders_for_anonymous(client):
    r = client.get("/signin/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'name="email"' in html and 'name="password"' in html and "csrfmiddlewaretoken" in html


def test_pages_redirect_anonymous_users_to_signin(client):
    r = client.get("/companies/?q=x")
    assert r.status_code == 302
    assert r["Location"].startswith(settings.LOGIN_URL) and "next=" in r["Location"]


def test_signin_success_redirects_to_safe_next(client, tenant, admin):
    r = client.post("/signin/", {"email": admin.email.upper(), "password": PASSWORD, "next": "/companies/"})
    assert r.status_code == 302 and r["Location"] == "/companies/"
    r = client.get("/")
    assert r.status_code == 200
    assert r.context["user"] == admin
    assert r.context["current_tenant"] == tenant


def test_signin_refuses_an_offsite_next(client, admin):
    r = client.post("/signin/", {"email": admin.email, "password": PASSWORD, "next": "https://evil.example/x"})
    assert r.status_code == 302 and r["Location"] == settings.LOGIN_REDIRECT_URL


def test_signin_failure_shows_the_message_and_signs_nobody_in(client, admin):
    r = client.post("/signin/", {"email": admin.email, "password": "wrong password here"})
    assert r.status_code == 400
    assert "The email or password is not correct." in r.content.decode()
    assert admin.email in r.content.decode()  # the email is kept, only the password must be retyped
    assert client.get("/").status_code == 302


def test_signin_lockout_after_repeated_failures(client, admin):
    for _ in range(settings.TRAVELER_LOGIN_MAX_FAILURES):
        client.post("/signin/", {"email": admin.email, "password": "wrong password here"})
    r = client.post("/signin/", {"email": admin.email, "password": PASSWORD})  # right password, too late
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.content.decode()
    assert client.get("/").status_code == 302


def test_signout_needs_post_and_ends_the_session(tenant, admin):
    client = signed_in(admin, tenant)
    assert client.get("/signout/").status_code == 405
    r = client.post("/signout/")
    assert r.status_code == 302 and r["Location"] == settings.LOGIN_URL
    assert client.get("/").status_code == 302


def test_signout_requires_csrf(tenant, admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post("/signout/").status_code == 403
    assert client.get("/").status_code == 200


# ---------- tenant switch ----------

def test_tenant_switch_to_a_tenant_of_the_user(tenant, other_tenant, admin):
    from traveler.core.services.users import member_add
    from traveler.core.tenancy import tenant_context

    with tenant_context(other_tenant):
        member_add(email=admin.email, full_name=admin.full_name, password=None, roles=["operator"])
    client = signed_in(admin, tenant)
    r = client.get("/")
    assert {t.pk for t in r.context["user_tenants"]} == {tenant.pk, other_tenant.pk}
    assert 'name="tenant"' in r.content.decode()
    r = client.post("/tenant/switch/", {"tenant": other_tenant.pk})
    assert r.status_code == 302
    r = client.get("/?menu=1")  # an operator there: "/" would lead to the operator's home page
    assert r.context["current_tenant"] == other_tenant
    assert "Roles" not in nav_labels(r)  # an operator there


def test_tenant_switch_refuses_a_tenant_the_user_does_not_belong_to(tenant, other_tenant, admin):
    client = signed_in(admin, tenant)
    r = client.post("/tenant/switch/", {"tenant": other_tenant.pk})
    assert r.status_code == 403
    assert "not a member" in r.content.decode()
    assert client.session[SESSION_TENANT] == tenant.pk
    assert client.get("/").context["current_tenant"] == tenant


# ---------- navigation ----------

def test_nav_for_an_admin_shows_administration_and_marks_the_active_item(tenant, admin):
    r = signed_in(admin, tenant).get("/companies/")
    labels = nav_labels(r)
    assert {"Companies", "Users", "Roles", "Modules", "Jobs", "API tokens"} <= set(labels)
    active = [i["label"] for s in r.context["nav"] for i in s["items"] if i["active"]]
    assert active == ["Companies"]
    assert 'aria-current="page"' in r.content.decode()


def test_nav_for_an_operator_hides_users_and_roles(tenant):
    operator = make_member(tenant, roles=["operator"])
    r = signed_in(operator, tenant).get("/?menu=1")
    labels = nav_labels(r)
    assert "Users" in labels  # operators may view users (core.view_user)...
    assert "Roles" not in labels and "Modules" not in labels and "Jobs" not in labels
    html = r.content.decode()
    assert "/roles/" not in html and "/modules/" not in html


def test_nav_for_an_operator_has_no_user_management_pages(tenant):
    operator = make_member(tenant, roles=["operator"])
    client = signed_in(operator, tenant)
    assert client.get("/users/new/").status_code == 403
    assert client.get("/roles/").status_code == 403


def test_a_module_switched_off_leaves_the_menu(tenant, admin, fake_module):
    client = signed_in(admin, tenant)
    assert "UI test page" in nav_labels(client.get("/"))
    tenant_module_set(tenant=tenant, module=fake_module.label, enabled=False)
    assert "UI test page" not in nav_labels(client.get("/"))
    assert "API tokens" in nav_labels(client.get("/"))


# ---------- home pages per role ----------

@pytest.fixture
def home_pages(fake_module):
    """Home pages registered for one test: ``home(role, url_name, permission)``; the fake module owns them."""
    saved = dict(registry.home_pages)

    def home(role: str, url_name: str, permission: str | None = None) -> None:
        registry.home_pages.pop(role, None)
        set_home_page(HomePage(fake_module.label, role, url_name, permission))

    yield home
    registry.home_pages.clear()
    registry.home_pages.update(saved)


def test_a_role_with_a_home_page_lands_there_after_signing_in(client, tenant, home_pages):
    home_pages("qa_inspector", "core:token-list")
    inspector = make_member(tenant, roles=["qa_inspector"])
    r = client.post("/signin/", {"email": inspector.email, "password": PASSWORD}, follow=True)
    assert r.redirect_chain[-1] == ("/tokens/", 302)
    assert r.status_code == 200


def test_a_user_with_a_home_page_can_still_open_the_menu(tenant, home_pages):
    home_pages("qa_inspector", "core:token-list")
    client = signed_in(make_member(tenant, roles=["qa_inspector"]), tenant)
    r = client.get("/?menu=1")
    assert r.status_code == 200 and 'class="tile"' in r.content.decode()
    # The sidebar's Dashboard entry asks for the menu, so it does not lead back to the home page.
    assert 'href="/?menu=1"' in client.get("/tokens/").content.decode()


def test_a_tenant_admin_gets_the_menu(tenant, admin, home_pages):
    home_pages("qa_inspector", "core:token-list")
    r = signed_in(admin, tenant).get("/")
    assert r.status_code == 200 and 'class="tile"' in r.content.decode()


def test_a_role_without_a_home_page_keeps_the_menu_for_all_roles(tenant, home_pages):
    home_pages("qa_inspector", "core:token-list")
    r = signed_in(make_member(tenant, roles=["tenant_admin", "qa_inspector"]), tenant).get("/")
    assert r.status_code == 200 and 'class="tile"' in r.content.decode()


def test_with_several_homes_the_first_role_in_the_seeded_order_decides(tenant, home_pages):
    home_pages("auditor", "core:user-list")
    home_pages("qa_inspector", "core:token-list")
    # qa_inspector comes before auditor in the seeded roles, whatever order they were given in.
    r = signed_in(make_member(tenant, roles=["auditor", "qa_inspector"]), tenant).get("/")
    assert r.status_code == 302 and r["Location"] == "/tokens/"


def test_a_home_page_in_a_module_switched_off_means_the_menu(tenant, home_pages, fake_module):
    home_pages("qa_inspector", "core:token-list")
    client = signed_in(make_member(tenant, roles=["qa_inspector"]), tenant)
    assert client.get("/").status_code == 302
    tenant_module_set(tenant=tenant, module=fake_module.label, enabled=False)
    r = client.get("/")
    assert r.status_code == 200 and 'class="tile"' in r.content.decode()


def test_a_home_page_the_user_may_not_open_means_the_menu(tenant, home_pages):
    home_pages("qa_inspector", "core:user-list", "core.manage_users")
    r = signed_in(make_member(tenant, roles=["qa_inspector"]), tenant).get("/")
    assert r.status_code == 200 and 'class="tile"' in r.content.decode()


def test_a_role_has_one_home_page(home_pages):
    home_pages("qa_inspector", "core:token-list")
    with pytest.raises(ValueError, match="already has a home page"):
        set_home_page(HomePage("other", "qa_inspector", "core:user-list"))


def test_dashboard_lists_the_menu_as_tiles_and_recent_changes(tenant, admin):
    from traveler.core.tests.factories import make_company

    make_company(tenant, "Bosch Rexroth")
    r = signed_in(admin, tenant).get("/")
    html = r.content.decode()
    assert r.status_code == 200
    assert 'class="tile"' in html and "Companies" in html
    assert "Bosch Rexroth" in html  # in recent changes


def test_assets_are_served_by_the_app_and_no_cdn_is_referenced(tenant, admin):
    html = signed_in(admin, tenant).get("/").content.decode()
    assert "/static/core/traveler.css" in html and "/static/django_htmx/htmx" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    client = Client()
    assert client.get("/static/core/traveler.css").status_code == 200
    assert client.get("/static/core/icons.svg").status_code == 200


def test_a_user_without_any_tenant_sees_a_clear_page(db):
    from traveler.core.services.users import user_create

    loner = user_create(email="loner@example.com", full_name="Lone Wolf", password=PASSWORD)
    client = Client()
    client.force_login(loner)
    r = client.get("/")
    assert r.status_code == 403
    assert "not an active member of any tenant" in r.content.decode()


# ---------- error pages ----------

def _denied(request):
    raise PermissionDenied("You cannot approve your own request.")


def _broken(request):
    raise RuntimeError("boom")


# This module doubles as a URL conf: the site's URLs plus two views that fail, with the handlers.
urlpatterns = [
    path("denied/", _denied),
    path("broken/", _broken),
    *site_urls.urlpatterns,
]
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error


@pytest.mark.urls(__name__)
def test_error_handlers_render_friendly_pages(tenant, admin):
    client = signed_in(admin, tenant)
    client.raise_request_exception = False
    r = client.get("/denied/")
    assert r.status_code == 403
    assert "You cannot approve your own request." in r.content.decode()
    r = client.get("/nowhere/")
    assert r.status_code == 404 and "Page not found" in r.content.decode()
    r = client.get("/broken/")
    assert r.status_code == 500 and "Something went wrong" in r.content.decode() and "boom" not in r.content.decode()
    r = client.get("/api/v1/nowhere/")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


@override_settings(DEBUG=False)
def test_missing_permission_answers_403_with_the_reason(tenant):
    from traveler.core.tests.factories import make_company

    customer_co = make_company(tenant, "Customer Co")
    customer = make_member(tenant, roles=["customer"], company=customer_co)
    r = signed_in(customer, tenant).get("/jobs/")
    assert r.status_code == 403


def test_other_tenants_do_not_show_in_the_switch(tenant, admin):
    make_tenant("Someone Else Entirely")
    r = signed_in(admin, tenant).get("/")
    assert [t.pk for t in r.context["user_tenants"]] == [tenant.pk]
    assert 'name="tenant"' not in r.content.decode()


def test_dashboard_tile_icons_point_at_one_sprite_symbol(tenant, admin):
    import re

    html = signed_in(admin, tenant).get("/").content.decode()
    tiles = re.findall(r'class="tile-icon".*?<use href="([^"]+)"', html)
    assert tiles, "no tile carries an icon"
    for href in tiles:
        assert href.count("icons.svg") == 1 and href.startswith("/static/") and "#" in href, href
        assert href.split("#", 1)[1] and "/" not in href.split("#", 1)[1], href


# ---------- database outages ----------

def _database_down(*args, **kwargs):
    from django.db import OperationalError

    raise OperationalError("connection to server failed: Connection refused")


@override_settings(DEBUG=False)
def test_during_a_database_outage_live_answers_200_and_ready_503(monkeypatch, tenant, admin):
    from django.db import connection

    client = signed_in(admin, tenant)
    client.raise_request_exception = False
    monkeypatch.setattr("traveler.core.tenancy._apply", _database_down)
    monkeypatch.setattr(connection, "cursor", _database_down)
    assert client.get("/health/live").status_code == 200
    r = client.get("/health/ready")
    assert r.status_code == 503 and r.json()["database"] == "unreachable"


@override_settings(DEBUG=False)
def test_during_a_database_outage_requests_answer_503_without_a_trace(monkeypatch, tenant, admin):
    client = signed_in(admin, tenant)
    client.raise_request_exception = False
    monkeypatch.setattr("traveler.core.middleware.session_tenant", _database_down)
    r = client.get("/api/v1/core/companies/")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "database_unavailable" and set(r.json()["error"]) == {
        "status", "code", "message", "fields"}
    for url in ("/", "/nowhere/"):
        r = client.get(url)
        body = r.content.decode()
        assert r.status_code == 503 and "Temporarily unavailable" in body, url
        assert "Traceback" not in body and "OperationalError" not in body and "refused" not in body
    monkeypatch.undo()
    assert client.get("/").status_code == 200  # back by itself once the database answers

