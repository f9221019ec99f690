"""The pages people use on tablets and phones fit their screen: no page scrolls sideways.

Wide tables scroll inside their own ``.table-scroll`` wrapper, charts scale to their container, the
top bar fits a phone. Checked at 1024x768 (a tablet in landscape) and 390x844 (a phone), on the
pages a user found cut off: the equipment list, orders, the traveler and route pages, the control
chart, plus the dashboard, a history page and a detail page.

The set-up is ``traveler/core/tests/browser.py``'s (read its docstring): Debian's chromium through
Playwright, a live server, data committed once per module with unique names, no global counts.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from traveler.core.tests.browser import ARTIFACTS, chromium, live_server

pytestmark = pytest.mark.browser

SIZES = [(1024, 768), (390, 844)]
# A route as long as real ones get, with names as long as real ones are.
ROUTE = [(name, []) for name in (
    "Machine injector body", "Deburr and ultrasonic wash", "Nozzle seat grinding", "Leak test at 2000 bar",
    "Flow calibration and trim", "Solenoid assembly", "Final functional test", "Laser marking",
    "Final inspection and packing",
)]
# What the page measures: how far it scrolls sideways, and the widest elements outside a scroll wrapper.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const culprits = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table-scroll, .scroll-x')) continue;
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 1) {
      culprits.push(el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined
                    ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '') + ' right=' + Math.round(r.right));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, culprits: culprits.slice(0, 8)};
}"""
# The top bar keeps one row, and what is in it stays inside the screen.
TOPBAR = """() => {
  const bar = document.querySelector('.topbar');
  const out = [...bar.querySelectorAll('*')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.width && (r.right > window.innerWidth + 1 || r.left < -1 || r.bottom > bar.getBoundingClientRect().bottom + 1);
  }).map(el => el.tagName.toLowerCase() + '.' + String(el.className.baseVal ?? el.className));
  return {height: bar.getBoundingClientRect().height, out};
}"""
# Every data table is inside a scroll wrapper.
UNWRAPPED = "() => [...document.querySelectorAll('main table')].filter(t => !t.closest('.table-scroll')).length"


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """Committed data and a live server on 127.0.0.1 for this module."""
    from traveler.core.services.users import member_add
    from traveler.core.tenancy import tenant_context
    from traveler.core.tests.factories import PASSWORD, make_company, make_member, make_tenant
    from traveler.mes_lite.models import Part
    from traveler.mes_lite.services.orders import order_release
    from traveler.mes_lite.services.parts import part_advance
    from traveler.mes_lite.services.routing import route_steps
    from traveler.mes_lite.tests.factories import (
        good_readings,
        make_equipment,
        make_order,
        make_part_type,
        make_process,
        make_work_order,
    )

    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        plant = make_tenant(f"Aurora Injectors and Precision Pumps {tag}")
        second = make_tenant(f"Borealis Pumps and Hydraulic Systems {tag}")
        admin = make_member(plant, roles=["tenant_admin"], email=f"maria-{tag}@example.com",
                            full_name="Maria-Magdalena Vasquez-Oyelaran")
        with tenant_context(second):  # two tenants: the top bar carries the tenant switch
            member_add(email=admin.email, full_name=admin.full_name, password=None, roles=["qa_manager"])
        customer = make_company(plant, "Cummins Engines Columbus Technical Center")
        part_type = make_part_type(plant, part_number=f"0445120-231-{tag}",
                                   name="Common-rail injector CRI 3-25 high-pressure assembly")
        process = make_process(plant, part_type=part_type, route=ROUTE)
        order = make_order(plant, company=customer, number=f"SO-1042-{tag}", name="X15 fuel injectors, second lot",
                           estimated_completion=date.today() + timedelta(days=12))
        with tenant_context(plant):
            order_release(order=order)
        wo = make_work_order(plant, process=process, order=order, quantity=4, pattern=f"INJ-{tag}-{{seq:05}}")
        for i in range(6):
            make_equipment(plant, name=f"Coordinate measuring machine CMM-{i:02}", serial_number=f"CMM-{i:02}-{tag}",
                           overdue=i == 1, last_calibration=date.today() - timedelta(days=300 + i))
        with tenant_context(plant, actor=admin):
            part = Part.objects.filter(work_order=wo).order_by("serial_number").first()
            for step in route_steps(process)[:3]:
                part_advance(part=part, step=step.pk, measurements=good_readings(step))
        with live_server() as url:
            yield SimpleNamespace(url=url, password=PASSWORD, admin=admin, order=order, part=part,
                                  process=process, wo=wo, part_type=part_type)


