"""Orders, their progress page (also the customer's), work orders, their board and their parts."""

from __future__ import annotations

import datetime
import re

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, make_member
from traveler.core.tests.test_ui_shell import nav_labels, signed_in
from traveler.mes_lite.choices import OrderStatus, PartStatus, WorkOrderStatus
from traveler.mes_lite.models import Order, Part, WorkOrder
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_order, make_process, make_work_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def planner(tenant):
    return make_member(tenant, roles=["production_manager"], full_name="Paula Planner")


@pytest.fixture
def client(planner, tenant):
    return signed_in(planner, tenant)


def fresh(tenant, obj):
    with tenant_context(tenant):
        return type(obj).objects.get(pk=obj.pk)


def advance_parts(tenant, wo, *, through: int, count: int, bad: bool = False, skip: int = 0) -> list[Part]:
    """Advance ``count`` parts of ``wo`` (after the first ``skip``) through the first ``through`` steps, the
    last of them out of spec if ``bad``."""
    with tenant_context(tenant):
        parts = list(Part.objects.filter(work_order=wo).order_by("serial_number")[skip:skip + count])
        steps = route_steps(wo.process)
        for part in parts:
            for i, step in enumerate(steps[:through]):
                readings = good_readings(step)
                if bad and i == through - 1:
                    readings[0]["value"] = "99"
                part_advance(part=part, step=step.pk, measurements=readings)
    return parts


# ---------- orders ----------

def test_a_planner_creates_releases_and_completes_an_order(client, tenant):
    cummins = make_company(tenant, "Cummins Engines")
    r = client.get("/mes/orders/new/")
    assert r.status_code == 200 and "Cummins Engines" in r.content.decode()
    r = client.post("/mes/orders/new/", {"number": "SO-1042", "company": cummins.pk, "name": "X15 injectors",
                                         "estimated_completion": "2031-03-14", "reason": "PO 4471"})
    assert r.status_code == 302
    with tenant_context(tenant):
        order = Order.objects.get(number="SO-1042")
    assert r["Location"] == f"/mes/orders/{order.pk}/"
    html = client.get(r["Location"]).content.decode()
    assert "SO-1042" in html and f"/mes/orders/{order.pk}/progress/" in html
    assert f"/mes/orders/{order.pk}/release/" in html and "/complete/" not in html
    r = client.post(f"/mes/orders/{order.pk}/release/")
    assert r.status_code == 302 and fresh(tenant, order).status == OrderStatus.RELEASED
    wo = make_work_order(tenant, order=fresh(tenant, order), quantity=1)
    r = client.post(f"/mes/orders/{order.pk}/complete/", follow=True)
    assert "still has open work orders" in r.content.decode() and wo.number in r.content.decode()
    assert fresh(tenant, order).status == OrderStatus.RELEASED
    r = client.post(f"/mes/orders/{order.pk}/release/", follow=True)  # not a draft any more
    assert "can be released only when draft" in r.content.decode()


def test_the_order_list_shows_status_badges_and_searches(client, tenant):
    make_order(tenant, name="X15 injectors")
    make_order(tenant, name="ISB pumps")
    r = client.get("/mes/orders/", {"q": "pumps"})
    assert [row["object"].name for row in r.context["rows"]] == ["ISB pumps"]
    assert 'class="badge badge-archived status-draft"' in r.content.decode()


def test_an_operator_cannot_plan(tenant):
    operator = signed_in(make_member(tenant, roles=["operator"]), tenant)
    order = make_order(tenant)
    assert operator.get("/mes/orders/").status_code == 200
    assert operator.get("/mes/orders/new/").status_code == 403
    assert operator.post(f"/mes/orders/{order.pk}/release/").status_code == 403
    assert operator.get("/mes/work-orders/new/").status_code == 403
    assert fresh(tenant, order).status == OrderStatus.DRAFT


# ---------- the progress page ----------

