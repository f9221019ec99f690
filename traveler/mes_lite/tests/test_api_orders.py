"""Orders and work orders through the HTTP API: lifecycles, parts creation, board and progress."""

import pytest

from traveler.core.models import OutboxEvent
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company
from traveler.core.tests.test_ui_shell import signed_in as ui_signed_in
from traveler.mes_lite.models import Part, SerialCounter, WorkOrder
from traveler.mes_lite.tests.api_helpers import (
    API,
    error,
    event_names,
    parts_of,
    readings,
    route_of,
    signed_in,
    written,
)
from traveler.mes_lite.tests.factories import make_order, make_process, make_work_order


@pytest.fixture
def planner(api, tenant):
    return signed_in(api, tenant, roles=["production_manager"])


def history(api, url):
    return api.get(f"{url}history/").json()["results"]


def finish_all_parts(api, tenant, wo):
    """Advance every part of ``wo`` to completion through the API (bulk, one call per step)."""
    for step in route_of(tenant, wo):
        body = {"step": step.pk, "parts": [{"part": p.pk, "measurements": readings(tenant, step)}
                                           for p in parts_of(tenant, wo)]}
        r = api.post(f"{API}/work-orders/{wo.pk}/advance-parts/", body)
        assert r.status_code == 200, r.content


def test_order_and_work_order_lifecycle(planner, tenant):
    company = make_company(tenant, name="Rail Diesel GmbH")
    process = make_process(tenant)

    r = planner.post(f"{API}/orders/", {"number": "SO-1001", "company": company.pk, "name": "Injectors for D12",
                                        "estimated_completion": "2031-05-01", "reason": "PO 4711"})
    assert r.status_code == 201, r.content
    order = r.json()
    assert (order["status"], order["company_name"]) == ("draft", "Rail Diesel GmbH")
    ourl = f"{API}/orders/{order['id']}/"
    assert history(planner, ourl)[-1]["reason"] == "PO 4711"
    r = planner.patch(ourl, {"name": "Injectors for D12 (rev B)", "version": 1, "reason": "customer change"})
    assert r.status_code == 200 and history(planner, ourl)[0]["reason"] == "customer change"

    r = planner.post(f"{API}/work-orders/", {"number": "WO-1", "order": order["id"], "process": process.pk,
                                             "quantity": 3})
    assert r.status_code == 201, r.content
    wo = r.json()
    assert (wo["status"], wo["part_type"], wo["process_version"], wo["order_number"]) == \
        ("draft", process.part_type_id, 1, "SO-1001")
    wurl = f"{API}/work-orders/{wo['id']}/"

    assert planner.post(f"{wurl}create-parts/", {"pattern": "X-{seq:03}"}).status_code == 409  # not released

    r = planner.post(f"{wurl}release/", {"reason": "material in stock"})
    assert r.status_code == 200 and r.json()["status"] == "released"
    assert planner.get(ourl).json()["status"] == "released"  # releasing a work order releases its order
    assert history(planner, wurl)[0]["reason"] == "material in stock"
    assert planner.post(f"{ourl}release/").status_code == 409

    r = planner.post(f"{wurl}create-parts/", {"pattern": "INJ-{wo}-{seq:03}", "quantity": 2, "reason": "first lot"})
    assert r.status_code == 201, r.content
    assert r.json()["created"] == 2
    assert (r.json()["first_serial"], r.json()["last_serial"]) == ("INJ-WO-1-001", "INJ-WO-1-002")
    r = planner.post(f"{wurl}create-parts/", {"pattern": "INJ-{wo}-{seq:03}"})  # the rest of the quantity
    assert r.status_code == 201 and r.json()["last_serial"] == "INJ-WO-1-003"
    parts = planner.get(f"{API}/parts/", {"work_order": wo["id"]}).json()
    assert parts["count"] == 3 and {p["status"] for p in parts["results"]} == {"pending"}
    assert {p["order"] for p in parts["results"]} == {order["id"]}
    part_history = history(planner, f"{API}/parts/{parts['results'][0]['id']}/")
    assert part_history[-1]["action"] == "Created" and part_history[-1]["reason"] == "first lot"

    r = planner.post(f"{ourl}complete/")
    assert r.status_code == 409 and "WO-1" in error(r)["message"]
    r = planner.post(f"{wurl}complete/")
    assert r.status_code == 409 and "3 part(s) still in work" in error(r)["message"]

    with tenant_context(tenant):
        wo_obj = WorkOrder.objects.get(pk=wo["id"])
    finish_all_parts(planner, tenant, wo_obj)
    assert planner.get(wurl).json()["status"] == "in_progress"
    assert planner.get(ourl).json()["status"] == "in_progress"

    r = planner.post(f"{wurl}complete/", {"reason": "all parts done"})
    assert r.status_code == 200 and r.json()["status"] == "completed" and r.json()["completed_at"]
    r = planner.post(f"{ourl}complete/", {"reason": "shipped"})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert history(planner, ourl)[0]["reason"] == "shipped"
    assert planner.patch(ourl, {"name": "late change", "version": r.json()["version"]}).status_code == 409

    assert event_names(tenant, order_id=order["id"]) == ["mes.order.released", "mes.order.completed"]
    assert event_names(tenant, work_order_id=wo["id"])[:3] == [
        "mes.work_order.released", "mes.work_order.parts_created", "mes.work_order.parts_created"]
    assert event_names(tenant, work_order_id=wo["id"])[-1] == "mes.work_order.completed"
    with tenant_context(tenant):
        done = OutboxEvent.objects.get(name="mes.work_order.completed", payload__work_order_id=wo["id"])
    assert (done.payload["completed"], done.payload["scrapped"]) == (3, 0)


