"""A live control chart in a real browser under the ASGI server: a part is advanced with its
measurement elsewhere (a committed service call), and the new point is on the open chart within a
second, with no reload and no polling. Without JavaScript the chart is complete as served.

The chart is the characteristic's own page (``spc:characteristic``), served by uvicorn."""

from __future__ import annotations

import re
import time
import uuid
from types import SimpleNamespace

import pytest

from traveler.core.tests.browser import ARTIFACTS, asgi_live_server, chromium, orm

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    from traveler.core.tests.factories import PASSWORD, make_member, make_tenant
    from traveler.spc.tests.factories import measured, stable_values

    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        plant = make_tenant(f"Live Injectors {tag}")
        inspector = make_member(plant, roles=["qa_inspector"], email=f"ines-{tag}@example.com",
                                full_name="Ines Inspector")
        _, bore = measured(plant, stable_values(12))
        _, few = measured(plant, [6.0, 6.001])  # too few points for a chart yet
        with asgi_live_server() as url:
            yield SimpleNamespace(url=url, tenant=plant, inspector=inspector, bore=bore, few=few, password=PASSWORD)


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as b:
        yield b


def _signed_in(browser, site, **options):
    context = browser.new_context(viewport={"width": 1100, "height": 800}, reduced_motion="reduce", **options)
    page = context.new_page()
    page.goto(f"{site.url}/signin/")
    page.get_by_label("Email").fill(site.inspector.email)
    page.get_by_label("Password").fill(site.password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))
    return context, page


def _advance_one_part(site, value: float, bore=None) -> None:
    from traveler.core.tenancy import tenant_context
    from traveler.mes_lite.models import Part
    from traveler.mes_lite.services.parts import part_advance
    from traveler.mes_lite.tests.factories import make_work_order

    bore = bore or site.bore
    with orm():
        with tenant_context(site.tenant):
            process = bore.step.process
        wo = make_work_order(site.tenant, process=process, quantity=1)
        with tenant_context(site.tenant):
            part_advance(part=Part.objects.get(work_order=wo), step=bore.step_id,
                         measurements=[{"definition": bore.pk, "value": repr(value)}])


def test_a_new_measurement_appears_on_the_open_chart_within_a_second(site, browser):
    from playwright.sync_api import expect

    context, page = _signed_in(browser, site)
    try:
        page.goto(f"{site.url}/spc/characteristics/{site.bore.pk}/")
        figure = page.locator("figure.spc-live")
        expect(figure).to_have_attribute("data-live", "live", timeout=10_000)
        expect(page.locator(".spc-live-status")).to_have_text("Live")
        points = figure.locator("a[data-point]")  # each point of each panel links to its page
        before = points.count()
        assert before == 12 + 11  # individuals and moving ranges
        _advance_one_part(site, 6.0004)  # committed when this returns
        committed = time.monotonic()
        expect(points).to_have_count(before + 2, timeout=1_000)
        took = time.monotonic() - committed
        assert took < 1.0, f"the new point took {took:.2f} s"
        assert figure.get_attribute("data-redraws") == "1"
        page.screenshot(path=str(ARTIFACTS / "spc-live-chart.png"), full_page=True)
        # A point far outside the limits comes in red, through the same stream.
        _advance_one_part(site, 6.05)
        expect(figure.locator('circle[fill="#c00000"]')).not_to_have_count(0, timeout=1_000)
    finally:
        context.close()


def test_without_javascript_the_chart_is_complete_and_says_nothing_of_live_updates(site, browser):
    context, page = _signed_in(browser, site, java_script_enabled=False)
    try:
        page.goto(f"{site.url}/spc/characteristics/{site.bore.pk}/")
        figure = page.locator("figure.spc-live")
        assert figure.locator("svg").count() == 1 and figure.locator("a[data-point]").count() >= 12 + 11
        assert page.locator(".spc-live-status").count() == 0
    finally:
        context.close()


def test_a_page_with_too_few_points_shows_the_chart_once_there_are_enough(site, browser):
    from playwright.sync_api import expect

    context, page = _signed_in(browser, site)
    try:
        page.goto(f"{site.url}/spc/characteristics/{site.few.pk}/")
        expect(page.get_by_test_id("too-few")).to_be_visible()
        figure = page.locator("figure.spc-live")
        expect(figure).to_have_attribute("data-live", "live", timeout=10_000)
        expect(figure).to_be_hidden()
        _advance_one_part(site, 6.0005, bore=site.few)  # the third point: now there is a chart
        expect(page.get_by_test_id("too-few")).to_have_count(0, timeout=5_000)
        expect(page.locator("figure.spc-live a[data-point]")).to_have_count(3 + 2, timeout=5_000)
        expect(page.locator("figure.spc-live")).to_be_visible()
    finally:
        context.close()
