"""Sign-in, tokens, throttling, roles and permissions, and the one error shape, through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from traveler.core.models import ApiToken, History, Role
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member, make_tenant


def err(r, status):
    assert r.status_code == status, (r.status_code, r.content[:300])
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message", "fields"}
    assert body["error"]["status"] == status and body["error"]["message"]
    assert "Traceback" not in r.content.decode()
    return body["error"]


def test_token_obtain_use_list_and_revoke(client, tenant):
    user = make_member(tenant, roles=["operator"])
    r = client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, content_type="application/json")
    assert r.status_code == 201, r.json()
    raw = r.json()["token"]
    with tenant_context(tenant):  # the database shows a tenant's tokens only inside its context
        token = ApiToken.objects.get(pk=r.json()["id"])
    assert raw not in (token.key_hash, token.prefix) and len(token.key_hash) == 64  # stored hashed
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    me = client.get("/api/v1/core/me/", **auth).json()
    assert me["email"] == user.email and me["tenant"]["slug"] == tenant.slug and me["roles"] == ["operator"]
    listed = client.get("/api/v1/core/tokens/", **auth).json()["results"]
    assert [t["id"] for t in listed] == [token.pk] and "token" not in listed[0]
    assert client.delete(f"/api/v1/core/tokens/{token.pk}/", **auth).status_code == 200
    err(client.get("/api/v1/core/me/", **auth), 401)


def test_expired_token_is_refused(client, tenant):
    user = make_member(tenant, roles=["operator"])
    raw = client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD},
                      content_type="application/json").json()["token"]
    with tenant_context(tenant):
        ApiToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    e = err(client.get("/api/v1/core/me/", HTTP_AUTHORIZATION=f"Bearer {raw}"), 401)
    assert "expired" in e["message"]


def test_token_for_user_in_several_tenants_needs_the_tenant(client, tenant, other_tenant):
    user = make_member(tenant, roles=["operator"])
    with tenant_context(other_tenant):
        from traveler.core.services.users import member_add

        member_add(email=user.email, full_name=user.full_name, password=None, roles=["auditor"])
    e = err(client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD},
                        content_type="application/json"), 400)
    assert "tenant" in e["fields"]
    r = client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD, "tenant": other_tenant.slug},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["tenant"] == other_tenant.slug


def test_lockout_after_repeated_failures_from_an_unknown_client(client, tenant):
    user = make_member(tenant, roles=["operator"])
    for _ in range(5):
        r = client.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong password!"},
                        content_type="application/json", REMOTE_ADDR="203.0.113.7")
        e = err(r, 401)
        assert e["fields"] == {"password": ["incorrect"]} and r["WWW-Authenticate"].startswith("Bearer")
    r = client.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD},
                    content_type="application/json", REMOTE_ADDR="203.0.113.7")
    e = err(r, 429)
    assert "Too many failed sign-ins" in e["message"] and int(r["Retry-After"]) > 0


def test_password_rules(api, tenant, admin):
    api.as_user(admin, tenant)
    e = err(api.post("/api/v1/auth/password/", {"current_password": PASSWORD, "new_password": "short"},
                     format="json"), 400)
    assert "new_password" in e["fields"]


def test_error_shape_400_names_the_field(api, tenant, admin):
    api.as_user(admin, tenant)
    e = err(api.post("/api/v1/core/companies/", {"kind": "customer"}, format="json"), 400)
    assert e["fields"] == {"name": ["This field is required."]}
    assert e["message"].startswith("name:")
    e = err(api.post("/api/v1/core/companies/", {"name": "X", "kind": "planet"}, format="json"), 400)
    assert "kind" in e["fields"]


def test_duplicate_name_is_a_clear_400(api, tenant, admin):
    make_company(tenant, "Twice")
    api.as_user(admin, tenant)
    e = err(api.post("/api/v1/core/companies/", {"name": "Twice"}, format="json"), 400)
    assert "already exists" in e["message"] and "name" in e["fields"]


def test_error_shape_404_and_unknown_route(api, tenant, admin):
    api.as_user(admin, tenant)
    err(api.get("/api/v1/core/companies/999999/"), 404)
    err(api.get("/api/v1/core/nothing-here/"), 404)


def test_stale_update_is_409_and_nothing_is_overwritten(api, tenant, admin):
    c = make_company(tenant, "Versioned")
    api.as_user(admin, tenant)
    assert api.patch(f"/api/v1/core/companies/{c.pk}/", {"description": "first", "version": 1},
                     format="json").status_code == 200
    e = err(api.patch(f"/api/v1/core/companies/{c.pk}/", {"description": "second", "version": 1}, format="json"), 409)
    assert "your version 1, current version 2" in e["message"]
    assert api.get(f"/api/v1/core/companies/{c.pk}/").json()["description"] == "first"
    e = err(api.patch(f"/api/v1/core/companies/{c.pk}/", {"description": "no version"}, format="json"), 400)
    assert "version" in e["fields"]


def test_server_error_is_json_without_trace(api, tenant, admin, monkeypatch):
    import traveler.core.api.views as views

    def boom(_tenant):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views, "enabled_modules", boom)
    api.as_user(admin, tenant)
    api.raise_request_exception = False
    r = api.get("/api/v1/core/me/")
    e = err(r, 500)
    assert "secret internals" not in r.content.decode()
    assert e["code"] == "server_error"


def test_archive_instead_of_delete(api, tenant, admin):
    c = make_company(tenant, "Old customer")
    api.as_user(admin, tenant)
    r = api.post(f"/api/v1/core/companies/{c.pk}/archive/", {"reason": "merged"}, format="json")
    assert r.status_code == 200 and r.json()["archived_at"]
    assert c.pk not in [x["id"] for x in api.get("/api/v1/core/companies/").json()["results"]]
    assert c.pk in [x["id"] for x in api.get("/api/v1/core/companies/?archived=true").json()["results"]]
    with tenant_context(tenant):
        last = History.objects.filter(table_name="core_company", record_id=str(c.pk)).order_by("-id").first()
    assert last.reason == "merged" and last.changes["archived_at"][0] is None
    assert api.post(f"/api/v1/core/companies/{c.pk}/restore/", {}, format="json").json()["archived_at"] is None


# Roles and permissions -----------------------------------------------------------------------

def test_operator_cannot_manage_companies_or_users(api, tenant):
    api.as_user(make_member(tenant, roles=["operator"]), tenant)
    assert api.get("/api/v1/core/companies/").status_code == 200
    e = err(api.post("/api/v1/core/companies/", {"name": "Nope"}, format="json"), 403)
    assert "core.add_company" in e["message"]
    err(api.put("/api/v1/core/roles/1/permissions/", {"permissions": []}, format="json"), 403)


def test_auditor_reads_but_never_writes(api, tenant):
    c = make_company(tenant, "Audited")
    api.as_user(make_member(tenant, roles=["auditor"]), tenant)
    assert api.get(f"/api/v1/core/companies/{c.pk}/history/").status_code == 200
    err(api.patch(f"/api/v1/core/companies/{c.pk}/", {"name": "x", "version": 1}, format="json"), 403)
    err(api.post(f"/api/v1/core/companies/{c.pk}/archive/", {}, format="json"), 403)


def test_customer_sees_only_its_own_company(api, tenant):
    mine, other = make_company(tenant, "Customer One"), make_company(tenant, "Customer Two")
    api.as_user(make_member(tenant, roles=["customer"], company=mine), tenant)
    assert [c["id"] for c in api.get("/api/v1/core/companies/").json()["results"]] == [mine.pk]
    err(api.get(f"/api/v1/core/companies/{other.pk}/"), 404)
    err(api.post("/api/v1/core/companies/", {"name": "Mine now"}, format="json"), 403)


def test_customer_user_needs_a_company(api, tenant, admin):
    api.as_user(admin, tenant)
    e = err(api.post("/api/v1/core/users/", {"email": "buyer@example.com", "full_name": "Buyer",
                                             "roles": ["customer"]}, format="json"), 400)
    assert "company" in e["fields"]


def test_admin_cannot_change_own_roles(api, tenant, admin):
    api.as_user(admin, tenant)
    me = next(m for m in api.get("/api/v1/core/users/").json()["results"] if m["user_id"] == admin.pk)
    e = err(api.patch(f"/api/v1/core/users/{me['id']}/", {"is_active": False}, format="json"), 403)
    assert "yourself" in e["message"]


def test_admin_changes_another_users_roles(api, tenant, admin):
    op = make_member(tenant, roles=["operator"])
    api.as_user(admin, tenant)
    member = next(m for m in api.get("/api/v1/core/users/").json()["results"] if m["user_id"] == op.pk)
    r = api.patch(f"/api/v1/core/users/{member['id']}/", {"roles": ["operator", "qa_inspector"]}, format="json")
    assert r.status_code == 200 and r.json()["roles"] == ["operator", "qa_inspector"]


def test_role_permission_change_is_recorded_and_takes_effect(api, tenant, admin):
    with tenant_context(tenant):
        op_role = Role.objects.get(code="operator")
    api.as_user(admin, tenant)
    perms = api.get(f"/api/v1/core/roles/{op_role.pk}/").json()["permissions"]
    assert "core.add_company" not in perms
    r = api.put(f"/api/v1/core/roles/{op_role.pk}/permissions/",
                {"permissions": [*perms, "core.add_company"], "reason": "operators log suppliers"}, format="json")
    assert r.status_code == 200 and "core.add_company" in r.json()["permissions"]
    with tenant_context(tenant):
        h = History.objects.filter(table_name="core_rolepermission", new__permission="core.add_company",
                                   new__role_id=op_role.pk).get()
    assert h.actor_id == admin.pk and h.reason == "operators log suppliers"
    operator = make_member(tenant, roles=["operator"])
    from traveler.core.tests.factories import ApiClient

    assert ApiClient().as_user(operator, tenant).post(
        "/api/v1/core/companies/", {"name": "Logged by operator"}, format="json").status_code == 201
    # revoke again: archived, so a later sync does not silently re-grant it
    api.put(f"/api/v1/core/roles/{op_role.pk}/permissions/", {"permissions": perms}, format="json")
    from traveler.core.services.tenants import roles_sync

    roles_sync(tenant)
    assert "core.add_company" not in api.get(f"/api/v1/core/roles/{op_role.pk}/").json()["permissions"]


def test_unknown_permission_is_refused(api, tenant, admin):
    with tenant_context(tenant):
        role = Role.objects.get(code="operator")
    api.as_user(admin, tenant)
    e = err(api.put(f"/api/v1/core/roles/{role.pk}/permissions/", {"permissions": ["core.fly"]}, format="json"), 400)
    assert "core.fly" in e["message"]


def test_member_of_no_tenant_gets_no_token(client, db):
    from traveler.core.services.users import user_create

    user_create(email="loner@example.com", full_name="Lone User", password=PASSWORD)
    err(client.post("/api/v1/auth/token/", {"email": "loner@example.com", "password": PASSWORD},
                    content_type="application/json"), 400)


@pytest.mark.parametrize("path", ["/api/v1/core/companies/", "/api/v1/core/users/", "/api/v1/core/jobs/"])
def test_membership_is_checked_for_token_tenant(path, api, tenant):
    """A deactivated member's token stops working."""
    user = make_member(tenant, roles=["tenant_admin"])
    api.as_user(user, tenant)
    assert api.get(path).status_code == 200
    from traveler.core.models import Membership

    with tenant_context(tenant):
        Membership.objects.filter(user=user, tenant=tenant).update(is_active=False)
    err(api.get(path), 401)


