"""MES Lite in a real browser: the operator station driven like a barcode scanner, the customer's
order tracker, and the planner's pages.

The set-up is ``traveler/core/tests/browser.py``'s (read its docstring): Debian's chromium through
Playwright (never downloaded), a live server on 127.0.0.1, data committed once per module with unique
names, no global counts asserted. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from traveler.core.tests.browser import ARTIFACTS, chromium, live_server

pytestmark = pytest.mark.browser

ROUTE = [
    ("Machine body", [{"label": "Bore diameter", "unit": "mm", "nominal": "6.000", "upper_tol": "0.010",
                       "lower_tol": "0.010"}]),
    ("Deburr and wash", []),
    ("Leak test", [{"label": "Leak rate", "unit": "mbar·l/s", "nominal": "0", "upper_tol": "0.5", "lower_tol": "0"},
                   {"label": "Visual check", "kind": "pass_fail"},
                   {"label": "Seat runout", "unit": "µm", "nominal": "0", "upper_tol": "4", "lower_tol": "0",
                    "required": False}]),
    ("Flow calibration", [{"label": "Flow rate", "unit": "ml/min", "nominal": "520", "upper_tol": "6",
                           "lower_tol": "6"}]),
    ("Final inspection", [{"label": "Label and marking", "kind": "pass_fail"}]),
]



def _advance(part, steps, upto: int, *, bad_at: int | None = None) -> None:
    from traveler.mes_lite.services.parts import part_advance
    from traveler.mes_lite.tests.factories import good_readings

    for i, step in enumerate(steps[:upto]):
        readings = good_readings(step)
        if i == bad_at:
            readings[0]["value"] = "0.9"
        part_advance(part=part, step=step.pk, measurements=readings)


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """Committed data and a live server on 127.0.0.1 for this module."""
    from traveler.core.tenancy import tenant_context
    from traveler.core.tests.factories import PASSWORD, make_company, make_member, make_tenant
    from traveler.mes_lite.models import Part
    from traveler.mes_lite.services.orders import order_release
    from traveler.mes_lite.services.routing import route_steps
    from traveler.mes_lite.tests.factories import (
        make_equipment,
        make_order,
        make_part_type,
        make_process,
        make_work_order,
    )

    tag = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        plant = make_tenant(f"Aurora Injectors {tag}")
        admin = make_member(plant, roles=["tenant_admin"], email=f"brenda-{tag}@example.com", full_name="Brenda Okafor")
        operator = make_member(plant, roles=["operator"], email=f"oscar-{tag}@example.com", full_name="Oscar Lindqvist")
        cummins = make_company(plant, "Cummins Engines", description="Diesel engines, fuel systems")
        delphi = make_company(plant, "Delphi Technologies", description="Common-rail injectors")
        customer = make_member(plant, roles=["customer"], company=cummins, email=f"carla-{tag}@example.com",
                               full_name="Carla Mendes")
        part_type = make_part_type(plant, part_number="0445120-231", name="Common-rail injector CRI 3-25")
        process = make_process(plant, part_type=part_type, route=ROUTE)
        draft = make_process(plant, part_type=make_part_type(plant, part_number="F00VC01", name="Nozzle holder"),
                             route=ROUTE[:3], release=False)
        order = make_order(plant, company=cummins, number=f"SO-1042-{tag}", name="X15 fuel injectors",
                           estimated_completion=date.today() + timedelta(days=12))
        other = make_order(plant, company=delphi, number=f"SO-2210-{tag}", name="Confidential prototype")
        with tenant_context(plant):
            order_release(order=order)
        wo = make_work_order(plant, process=process, order=order, quantity=14, pattern=f"INJ-{tag}-{{seq:05}}")
        make_work_order(plant, process=process, order=other, quantity=4, pattern=f"DEL-{tag}-{{seq:05}}")
        make_equipment(plant, name="Bore gauge BG-03", serial_number=f"BG-03-{tag}")
        make_equipment(plant, name="Air gauge AG-07", serial_number=f"AG-07-{tag}", overdue=True)
        make_equipment(plant, name="Flow bench FB-1", serial_number=f"FB-1-{tag}",
                       last_calibration=date.today() - timedelta(days=350))
        with tenant_context(plant, actor=operator):
            parts = list(Part.objects.filter(work_order=wo).order_by("serial_number"))
            steps = route_steps(process)
            for part in parts[:3]:
                _advance(part, steps, 5)  # completed
            for part in parts[3:5]:
                _advance(part, steps, 4)  # at final inspection
            for part in parts[5:8]:
                _advance(part, steps, 3)  # at flow calibration
            _advance(parts[8], steps, 3, bad_at=2)  # quarantined at the leak test
            _advance(parts[9], steps, 2)  # at the leak test: station (a), second scan
        with live_server() as url:
            yield SimpleNamespace(
                url=url, password=PASSWORD, plant=plant, tag=tag, admin=admin,
                operator=operator, customer=customer, order=order, other=other, wo=wo, process=process, draft=draft,
                cummins=cummins, at_first=[p.serial_number for p in parts[10:]], at_leak=parts[9].serial_number)


@pytest.fixture(scope="module")
def browser(site):  # needs the site only to be closed before it: its keep-alive requests hold connections
    with chromium() as b:
        yield b


def sign_in(page, site, user, lands: str = "/"):
    page.goto(f"{site.url}/signin/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(site.password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{site.url}{lands}")


def watch(page) -> list[str]:
    """JavaScript errors on the page. The station's 4xx answers (unknown serial, blocked) are pages to
    show, so the console's "Failed to load resource" for them is expected and ignored."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    return errors


