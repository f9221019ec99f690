"""The notifications API: a user only ever sees and marks their own, in the current tenant, whatever
their role; preferences per kind and channel."""

from __future__ import annotations

import pytest

from traveler.core.models import Notification, NotificationPreference
from traveler.core.roles import CUSTOMER, SEEDED_ROLES
from traveler.core.services.notifications import notify
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import ApiClient, make_company, make_member

KIND = "core.approval.requested"
URL = "/api/v1/core/notifications/"
PREFS = "/api/v1/core/notification-preferences/"
ROLE_CODES = [r.code for r in SEEDED_ROLES]


def send(tenant, user, title="Approve DOC-1", **kw):
    with tenant_context(tenant):
        return notify(recipients=[user], kind=KIND, title=title, url="/documents/1/", **kw)[0]


def err(response, status):
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["status"] == status and body["message"]
    return body


@pytest.mark.parametrize("role", ROLE_CODES)
def test_every_role_sees_and_marks_only_its_own(role, api, tenant, other_tenant):
    company = make_company(tenant) if role == CUSTOMER else None
    me = make_member(tenant, roles=[role], company=company)
    colleague = make_member(tenant, roles=["system_admin"])
    mine, theirs = send(tenant, me, "Mine"), send(tenant, colleague, "Theirs")
    elsewhere = send(other_tenant, make_member(other_tenant, roles=["system_admin"]), "Elsewhere")
    api.as_user(me, tenant)

    body = api.get(URL).json()
    assert [n["id"] for n in body["results"]] == [mine.pk] and body["count"] == 1
    assert body["results"][0] | {"created_at": None} == {
        "id": mine.pk, "kind": KIND, "kind_label": "Approval requested", "title": "Mine", "body": "",
        "url": "/documents/1/", "created_at": None, "read_at": None, "is_read": False}
    for other in (theirs, elsewhere):
        err(api.get(f"{URL}{other.pk}/"), 404)
        err(api.post(f"{URL}{other.pk}/read/"), 404)
    assert api.post(URL + "read-all/").json() == {"marked": 1}
    with tenant_context(tenant):
        assert Notification.objects.get(pk=theirs.pk).read_at is None
    with tenant_context(other_tenant):
        assert Notification.objects.get(pk=elsewhere.pk).read_at is None
    assert api.get(URL, {"unread": "true"}).json()["count"] == 0


def test_mark_one_read_and_unread_first(api, tenant):
    me = make_member(tenant, roles=["operator"])
    first, second = send(tenant, me, "First"), send(tenant, me, "Second")
    api.as_user(me, tenant)
    r = api.post(f"{URL}{second.pk}/read/")
    assert r.status_code == 200 and r.json()["is_read"] and r.json()["read_at"]
    assert api.post(f"{URL}{second.pk}/read/").json()["read_at"] == r.json()["read_at"]
    assert [n["title"] for n in api.get(URL).json()["results"]] == ["First", "Second"]
    assert [n["title"] for n in api.get(URL, {"unread": "false"}).json()["results"]] == ["Second"]
    assert api.get(f"{URL}{first.pk}/").json()["is_read"] is False
    err(api.get(f"{URL}abc/"), 404)


def test_email_only_notices_are_not_listed(api, tenant):
    me = make_member(tenant, roles=["operator"])
    api.as_user(me, tenant)
    assert api.patch(f"{PREFS}{KIND}/", {"in_app": False}, format="json").status_code == 200
    with tenant_context(tenant):
        (n,) = notify(recipients=[me], kind=KIND, title="By mail")
    assert n.email and not n.in_app
    assert api.get(URL).json()["count"] == 0
    err(api.post(f"{URL}{n.pk}/read/"), 404)


def test_preferences_list_and_change(api, tenant):
    me, other = make_member(tenant, roles=["qa_inspector"]), make_member(tenant, roles=["qa_inspector"])
    api.as_user(me, tenant)
    rows = {r["kind"]: r for r in api.get(PREFS).json()}
    assert {"core.approval.requested", "core.approval.completed", "core.approval.overdue",
            "core.document.review_due"} <= set(rows)
    assert rows[KIND]["channels"] == {"in_app": {"enabled": True, "default": True},
                                      "email": {"enabled": True, "default": True}}
    r = api.patch(f"{PREFS}{KIND}/", {"email": False}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["channels"]["email"] == {"enabled": False, "default": True}
    assert api.get(f"{PREFS}{KIND}/").json()["channels"]["in_app"]["enabled"] is True
    with tenant_context(tenant):
        assert NotificationPreference.objects.filter(user=other).count() == 0
        made = {n.recipient_id: n for n in notify(recipients=[me, other], kind=KIND, title="x")}
    assert not made[me.pk].email and made[other.pk].email


def test_preference_errors_name_the_field(api, tenant):
    api.as_user(make_member(tenant, roles=["operator"]), tenant)
    assert "email" in err(api.patch(f"{PREFS}{KIND}/", {"email": "perhaps"}, format="json"), 400)["fields"]
    body = err(api.patch(f"{PREFS}{KIND}/", {}, format="json"), 400)
    assert set(body["fields"]) == {"in_app", "email"}
    err(api.patch(f"{PREFS}core.no_such_kind/", {"email": False}, format="json"), 404)
    err(api.get(f"{PREFS}core.no_such_kind/"), 404)
    with tenant_context(tenant):
        assert not NotificationPreference.objects.exists()


def test_preferences_are_per_tenant(api, tenant, other_tenant):
    me = make_member(tenant, roles=["operator"])
    api.as_user(me, tenant)
    api.patch(f"{PREFS}{KIND}/", {"email": False}, format="json")
    with tenant_context(other_tenant):
        from traveler.core.services.users import member_add

        member_add(email=me.email, full_name=me.full_name, password=None, roles=["operator"])
    there = ApiClient().as_user(me, other_tenant)
    rows = {r["kind"]: r for r in there.get(PREFS).json()}
    assert rows[KIND]["channels"]["email"]["enabled"] is True


def test_anonymous_gets_401(client, db):
    for path in (URL, URL + "read-all/", PREFS, f"{PREFS}{KIND}/"):
        assert client.get(path).status_code == 401
