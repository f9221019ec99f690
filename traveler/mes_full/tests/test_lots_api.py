"""Lot acceptance and rollbacks through the HTTP API and the pages: who may do what, the answers'
shape, errors naming their field, another tenant's records out of reach, the part's traveler panel."""

import pytest

from traveler.core.models import ApprovalRequest
from traveler.core.queue import run_pending
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, ApiClient, make_company, make_member
from traveler.mes_full.models import LotInspection, StepRollback
from traveler.mes_full.tests.lots_factories import advanced_part, make_supplier_lot
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.parts import parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_part_type, make_work_order

pytestmark = pytest.mark.django_db
LOTS = "/api/v1/mes-full/lots/"
STATES = "/api/v1/mes-full/lot-switching-states/"
ROLLBACKS = "/api/v1/mes-full/rollbacks/"


def _client(tenant, role):
    return ApiClient().as_user(make_member(tenant, roles=[role]), tenant)


def test_open_and_record_a_received_lot_through_the_api(tenant):
    pt = make_part_type(tenant)
    inspector = _client(tenant, "qa_inspector")
    body = {"part_type": pt.pk, "supplier": "Acme Castings", "supplier_lot_number": "AC-7781", "lot_size": 500,
            "aql": "1.0", "level": "II"}
    r = inspector.post(LOTS, body, format="json")
    assert r.status_code == 201, r.json()
    lot = r.json()
    assert (lot["sample_size"], lot["acceptance_number"], lot["rejection_number"], lot["code_letter"],
            lot["status"], lot["severity"]) == (50, 1, 2, "H", "pending", "normal")
    r = inspector.post(f"{LOTS}{lot['id']}/record/", {"defects_found": 2, "version": lot["version"]}, format="json")
    assert r.status_code == 200 and (r.json()["status"], r.json()["decision"]) == ("rejected", "reject")
    again = inspector.post(f"{LOTS}{lot['id']}/record/", {"defects_found": 0}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    state = inspector.get(f"{STATES}{r.json()['switching_state']}/").json()
    assert (state["severity"], state["lots"], state["state"]["normal_results"]) == ("normal", 1, [False])
    # Errors name their field.
    bad = inspector.post(LOTS, {**body, "aql": "0.7"}, format="json")
    assert bad.status_code == 400 and "aql" in bad.json()["error"]["fields"]
    bad = inspector.post(LOTS, {k: v for k, v in body.items() if k != "lot_size"}, format="json")
    assert bad.status_code == 400 and "lot_size" in bad.json()["error"]["fields"]
    lot2 = inspector.post(LOTS, body, format="json").json()
    bad = inspector.post(f"{LOTS}{lot2['id']}/record/", {"defects_found": 51}, format="json")
    assert bad.status_code == 400 and "defects_found" in bad.json()["error"]["fields"]


def test_who_may_inspect_lots_and_change_switching(tenant):
    lot = make_supplier_lot(tenant)
    operator = _client(tenant, "operator")
    assert operator.get(LOTS).status_code == 200
    assert operator.post(f"{LOTS}{lot.pk}/record/", {"defects_found": 0}, format="json").status_code == 403
    assert operator.post(LOTS, {"aql": "1.0"}, format="json").status_code == 403
    inspector = _client(tenant, "qa_inspector")
    r = inspector.patch(f"{STATES}{lot.switching_state_id}/", {"reduced_approved": True}, format="json")
    assert r.status_code == 403
    qa = _client(tenant, "qa_manager")
    r = qa.patch(f"{STATES}{lot.switching_state_id}/", {"reduced_approved": True, "version": 1,
                                                          "reason": "Supplier certified"}, format="json")
    assert r.status_code == 200 and r.json()["reduced_approved"] is True
    r = qa.post(f"{STATES}{lot.switching_state_id}/resume/", {"reason": "8D closed"}, format="json")
    assert r.status_code == 409 and "not discontinued" in r.json()["error"]["message"]
    customer = ApiClient().as_user(make_member(tenant, roles=["customer"], company=make_company(tenant)), tenant)
    assert customer.get(LOTS).status_code == 403


def test_another_tenants_lots_are_out_of_reach(tenant, other_tenant):
    theirs = make_supplier_lot(other_tenant)
    qa = _client(tenant, "qa_manager")
    assert qa.get(f"{LOTS}{theirs.pk}/").status_code == 404
    assert qa.post(f"{LOTS}{theirs.pk}/record/", {"defects_found": 0}, format="json").status_code == 404
    assert theirs.pk not in {x["id"] for x in qa.get(LOTS).json()["results"]}
    with tenant_context(other_tenant):
        assert LotInspection.objects.get(pk=theirs.pk).status == "pending"


def test_the_lot_pages_show_the_sample_to_draw_then_take_the_defects(client, tenant):
    wo = make_work_order(tenant, quantity=4)
    with tenant_context(tenant):
        route = route_steps(wo.process)
        parts = list(Part.objects.filter(work_order=wo).order_by("sequence"))
        parts_advance_bulk(work_order=wo, step=route[0].pk,
                           parts=[{"part": p.pk, "measurements": good_readings(route[0])} for p in parts])
    user = make_member(tenant, roles=["qa_inspector"])
    assert client.login(email=user.email, password=PASSWORD)
    page = client.get("/mes-full/lots/new/")
    assert page.status_code == 200 and b'data-testid="lot-open-form"' in page.content
    r = client.post("/mes-full/lots/new/", {"work_order": wo.pk, "step": route[1].pk, "level": "II", "aql": "1.0"})
    assert r.status_code == 302, r.content.decode()[:2000]
    with tenant_context(tenant):
        lot = LotInspection.objects.get(work_order=wo)
    detail = client.get(r["Location"]).content.decode()
    assert "Draw a sample of 4" in detail and 'data-testid="lot-sample-size">4<' in detail
    assert 'data-testid="lot-record-form"' in detail
    r = client.post(f"/mes-full/lots/{lot.pk}/record/", {"defects_found": "1", "production_steady": "on",
                                                         "version": lot.version})
    assert r.status_code == 302
    detail = client.get(f"/mes-full/lots/{lot.pk}/").content.decode()
    assert 'data-testid="lot-decision"' in detail and "Rejected" in detail
    with tenant_context(tenant):
        assert set(Part.objects.filter(work_order=wo).values_list("status", flat=True)) == {"on_hold"}
    lots_page = client.get("/mes-full/lots/").content.decode()
    assert lot.number in lots_page and "/mes-full/lots/new/" in lots_page
    listing = client.get("/mes-full/lot-switching/").content.decode()
    assert "AQL 1.0" in listing
    state = client.get(f"/mes-full/lot-switching/{lot.switching_state_id}/")
    assert state.status_code == 200 and b'data-testid="switching-counters"' in state.content


def test_the_lot_pages_say_so_without_spc(client, tenant, monkeypatch):
    from traveler.mes_full.services import lots as svc

    monkeypatch.setattr(svc, "lot_acceptance_available", lambda: False)
    user = make_member(tenant, roles=["qa_inspector"])
    assert client.login(email=user.email, password=PASSWORD)
    page = client.get("/mes-full/lots/new/")
    assert b'data-testid="lots-unavailable"' in page.content and b"needs the SPC module" in page.content


def test_a_rollback_through_the_api_and_the_traveler_panel(client, tenant, other_tenant):
    _, part, route = advanced_part(tenant, steps=2)
    approver = make_member(tenant, roles=["production_manager"])
    operator = _client(tenant, "operator")
    body = {"part": part.pk, "to_step": route[0].pk, "reason": "Bore gauge was out of calibration"}
    assert operator.post(ROLLBACKS, body, format="json").status_code == 403
    qa = _client(tenant, "qa_manager")
    bad = qa.post(ROLLBACKS, {**body, "to_step": route[2].pk}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"to_step": ["not an earlier step"]}
    r = qa.post(ROLLBACKS, body, format="json")
    assert r.status_code == 201 and r.json()["status"] == "requested"
    rollback = r.json()
    # Approved through core's approvals API by a second person.
    pm = ApiClient().as_user(approver, tenant)
    r = pm.post(f"/api/v1/core/approval-requests/{rollback['approval_request_id']}/respond/",
                {"decision": "approved", "password": PASSWORD}, format="json")
    assert r.status_code in (200, 201), r.json()
    run_pending()
    done = qa.get(f"{ROLLBACKS}{rollback['id']}/").json()
    assert done["status"] == "completed" and len(done["superseded_transition_ids"]) == 2
    # Another tenant's rollbacks are out of reach.
    theirs = ApiClient().as_user(make_member(other_tenant, roles=["qa_manager"]), other_tenant)
    assert theirs.get(f"{ROLLBACKS}{rollback['id']}/").status_code == 404
    # The part's traveler page shows the rollback and its superseded measurements.
    user = make_member(tenant, roles=["qa_manager"])
    assert client.login(email=user.email, password=PASSWORD)
    page = client.get(f"/mes/parts/{part.pk}/").content.decode()
    assert 'data-testid="rollbacks-panel"' in page and f"#{rollback['id']}" in page
    assert 'data-testid="superseded-measurements"' in page and page.count("superseded</span>") == 4
    # Back at the first step: no earlier step to go to, no request form.
    assert 'data-testid="rollback-request-form"' not in page
    with tenant_context(tenant):
        assert StepRollback.objects.get(pk=rollback["id"]).transition_id is not None
        assert ApprovalRequest.objects.get(pk=rollback["approval_request_id"]).status == "approved"
    assert f"Rollback #{rollback['id']}" in client.get("/mes-full/rollbacks/").content.decode()
    detail = client.get(f"/mes-full/rollbacks/{rollback['id']}/")
    assert detail.status_code == 200 and b"Superseded measurements (4)" in detail.content
