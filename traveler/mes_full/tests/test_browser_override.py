"""An override in real browsers: an operator blocked at the station (the step needs an inspection
sign-off) requests an override from the station's step panel, a QA manager approves it with their
password in another browser context, and the operator advances the part."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from traveler.core.tests.browser import ARTIFACTS, chromium, live_server, orm

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    from traveler.core.tenancy import tenant_context
    from traveler.core.tests.factories import PASSWORD, make_member, make_tenant
    from traveler.mes_full.choices import RequirementKind
    from traveler.mes_full.services.requirements import requirement_create
    from traveler.mes_lite.models import Part
    from traveler.mes_lite.services.routing import route_steps
    from traveler.mes_lite.tests.factories import make_work_order

    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        plant = make_tenant(f"Borealis Pumps {tag}")
        operator = make_member(plant, roles=["operator"], email=f"olga-{tag}@example.com", full_name="Olga Operator")
        manager = make_member(plant, roles=["qa_manager"], email=f"quinn-{tag}@example.com", full_name="Quinn Manager")
        wo = make_work_order(plant, quantity=1)
        with tenant_context(plant):
            step = route_steps(wo.process)[0]
            requirement_create(data={"step": step, "kind": RequirementKind.INSPECTION})
            part = Part.objects.get(work_order=wo)
            following = route_steps(wo.process)[1]
        with live_server() as url:
            yield SimpleNamespace(url=url, operator=operator, manager=manager, part=part, step=step,
                                  following=following, password=PASSWORD)


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as b:
        yield b


def signed_in(browser, site, user, lands: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{site.url}/signin/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(site.password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{site.url}{lands}")
    return context, page


def test_a_blocked_operator_gets_an_override_approved_and_advances(site, browser):
    from playwright.sync_api import expect

    serial = site.part.serial_number
    with orm():
        op_ctx, olga = signed_in(browser, site, site.operator, "/mes/station/")
        olga.goto(f"{site.url}/mes/station/?serial={serial}")
        olga.get_by_label("Bore diameter").fill("6.001")
        olga.locator(".btn-advance").click()
        expect(olga.locator("[data-outcome=blocked]")).to_contain_text("Inspection sign-off missing")
        panel = olga.locator("[data-step-requirements]")
        block = panel.locator("[data-block=missing_inspection]")
        block.get_by_text("Request override").click()
        block.get_by_label("Reason").fill("Inspector at the supplier audit; CMM report follows")
        block.get_by_role("button", name="Send the request").click()
        expect(olga.get_by_text(f"Override requested for {serial}")).to_be_visible()
        expect(olga.locator("[data-block=missing_inspection]")).to_contain_text(
            "Override requested by Olga Operator, awaiting a second person's approval.")
        olga.screenshot(path=str(ARTIFACTS / "override-requested.png"), full_page=True)

        qa_ctx, quinn = signed_in(browser, site, site.manager, "/")
        quinn.goto(f"{site.url}/mes-full/overrides/")
        awaiting = quinn.locator("section", has=quinn.get_by_role("heading", name="Awaiting my approval"))
        awaiting.get_by_role("link").first.click()
        expect(quinn.locator("[data-reason]")).to_have_text("Inspector at the supplier audit; CMM report follows")
        quinn.get_by_label("Your password").fill("not my password")
        quinn.get_by_role("button", name="Approve and sign").click()
        expect(quinn.get_by_text("The password is not correct")).to_be_visible()
        quinn.get_by_label("Your password").fill(site.password)
        quinn.get_by_role("button", name="Approve and sign").click()
        expect(quinn.get_by_text("approved.")).to_be_visible()
        expect(quinn.get_by_text("Quinn Manager · Approved")).to_be_visible()
        quinn.screenshot(path=str(ARTIFACTS / "override-approved.png"), full_page=True)

        olga.goto(f"{site.url}/mes/station/?serial={serial}")
        expect(olga.locator("[data-block=missing_inspection]")).to_contain_text(
            "Override approved by Quinn Manager: this part may pass.")
        olga.get_by_label("Bore diameter").fill("6.001")
        olga.locator(".btn-advance").click()
        expect(olga.locator("[data-outcome=advanced]")).to_contain_text(f"Advanced to {site.following.name}")
        olga.screenshot(path=str(ARTIFACTS / "override-advanced.png"), full_page=True)
        op_ctx.close()
        qa_ctx.close()