def test_progress_shows_parts_per_step_percent_and_estimate(client, tenant):
    order = make_order(tenant, estimated_completion=datetime.date(2031, 3, 14))
    wo = make_work_order(tenant, order=order, quantity=4)
    advance_parts(tenant, wo, through=3, count=1)  # one completed
    advance_parts(tenant, make_work_order(tenant, order=order, quantity=2), through=1, count=1, bad=True)
    r = client.get(f"/mes/orders/{order.pk}/progress/")
    assert r.status_code == 200
    overall = r.context["overall"]
    assert overall["completed"] == 1 and overall["active"] == 6 and overall["percent"] == pytest.approx(16.7)
    first = r.context["tracks"][0]["track"]
    assert [n["here"] for n in first["nodes"]] == [3, 0, 0] and first["completed"] == 1
    # the completed part has gone past steps 2 and 3: they are not "Not yet"
    assert [n["state"] for n in first["nodes"]] == ["active", "passed", "passed"]
    html = r.content.decode()
    assert "17%" in html and "2031-03-14" in html and "3 parts here" in html
    assert html.count("1 part past it") >= 2
    # circles carry step numbers only; part counts are in the text beside them
    dots = re.findall(r'<span class="track-dot" aria-hidden="true">([^<]*)', html)
    assert dots[:3] == ["1", "2", "3"]
    assert "1 quarantined" in html  # staff see what needs attention
    assert f"/mes/work-orders/{wo.pk}/board/" in html


def test_the_estimate_falls_back_to_the_work_orders(client, tenant):
    order = make_order(tenant)
    wo = make_work_order(tenant, order=order, quantity=1, parts=False)
    with tenant_context(tenant):
        WorkOrder.objects.filter(pk=wo.pk).update(expected_completion=datetime.date(2031, 5, 2))
    r = client.get(f"/mes/orders/{order.pk}/progress/")
    assert r.context["estimate"] == datetime.date(2031, 5, 2)
    r = client.get(f"/mes/orders/{make_order(tenant).pk}/progress/")
    assert "Not scheduled yet" in r.content.decode() and "has not been planned yet" in r.content.decode()


def test_a_customer_sees_its_own_orders_and_nothing_else(tenant):
    mine, theirs = make_company(tenant, "Cummins Engines"), make_company(tenant, "Delphi Technologies")
    my_order = make_order(tenant, company=mine, name="X15 injectors")
    their_order = make_order(tenant, company=theirs, name="Secret project")
    wo = make_work_order(tenant, order=my_order, quantity=2)
    their_wo = make_work_order(tenant, order=their_order, quantity=1)
    advance_parts(tenant, wo, through=1, count=1, bad=True)
    customer = signed_in(make_member(tenant, roles=["customer"], company=mine), tenant)

    r = customer.get("/mes/orders/")
    assert [row["object"].pk for row in r.context["rows"]] == [my_order.pk]
    assert r.context["rows"][0]["url"] == f"/mes/orders/{my_order.pk}/progress/"  # rows open the tracker
    assert "Secret project" not in r.content.decode() and r.context["create_url"] is None
    r = customer.get(f"/mes/orders/{my_order.pk}/progress/")
    html = r.content.decode()
    assert r.status_code == 200 and "X15 injectors" in html
    assert "quarantined" not in html and "/work-orders/" not in html and wo.number not in html  # nothing internal
    assert customer.get(f"/mes/orders/{my_order.pk}/")["Location"] == f"/mes/orders/{my_order.pk}/progress/"

    assert customer.get(f"/mes/orders/{their_order.pk}/progress/").status_code == 404
    assert customer.get(f"/mes/orders/{their_order.pk}/").status_code == 404
    for url in ("/mes/orders/new/", f"/mes/orders/{my_order.pk}/edit/", f"/mes/orders/{my_order.pk}/history/",
                "/mes/work-orders/", f"/mes/work-orders/{wo.pk}/", f"/mes/work-orders/{their_wo.pk}/board/",
                "/mes/parts/", "/mes/station/", "/mes/processes/", "/mes/part-types/", "/mes/equipment/"):
        assert customer.get(url).status_code == 403, url
    assert customer.post(f"/mes/orders/{my_order.pk}/release/").status_code == 403
    production = [i["label"] for s in r.context["nav"] if s["name"] == "Production" for i in s["items"]]
    assert production == ["Orders"]
    assert "Orders" in nav_labels(r)


