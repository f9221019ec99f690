"""The bell, the notification list (unread first, mark read, open the record) and the choices page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from traveler.core.middleware import SESSION_TENANT
from traveler.core.models import Notification, NotificationPreference
from traveler.core.services.notifications import notify
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member

pytestmark = pytest.mark.django_db
KIND = "core.approval.requested"


def signed_in(user, tenant) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_TENANT] = tenant.pk
    session.save()
    return client


def send(tenant, user, title, url="/companies/"):
    with tenant_context(tenant):
        return notify(recipients=[user], kind=KIND, title=title, url=url)[0]


def bell(html: str) -> str:
    match = re.search(r'<a class="bell"[^>]*aria-label="([^"]+)"', html)
    assert match, "no bell in the top bar"
    return match.group(1)


def test_the_bell_counts_unread_notifications(tenant):
    me, other = make_member(tenant, roles=["operator"]), make_member(tenant, roles=["operator"])
    client = signed_in(me, tenant)
    assert bell(client.get("/notifications/").content.decode()) == "Notifications, none unread"
    for i in range(3):
        send(tenant, me, f"Approve {i}")
    send(tenant, other, "Not mine")
    html = client.get("/tokens/").content.decode()
    assert bell(html) == "Notifications, 3 unread"
    assert '<span class="bell-count" aria-hidden="true">3</span>' in html


def test_list_unread_first_mark_one_and_all(tenant):
    me = make_member(tenant, roles=["qa_inspector"])
    old, new = send(tenant, me, "Older notice"), send(tenant, me, "Newer notice")
    client = signed_in(me, tenant)
    r = client.post(f"/notifications/{new.pk}/read/")
    assert r.status_code == 302 and r["Location"] == "/notifications/"
    html = client.get("/notifications/").content.decode()
    listed = html[html.index('<ul class="notification-list">'):]
    assert listed.index("Older notice") < listed.index("Newer notice")  # unread first
    assert f'action="/notifications/{old.pk}/read/"' in html and f'action="/notifications/{new.pk}/read/"' not in html
    assert bell(html) == "Notifications, 1 unread"
    client.post("/notifications/")
    with tenant_context(tenant):
        assert not Notification.objects.filter(recipient=me, read_at__isnull=True).exists()
    assert bell(client.get("/notifications/").content.decode()) == "Notifications, none unread"


def test_opening_a_notification_marks_it_read_and_goes_to_the_record(tenant):
    me = make_member(tenant, roles=["qa_inspector"])
    n = send(tenant, me, "Look at the companies", url="/companies/?q=acme")
    client = signed_in(me, tenant)
    assert f'href="/notifications/{n.pk}/open/"' in client.get("/notifications/").content.decode()
    r = client.get(f"/notifications/{n.pk}/open/")
    assert r.status_code == 302 and r["Location"] == "/companies/?q=acme"
    with tenant_context(tenant):
        assert Notification.objects.get(pk=n.pk).read_at is not None


def test_another_users_notification_cannot_be_opened_or_marked(tenant):
    me, other = make_member(tenant, roles=["operator"]), make_member(tenant, roles=["operator"])
    theirs = send(tenant, other, "Secret title")
    client = signed_in(me, tenant)
    assert "Secret title" not in client.get("/notifications/").content.decode()
    r = client.get(f"/notifications/{theirs.pk}/open/", follow=True)
    assert r.redirect_chain[-1] == ("/notifications/", 302) and "No such notification" in r.content.decode()
    client.post(f"/notifications/{theirs.pk}/read/")
    with tenant_context(tenant):
        assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_preferences_table_saves_kind_by_channel(tenant):
    me = make_member(tenant, roles=["operator"])
    client = signed_in(me, tenant)
    html = client.get("/notifications/preferences/").content.decode()
    boxes = re.findall(r'<input type="checkbox" name="([a-z_.]+:[a-z_]+)"[^>]*?( checked)?>', html)
    assert (f"{KIND}:email", " checked") in boxes and (f"{KIND}:in_app", " checked") in boxes
    kept = {name for name, _ in boxes if name != f"{KIND}:email"}
    r = client.post("/notifications/preferences/", {name: "on" for name in kept})
    assert r.status_code == 302
    with tenant_context(tenant):
        # only the box that changed is stored; the others still follow their default
        assert list(NotificationPreference.objects.filter(user=me).values_list("kind", "channel", "enabled")) \
            == [(KIND, "email", False)]
        (n,) = notify(recipients=[me], kind=KIND, title="x")
    assert n.in_app and not n.email
    html = client.get("/notifications/preferences/").content.decode()
    assert f'name="{KIND}:email"' in html and not re.search(rf'name="{re.escape(KIND)}:email"[^>]*checked', html)


def test_the_menu_has_notifications(tenant):
    client = signed_in(make_member(tenant, roles=["operator"]), tenant)
    nav = client.get("/tokens/").context["nav"]
    assert "Notifications" in [i["label"] for s in nav for i in s["items"]]