def test_board_counts_parts_per_step_and_status(planner, tenant):
    wo = make_work_order(tenant, quantity=4)
    first, second, last = route_of(tenant, wo)
    board = planner.get(f"{API}/work-orders/{wo.pk}/board/").json()
    assert board["total"] == 4 and board["by_status"]["pending"] == 4 and board["percent_complete"] == 0.0
    assert [s["step"]["name"] for s in board["steps"]] == [first.name, second.name, last.name]
    assert board["steps"][0]["in_work"] == 4 and board["work_order"]["number"] == wo.number

    p = parts_of(tenant, wo)[0]
    r = planner.post(f"{API}/parts/{p.pk}/advance/", {"step": first.pk, "measurements": readings(tenant, first)})
    assert r.status_code == 200, r.content
    board = planner.get(f"{API}/work-orders/{wo.pk}/board/").json()
    assert board["steps"][0]["counts"]["pending"] == 3
    assert board["steps"][1]["counts"]["in_process"] == 1 and board["steps"][1]["in_work"] == 1


def test_percent_complete_counts_scrapped_parts_apart(planner, tenant):
    """A finished order with a scrapped part reads 100 %, the same on the board, the progress and the page."""
    order = make_order(tenant)
    wo = make_work_order(tenant, order=order, quantity=4)
    scrapped = parts_of(tenant, wo)[0]
    r = planner.post(f"{API}/parts/{scrapped.pk}/scrap/", {"reason": "dropped"})
    assert r.status_code == 200, r.content
    board = planner.get(f"{API}/work-orders/{wo.pk}/board/").json()
    assert board["percent_complete"] == 0.0 and board["by_status"]["scrapped"] == 1
    p = parts_of(tenant, wo)[1]
    for step in route_of(tenant, wo):
        r = planner.post(f"{API}/parts/{p.pk}/advance/", {"step": step.pk, "measurements": readings(tenant, step)})
        assert r.status_code == 200, r.content
    assert planner.get(f"{API}/work-orders/{wo.pk}/board/").json()["percent_complete"] == 33.3
    for step in route_of(tenant, wo):
        body = {"step": step.pk, "parts": [{"part": q.pk, "measurements": readings(tenant, step)}
                                           for q in parts_of(tenant, wo) if q.status not in ("scrapped", "completed")]}
        r = planner.post(f"{API}/work-orders/{wo.pk}/advance-parts/", body)
        assert r.status_code == 200, r.content
    board = planner.get(f"{API}/work-orders/{wo.pk}/board/").json()
    assert board["percent_complete"] == 100.0 and board["by_status"]["completed"] == 3
    progress = planner.get(f"{API}/orders/{order.pk}/progress/").json()
    assert progress["percent_complete"] == 100.0 and progress["by_status"]["scrapped"] == 1
    html = ui_signed_in(planner.user, tenant).get(f"/mes/orders/{order.pk}/").content.decode()
    assert "100% complete" in html and "96%" not in html