def scan(page, serial: str) -> None:
    """What a keyboard-wedge scanner does: type the serial into the focused field, then Enter."""
    page.keyboard.type(serial, delay=5)
    page.keyboard.press("Enter")


def choose_equipment(page, text: str) -> None:
    value = page.locator("#equipment option", has_text=text).get_attribute("value")
    page.get_by_label("Equipment used").select_option(value)


def shot(page, name: str, full: bool = True) -> None:
    size = page.viewport_size
    page.screenshot(path=str(ARTIFACTS / f"{name}-{size['width']}x{size['height']}.png"), full_page=full)


def test_operator_station_with_a_scanner(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    errors = watch(page)
    sign_in(page, site, site.operator, lands="/mes/station/")  # an operator's home page is the station
    expect(page.get_by_role("heading", level=1)).to_have_text("Operator station")
    field = page.locator("#scan")
    expect(field).to_be_focused()
    shot(page, "station-idle", full=False)

    # An unknown serial: said clearly, and the scan field keeps the focus with the text selected.
    scan(page, "INJ-NO-SUCH-PART")
    expect(page.locator("[data-outcome=unknown]")).to_contain_text("Unknown serial number")
    expect(field).to_be_focused()
    page.wait_for_function("() => { const s = document.getElementById('scan'); "  # the next scan replaces it
                           "return s.value && s.selectionStart === 0 && s.selectionEnd === s.value.length; }")

    # First part: scan, type the bore diameter (watch the live hint), advance with F2.
    serial = site.at_first[0]
    scan(page, serial)
    expect(page.locator("#part-serial")).to_have_text(serial)
    expect(page.locator(".route-step.is-current")).to_contain_text("Machine body")
    bore = page.get_by_label("Bore diameter")
    expect(bore).to_be_focused()
    page.keyboard.type("6.02")
    box = page.locator("[data-measure]").first
    expect(box).to_have_attribute("data-state", "out")
    expect(box.locator(".measure-feedback")).to_contain_text("OUT OF SPEC: above 6.01")
    page.keyboard.press("Control+A")
    page.keyboard.type("6.004")
    expect(box).to_have_attribute("data-state", "in")
    expect(box.locator(".measure-feedback")).to_have_text("✓ In spec")
    choose_equipment(page, "Bore gauge BG-03")
    bore.focus()
    shot(page, "station-traveler", full=False)
    page.keyboard.press("F2")
    expect(page.locator("[data-outcome=advanced]")).to_contain_text("Advanced to Deburr and wash")
    expect(field).to_be_focused()
    expect(field).to_have_value("")
    shot(page, "station-advanced", full=False)

    # A part at the leak test: Enter walks through the values, Space ticks Pass, Enter on the last advances.
    # A scanner types faster than htmx settles a swap: with the settle slowed down, the operator has moved
    # on to Pass before it, and the focus must stay there after it.
    page.evaluate("() => { window.settled = 0; htmx.config.defaultSettleDelay = 400; "
                  "document.addEventListener('htmx:afterSettle', () => { window.settled += 1; }); }")
    scan(page, site.at_leak)
    expect(page.get_by_label("Leak rate")).to_be_focused()
    page.keyboard.type("0.12")
    page.keyboard.press("Enter")
    visual_pass = page.get_by_role("radio", name="Pass")
    expect(visual_pass).to_be_focused()
    page.wait_for_function("() => window.settled > 0")
    expect(visual_pass).to_be_focused()
    page.evaluate("() => { htmx.config.defaultSettleDelay = 20; }")
    page.keyboard.press("Space")
    expect(visual_pass).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Seat runout")).to_be_focused()
    page.keyboard.type("1.5")
    shot(page, "station-leak-test", full=False)
    page.keyboard.press("Enter")
    expect(page.locator("[data-outcome=advanced]")).to_contain_text("Advanced to Flow calibration")
    expect(field).to_be_focused()

    # Overdue equipment: blocked with the guard's reason; the values stay.
    serial = site.at_first[1]
    scan(page, serial)
    choose_equipment(page, "OVERDUE · Air gauge AG-07")
    expect(page.locator("[data-equipment-status]")).to_contain_text("the advance will be blocked")
    page.get_by_label("Bore diameter").fill("6.001")
    page.keyboard.press("Control+Enter")
    blocked = page.locator("[data-outcome=blocked]")
    expect(blocked).to_contain_text("Blocked: not advanced")
    expect(blocked).to_contain_text("Calibration overdue: Air gauge AG-07")
    expect(page.get_by_label("Bore diameter")).to_have_value("6.001")
    expect(field).to_be_focused()
    shot(page, "station-blocked", full=False)

    # Scan again, an out-of-spec value: nothing is recorded until it is typed a second time (one typo
    # must not quarantine a part); then the part is quarantined, the value and limits are shown.
    serial = site.at_first[2]
    scan(page, serial)
    expect(page.locator("#part-serial")).to_have_text(serial)
    bore = page.get_by_label("Bore diameter")
    expect(bore).to_be_focused()
    page.keyboard.type("6.031")
    expect(page.locator("[data-measure]").first).to_have_attribute("data-state", "out")
    page.keyboard.press("Enter")  # Enter on the last (only) value advances
    box = page.locator("[data-measure]").first
    expect(box.locator(".errorlist")).to_have_text("Out of tolerance: re-enter to confirm, or correct it.")
    expect(bore).to_have_value("")
    expect(bore).to_be_focused()
    expect(page.locator(".route-step.is-current")).not_to_contain_text("Quarantined")
    shot(page, "station-confirm", full=False)
    page.keyboard.type("6.031")
    expect(box.locator(".measure-feedback")).to_contain_text("same as entered before")
    page.keyboard.press("Enter")
    outcome = page.locator("[data-outcome=quarantined]")
    expect(outcome).to_contain_text("QUARANTINED")
    expect(outcome).to_contain_text("Bore diameter")
    expect(outcome).to_contain_text("6.031 mm")
    expect(outcome).to_contain_text("above the limits 5.99 – 6.01 mm")
    expect(page.locator(".route-step.is-current")).to_contain_text("Quarantined here")
    expect(field).to_be_focused()
    shot(page, "station-quarantined", full=False)
    assert not errors, errors
    page.close()


def test_operator_station_on_a_tablet(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 800, "height": 1280}, has_touch=True, reduced_motion="reduce")
    errors = watch(page)
    sign_in(page, site, site.operator, lands="/mes/station/")
    shot(page, "station-idle", full=False)
    scan(page, site.at_first[3])
    expect(page.get_by_label("Bore diameter")).to_be_focused()
    page.keyboard.type("5.996")
    expect(page.locator("[data-measure]").first).to_have_attribute("data-state", "in")
    shot(page, "station-traveler", full=False)
    for selector in ("#scan", ".btn-advance", "#equipment", "#sidebar a", "[data-measure] input"):
        for box in [el.bounding_box() for el in page.locator(selector).all()]:
            if box:
                assert box["height"] >= 44, (selector, box)
    page.locator(".btn-advance").tap()
    expect(page.locator("[data-outcome=advanced]")).to_be_visible()
    shot(page, "station-advanced", full=False)
    assert not errors, errors
    page.close()


