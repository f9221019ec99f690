"""A characteristic's chart in a real browser: click a point of the control chart, land on its page
with the part it was measured on.

The set-up is ``traveler/core/tests/browser.py``'s (read its docstring): Debian's chromium through
Playwright, a live server on 127.0.0.1, data committed once with unique names, no global counts.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from traveler.core.tests.browser import ARTIFACTS, chromium, live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    from traveler.core.tenancy import tenant_context
    from traveler.core.tests.factories import PASSWORD, make_member, make_tenant
    from traveler.mes_lite.models import StepMeasurement
    from traveler.spc.tests.factories import measured, stable_values

    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        plant = make_tenant(f"Aurora Injectors {tag}")
        inspector = make_member(plant, roles=["qa_inspector"], email=f"ines-{tag}@example.com", full_name="Ines Duarte")
        wo, bore = measured(plant, stable_values(30), start=datetime(2026, 11, 2, 5, 0, tzinfo=UTC),
                            every=timedelta(minutes=12))
        with tenant_context(plant):
            fifth = (StepMeasurement.objects.filter(definition=bore).select_related("part")
                     .order_by("recorded_at", "pk")[4])
        with live_server() as url:
            yield SimpleNamespace(url=url, password=PASSWORD, inspector=inspector, bore=bore, fifth=fifth, wo=wo)


@pytest.fixture(scope="module")
def browser(site):  # needs the site only to be closed before it: its keep-alive requests hold connections
    with chromium() as b:
        yield b


def test_click_a_point_of_the_chart_and_land_on_its_parts(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site.url}/signin/")
    page.get_by_label("Email").fill(site.inspector.email)
    page.get_by_label("Password").fill(site.password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))

    page.get_by_role("link", name="Characteristics").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Characteristics")
    page.locator(f'tr[data-definition="{site.bore.pk}"]').get_by_role("link", name="Bore diameter").click()
    expect(page.locator('[data-testid="limits-label"]')).to_contain_text("Trial limits: no frozen baseline")
    chart = page.locator('[data-testid="live-chart"] svg')
    expect(chart).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "spc-characteristic-chart-1280x900.png"), full_page=True)

    # The fifth point of the individuals panel: its circle is the link.
    chart.locator('a[data-point="5"]').first.click()
    page.wait_for_url(re.compile(rf"/spc/characteristics/{site.bore.pk}/points/{site.fifth.pk}/"))
    expect(page.get_by_test_id("point-title")).to_have_text("Point 5 of 30")
    rows = page.locator('[data-testid="point-measurements"] tbody tr')
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link")).to_have_text(site.fifth.part.serial_number)
    expect(rows.first).to_contain_text(site.wo.number)
    expect(rows.first).to_contain_text("In spec")
    page.screenshot(path=str(ARTIFACTS / "spc-characteristic-point-1280x900.png"), full_page=True)

    # Back to the chart, then the part's own traveler page from the point.
    page.get_by_role("link", name="Next point").click()
    expect(page.get_by_test_id("point-title")).to_have_text("Point 6 of 30")
    page.get_by_role("link", name="Previous point").click()
    rows.first.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/mes/parts/{site.fifth.part_id}/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(site.fifth.part.serial_number)
    assert errors == []
