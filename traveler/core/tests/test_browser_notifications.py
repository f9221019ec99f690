"""Notifications in a real browser, by keyboard only: the bell, mark one read, open one, choose channels.

The set-up is ``traveler/core/tests/browser.py``'s (read its docstring).
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from traveler.core.tests.browser import ARTIFACTS, chromium, live_server, orm

pytestmark = pytest.mark.browser
KIND = "core.approval.requested"


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    from traveler.core.services.notifications import notify
    from traveler.core.tenancy import tenant_context
    from traveler.core.tests.factories import PASSWORD, make_member, make_tenant

    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        plant = make_tenant(f"Cobalt Valves {tag}")
        user = make_member(plant, roles=["qa_manager"], email=f"ines-{tag}@example.com", full_name="Inês Duarte")
        with tenant_context(plant):
            for title, body in [
                ("Approve work instruction WI-0042 rev C", "Torque values changed on step 30."),
                ("Approve NCR-2026-0017 disposition", "Use as is, proposed by Marco Rossi."),
            ]:
                notify(recipients=[user], kind=KIND, title=title, body=body, url="/companies/")
        with live_server() as url:
            yield SimpleNamespace(url=url, user=user, password=PASSWORD, plant=plant)


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as b:
        yield b


def test_notifications_by_keyboard(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site.url}/signin/")
    page.get_by_label("Email").fill(site.user.email)
    page.get_by_label("Password").fill(site.password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{site.url}/")

    bell = page.locator("[data-bell]")
    expect(bell).to_have_attribute("aria-label", "Notifications, 2 unread")
    expect(bell.locator(".bell-count")).to_have_text("2")
    bell.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/notifications/")
    page.screenshot(path=str(ARTIFACTS / "notifications-1280x800.png"), full_page=True)

    page.get_by_role("button", name="Mark “Approve NCR-2026-0017 disposition” read").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("[data-bell]")).to_have_attribute("aria-label", "Notifications, 1 unread")

    page.get_by_role("link", name="Approve work instruction WI-0042 rev C").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/companies/")
    expect(page.locator("[data-bell]")).to_have_attribute("aria-label", "Notifications, none unread")

    page.goto(f"{site.url}/notifications/preferences/")
    box = page.get_by_label("Approval requested: E-mail (default on)")
    expect(box).to_be_checked()
    box.focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save choices").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/notifications/preferences/")
    expect(page.get_by_label("Approval requested: E-mail (default on)")).not_to_be_checked()
    page.screenshot(path=str(ARTIFACTS / "notification-preferences-1280x800.png"), full_page=True)
    assert not errors

    with orm():
        from traveler.core.models import NotificationPreference
        from traveler.core.tenancy import tenant_context

        with tenant_context(site.plant):
            assert list(NotificationPreference.objects.filter(user=site.user).values_list(
                "kind", "channel", "enabled")) == [(KIND, "email", False)]
