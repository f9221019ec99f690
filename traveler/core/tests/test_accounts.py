"""Accounts: passwords and password links, invitations, tokens, administration safety, sign-in
throttling, the secret key and the security headers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from traveler.core.errors import Conflict
from traveler.core.models import ApiToken, LoginAttempt, Membership, PasswordLink, Role, User
from traveler.core.services.auth import token_authenticate
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, ApiClient, make_member
from traveler.core.tests.test_ui_shell import signed_in

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a different long passphrase 77"


def err(r, status):
    assert r.status_code == status, (r.status_code, r.content[:400])
    return r.json()["error"]


def post_json(client, url, data, **kw):
    return client.post(url, data, content_type="application/json", **kw)


def link_in(message) -> str:
    return re.search(r"/password/set/([^/\s]+)/", message.body).group(1)


def membership(user, tenant) -> Membership:
    with tenant_context(tenant):  # memberships are the tenant's rows
        return Membership.objects.select_related("user").get(user=user, tenant=tenant)


# ---------- 11: passwords ----------

def test_change_own_password_through_the_ui(tenant):
    user = make_member(tenant, roles=["operator"])
    client, elsewhere = signed_in(user, tenant), signed_in(user, tenant)
    assert elsewhere.get("/?menu=1").status_code == 200
    r = client.post("/account/password/", {"current_password": "not it at all 123", "new_password": NEW_PASSWORD,
                                           "new_password_again": NEW_PASSWORD})
    assert r.status_code == 400 and r.context["form"].errors["current_password"]
    r = client.post("/account/password/", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                           "new_password_again": NEW_PASSWORD})
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get("/?menu=1").status_code == 200  # this session stays signed in
    assert elsewhere.get("/").status_code == 302  # the other one is signed out


def test_change_own_password_through_the_api(api, tenant):
    user = make_member(tenant, roles=["operator"])
    api.as_user(user, tenant)
    e = err(api.post("/api/v1/auth/password/", {"current_password": "wrong one entirely",
                                                "new_password": NEW_PASSWORD}, format="json"), 400)
    assert e["fields"] == {"current_password": ["incorrect"]}
    r = api.post("/api/v1/auth/password/", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json")
    assert r.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_admin_sends_a_reset_link_that_works_once(tenant, admin, django_capture_on_commit_callbacks):
    user = make_member(tenant, roles=["operator"])
    with tenant_context(tenant, actor=user):
        from traveler.core.services.auth import token_issue

        _, raw_token = token_issue(user=user, tenant=tenant, name="script")
    admin_client = signed_in(admin, tenant)
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post(f"/users/{membership(user, tenant).pk}/reset-password/")
    assert r.status_code == 302
    assert [m.to for m in mail.outbox] == [[user.email]]
    raw = link_in(mail.outbox[0])
    assert PasswordLink.objects.get(user=user).key_hash != raw  # stored hashed
    anonymous = Client()
    assert anonymous.get(f"/password/set/{raw}/").status_code == 200
    r = anonymous.post(f"/password/set/{raw}/", {"password": "short", "password_again": "short"})
    assert r.status_code == 400  # weak: refused, the link still works
    r = anonymous.post(f"/password/set/{raw}/", {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/signin/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert token_authenticate(raw_token) is None  # a reset revokes the API tokens
    r = anonymous.get(f"/password/set/{raw}/")
    assert r.status_code == 410 and "already been used" in r.content.decode()
    r = anonymous.post(f"/password/set/{raw}/", {"password": "yet another passphrase 55",
                                                 "password_again": "yet another passphrase 55"})
    assert r.status_code == 410
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_an_expired_link_says_so(tenant, admin, django_capture_on_commit_callbacks):
    user = make_member(tenant, roles=["operator"])
    api = ApiClient().as_user(admin, tenant)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/core/users/{membership(user, tenant).pk}/reset-password/").status_code == 202
    raw = link_in(mail.outbox[0])
    PasswordLink.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    r = Client().get(f"/password/set/{raw}/")
    assert r.status_code == 410 and "expired" in r.content.decode()
    assert Client().get("/password/set/nonsense/").status_code == 404


def test_a_newer_link_replaces_the_older(tenant, admin, django_capture_on_commit_callbacks):
    user = make_member(tenant, roles=["operator"])
    api = ApiClient().as_user(admin, tenant)
    url = f"/api/v1/core/users/{membership(user, tenant).pk}/reset-password/"
    with django_capture_on_commit_callbacks(execute=True):
        api.post(url)
        api.post(url)
    first, second = link_in(mail.outbox[0]), link_in(mail.outbox[1])
    assert Client().get(f"/password/set/{first}/").status_code == 410
    assert Client().get(f"/password/set/{second}/").status_code == 200


# ---------- 11: tokens ----------

def test_wrong_password_for_a_token_is_401(client, tenant):
    user = make_member(tenant, roles=["operator"])
    r = post_json(client, "/api/v1/auth/token/", {"email": user.email, "password": "wrong password!"})
    e = err(r, 401)
    assert e["code"] == "not_authenticated" and "WWW-Authenticate" in r


def test_token_names_reuse_rotate_and_cap(client, tenant, settings):
    user = make_member(tenant, roles=["operator"])
    creds = {"email": user.email, "password": PASSWORD, "name": "ERP sync"}
    first = post_json(client, "/api/v1/auth/token/", creds)
    assert first.status_code == 201 and first.json()["name"] == "ERP sync"
    e = err(post_json(client, "/api/v1/auth/token/", creds), 409)  # not a second token on every call
    assert "ERP sync" in e["message"] and "replace" in e["message"]
    with tenant_context(tenant):
        assert ApiToken.objects.filter(user=user).count() == 1
    rotated = post_json(client, "/api/v1/auth/token/", {**creds, "replace": True})
    assert rotated.status_code == 201
    assert token_authenticate(first.json()["token"]) is None and token_authenticate(rotated.json()["token"])
    # rotate through the token's own endpoint
    auth = {"HTTP_AUTHORIZATION": f"Bearer {rotated.json()['token']}"}
    again = client.post(f"/api/v1/core/tokens/{rotated.json()['id']}/rotate/", {}, content_type="application/json",
                        **auth)
    assert again.status_code == 201 and again.json()["name"] == "ERP sync"
    assert token_authenticate(rotated.json()["token"]) is None and token_authenticate(again.json()["token"])
    # an expired token's name is free again
    with tenant_context(tenant):
        ApiToken.objects.filter(pk=again.json()["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert post_json(client, "/api/v1/auth/token/", creds).status_code == 201
    settings.TRAVELER_API_TOKEN_MAX_PER_USER = 2
    assert post_json(client, "/api/v1/auth/token/", {**creds, "name": "second"}).status_code == 201
    e = err(post_json(client, "/api/v1/auth/token/", {**creds, "name": "third"}), 409)
    assert "most allowed (2)" in e["message"]


def test_token_name_in_use_shows_on_the_ui_form(tenant, admin):
    client = signed_in(admin, tenant)
    assert client.post("/tokens/", {"name": "CMM export", "days": 30}).status_code == 200
    r = client.post("/tokens/", {"name": "CMM export", "days": 30})
    assert r.status_code == 409 and r.context["form"].errors["name"]
    r = client.post("/tokens/", {"name": "CMM export", "days": 30, "replace": "on"})
    assert r.status_code == 200 and r.context["raw"]
    with tenant_context(tenant):
        assert ApiToken.objects.filter(user=admin, name="CMM export", revoked_at__isnull=True).count() == 1


def test_the_token_cap_counts_every_tenant_of_the_user(tenant, other_tenant, settings):
    from traveler.core.services.auth import token_issue

    user = make_member(tenant, roles=["operator"])
    make_member(other_tenant, roles=["operator"], email=user.email)
    settings.TRAVELER_API_TOKEN_MAX_PER_USER = 2
    token_issue(user=user, tenant=tenant, name="one")
    token_issue(user=user, tenant=other_tenant, name="two")
    with pytest.raises(Conflict, match=r"most allowed \(2\)"):
        token_issue(user=user, tenant=tenant, name="three")
    with tenant_context(tenant):
        assert ApiToken.objects.filter(user=user).count() == 1


# ---------- 20: the System Admin and the last administrator ----------

def sysadmin_member(tenant) -> User:
    user = make_member(tenant, roles=["system_admin"])
    User.objects.filter(pk=user.pk).update(is_system_admin=True)
    user.refresh_from_db()
    return user


@pytest.mark.parametrize("change", [{"roles": ["operator"]}, {"is_active": False}])
def test_tenant_admin_cannot_demote_or_deactivate_the_system_admin(api, tenant, admin, change):
    root = sysadmin_member(tenant)
    m = membership(root, tenant)
    api.as_user(admin, tenant)
    e = err(api.patch(f"/api/v1/core/users/{m.pk}/", {**change, "reason": "x"}, format="json"), 403)
    assert "System Admin" in e["message"]
    with tenant_context(tenant):
        assert {link.role.code for link in m.role_links.select_related("role")} == {"system_admin"}
        m.refresh_from_db()
    assert m.is_active
    e = err(api.post(f"/api/v1/core/users/{m.pk}/reset-password/"), 403)
    # a System Admin may
    other_root = sysadmin_member(tenant)
    r = ApiClient().as_user(other_root, tenant).patch(f"/api/v1/core/users/{m.pk}/", change, format="json")
    assert r.status_code == 200


def test_ui_shows_the_system_admin_as_protected(tenant, admin):
    root = sysadmin_member(tenant)
    m = membership(root, tenant)
    client = signed_in(admin, tenant)
    r = client.get(f"/users/{m.pk}/")
    assert "only a System Admin can" in r.content.decode() and not r.context["can_manage"]
    assert client.post(f"/users/{m.pk}/", {"roles": ["operator"]}).status_code == 403
    assert client.post(f"/users/{m.pk}/active/", {"active": "false", "reason": "x"}).status_code == 403


def test_the_last_administrator_cannot_be_removed(tenant):
    only_admin = make_member(tenant, roles=["tenant_admin"])
    helper = make_member(tenant, roles=["tenant_admin"])
    api = ApiClient().as_user(helper, tenant)
    # while two hold administration, one may step down
    r = api.patch(f"/api/v1/core/users/{membership(only_admin, tenant).pk}/", {"roles": ["operator"]}, format="json")
    assert r.status_code == 200
    # now only `helper` can administer: even a platform administrator (no member here) cannot remove that
    from traveler.core.services.users import user_create

    root = user_create(email="platform@example.com", full_name="Platform Admin", password=PASSWORD,
                       is_system_admin=True)
    root_api = ApiClient().as_user(root, tenant)
    for change in ({"roles": ["operator"]}, {"is_active": False, "reason": "leaving"}):
        e = err(root_api.patch(f"/api/v1/core/users/{membership(helper, tenant).pk}/", change, format="json"), 409)
        assert "locked out of its own administration" in e["message"]
    assert membership(helper, tenant).is_active


def test_the_administrators_permissions_cannot_all_be_revoked(api, tenant, admin):
    with tenant_context(tenant):
        role = Role.objects.get(code="tenant_admin")
        perms = sorted(role.grants.filter(archived_at__isnull=True).values_list("permission", flat=True))
    make_member(tenant, roles=["operator"])
    api.as_user(admin, tenant)
    # removing core.manage_roles from the only role that carries it for a member is refused
    e = err(api.put(f"/api/v1/core/roles/{role.pk}/permissions/",
                    {"permissions": [p for p in perms if p != "core.manage_roles"]}, format="json"), 409)
    assert "core.manage_roles" in e["message"] and "permissions" in e["fields"]
    with tenant_context(tenant):
        assert role.grants.filter(permission="core.manage_roles", archived_at__isnull=True).exists()
    # other permissions may still go
    r = api.put(f"/api/v1/core/roles/{role.pk}/permissions/",
                {"permissions": [p for p in perms if p != "core.view_events"]}, format="json")
    assert r.status_code == 200


# ---------- 21: invitations ----------

def invite(api, email, full_name="Someone", roles=("operator",)):
    return api.post("/api/v1/core/users/", {"email": email, "full_name": full_name, "roles": list(roles)},
                    format="json")


def test_inviting_reveals_nothing_about_the_address(tenant, other_tenant, django_capture_on_commit_callbacks):
    outsider = make_member(other_tenant, roles=["operator"], full_name="Private Person")
    api = ApiClient().as_user(make_member(tenant, roles=["tenant_admin"]), tenant)
    with django_capture_on_commit_callbacks(execute=True):
        existing = invite(api, outsider.email, "Whoever")
        new = invite(api, "nobody.yet@example.com", "Whoever")
    assert existing.status_code == new.status_code == 201
    shape = {k for k in existing.json()}
    assert shape == {k for k in new.json()}
    for body in (existing.json(), new.json()):
        assert body["status"] == "invited" and body["full_name"] is None and body["user_id"] is None
    assert "Private Person" not in str(api.get("/api/v1/core/users/").json())
    assert [m.to for m in mail.outbox] == [[outsider.email], ["nobody.yet@example.com"]]
    # the outsider is not in the tenant until they accept; their token sign-in is unchanged
    r = post_json(Client(), "/api/v1/auth/token/", {"email": outsider.email, "password": PASSWORD})
    assert r.status_code == 201 and r.json()["tenant"] == other_tenant.slug
    token_api = ApiClient()
    token_api.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    invitations = token_api.get("/api/v1/core/invitations/").json()
    assert [i["tenant"] for i in invitations] == [tenant.slug] and invitations[0]["roles"] == ["Operator"]
    assert token_api.post(f"/api/v1/core/invitations/{invitations[0]['id']}/accept/").status_code == 200
    m = membership(outsider, tenant)
    assert not m.is_pending
    member = next(x for x in api.get("/api/v1/core/users/").json()["results"] if x["id"] == m.pk)
    assert member["full_name"] == "Private Person" and member["status"] == "active"
    outsider.refresh_from_db()
    assert outsider.full_name == "Private Person"  # the inviter's spelling did not overwrite it


def test_a_pending_invitation_grants_nothing(tenant, other_tenant):
    outsider = make_member(other_tenant, roles=["operator"])
    invite(ApiClient().as_user(make_member(tenant, roles=["tenant_admin"]), tenant), outsider.email)
    e = err(post_json(Client(), "/api/v1/auth/token/", {"email": outsider.email, "password": PASSWORD,
                                                         "tenant": tenant.slug}), 400)
    assert "tenant" in e["fields"]
    client = signed_in(outsider, tenant)  # even a session pointed at the tenant does not get in
    assert client.get("/api/v1/core/me/").json()["tenant"]["slug"] == other_tenant.slug


def test_an_invitation_can_be_declined(tenant, other_tenant):
    outsider = make_member(other_tenant, roles=["operator"])
    invite(ApiClient().as_user(make_member(tenant, roles=["tenant_admin"]), tenant), outsider.email)
    client = signed_in(outsider, other_tenant)
    r = client.get("/invitations/")
    assert tenant.name in r.content.decode()
    pk = r.context["rows"][0]["m"].pk
    client.post("/invitations/", {"invitation": pk, "decision": "decline"})
    assert not Membership.objects.filter(user=outsider, tenant=tenant).exists()


def test_a_new_person_sets_a_password_from_the_invitation(tenant, admin, django_capture_on_commit_callbacks):
    client = signed_in(admin, tenant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/users/new/", {"email": "fresh@example.com", "full_name": "Fresh Person", "roles": ["operator"]})
    user = User.objects.get(email="fresh@example.com")
    assert not user.has_usable_password()
    r = post_json(Client(), "/api/v1/auth/token/", {"email": "fresh@example.com", "password": "anything at all"})
    assert r.status_code == 401
    raw = link_in(mail.outbox[0])
    r = Client().post(f"/password/set/{raw}/", {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert r.status_code == 302
    assert not membership(user, tenant).is_pending
    r = post_json(Client(), "/api/v1/auth/token/", {"email": "fresh@example.com", "password": NEW_PASSWORD})
    assert r.status_code == 201 and r.json()["tenant"] == tenant.slug


def test_signing_in_with_only_invitations_leads_to_them(tenant, other_tenant):
    from traveler.core.services.users import member_invite, user_create

    user = user_create(email="between@example.com", full_name="Between Jobs", password=PASSWORD)
    with tenant_context(tenant):
        member_invite(email=user.email, full_name="x", roles=["operator"])
    client = Client()
    r = client.post("/signin/", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/invitations/"
    # with no tenant chosen yet, the invitation is listed and accepted
    r = client.get("/invitations/")
    pk = r.context["rows"][0]["m"].pk
    r = client.post("/invitations/", {"invitation": pk, "decision": "accept"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert not membership(user, tenant).is_pending
    assert client.get("/api/v1/core/me/").json()["tenant"]["slug"] == tenant.slug


# ---------- 22: throttling ----------

def test_a_stranger_cannot_lock_out_a_known_client(client, tenant):
    user = make_member(tenant, roles=["operator"])
    home = {"REMOTE_ADDR": "198.51.100.10"}
    assert client.post("/signin/", {"email": user.email, "password": PASSWORD}, **home).status_code == 302
    for _ in range(6):
        Client().post("/signin/", {"email": user.email, "password": "guess guess guess"}, REMOTE_ADDR="203.0.113.9")
    # the stranger is stopped for this account...
    r = Client().post("/signin/", {"email": user.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert r.status_code == 429
    # ...but the user, from where they signed in before, still gets in
    r = Client().post("/signin/", {"email": user.email, "password": PASSWORD}, **home)
    assert r.status_code == 302


def test_spraying_many_accounts_from_one_client_is_throttled(tenant, settings):
    settings.TRAVELER_LOGIN_MAX_CLIENT_FAILURES = 10
    victims = [make_member(tenant, roles=["operator"]) for _ in range(12)]
    statuses = [Client().post("/signin/", {"email": v.email, "password": "Summer2026!!!!"},
                              REMOTE_ADDR="203.0.113.50").status_code for v in victims]
    assert statuses[:10] == [400] * 10 and statuses[10:] == [429, 429]
    # another client is not affected
    r = Client().post("/signin/", {"email": victims[0].email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.3")
    assert r.status_code == 302


def test_x_forwarded_for_is_ignored_unless_from_a_trusted_proxy(tenant, settings):
    settings.TRAVELER_LOGIN_MAX_CLIENT_FAILURES = 3
    user = make_member(tenant, roles=["operator"])

    def attempt(xff, remote="203.0.113.77"):
        return post_json(Client(), "/api/v1/auth/token/", {"email": user.email, "password": "nope nope nope"},
                         REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=xff).status_code

    assert [attempt(f"10.0.0.{i}") for i in range(4)] == [401, 401, 401, 429]
    assert set(LoginAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.77"}
    settings.TRAVELER_TRUSTED_PROXIES = ["192.0.2.0/24"]
    # behind the proxy, the client's own address counts: the header's rightmost untrusted entry
    assert attempt("6.6.6.6, 198.51.100.200", remote="192.0.2.1") == 401
    assert LoginAttempt.objects.filter(ip_address="198.51.100.200").count() == 1


def test_token_endpoint_rate_limit_keys_on_the_real_client(tenant):
    from traveler.core.api.views import TokenThrottle

    class FakeRequest:
        def __init__(self, xff):
            self._request = type("R", (), {"META": {"REMOTE_ADDR": "203.0.113.5", "HTTP_X_FORWARDED_FOR": xff}})()

    assert TokenThrottle().get_ident(FakeRequest("1.1.1.1")) == TokenThrottle().get_ident(FakeRequest("2.2.2.2"))


# ---------- 23: secret key ----------

def _start(env_extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("TRAVELER_SECRET_KEY", "TRAVELER_DEBUG")}
    env.update(env_extra)
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY[:8])"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_start_without_a_secret_key_is_refused():
    r = _start({})
    assert r.returncode != 0 and "TRAVELER_SECRET_KEY is not set" in r.stderr
    r = _start({"TRAVELER_SECRET_KEY": "k" * 60})
    assert r.returncode == 0 and r.stdout.strip() == "k" * 8, r.stderr


def test_check_deploy_flags_the_development_key(settings):
    from traveler.core.security import check_secret_key

    settings.SECRET_KEY = settings.DEVELOPMENT_SECRET_KEY
    assert [e.id for e in check_secret_key()] == ["traveler.E001"]
    settings.SECRET_KEY = "x" * 60
    assert check_secret_key() == []


# ---------- 25b: security headers ----------

def test_pages_carry_a_strict_content_security_policy(tenant, admin):
    client = signed_in(admin, tenant)
    for url in ("/signin/", "/", "/users/", "/tokens/", "/account/password/"):
        r = client.get(url) if url != "/signin/" else Client().get(url)
        csp = r["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp, url
        html = r.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url  # no inline script
        assert not re.search(r"<style|\sstyle=\"|\son[a-z]+=\"", html), url  # no inline style or handler
        assert 'name="htmx-config"' in html


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=True)
def test_hsts_over_https(tenant, admin):
    r = Client().get("/signin/", secure=True)
    assert r["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in Client().get("/signin/")


def test_https_settings_follow_traveler_https():
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)")
    env = {**os.environ, "TRAVELER_SECRET_KEY": "k" * 60, "TRAVELER_HTTPS": "1"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.stdout.split() == ["True", "True", "True"], r.stderr


def test_api_docs_load_their_script_from_a_file(tenant, admin):
    client = signed_in(admin, tenant)
    r = client.get("/api/v1/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    script = re.search(r'<script src="([^"]*\?script[^"]*)"', html).group(1).replace("&amp;", "&")
    js = client.get(script)
    assert js.status_code == 200 and "SwaggerUIBundle" in js.content.decode()