@pytest.fixture(scope="module")
def browser(site):  # needs the site only to be closed before it: its keep-alive requests hold connections
    with chromium() as b:
        yield b


def pages(site) -> list[tuple[str, str]]:
    return [
        ("dashboard", "/"),
        ("equipment-list", "/mes/equipment/"),
        ("order-list", "/mes/orders/"),
        ("order-detail", f"/mes/orders/{site.order.pk}/"),
        ("order-history", f"/mes/orders/{site.order.pk}/history/"),
        ("workorder-list", "/mes/work-orders/"),
        ("workorder-detail", f"/mes/work-orders/{site.wo.pk}/"),
        ("part-detail", f"/mes/parts/{site.part.pk}/"),
        ("part-history", f"/mes/parts/{site.part.pk}/history/"),
        ("process-detail", f"/mes/processes/{site.process.pk}/"),
        ("parttype-detail", f"/mes/part-types/{site.part_type.pk}/"),
    ]


def assert_fits(page, name: str) -> None:
    size = page.viewport_size
    page.screenshot(path=str(ARTIFACTS / f"layout-{name}-{size['width']}x{size['height']}.png"), full_page=True)
    measured = page.evaluate(OVERFLOW)
    assert measured["scrollWidth"] <= measured["width"], (name, size, measured)
    bar = page.evaluate(TOPBAR)
    assert bar["height"] <= 64 and not bar["out"], (name, size, bar)
    assert page.evaluate(UNWRAPPED) == 0, (name, size, "a table outside .table-scroll")


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_pages_fit_the_screen(site, browser, width, height):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": width, "height": height}, has_touch=True, reduced_motion="reduce")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site.url}/signin/")
    page.get_by_label("Email").fill(site.admin.email)
    page.get_by_label("Password").fill(site.password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{site.url}/")
    # The tenant switch and signing out stay in reach in the top bar; the menu opens from its button.
    for control in (page.locator(".tenant-switch select"), page.get_by_role("button", name="Sign out")):
        expect(control).to_be_visible()
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 44, box
    if width < 1100:
        page.get_by_role("button", name="Menu").click()
        expect(page.locator("#sidebar").get_by_role("link", name="Equipment")).to_be_visible()
        page.goto(f"{site.url}/")
    failures = []
    for name, path in pages(site):
        page.goto(f"{site.url}{path}")
        try:
            assert_fits(page, name)
        except AssertionError as exc:
            failures.append(str(exc))

    page.goto(f"{site.url}/spc/charts/")
    page.get_by_label("Chart type").select_option("imr")
    page.get_by_label("Data").fill("\n".join(str(10 + (i % 7) * 0.1) for i in range(60)))
    page.get_by_label("Lower specification limit").fill("9")
    page.get_by_label("Upper specification limit").fill("11.5")
    page.get_by_role("button", name="Analyze").click()
    expect(page.get_by_test_id("chart")).to_be_visible()
    try:
        assert_fits(page, "spc-chart")
    except AssertionError as exc:
        failures.append(str(exc))
    # The chart scales to the page instead of running off it.
    chart = page.evaluate("() => { const s = document.querySelector('[data-testid=chart] svg'); "
                          "return [s.getBoundingClientRect().right, s.parentElement.getBoundingClientRect().right]; }")
    assert chart[0] <= chart[1] + 1, chart
    assert not failures, "\n".join(failures)
    assert not errors, errors
    page.close()
