"""Administration pages: users, roles, modules, jobs and API tokens."""

from __future__ import annotations

import pytest
from django.utils import timezone

from traveler.core.models import ApiToken, Job, Membership, Role, RolePermission, TenantModule
from traveler.core.services.auth import token_authenticate
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member
from traveler.core.tests.test_ui_shell import fake_module, nav_labels, signed_in  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
WITH_ERROR_HANDLERS = "traveler.core.tests.test_ui_shell"  # the site's URLs with the UI's error handlers


@pytest.fixture
def client(tenant, admin):
    return signed_in(admin, tenant)


@pytest.fixture(autouse=True)
def _in_tenant(tenant):
    """The tests read back what the pages wrote; the database shows it inside the tenant's context.
    (Each request still runs in the context its session decides.)"""
    with tenant_context(tenant):
        yield


def membership(user, tenant) -> Membership:
    with tenant_context(tenant):  # the database shows a tenant's memberships inside its context
        return Membership.objects.select_related("user").get(user=user, tenant=tenant)


def role_codes(m: Membership) -> set[str]:
    with tenant_context(m.tenant):
        return {link.role.code for link in m.role_links.select_related("role")}


# ---------- users ----------

def test_user_list_shows_members_with_roles(client, tenant, admin):
    make_member(tenant, roles=["qa_inspector"], full_name="Ines Inspector")
    r = client.get("/users/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "Ines Inspector" in html and "QA Inspector" in html and admin.email in html
    r = client.get("/users/", {"q": "ines"})
    assert [row["m"].user.full_name for row in r.context["rows"]] == ["Ines Inspector"]


def test_add_a_user_with_roles_sends_an_invitation(client, tenant, mailoutbox, django_capture_on_commit_callbacks):
    r = client.get("/users/new/")
    assert r.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/users/new/", {"email": "new.person@example.com", "full_name": "New Person",
                                        "roles": ["operator", "qa_inspector"]}, follow=True)
    with tenant_context(tenant):
        m = Membership.objects.get(user__email="new.person@example.com", tenant=tenant)
    assert r.redirect_chain[-1][0] == f"/users/{m.pk}/"
    assert role_codes(m) == {"operator", "qa_inspector"} and m.is_pending
    html = r.content.decode()
    assert "can now sign in" not in html and "Invitation e-mailed to new.person@example.com" in html
    assert [mail.to for mail in mailoutbox] == [["new.person@example.com"]]
    assert "/password/set/" in mailoutbox[0].body


def test_add_a_customer_user_needs_a_company(client, tenant):
    r = client.post("/users/new/", {"email": "buyer@example.com", "full_name": "Buyer", "roles": ["customer"]})
    assert r.status_code == 400
    assert "must belong to a company" in r.content.decode()
    assert r.context["form"].errors["company"]
    company = make_company(tenant, "Buyer Co")
    r = client.post("/users/new/", {"email": "buyer@example.com", "full_name": "Buyer", "roles": ["customer"],
                                    "company": company.pk})
    assert r.status_code == 302
    with tenant_context(tenant):
        assert Membership.objects.get(user__email="buyer@example.com").company_id == company.pk


def test_change_password_shows_a_weak_password_on_its_field(client):
    r = client.post("/account/password/", {"current_password": PASSWORD, "new_password": "short",
                                            "new_password_again": "short"})
    assert r.status_code == 400
    assert r.context["form"].errors["new_password"]


def test_change_roles_of_a_user_with_a_reason(client, tenant):
    user = make_member(tenant, roles=["operator"])
    m = membership(user, tenant)
    r = client.get(f"/users/{m.pk}/")
    assert r.status_code == 200 and "Save roles" in r.content.decode()
    r = client.post(f"/users/{m.pk}/", {"roles": ["qa_inspector"], "reason": "promoted"})
    assert r.status_code == 302
    assert role_codes(m) == {"qa_inspector"}


def test_deactivate_and_reactivate_a_user(client, tenant):
    user = make_member(tenant, roles=["operator"])
    m = membership(user, tenant)
    client.post(f"/users/{m.pk}/active/", {"active": "false"})  # a reason is required
    m.refresh_from_db()
    assert m.is_active
    client.post(f"/users/{m.pk}/active/", {"active": "false", "reason": "left the company"})
    m.refresh_from_db()
    assert not m.is_active
    client.post(f"/users/{m.pk}/active/", {"active": "true"})
    m.refresh_from_db()
    assert m.is_active


