"""First-piece inspection pages and API: the board (first piece, status, waiting parts), the station's
"This part is the first piece", the signed inspection and the waiver request, and the permissions."""

from __future__ import annotations

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.core.tests.test_ui_shell import signed_in
from traveler.mes_full.choices import FPIScope, FPIStatus
from traveler.mes_full.models import FPIRecord
from traveler.mes_full.tests.factories import fpi_line

pytestmark = pytest.mark.django_db


def test_designate_at_the_station_then_inspect_on_the_board(tenant):
    wo, step, parts = fpi_line(tenant, quantity=3)
    operator = make_member(tenant, roles=["operator"])
    inspector = make_member(tenant, roles=["qa_inspector"])
    op = signed_in(operator, tenant)
    html = op.get("/mes/station/", {"serial": parts[0].serial_number}).content.decode()
    assert "First-piece inspection (per work order: this work order)" in html
    assert "This part is the first piece" in html
    r = op.post(f"/mes-full/parts/{parts[0].pk}/first-piece/", {"next": f"/mes/station/?serial={parts[0].serial_number}"})
    assert r.status_code == 302
    with tenant_context(tenant):
        record = FPIRecord.objects.get(step=step)
    assert (record.part_id, record.fpi_status) == (parts[0].pk, FPIStatus.PENDING)
    html = op.get("/mes/station/", {"serial": parts[1].serial_number}).content.decode()
    assert f"First piece {parts[0].serial_number}: pending" in html
    qa = signed_in(inspector, tenant)
    board = qa.get("/mes-full/fpi/").content.decode()
    row = board.split(f'id="fpi-{record.pk}"')[1].split("</tr>")[0]
    assert parts[0].serial_number in row and "Pending" in row
    assert f"{parts[1].serial_number}</span>, <span class=\"mono\">{parts[2].serial_number}" in row  # waiting
    assert "Record inspection" in row
    qa.post(f"/mes-full/fpi/{record.pk}/inspect/", {"passed": "pass", "note": "", "password": PASSWORD})
    with tenant_context(tenant):
        record.refresh_from_db()
    assert (record.fpi_status, record.verified_by_id) == (FPIStatus.PASSED, inspector.pk)
    # An operator may not record the inspection.
    assert op.post(f"/mes-full/fpi/{record.pk}/inspect/", {"passed": "pass", "password": PASSWORD}).status_code == 403


def test_the_api_designates_inspects_and_asks_for_a_waiver(tenant, api):
    wo, step, parts = fpi_line(tenant, scope=FPIScope.OPERATOR, quantity=2)
    operator = make_member(tenant, roles=["operator"])
    inspector = make_member(tenant, roles=["qa_inspector"])
    manager = make_member(tenant, roles=["qa_manager"])
    make_member(tenant, roles=["qa_manager"])  # the waiver's approver
    api.as_user(operator, tenant)
    r = api.post("/api/v1/mes-full/fpi/records/designate/", {"part": parts[0].pk}, format="json")
    assert r.status_code == 200, r.content
    record = r.json()
    assert (record["part"], record["fpi_status"], record["scope_key"]) == (parts[0].pk, "pending",
                                                                             f"wo{wo.pk}:op{operator.pk}")
    assert api.post(f"/api/v1/mes-full/fpi/records/{record['id']}/inspect/", {"passed": False, "password": PASSWORD},
                    format="json").status_code == 403
    api.as_user(inspector, tenant)
    r = api.post(f"/api/v1/mes-full/fpi/records/{record['id']}/inspect/",
                 {"passed": False, "note": "Thread gauge no-go", "password": PASSWORD}, format="json")
    assert r.status_code == 200 and r.json()["fpi_status"] == "failed"
    api.as_user(manager, tenant)
    r = api.post(f"/api/v1/mes-full/fpi/records/{record['id']}/waiver/", {"reason": ""}, format="json")
    assert r.status_code == 400
    r = api.post(f"/api/v1/mes-full/fpi/records/{record['id']}/waiver/", {"reason": "Gauge itself worn"},
                 format="json")
    assert r.status_code == 201 and r.json()["status"] == "pending"
    listed = api.get("/api/v1/mes-full/fpi/records/", {"fpi_status": "failed"}).json()["results"]
    assert [x["id"] for x in listed] == [record["id"]] and listed[0]["waiver_reason"] == "Gauge itself worn"


def test_the_station_panel_writes_nothing(tenant):
    from traveler.mes_full.services.requirements import inspection_record

    wo, step, parts = fpi_line(tenant, quantity=2)
    inspector = make_member(tenant, roles=["qa_inspector"])
    with tenant_context(tenant, actor=inspector):
        inspection_record(part=parts[0], passed=True, user=inspector, password=PASSWORD)
    html = signed_in(make_member(tenant, roles=["operator"]), tenant).get(
        "/mes/station/", {"serial": parts[0].serial_number}).content.decode()
    assert "No first piece yet" in html and 'data-state="satisfied"' in html  # it would pass
    with tenant_context(tenant):
        assert FPIRecord.objects.filter(step=step).count() == 0
