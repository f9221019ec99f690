"""An approval in real browsers: the requester asks for it, the approver signs it in a second browser
context, and both see the signature's manifestation (21 CFR 11.50) on the record's page."""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

import pytest

from traveler.core.tests.browser import ARTIFACTS, chromium, live_server, orm

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    from traveler.core.models import Company
    from traveler.core.services.approval_templates import approval_template_create
    from traveler.core.tenancy import tenant_context
    from traveler.core.tests.factories import PASSWORD, make_company, make_member, make_tenant
    from traveler.core.tests.registering import approvable

    tag = uuid.uuid4().hex[:6]
    with approvable(Company, permission="core.change_company", detail_target="core.company.detail"):
        with django_db_blocker.unblock():
            plant = make_tenant(f"Aurora Injectors {tag}")
            requester = make_member(plant, roles=["production_manager"], email=f"rita-{tag}@example.com",
                                    full_name="Rita Requester")
            approver = make_member(plant, roles=["qa_manager"], email=f"ann-{tag}@example.com", full_name="Ann Approver")
            company = make_company(plant, f"Bosch Rexroth {tag}", kind="supplier", description="Hydraulic valves")
            with tenant_context(plant):
                approval_template_create(data={"name": f"Supplier approval {tag}", "template_type": "eco"},
                                         approvers=[{"user": approver}])
            with live_server() as url:
                yield SimpleNamespace(url=url, requester=requester, approver=approver, company=company,
                                      password=PASSWORD, tag=tag)


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as b:
        yield b


def signed_in_page(browser, site, user):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, reduced_motion="reduce")
    page = context.new_page()
    page.goto(f"{site.url}/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(site.password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))
    return context, page


def test_request_sign_in_a_second_context_and_see_the_manifestation(site, browser):
    from playwright.sync_api import expect

    with orm():
        requester_ctx, rita = signed_in_page(browser, site, site.requester)
        rita.goto(f"{site.url}/companies/{site.company.pk}/")
        rita.get_by_role("link", name="Request approval…").click()
        rita.get_by_label("Template", exact=True).select_option(label=f"Supplier approval {site.tag}")
        rita.get_by_label("Notes").fill("New hydraulic supplier, audit report attached")
        rita.get_by_role("button", name="Request approval").click()
        expect(rita.get_by_text("Approval requested: the approvers are notified.")).to_be_visible()
        request_url = rita.url

        approver_ctx, ann = signed_in_page(browser, site, site.approver)
        ann.goto(f"{site.url}/approvals/")
        ann.get_by_role("link", name=site.company.name).click()
        assert ann.url == request_url
        ann.get_by_role("radio", name="Approve").check()
        ann.get_by_label("Comment").fill("Audit report reviewed")
        ann.get_by_label("Your password").fill("not my password")
        ann.get_by_role("button", name="Sign decision").click()
        expect(ann.get_by_text("The password is not correct")).to_be_visible()
        ann.get_by_role("radio", name="Approve").check()
        ann.get_by_label("Your password").fill(site.password)
        ann.get_by_role("button", name="Sign decision").click()
        expect(ann.get_by_text("Your decision is signed and recorded.")).to_be_visible()
        expect(ann.locator(".signature-line").first).to_contain_text(re.compile(r"Ann Approver — Approved — \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"))
        ann.screenshot(path=str(ARTIFACTS / "approval-signed.png"), full_page=True)

        rita.goto(f"{site.url}/companies/{site.company.pk}/")
        panel = rita.locator(".panel", has_text="Signatures and approvals")
        expect(panel.locator(".signature-line")).to_contain_text(re.compile(r"Ann Approver — Approved — .* UTC"))
        expect(panel).to_contain_text("Approved")
        rita.screenshot(path=str(ARTIFACTS / "approval-record-page.png"), full_page=True)
        requester_ctx.close()
        approver_ctx.close()