@pytest.mark.urls(WITH_ERROR_HANDLERS)
def test_an_admin_cannot_change_or_deactivate_themselves(client, tenant, admin):
    m = membership(admin, tenant)
    r = client.get(f"/users/{m.pk}/")
    html = r.content.decode()
    assert "You cannot change your own roles" in html and "Save roles" not in html
    r = client.post(f"/users/{m.pk}/active/", {"active": "false", "reason": "oops"})
    assert r.status_code == 403
    assert "ask another administrator" in r.content.decode()
    r = client.post(f"/users/{m.pk}/", {"roles": ["operator"]})
    assert r.status_code == 403
    m.refresh_from_db()
    assert m.is_active and role_codes(m) == {"tenant_admin"}


def test_users_of_another_tenant_are_not_found(client, other_tenant):
    foreign = membership(make_member(other_tenant, roles=["operator"]), other_tenant)
    assert client.get(f"/users/{foreign.pk}/").status_code == 404
    assert client.post(f"/users/{foreign.pk}/active/", {"active": "false", "reason": "x"}).status_code == 404


def test_viewers_cannot_manage_users(tenant):
    operator = make_member(tenant, roles=["operator"])
    other = membership(make_member(tenant, roles=["operator"]), tenant)
    client = signed_in(operator, tenant)
    assert client.get("/users/").status_code == 200
    r = client.get(f"/users/{other.pk}/")
    assert r.status_code == 200 and "Save roles" not in r.content.decode()
    assert client.post(f"/users/{other.pk}/", {"roles": ["tenant_admin"]}).status_code == 403
    assert client.post("/users/new/", {"email": "x@example.com", "roles": ["operator"]}).status_code == 403


# ---------- roles ----------

def granted(role) -> set[str]:
    return set(RolePermission.unscoped.filter(role=role, archived_at__isnull=True).values_list("permission", flat=True))


def test_roles_list_and_matrix_grouped_by_module(client, tenant):
    r = client.get("/roles/")
    assert r.status_code == 200 and "QA Inspector" in r.content.decode()
    with tenant_context(tenant):
        role = Role.objects.get(code="qa_inspector")
    r = client.get(f"/roles/{role.pk}/")
    assert r.status_code == 200
    groups = r.context["groups"]
    assert groups[0]["name"] == "Platform"
    assert "core.view_company" in {p["code"] for p in groups[0]["permissions"]}
    assert 'value="core.view_company" checked' in r.content.decode()


def test_role_matrix_saves_with_a_reason(client, tenant):
    with tenant_context(tenant):
        role = Role.objects.get(code="qa_inspector")
        before = granted(role)
    wanted = sorted((before - {"core.view_company"}) | {"core.add_company"})
    r = client.post(f"/roles/{role.pk}/", {"permissions": wanted, "reason": "inspectors register suppliers"})
    assert r.status_code == 302
    with tenant_context(tenant):
        assert granted(role) == set(wanted)
        from traveler.core.models import History

        reasons = set(History.objects.filter(table_name="core_rolepermission").values_list("reason", flat=True))
    assert "inspectors register suppliers" in reasons