@pytest.mark.parametrize("body,field,message", [
    ({"quantity": -5}, "quantity", "greater than or equal to 1"),
    ({"quantity": 0}, "quantity", "greater than or equal to 1"),
    ({"quantity": "many"}, "quantity", "valid integer"),
    ({"process": None}, "process", "null"),
    ({"number": ""}, "number", "blank"),
])
def test_bad_work_orders_are_refused(planner, tenant, body, field, message):
    process = make_process(tenant)
    r = planner.post(f"{API}/work-orders/", {"number": "WO-X", "process": process.pk, "quantity": 3, **body})
    assert r.status_code == 400, r.content
    assert field in error(r)["fields"] and message in error(r)["message"]
    assert planner.get(f"{API}/work-orders/").json()["count"] == 0


def test_work_order_needs_a_released_process(planner, tenant, other_tenant):
    draft = make_process(tenant, release=False)
    r = planner.post(f"{API}/work-orders/", {"number": "WO-D", "process": draft.pk, "quantity": 1})
    assert r.status_code == 400 and "released process" in error(r)["message"]
    theirs = make_process(other_tenant)
    r = planner.post(f"{API}/work-orders/", {"number": "WO-T", "process": theirs.pk, "quantity": 1})
    assert r.status_code == 400 and "process" in error(r)["fields"]


def test_a_released_work_order_changes_only_dates_and_erp_id(planner, tenant):
    wo = make_work_order(tenant, parts=False)
    url = f"{API}/work-orders/{wo.pk}/"
    v = planner.get(url).json()["version"]
    assert planner.patch(url, {"quantity": 50, "version": v}).status_code == 409
    r = planner.patch(url, {"expected_completion": "2031-01-31", "erp_id": "SAP-9", "version": v, "reason": "MRP run"})
    assert r.status_code == 200 and r.json()["erp_id"] == "SAP-9"
    assert history(planner, url)[0]["reason"] == "MRP run"


@pytest.mark.parametrize("body,message,field", [
    ({"pattern": "INJ-{yyyy}"}, "cannot produce unique serial numbers", "pattern"),
    ({"pattern": "INJ-{seq}-{seq}"}, "cannot produce unique serial numbers", "pattern"),
    ({"pattern": "INJ-{lot}-{seq}"}, "Unknown token {lot}", "pattern"),
    ({"pattern": "INJ-{seq:01}"}, "cannot produce 10 more unique ones", "pattern"),
    ({"pattern": ""}, "may not be blank", "pattern"),
    ({"pattern": "INJ-{seq:04}", "quantity": -3}, "greater than or equal to 1", "quantity"),
    ({"pattern": "INJ-{seq:04}", "quantity": 11}, "at most 10 more", "quantity"),
])
def test_bad_part_creation_is_refused_and_nothing_is_written(planner, tenant, body, message, field):
    wo = make_work_order(tenant, quantity=10, parts=False)
    before = written(tenant)
    r = planner.post(f"{API}/work-orders/{wo.pk}/create-parts/", body)
    assert r.status_code == 400, r.content
    assert message in error(r)["message"] and field in error(r)["fields"]
    assert written(tenant) == before
    with tenant_context(tenant):
        assert not Part.objects.filter(work_order=wo).exists() and not SerialCounter.objects.exists()


def test_a_pattern_repeating_serials_in_use_is_refused(planner, tenant):
    process = make_process(tenant)
    first = make_work_order(tenant, process=process, quantity=12, pattern="A{seq}")  # A1 ... A12
    assert len(parts_of(tenant, first)) == 12
    second = make_work_order(tenant, process=process, quantity=2, parts=False)
    r = planner.post(f"{API}/work-orders/{second.pk}/create-parts/", {"pattern": "A1{seq}"})  # A11, A12
    assert r.status_code == 400
    assert "already in use: A11, A12" in error(r)["message"]
    assert parts_of(tenant, second) == []


