"""Who sees what through the MES Lite API: customers, other tenants, permissions on every action,
query counts of the read models, the schema."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from traveler.core.services.tenants import tenant_module_set
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company
from traveler.mes_lite.api.urls import router
from traveler.mes_lite.services.orders import work_order_create_parts
from traveler.mes_lite.services.parts import part_advance, part_hold, part_release
from traveler.mes_lite.tests.api_helpers import (
    API,
    error,
    parts_of,
    readings,
    route_of,
    signed_in,
    written,
)
from traveler.mes_lite.tests.factories import (
    advanced_part,
    good_readings,
    make_equipment,
    make_order,
    make_process,
    make_work_order,
)

# Customers ---------------------------------------------------------------------------------------


@pytest.fixture
def two_customers(tenant, admin):
    """Companies A and B, each with an order, a work order and parts; one part of A advanced."""
    out = {}
    for key in ("a", "b"):
        company = make_company(tenant)
        order = make_order(tenant, company=company)
        wo = make_work_order(tenant, order=order, quantity=3)
        out[key] = {"company": company, "order": order, "wo": wo, "parts": parts_of(tenant, wo)}
    step = route_of(tenant, out["a"]["wo"])[0]
    with tenant_context(tenant, actor=admin):
        part_advance(part=out["a"]["parts"][0], step=step.pk, measurements=good_readings(step))
    return out


def test_a_customer_sees_only_its_own_orders_and_parts(api, tenant, two_customers):
    a, b = two_customers["a"], two_customers["b"]
    customer = signed_in(api, tenant, roles=["customer"], company=a["company"])

    orders = customer.get(f"{API}/orders/").json()
    assert [o["id"] for o in orders["results"]] == [a["order"].pk]
    assert customer.get(f"{API}/orders/{a['order'].pk}/").status_code == 200
    assert customer.get(f"{API}/orders/{b['order'].pk}/").status_code == 404
    assert customer.get(f"{API}/orders/", {"company": b["company"].pk}).json()["count"] == 0

    progress = customer.get(f"{API}/orders/{a['order'].pk}/progress/")
    assert progress.status_code == 200
    body = progress.json()
    assert body["order"]["id"] == a["order"].pk and body["total"] == 3
    assert body["steps"][0]["in_work"] == 2 and body["steps"][1]["in_work"] == 1
    # what the tracker page shows, no more: not why parts wait, not the work orders
    assert set(body) == {"order", "total", "completed", "scrapped", "percent_complete", "steps"}
    assert set(body["steps"][0]) == {"step", "in_work"}
    assert customer.get(f"{API}/orders/{b['order'].pk}/progress/").status_code == 404

    parts = customer.get(f"{API}/parts/").json()
    assert {p["id"] for p in parts["results"]} == {p.pk for p in a["parts"]}
    b_part = b["parts"][0]
    assert customer.get(f"{API}/parts/", {"serial_number": b_part.serial_number}).json()["count"] == 0
    assert customer.get(f"{API}/parts/", {"order": b["order"].pk}).json()["count"] == 0
    for path in (f"parts/{b_part.pk}/", f"parts/{b_part.pk}/traveler/", f"parts/{b_part.pk}/history/",
                 f"orders/{b['order'].pk}/history/"):
        r = customer.get(f"{API}/{path}")
        assert r.status_code == 404 and error(r)["status"] == 404, path

    traveler = customer.get(f"{API}/parts/{a['parts'][0].pk}/traveler/").json()
    assert [t["action"] for t in traveler["transitions"]] == ["advance"]
    assert set(traveler) == {"part", "route", "transitions"}  # no measured values, no definitions
    assert set(traveler["transitions"][0]) == {"action", "from_step_name", "to_step_name", "to_status",
                                               "transition_time"}  # not who did it, nor why
    assert traveler["route"][1]["state"] == "current" and set(traveler["route"][1]) == {"step", "state"}


def test_a_customer_reads_no_internal_quality_data(api, tenant, two_customers):
    """Hold and quarantine reasons and measured values stay internal: customers get their own serializers."""
    a = two_customers["a"]
    part = a["parts"][1]
    with tenant_context(tenant):
        part_hold(part=part, reason="suspect material lot 7")
    customer = signed_in(api, tenant, roles=["customer"], company=a["company"])
    for body in (customer.get(f"{API}/parts/{part.pk}/").json(),
                 customer.get(f"{API}/parts/").json()["results"][0],
                 customer.get(f"{API}/parts/{part.pk}/traveler/").json()["part"]):
        assert set(body) == {"id", "serial_number", "status", "part_type", "part_number", "current_step",
                             "current_step_name", "order", "order_number", "created_at", "updated_at"}
    assert "suspect material" not in customer.get(f"{API}/parts/{part.pk}/traveler/").content.decode()
    assert "suspect material" not in customer.get(f"{API}/parts/", {"status": "on_hold"}).content.decode()
    staff = signed_in(api, tenant, roles=["qa_manager"])
    assert staff.get(f"{API}/parts/{part.pk}/").json()["status_reason"] == "suspect material lot 7"


def test_a_customer_reads_no_history_of_its_own_records(api, client, tenant, two_customers):
    """History names the employees who made each change: the API refuses it to customers like the UI."""
    a = two_customers["a"]
    customer = signed_in(api, tenant, roles=["customer"], company=a["company"])
    for path in (f"orders/{a['order'].pk}/history/", f"parts/{a['parts'][0].pk}/history/",
                 f"parts/{a['parts'][0].pk}/"):
        r = customer.get(f"{API}/{path}")
        if path.endswith("history/"):
            assert r.status_code == 403 and "core.view_history" in error(r)["message"], path
        else:
            assert r.status_code == 200
    assert customer.get(f"/api/v1/core/companies/{a['company'].pk}/history/").status_code == 403
    staff = signed_in(api, tenant, roles=["qa_manager"])
    rows = staff.get(f"{API}/orders/{a['order'].pk}/history/").json()["results"]
    assert rows


@pytest.mark.parametrize("path", ["work-orders/", "transitions/", "processes/", "part-types/", "equipment/",
                                  "equipment-types/", "steps/", "measurement-definitions/"])
def test_a_customer_sees_nothing_internal(api, tenant, two_customers, path):
    customer = signed_in(api, tenant, roles=["customer"], company=two_customers["a"]["company"])
    r = customer.get(f"{API}/{path}")
    assert r.status_code == 403 and "mes_lite.view_" in error(r)["message"]


def test_a_customer_sees_no_measurement_rows_outside_its_travelers(api, tenant, two_customers):
    customer = signed_in(api, tenant, roles=["customer"], company=two_customers["a"]["company"])
    assert customer.get(f"{API}/measurements/").json()["count"] == 0


def test_a_customer_cannot_write(api, tenant, two_customers):
    a = two_customers["a"]
    customer = signed_in(api, tenant, roles=["customer"], company=a["company"])
    order, part, wo = a["order"], a["parts"][1], a["wo"]
    step = route_of(tenant, wo)[0]
    before = written(tenant)
    for method, path, body in [
        ("post", "orders/", {"number": "SO-X", "company": a["company"].pk}),
        ("patch", f"orders/{order.pk}/", {"name": "mine now", "version": order.version}),
        ("post", f"orders/{order.pk}/archive/", {"version": order.version}),
        ("post", f"orders/{order.pk}/complete/", {}),
        ("post", f"parts/{part.pk}/advance/", {"step": step.pk, "measurements": readings(tenant, step)}),
        ("post", "parts/advance-by-serial/", {"serial_number": part.serial_number, "step": step.pk}),
        ("post", f"parts/{part.pk}/hold/", {"reason": "I want it"}),
        ("post", f"parts/{part.pk}/scrap/", {"reason": "I want it"}),
        ("post", f"work-orders/{wo.pk}/advance-parts/", {"step": step.pk, "parts": [{"part": part.pk}]}),
    ]:
        r = getattr(customer, method)(f"{API}/{path}", body)
        assert r.status_code == 403, (path, r.status_code)
        assert error(r)["code"] == "permission_denied"
    assert written(tenant) == before


# Other tenants -----------------------------------------------------------------------------------


@pytest.fixture
def theirs(other_tenant):
    """One of everything in another tenant."""
    process = make_process(other_tenant)
    draft = make_process(other_tenant, release=False)
    wo = make_work_order(other_tenant, process=process, order=make_order(other_tenant), quantity=2)
    part = advanced_part(other_tenant)
    with tenant_context(other_tenant):
        step = draft.steps.order_by("sequence").first()
        transition = part.transitions.first()
        measurement = part.measurements.first()
    return {"process": process.pk, "draft": draft.pk, "step": step.pk, "order": wo.order_id, "wo": wo.pk,
            "part": part.pk, "equipment": make_equipment(other_tenant).pk, "transition": transition.pk,
            "measurement": measurement.pk, "serial": part.serial_number, "part_step": part.current_step_id}


ACTIONS = [
    ("post", "processes/{draft}/release/", {}),
    ("post", "processes/{process}/new-version/", {}),
    ("get", "processes/{process}/route/", None),
    ("post", "processes/{draft}/steps/", {"name": "Sneaky"}),
    ("post", "steps/{step}/measurement-definitions/", {"label": "Sneaky", "kind": "pass_fail"}),
    ("post", "orders/{order}/release/", {}),
    ("post", "orders/{order}/complete/", {}),
    ("post", "orders/{order}/restore/", {}),
    ("get", "orders/{order}/progress/", None),
    ("post", "work-orders/{wo}/release/", {}),
    ("post", "work-orders/{wo}/complete/", {}),
    ("post", "work-orders/{wo}/create-parts/", {"pattern": "Z-{seq:04}", "quantity": 1}),
    ("get", "work-orders/{wo}/board/", None),
    ("post", "work-orders/{wo}/advance-parts/", {"step": 1, "parts": [{"part": 1}]}),
    ("get", "parts/{part}/", None),
    ("post", "parts/{part}/advance/", {"step": 1}),
    ("post", "parts/{part}/hold/", {"reason": "x"}),
    ("post", "parts/{part}/release/", {}),
    ("post", "parts/{part}/scrap/", {"reason": "x"}),
    ("get", "parts/{part}/traveler/", None),
    ("get", "parts/{part}/history/", None),
    ("post", "equipment/{equipment}/calibrate/", {"calibrated_on": "2020-01-01", "version": 1}),
    ("get", "transitions/{transition}/", None),
    ("get", "measurements/{measurement}/", None),
    ("patch", "steps/{step}/", {"name": "Sneaky", "version": 1}),
]


@pytest.mark.parametrize("method,path,body", ACTIONS, ids=[f"{m} {p}" for m, p, _ in ACTIONS])
def test_another_tenants_records_are_not_found(api, tenant, other_tenant, theirs, method, path, body):
    client = signed_in(api, tenant, roles=["system_admin"])
    before = written(other_tenant)
    r = getattr(client, method)(f"{API}/{path.format(**theirs)}", body)
    assert r.status_code == 404, r.content
    assert error(r)["status"] == 404
    assert written(other_tenant) == before


def test_another_tenants_ids_in_a_body_are_unknown(api, tenant, theirs):
    client = signed_in(api, tenant, roles=["system_admin"])
    wo = make_work_order(tenant, quantity=2)
    step = route_of(tenant, wo)[0]
    r = client.post(f"{API}/work-orders/{wo.pk}/advance-parts/",
                    {"step": step.pk, "parts": [{"part": theirs["part"], "measurements": []}]})
    assert r.status_code == 400 and f"Part {theirs['part']} is not a part of work order" in error(r)["message"]
    r = client.post(f"{API}/work-orders/{wo.pk}/advance-parts/",
                    {"step": theirs["part_step"], "parts": [{"part": parts_of(tenant, wo)[0].pk}]})
    assert r.status_code == 400 and "is not a step of work order" in error(r)["message"]
    r = client.post(f"{API}/work-orders/", {"number": "WO-T", "process": theirs["process"], "quantity": 1})
    assert r.status_code == 400 and "process" in error(r)["fields"]
    r = client.post(f"{API}/processes/{make_process(tenant, release=False).pk}/steps/", {"name": "ok"})
    assert r.status_code == 201


def test_a_switched_off_module_answers_403(api, tenant):
    client = signed_in(api, tenant, roles=["tenant_admin"])
    assert client.get(f"{API}/parts/").status_code == 200
    tenant_module_set(tenant=tenant, module="mes_lite", enabled=False)
    r = client.get(f"{API}/parts/")
    assert r.status_code == 403 and "switched off" in error(r)["message"]


# Permissions on every action ----------------------------------------------------------------------


def test_every_action_names_its_permission():
    """An action missing from ``permission_map`` would need only membership: a customer could call it."""
    for prefix, viewset, _ in router.registry:
        mapped = viewset().permission_map
        for extra in viewset.get_extra_actions():
            assert extra.__name__ in mapped, f"{prefix}: action {extra.__name__} has no permission"
            assert mapped[extra.__name__].startswith("mes_lite."), (prefix, extra.__name__)
        for standard in ("list", "retrieve", "history"):
            assert standard in mapped, (prefix, standard)


# Query counts -------------------------------------------------------------------------------------


def count_queries(client, url) -> int:
    assert client.get(url).status_code == 200  # warm up (token last-used, caches)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_progress_board_and_traveler_queries_do_not_grow_with_the_data(api, tenant, admin):
    client = signed_in(api, tenant, roles=["tenant_admin"])
    process = make_process(tenant)
    order = make_order(tenant)
    wo = make_work_order(tenant, process=process, order=order, quantity=30, parts=False)
    with tenant_context(tenant, actor=admin):
        work_order_create_parts(work_order=wo, pattern="QC-{seq:05}", quantity=2)
    part = parts_of(tenant, wo)[0]
    urls = [f"{API}/orders/{order.pk}/progress/", f"{API}/work-orders/{wo.pk}/board/",
            f"{API}/parts/{part.pk}/traveler/", f"{API}/parts/?work_order={wo.pk}"]
    few = [count_queries(client, url) for url in urls]

    # More parts, more work orders on the order, more transitions and measurements on the part.
    make_work_order(tenant, process=process, order=order, quantity=12)
    route = route_of(tenant, wo)
    with tenant_context(tenant, actor=admin):
        work_order_create_parts(work_order=wo, pattern="QC-{seq:05}", quantity=20)
        for p in parts_of(tenant, wo)[:6]:
            for step in route[:2]:
                part_advance(part=p, step=step.pk, measurements=good_readings(step))
        part_hold(part=part, reason="check")
        part_release(part=part, reason="checked")
    many = [count_queries(client, url) for url in urls]
    assert many == few, list(zip(urls, few, many, strict=True))


# Schema ---------------------------------------------------------------------------------------------


def test_the_schema_describes_the_mes_api(client, db):
    r = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in ("/api/v1/mes/parts/{id}/advance/", "/api/v1/mes/parts/advance-by-serial/",
                 "/api/v1/mes/orders/{id}/progress/", "/api/v1/mes/work-orders/{id}/advance-parts/",
                 "/api/v1/mes/processes/{id}/route/", "/api/v1/mes/equipment/{id}/calibrate/"):
        assert path in paths, path
    assert set(paths["/api/v1/mes/parts/"]) == {"get"}  # parts are created by work orders, not posted
    assert set(paths["/api/v1/mes/parts/{id}/"]) == {"get"}
    advance = paths["/api/v1/mes/parts/{id}/advance/"]["post"]
    assert advance["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AdvanceResult")
    progress = paths["/api/v1/mes/orders/{id}/progress/"]["get"]
    assert progress["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/OrderProgress")