def test_a_customer_follows_its_order(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    errors = watch(page)
    sign_in(page, site, site.customer)
    sidebar = page.locator("#sidebar")
    expect(sidebar.get_by_role("link", name="Station")).to_have_count(0)
    expect(sidebar.get_by_role("link", name="Work orders")).to_have_count(0)
    sidebar.get_by_role("link", name="Orders").click()
    results = page.locator("#record-results")
    expect(results).to_contain_text(site.order.number)
    expect(results).not_to_contain_text(site.other.number)
    page.get_by_role("link", name=site.order.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(site.order.number)
    expect(page.locator(".tracker-percent")).to_contain_text("21%")  # 3 of 14 completed
    expect(page.locator(".track-node.is-active").first).to_contain_text("parts here")
    expect(page.locator("main")).not_to_contain_text("quarantined")
    expect(page.locator("main")).not_to_contain_text(site.wo.number)
    shot(page, "order-progress-customer")
    page.set_viewport_size({"width": 800, "height": 1280})
    shot(page, "order-progress-customer")

    page.goto(f"{site.url}/mes/orders/{site.other.pk}/progress/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("main")).not_to_contain_text("Confidential prototype")
    errors.clear()  # the refused page answered 404, which the console reports
    page.goto(f"{site.url}/mes/work-orders/{site.wo.pk}/board/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    page.close()


def test_planner_pages(site, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    errors = watch(page)
    sign_in(page, site, site.admin)
    expect(page.locator(".attention")).to_contain_text("quarantined")
    shot(page, "dashboard-mes")
    page.goto(f"{site.url}/mes/orders/{site.order.pk}/progress/")
    expect(page.locator(".track-flags").first).to_contain_text("quarantined")
    shot(page, "order-progress-staff")
    page.goto(f"{site.url}/mes/orders/{site.order.pk}/")
    shot(page, "order-detail")
    page.goto(f"{site.url}/mes/work-orders/{site.wo.pk}/board/")
    expect(page.locator(".board-col")).to_have_count(len(ROUTE))
    shot(page, "workorder-board")
    page.locator(".board-part.status-quarantined a").first.click()
    expect(page.locator(".route-step.is-current")).to_contain_text("Quarantined here")
    shot(page, "part-detail")
    page.goto(f"{site.url}/mes/processes/{site.process.pk}/")
    expect(page.locator(".readonly-note")).to_contain_text("Read-only")
    shot(page, "process-released")
    page.goto(f"{site.url}/mes/processes/{site.draft.pk}/")
    expect(page.get_by_role("link", name="Release…")).to_be_visible()
    shot(page, "process-draft")
    page.goto(f"{site.url}/mes/equipment/")
    expect(page.locator(".cal-overdue")).to_contain_text("Overdue since")
    shot(page, "equipment-list")
    page.goto(f"{site.url}/companies/{site.cummins.pk}/")
    expect(page.locator(".panel-list")).to_contain_text(site.order.number)
    shot(page, "company-orders-panel")
    page.set_viewport_size({"width": 800, "height": 1280})
    page.goto(f"{site.url}/mes/work-orders/{site.wo.pk}/board/")
    shot(page, "workorder-board")
    assert not errors, errors
    page.close()