def test_order_writes_need_planner_permissions(api, tenant):
    order = make_order(tenant)
    operator = signed_in(api, tenant, roles=["operator"])
    assert operator.get(f"{API}/orders/{order.pk}/").status_code == 200
    for method, path in [("post", "orders/"), ("patch", f"orders/{order.pk}/"), ("post", f"orders/{order.pk}/release/"),
                         ("post", f"orders/{order.pk}/archive/")]:
        r = getattr(operator, method)(f"{API}/{path}", {"version": 1})
        assert r.status_code == 403, (path, r.status_code)
        assert "mes_lite.change_order" in error(r)["message"] or "mes_lite.add_order" in error(r)["message"] \
            or "mes_lite.archive_order" in error(r)["message"]


def test_cancelling_a_work_order_and_an_order(planner, tenant):
    order = make_order(tenant)
    first = make_work_order(tenant, order=order, quantity=2)
    second = make_work_order(tenant, order=order, quantity=3)
    wurl = f"{API}/work-orders/{first.pk}/"

    before = written(tenant)
    r = planner.post(f"{wurl}cancel/", {"reason": " ", "unfinished_parts": "scrap"})
    assert r.status_code == 400 and "reason" in error(r)["fields"]
    r = planner.post(f"{wurl}cancel/", {"reason": "withdrawn", "unfinished_parts": "keep"})
    assert r.status_code == 400 and "unfinished_parts" in error(r)["fields"]
    r = planner.post(f"{wurl}cancel/", {"reason": "withdrawn"})
    assert r.status_code == 400 and "unfinished_parts" in error(r)["fields"]
    version = planner.get(wurl).json()["version"]
    r = planner.post(f"{wurl}cancel/", {"reason": "withdrawn", "unfinished_parts": "scrap", "version": version - 1})
    assert r.status_code == 409 and "version" in error(r)["fields"]
    assert written(tenant) == before

    r = planner.post(f"{wurl}cancel/", {"reason": "withdrawn", "unfinished_parts": "scrap", "version": version})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "cancelled" and history(planner, wurl)[0]["reason"] == "withdrawn"
    assert {p.status for p in parts_of(tenant, first)} == {"scrapped"}
    assert planner.post(f"{wurl}cancel/", {"reason": "again", "unfinished_parts": "scrap"}).status_code == 409

    ourl = f"{API}/orders/{order.pk}/"
    r = planner.post(f"{ourl}complete/")
    assert r.status_code == 409 and "WO-" in error(r)["message"]  # the second one is still open
    r = planner.post(f"{ourl}cancel/", {"reason": "contract ended", "unfinished_parts": "release"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "cancelled" and history(planner, ourl)[0]["reason"] == "contract ended"
    assert planner.get(f"{API}/work-orders/{second.pk}/").json()["status"] == "cancelled"
    assert {p.status for p in parts_of(tenant, second)} == {"on_hold"}
    assert event_names(tenant, order_id=order.pk)[-1] == "mes.order.cancelled"
    with tenant_context(tenant):
        held = OutboxEvent.objects.get(name="mes.work_order.cancelled", payload__work_order_id=second.pk)
    assert (held.payload["scrapped"], held.payload["held"]) == (0, 3)

    # Parts of a cancelled work order stay held and are refused at the next advance, naming the work order.
    part = parts_of(tenant, second)[0]
    step = route_of(tenant, second)[0]
    r = planner.post(f"{API}/parts/{part.pk}/release/", {"reason": "QA: keep for later"})
    assert r.status_code == 409 and error(r)["code"] == "blocked" and f"{second.number} is cancelled" in error(r)["message"]
    r = planner.post(f"{API}/parts/{part.pk}/advance/", {"step": step.pk, "measurements": readings(tenant, step)})
    assert r.status_code == 409 and "on hold" in error(r)["message"]


def test_an_operator_cannot_cancel(api, tenant):
    order = make_order(tenant)
    wo = make_work_order(tenant, order=order, quantity=1)
    operator = signed_in(api, tenant, roles=["operator"])
    body = {"reason": "no", "unfinished_parts": "scrap"}
    r = operator.post(f"{API}/orders/{order.pk}/cancel/", body)
    assert r.status_code == 403 and "mes_lite.change_order" in error(r)["message"]
    r = operator.post(f"{API}/work-orders/{wo.pk}/cancel/", body)
    assert r.status_code == 403 and "mes_lite.change_workorder" in error(r)["message"]
    assert operator.get(f"{API}/work-orders/{wo.pk}/").json()["status"] == "released"