def test_pagination_and_filtering(api, tenant, admin):
    for i in range(7):
        make_company(tenant, f"Filter co {i}", kind="supplier" if i % 2 else "customer")
    api.as_user(admin, tenant)
    page = api.get("/api/v1/core/companies/?limit=3&kind=supplier").json()
    assert page["count"] == 3 and len(page["results"]) == 3 and all(c["kind"] == "supplier" for c in page["results"])
    page = api.get("/api/v1/core/companies/?limit=2&offset=2&search=Filter").json()
    assert page["count"] == 7 and len(page["results"]) == 2 and page["next"] and page["previous"]


def test_other_tenant_is_not_reachable_with_a_token(api, tenant):
    make_tenant("Elsewhere")
    user = make_member(tenant, roles=["tenant_admin"])
    api.as_user(user, tenant)
    assert api.get("/api/v1/core/me/").json()["tenant"]["id"] == tenant.pk


def test_only_a_system_admin_grants_system_admin(api, tenant, admin):
    api.as_user(admin, tenant)
    e = err(api.post("/api/v1/core/users/", {"email": "root@example.com", "full_name": "Would Be Root",
                                             "roles": ["system_admin"]}, format="json"), 400)
    assert "Only a System Admin" in e["message"]
    from traveler.core.tests.factories import ApiClient

    sysadmin = make_member(tenant, roles=["system_admin"])
    r = ApiClient().as_user(sysadmin, tenant).post(
        "/api/v1/core/users/", {"email": "root@example.com", "full_name": "Root", "roles": ["system_admin"]},
        format="json")
    assert r.status_code == 201