def test_role_matrix_is_read_only_without_manage_roles(tenant):
    manager = make_member(tenant, roles=["qa_manager"])  # may view roles, not change them
    client = signed_in(manager, tenant)
    with tenant_context(tenant):
        role = Role.objects.get(code="operator")
        before = granted(role)
    r = client.get(f"/roles/{role.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Read only" in html and "Save permissions" not in html and "disabled" in html
    assert client.post(f"/roles/{role.pk}/", {"permissions": ["core.manage_roles"]}).status_code == 403
    with tenant_context(tenant):
        assert granted(role) == before


def test_unknown_permissions_are_refused(client, tenant):
    with tenant_context(tenant):
        role = Role.objects.get(code="operator")
    r = client.post(f"/roles/{role.pk}/", {"permissions": ["core.fly"]})
    assert r.status_code == 400


# ---------- modules ----------

def test_modules_page_lists_core_as_always_on(client):
    r = client.get("/modules/")
    assert r.status_code == 200
    assert "Always on" in r.content.decode()
    assert client.post("/modules/core/switch/", {"enabled": "false"}).status_code == 302
    assert "core" in {m["label"] for m in client.get("/modules/").context["modules"] if m["enabled"]}


def test_module_toggle_with_a_plain_form(client, tenant, fake_module):  # noqa: F811
    r = client.post(f"/modules/{fake_module.label}/switch/", {"enabled": "false"})
    assert r.status_code == 302
    with tenant_context(tenant):
        assert not TenantModule.objects.get(tenant=tenant, module=fake_module.label).enabled
    assert "UI test page" not in nav_labels(client.get("/modules/"))
    client.post(f"/modules/{fake_module.label}/switch/", {"enabled": "true"})
    with tenant_context(tenant):
        assert TenantModule.objects.get(tenant=tenant, module=fake_module.label).enabled


def test_module_toggle_with_htmx_answers_the_row_and_the_new_menu(client, tenant, fake_module):  # noqa: F811
    r = client.post(f"/modules/{fake_module.label}/switch/", {"enabled": "false"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200
    assert html.lstrip().startswith(f'<tr id="module-{fake_module.label}"')
    assert 'aria-checked="false"' in html
    assert 'id="sidebar"' in html and 'hx-swap-oob="true"' in html and "UI test page" not in html


def test_modules_need_manage_modules(tenant, fake_module):  # noqa: F811
    client = signed_in(make_member(tenant, roles=["qa_manager"]), tenant)
    assert client.get("/modules/").status_code == 403
    assert client.post(f"/modules/{fake_module.label}/switch/", {"enabled": "false"}).status_code == 403


# ---------- jobs ----------

def make_job(tenant, status, **kw) -> Job:
    with tenant_context(tenant):
        return Job.objects.create(name="core.test_job", tenant=tenant, status=status, run_at=timezone.now(), **kw)


def test_jobs_filtered_by_status_and_dead_ones_retried(client, tenant, other_tenant):
    dead = make_job(tenant, Job.Status.DEAD, attempts=5, last_error="Traceback: ValueError: bad gauge id")
    make_job(tenant, Job.Status.SUCCEEDED)
    foreign = make_job(other_tenant, Job.Status.DEAD)
    r = client.get("/jobs/", {"status": "dead"})
    html = r.content.decode()
    assert [row["job"].pk for row in r.context["rows"]] == [dead.pk]
    assert "bad gauge id" in html and "Retry" in html
    assert len(client.get("/jobs/").context["rows"]) == 2
    r = client.post(f"/jobs/{dead.pk}/retry/", {"status": "dead"})
    assert r.status_code == 302 and r["Location"] == "/jobs/?status=dead"
    dead.refresh_from_db()
    assert dead.status == Job.Status.QUEUED and dead.attempts == 0
    assert client.post(f"/jobs/{foreign.pk}/retry/").status_code == 404


def test_jobs_need_view_jobs(tenant):
    client = signed_in(make_member(tenant, roles=["qa_manager"]), tenant)
    assert client.get("/jobs/").status_code == 403


# ---------- API tokens ----------

def test_create_a_token_shows_it_once_and_it_opens_the_api(client, tenant, admin):
    r = client.post("/tokens/", {"name": "CMM export", "days": 30})
    assert r.status_code == 200
    raw = r.context["raw"]
    assert raw.startswith("trv_") and raw in r.content.decode()
    assert "no-store" in r["Cache-Control"] or "no-cache" in r["Cache-Control"]
    assert token_authenticate(raw) is not None
    r = client.get("/tokens/")
    assert raw not in r.content.decode() and "CMM export" in r.content.decode()
    assert client.get("/api/v1/core/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_revoke_a_token(client, tenant, admin):
    client.post("/tokens/", {"name": "ERP sync", "days": 30})
    with tenant_context(tenant):
        token = ApiToken.objects.get(user=admin, name="ERP sync")
    r = client.post(f"/tokens/{token.pk}/revoke/")
    assert r.status_code == 302
    with tenant_context(tenant):
        token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked" in client.get("/tokens/").content.decode()


def test_tokens_of_someone_else_cannot_be_revoked(client, tenant):
    other = make_member(tenant, roles=["operator"])
    signed_in(other, tenant).post("/tokens/", {"name": "theirs", "days": 30})
    with tenant_context(tenant):
        token = ApiToken.objects.get(user=other)
    client.post(f"/tokens/{token.pk}/revoke/")
    with tenant_context(tenant):
        token.refresh_from_db()
    assert token.revoked_at is None


def test_token_form_validates_days(client):
    r = client.post("/tokens/", {"name": "x", "days": 999})
    assert r.status_code == 400 and r.context["form"].errors["days"]
