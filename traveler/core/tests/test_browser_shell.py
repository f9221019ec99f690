"""The shell in a real browser: sign in, dashboard, menu, create a company, its history, switch tenant, sign out.

The set-up is ``traveler/core/tests/browser.py``'s (read its docstring): Debian's chromium through
Playwright, a live server, data committed once per module with unique names, no global counts.
"""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

import pytest

from traveler.core.tests.browser import ARTIFACTS, chromium, live_server, orm

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """Committed data and a live server on 127.0.0.1 for this module."""
    from django.utils import timezone

    from traveler.core.models import Job
    from traveler.core.services.users import member_add
    from traveler.core.tenancy import tenant_context
    from traveler.core.tests.factories import PASSWORD, make_company, make_member, make_tenant

    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        plant = make_tenant(f"Aurora Injectors {tag}")
        second = make_tenant(f"Borealis Pumps {tag}")
        user = make_member(plant, roles=["tenant_admin"], email=f"brenda-{tag}@example.com", full_name="Brenda Okafor")
        with tenant_context(second):
            member_add(email=user.email, full_name=user.full_name, password=None, roles=["qa_manager"])
        for name, kind, desc in [
            ("Bosch Rexroth", "supplier", "Hydraulic valves and pumps"),
            ("Cummins Engines", "customer", "Diesel engines, fuel systems"),
            ("Delphi Technologies", "customer", "Common-rail injectors"),
            ("Aurora Calibration Lab", "internal", "Gauge calibration, ISO 17025"),
            ("Precision Castparts", "supplier", "Investment castings"),
        ]:
            make_company(plant, name, kind=kind, description=desc)
        with tenant_context(plant):
            Job.objects.create(name="core.export_quality_report", tenant=plant, status=Job.Status.SUCCEEDED,
                               attempts=1, run_at=timezone.now(), finished_at=timezone.now())
            Job.objects.create(name="core.sync_erp_orders", tenant=plant, status=Job.Status.DEAD, attempts=5,
                               run_at=timezone.now(), finished_at=timezone.now(),
                               last_error="Traceback (most recent call last):\n  ...\nConnectionError: ERP host unreachable")
        with live_server() as url:
            yield SimpleNamespace(url=url, user=user, password=PASSWORD,
                                  plant=plant, second=second, tag=tag)


@pytest.fixture(scope="module")
def browser(site):  # needs the site only to be closed before it: its keep-alive requests hold connections
    with chromium() as b:
        yield b


def sign_in(page, site):
    page.goto(f"{site.url}/")
    assert "/signin/" in page.url
    page.get_by_label("Email").fill(site.user.email)
    page.get_by_label("Password").fill(site.password)
    page.get_by_label("Password").press("Enter")  # forms submit with Enter
    page.wait_for_url(f"{site.url}/")


def test_shell_end_to_end(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # A wrong password first: the message is shown, nobody is signed in.
    page.goto(f"{site.url}/signin/")
    page.get_by_label("Email").fill(site.user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    errors.clear()  # the refused sign-in answered 400, which the console reports

    sign_in(page, site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Brenda Okafor")
    page.keyboard.press("Tab")  # the first stop is the skip link
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    expect(page.locator(".tenant-switch select")).to_have_value(str(site.plant.pk))
    page.screenshot(path=str(ARTIFACTS / "dashboard-1280x800.png"), full_page=True)

    # The menu leads to Companies; the item is marked as the current page.
    page.locator("#sidebar").get_by_role("link", name="Companies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Companies")
    expect(page.locator("#sidebar a[aria-current=page]")).to_have_text("Companies")
    page.keyboard.press("/")  # the search shortcut
    expect(page.locator("#search-q")).to_be_focused()
    page.keyboard.type("injector")
    expect(page.locator("#record-results tbody tr")).to_have_count(1)  # inline search with htmx
    expect(page.locator("#record-results")).to_contain_text("Delphi Technologies")
    assert "q=injector" in page.url
    page.locator("#search-q").fill("")
    expect(page.locator("#record-results tbody tr")).to_have_count(5)
    page.screenshot(path=str(ARTIFACTS / "companies-1280x800.png"), full_page=True)

    # Create a company.
    name = f"Woodward Governors {site.tag}"
    page.get_by_role("link", name="New company").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Kind").select_option("supplier")
    page.get_by_label("Description").fill("Fuel metering units")
    page.get_by_label("Reason for change").fill("Approved supplier, audit 2024-117")
    page.get_by_role("button", name="Create company").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.get_by_role("status").first).to_contain_text("created")
    page.screenshot(path=str(ARTIFACTS / "company-detail-1280x800.png"), full_page=True)

    # Its history: who, when, why.
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"History of {name}")
    entry = page.locator(".timeline-item").first
    expect(entry).to_contain_text("Created")
    expect(entry).to_contain_text("Brenda Okafor")
    expect(entry).to_contain_text("Approved supplier, audit 2024-117")
    expect(entry).to_contain_text("UTC")
    page.screenshot(path=str(ARTIFACTS / "company-history-1280x800.png"), full_page=True)

    # Switch tenant: choosing it in the header switches at once.
    page.locator(".tenant-switch select").select_option(str(site.second.pk))
    page.wait_for_url(f"{site.url}/")
    expect(page.locator(".tenant-switch select")).to_have_value(str(site.second.pk))
    expect(page.get_by_role("status").first).to_contain_text(site.second.name)
    expect(page.locator("#sidebar")).not_to_contain_text("Modules")  # a QA manager there, not an admin
    page.locator("#sidebar").get_by_role("link", name="Companies").click()
    expect(page.locator("#record-results")).not_to_contain_text(name)  # the other tenant's data

    # Sign out.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site.url}/signin/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto(f"{site.url}/companies/")
    assert "/signin/" in page.url
    assert not errors, errors
    page.close()


def test_tablet_portrait(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 800, "height": 1280}, has_touch=True, reduced_motion="reduce")
    page.goto(f"{site.url}/signin/")
    page.screenshot(path=str(ARTIFACTS / "signin-800x1280.png"))
    sign_in(page, site)
    page.screenshot(path=str(ARTIFACTS / "dashboard-800x1280.png"), full_page=True)

    # The menu is a drawer behind a button on narrow screens.
    sidebar = page.locator("#sidebar")
    expect(sidebar).not_to_be_visible()
    page.get_by_role("button", name="Menu").click()
    expect(sidebar).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "menu-800x1280.png"))
    sidebar.get_by_role("link", name="Companies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Companies")
    page.screenshot(path=str(ARTIFACTS / "companies-800x1280.png"), full_page=True)

    # Touch targets: every button and link in the table and nav is at least 44px tall.
    for selector in (".btn", ".rows-link tbody tr"):
        for box in [el.bounding_box() for el in page.locator(selector).all()]:
            if box:
                assert box["height"] >= 44, (selector, box)
    page.locator(".rows-link tbody tr").first.locator("a").click()
    expect(page.get_by_role("link", name="Edit")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "company-detail-800x1280.png"), full_page=True)
    page.close()