# ---------- work orders ----------

def test_a_work_order_is_created_released_and_gets_its_parts(client, tenant):
    order = make_order(tenant)
    process = make_process(tenant)
    draft = make_process(tenant, release=False)
    r = client.get(f"/mes/work-orders/new/?order={order.pk}")
    with tenant_context(tenant):
        choices = [str(c[1]) for c in r.context["form"].fields["process"].choices]
    assert any(str(process) in c for c in choices) and not any(f"{draft} ·" in c for c in choices)
    assert r.context["form"].initial["order"] == order.pk
    r = client.post("/mes/work-orders/new/", {"number": "WO-7781", "order": order.pk, "process": process.pk,
                                              "quantity": 3, "erp_id": "", "expected_completion": ""})
    assert r.status_code == 302
    with tenant_context(tenant):
        wo = WorkOrder.objects.get(number="WO-7781")
    assert wo.part_type_id == process.part_type_id  # the route decides what is made
    html = client.get(r["Location"]).content.decode()
    assert f"/mes/work-orders/{wo.pk}/release/" in html and "create-parts" not in html
    client.post(f"/mes/work-orders/{wo.pk}/release/")
    assert fresh(tenant, wo).status == WorkOrderStatus.RELEASED
    assert fresh(tenant, order).status == OrderStatus.RELEASED  # the order follows
    html = client.get(f"/mes/work-orders/{wo.pk}/").content.decode()
    assert "create-parts" in html and "3 to go" in html

    r = client.post(f"/mes/work-orders/{wo.pk}/create-parts/", {"pattern": "INJ-{yyyy}-{seq:05}", "quantity": 2})
    assert r.status_code == 302
    year = datetime.date.today().year
    with tenant_context(tenant):
        serials = list(Part.objects.filter(work_order=wo).order_by("serial_number").values_list("serial_number",
                                                                                                 flat=True))
    assert serials == [f"INJ-{year}-00001", f"INJ-{year}-00002"]
    html = client.get(r["Location"]).content.decode()
    assert f"2 parts created: INJ-{year}-00001 to INJ-{year}-00002" in html and "1 to go" in html


def test_create_parts_shows_pattern_errors_on_the_form(client, tenant):
    wo = make_work_order(tenant, quantity=2, parts=False)
    r = client.post(f"/mes/work-orders/{wo.pk}/create-parts/", {"pattern": "INJ-{yyyy}", "quantity": ""})
    assert r.status_code == 400
    assert "needs exactly one {seq}" in r.content.decode()
    assert r.context["parts_form"].errors["pattern"]
    r = client.post(f"/mes/work-orders/{wo.pk}/create-parts/", {"pattern": "A-{seq:03}", "quantity": 5})
    assert r.status_code == 400 and "at most 2 more" in r.content.decode()
    with tenant_context(tenant):
        assert not Part.objects.filter(work_order=wo).exists()


def test_a_work_order_with_parts_in_work_cannot_complete(client, tenant):
    wo = make_work_order(tenant, quantity=1)
    r = client.post(f"/mes/work-orders/{wo.pk}/complete/", follow=True)
    assert "has 1 part(s) still in work" in r.content.decode()
    advance_parts(tenant, wo, through=3, count=1)
    r = client.post(f"/mes/work-orders/{wo.pk}/complete/", follow=True)
    assert "completed" in r.content.decode() and fresh(tenant, wo).status == WorkOrderStatus.COMPLETED


def test_the_board_shows_parts_per_step_attention_first(client, tenant):
    wo = make_work_order(tenant, quantity=4)
    advance_parts(tenant, wo, through=1, count=2)
    bad = advance_parts(tenant, wo, through=1, count=1, bad=True, skip=2)[0]  # the third stays, quarantined
    r = client.get(f"/mes/work-orders/{wo.pk}/board/")
    assert r.status_code == 200
    columns = r.context["columns"]
    assert [c["step"]["name"] for c in columns] == ["Machine body", "Leak test", "Final inspection"]
    first = [p.pk for p in columns[0]["parts"]]
    assert first[0] == bad.pk and len(first) == 2  # quarantined first, then the pending one
    assert {p.status for p in columns[1]["parts"]} == {PartStatus.IN_PROCESS}
    html = r.content.decode()
    assert f"/mes/parts/{bad.pk}/" in html and "1 quarantined" in html and "board-part status-quarantined" in html


