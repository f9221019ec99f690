"""Related records on MES Lite's pages: history shows their names, detail pages link to them.

The mechanism is core's (``display.related_names``, ``generic.record_page_url``); MES Lite's records
are where foreign keys are, so it is tested here.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from traveler.core.models import History, Role
from traveler.core.services.roles import role_set_permissions
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, make_member
from traveler.core.tests.test_ui_shell import signed_in
from traveler.core.ui.display import history_rows
from traveler.mes_lite.models import Order, Part
from traveler.mes_lite.services.orders import order_update
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.services.routing import process_release, route_steps
from traveler.mes_lite.tests.factories import good_readings, make_order, make_process, make_work_order

pytestmark = pytest.mark.django_db

ROUTE = [(f"Step {name}", []) for name in ("grind", "wash", "leak test", "flow", "mark", "pack", "inspect")]


@pytest.fixture
def client(admin, tenant):
    return signed_in(admin, tenant)


def first_part(tenant, wo) -> Part:
    with tenant_context(tenant):
        return Part.objects.filter(work_order=wo).order_by("serial_number").first()


def advance(tenant, part, steps) -> None:
    with tenant_context(tenant):
        for step in steps:
            part_advance(part=part, step=step.pk, measurements=good_readings(step))


def changes(html: str) -> list[str]:
    """The history page's "field: before → after" rows, as text."""
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th><td class="old[^"]*">([^<]*)</td><td class="new">([^<]*)</td>',
                      html)
    return [f"{f}: {o} → {n}" for f, o, n in rows]


def test_history_names_related_records_instead_of_ids(client, tenant):
    process = make_process(tenant, route=ROUTE)
    wo = make_work_order(tenant, process=process, quantity=1)
    part = first_part(tenant, wo)
    with tenant_context(tenant):
        steps = route_steps(process)
    advance(tenant, part, steps[:2])
    html = client.get(f"/mes/parts/{part.pk}/history/").content.decode()
    rows = changes(html)
    assert f"Current step: {steps[0]} → {steps[1]}" in rows  # "10. Step grind → 20. Step wash"
    assert f"Current step: {steps[1]} → {steps[2]}" in rows
    assert f"Current step: {steps[0].pk} → {steps[1].pk}" not in rows
    # The creation shows the work order and process by name, not "3".
    assert f"<td>{wo.number}</td>" in html
    assert f"<td>{process}</td>" in html


def test_history_resolves_names_with_one_query_per_related_model(client, tenant):
    process = make_process(tenant, route=ROUTE)
    wo = make_work_order(tenant, process=process, quantity=2)
    with tenant_context(tenant):
        few, many = list(Part.objects.filter(work_order=wo).order_by("serial_number"))
        steps = route_steps(process)
    advance(tenant, few, steps[:1])
    advance(tenant, many, steps[:6])

    def count(part) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(f"/mes/parts/{part.pk}/history/")
        assert r.status_code == 200
        return len(ctx.captured_queries), r.content.decode()

    n_few, _ = count(few)
    n_many, html = count(many)
    assert len(changes(html)) > len(changes(count(few)[1]))  # more rows shown...
    assert n_many == n_few  # ...for the same number of queries
    assert f"{steps[3]} → {steps[4]}" in " ".join(changes(html))


def test_history_never_shows_another_tenants_names(tenant, other_tenant):
    ours = make_order(tenant)
    theirs = make_company(other_tenant, "Rival Diesel Secret Customer")
    row = History(table_name=Order._meta.db_table, record_id=str(ours.pk), action=History.Action.UPDATE,
                  occurred_at=timezone.now(), old={"company_id": ours.company_id}, new={"company_id": theirs.pk})
    with tenant_context(tenant):
        [entry] = history_rows(Order, [row])
    [change] = entry["changes"]
    assert change == {"field": "Company", "old": str(ours.company), "new": f"#{theirs.pk} (not found)"}


def test_the_history_api_keeps_ids(api, admin, tenant):
    order = make_order(tenant)
    other = make_company(tenant, "Second customer")
    first = order.company_id
    with tenant_context(tenant):
        order_update(order=order, version=order.version, data={"company": other}, reason="customer moved")
    api.as_user(admin, tenant)
    r = api.get(f"/api/v1/mes/orders/{order.pk}/history/")
    assert r.status_code == 200, r.content
    update = next(e for e in r.json()["results"] if "company_id" in e["changes"])
    assert update["changes"]["company_id"] == {"old": first, "new": other.pk}


def test_detail_pages_link_related_records(client, tenant):
    order = make_order(tenant)
    wo = make_work_order(tenant, order=order, quantity=1)
    part = first_part(tenant, wo)
    html = client.get(f"/mes/work-orders/{wo.pk}/").content.decode()
    assert f'<a href="/mes/orders/{order.pk}/">{order}</a>' in html
    assert f'<a href="/mes/processes/{wo.process_id}/">{wo.process}</a>' in html
    assert f'<a href="/mes/part-types/{wo.part_type_id}/">{wo.part_type}</a>' in html
    html = client.get(f"/mes/orders/{order.pk}/").content.decode()
    assert f'<a href="/companies/{order.company_id}/">{order.company}</a>' in html  # a core record, by convention
    # A step has no page of its own: it is named, not linked.
    r = client.get(f"/mes/work-orders/{wo.pk}/")
    assert all(not f["url"] for f in r.context["fields"] if f["name"] in ("quantity", "number", "status"))
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
    from traveler.core.ui.generic import record_page_url
    assert record_page_url(step, r.wsgi_request.access) is None
    assert part is not None


def test_no_link_without_the_permission_to_view_it(tenant):
    with tenant_context(tenant):
        role = Role.objects.get(code="production_manager")
        perms = [g.permission for g in role.grants.filter(archived_at__isnull=True)
                 if g.permission != "mes_lite.view_order"]
        role_set_permissions(role=role, permissions=perms, reason="orders are confidential here")
    client = signed_in(make_member(tenant, roles=["production_manager"]), tenant)
    order = make_order(tenant)
    wo = make_work_order(tenant, order=order, quantity=1)
    html = client.get(f"/mes/work-orders/{wo.pk}/").content.decode()
    assert f"/mes/orders/{order.pk}/" not in html
    assert f"<dd>{order}</dd>" in html  # still named
    assert f'<a href="/mes/processes/{wo.process_id}/">' in html


def test_users_are_named_not_linked_to_a_page_of_another_record(client, tenant, admin):
    # /users/<pk>/ takes a membership's id: a released-by user must not link there by its own id.
    process = make_process(tenant, route=ROUTE[:1], release=False)
    with tenant_context(tenant, actor=admin):
        process = process_release(process=process)
    assert process.released_by == admin
    r = client.get(f"/mes/processes/{process.pk}/")
    [released_by] = [f for f in r.context["fields"] if f["name"] == "released_by"]
    assert released_by["value"] == str(admin) and released_by["url"] is None