def test_conflict_keeps_the_input(site, browser):
    """Someone saves the company while the form is open: the page says so and keeps what was typed."""
    from playwright.sync_api import expect

    from traveler.core.models import Company
    from traveler.core.services.companies import company_update
    from traveler.core.tenancy import tenant_context

    page = browser.new_page(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    sign_in(page, site)
    with orm(), tenant_context(site.plant):
        company = Company.objects.get(name="Cummins Engines")
    page.goto(f"{site.url}/companies/{company.pk}/edit/")
    page.get_by_label("Description").fill("Engines; fuel systems audited 2024")
    with orm(), tenant_context(site.plant, actor=site.user):  # a colleague saves first
        company_update(company=Company.objects.get(pk=company.pk), version=company.version,
                       data={"description": "Diesel and natural-gas engines"}, reason="catalogue")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#conflict")).to_contain_text("changed by someone else")
    expect(page.locator("#conflict")).to_contain_text("Diesel and natural-gas engines")
    expect(page.get_by_label("Description")).to_have_value("Engines; fuel systems audited 2024")
    page.screenshot(path=str(ARTIFACTS / "company-conflict-1280x800.png"), full_page=True)
    page.get_by_role("button", name="Save my version").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cummins Engines")
    expect(page.locator(".detail-main .fields")).to_contain_text("Engines; fuel systems audited 2024")
    page.close()


def test_administration_pages(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Console errors catch Content-Security-Policy violations; the form's 400 and the 404 page are expected.
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    sign_in(page, site)
    for label, heading, shot in [("Users", "Users", "users"), ("Roles", "Roles", "roles"),
                                 ("Modules", "Modules", "modules"), ("Jobs", "Background jobs", "jobs"),
                                 ("API tokens", "API tokens", "tokens")]:
        page.locator("#sidebar").get_by_role("link", name=label, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        page.screenshot(path=str(ARTIFACTS / f"{shot}-1280x800.png"), full_page=True)

    # Module switches toggle in place (htmx) and the menu follows at once.
    from traveler.core.registry import registry

    switchable = [m.label for m in registry.modules.values() if m.switchable]
    entries = [i.label for i in registry.menu if switchable and i.module == switchable[0]]
    if entries:
        label = switchable[0]
        page.locator("#sidebar").get_by_role("link", name="Modules").click()
        switch = page.locator(f"#module-{label} [role=switch]")
        expect(switch).to_have_attribute("aria-checked", "true")
        switch.click()
        expect(page.locator(f"#module-{label} [role=switch]")).to_have_attribute("aria-checked", "false")
        expect(page.locator("#sidebar")).not_to_contain_text(entries[0])
        assert page.url.endswith("/modules/")  # no page load
        page.locator(f"#module-{label} [role=switch]").click()
        expect(page.locator(f"#module-{label} [role=switch]")).to_have_attribute("aria-checked", "true")
        expect(page.locator("#sidebar")).to_contain_text(entries[0])

    # A dead job shows its error and can be retried.
    page.locator("#sidebar").get_by_role("link", name="Jobs").click()
    page.get_by_role("link", name=re.compile("^Dead")).click()
    page.get_by_text("Last error").click()
    expect(page.locator(".job-error pre")).to_contain_text("ERP host unreachable")
    page.screenshot(path=str(ARTIFACTS / "jobs-dead-1280x800.png"), full_page=True)
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status").first).to_contain_text("queued again")

    page.locator("#sidebar").get_by_role("link", name="Roles", exact=True).click()
    page.get_by_role("link", name="QA Inspector").click()
    expect(page.locator(".matrix-group").first).to_contain_text("core.view_company")
    page.screenshot(path=str(ARTIFACTS / "role-matrix-1280x800.png"), full_page=True)

    page.locator("#sidebar").get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("CMM export")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_have_value(re.compile(r"^trv_"))
    page.screenshot(path=str(ARTIFACTS / "token-created-1280x800.png"), full_page=True)

    page.locator("#sidebar").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Add user").click()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".has-error").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "user-add-errors-1280x800.png"), full_page=True)
    page.goto(f"{site.url}/no-such-page/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    page.screenshot(path=str(ARTIFACTS / "not-found-1280x800.png"))
    assert not errors, errors
    page.close()