def test_work_orders_of_another_tenant_are_not_found(client, other_tenant):
    foreign = make_work_order(other_tenant, quantity=1)
    assert client.get(f"/mes/work-orders/{foreign.pk}/").status_code == 404
    assert client.get(f"/mes/work-orders/{foreign.pk}/board/").status_code == 404
    assert client.post(f"/mes/work-orders/{foreign.pk}/release/").status_code == 404
    assert client.get(f"/mes/orders/{foreign.order_id or 0}/progress/").status_code == 404


def test_cancelling_a_work_order_from_its_page(client, tenant):
    wo = make_work_order(tenant, quantity=3)
    advance_parts(tenant, wo, through=3, count=1)  # one completed: two unfinished
    html = client.get(f"/mes/work-orders/{wo.pk}/").content.decode()
    assert f"/mes/work-orders/{wo.pk}/cancel/" in html
    r = client.get(f"/mes/work-orders/{wo.pk}/cancel/")
    html = r.content.decode()
    assert r.status_code == 200 and "2 parts</strong> are unfinished" in html
    assert 'value="scrap"' in html and "Put them on hold (released from production)" in html

    r = client.post(f"/mes/work-orders/{wo.pk}/cancel/", {"reason": "", "unfinished_parts": "release"})
    assert r.status_code == 400 and "Give the reason" in r.content.decode()
    assert fresh(tenant, wo).status == WorkOrderStatus.IN_PROGRESS

    r = client.post(f"/mes/work-orders/{wo.pk}/cancel/", {"reason": "customer withdrew", "unfinished_parts": "release"},
                    follow=True)
    assert r.status_code == 200 and "cancelled" in r.content.decode()
    assert fresh(tenant, wo).status == WorkOrderStatus.CANCELLED
    with tenant_context(tenant):
        statuses = sorted(Part.objects.filter(work_order=wo).values_list("status", flat=True))
    assert statuses == [PartStatus.COMPLETED, PartStatus.ON_HOLD, PartStatus.ON_HOLD]
    assert f"/mes/work-orders/{wo.pk}/cancel/" not in client.get(f"/mes/work-orders/{wo.pk}/").content.decode()


def test_cancelling_an_order_from_its_page(client, tenant):
    order = make_order(tenant)
    wo = make_work_order(tenant, order=order, quantity=2)
    assert f"/mes/orders/{order.pk}/cancel/" in client.get(f"/mes/orders/{order.pk}/").content.decode()
    r = client.get(f"/mes/orders/{order.pk}/cancel/")
    assert r.status_code == 200 and "2 parts</strong> are unfinished" in r.content.decode()
    r = client.post(f"/mes/orders/{order.pk}/cancel/", {"reason": "contract ended", "unfinished_parts": "scrap"},
                    follow=True)
    assert r.status_code == 200
    assert fresh(tenant, order).status == OrderStatus.CANCELLED and fresh(tenant, wo).status == WorkOrderStatus.CANCELLED
    with tenant_context(tenant):
        assert set(Part.objects.filter(work_order=wo).values_list("status", flat=True)) == {PartStatus.SCRAPPED}


def test_an_operator_gets_no_cancel_page(tenant):
    operator = signed_in(make_member(tenant, roles=["operator"]), tenant)
    wo = make_work_order(tenant, quantity=1)
    assert operator.get(f"/mes/work-orders/{wo.pk}/cancel/").status_code == 403
    assert operator.post(f"/mes/work-orders/{wo.pk}/cancel/", {"reason": "x", "unfinished_parts": "scrap"}).status_code == 403
    assert fresh(tenant, wo).status == WorkOrderStatus.RELEASED
