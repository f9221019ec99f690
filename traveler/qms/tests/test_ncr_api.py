"""Nonconformances through the HTTP API: open, every transition, preview, concessions, what a
customer sees, and who may do what."""

from __future__ import annotations

from datetime import date

import pytest

from traveler.core.models import ApprovalRequest
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, ApiClient, make_company, make_member
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_order
from traveler.qms.tests.factories import make_nonconformance, quarantined_parts

URL = "/api/v1/qms/nonconformances/"


@pytest.fixture
def qa(tenant):
    return make_member(tenant, roles=["qa_manager"], full_name="Quinn Quality")


def client_for(tenant, user):
    return ApiClient().as_user(user, tenant)


def test_open_work_and_close_through_the_api(tenant, qa):
    parts, route = quarantined_parts(tenant, 1)
    api = client_for(tenant, qa)
    r = api.post(URL, {"title": "Leak rate over limit", "severity": "minor", "parts": [parts[0].pk],
                       "step_found": route[1].pk, "owner": qa.pk, "due_date": "2027-01-31"}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["number"].startswith("NCR-") and body["state"] == "open" and body["owner"]["name"] == "Quinn Quality"
    assert body["parts"][0]["status"] == "on_hold"
    detail = f"{URL}{body['id']}/"
    assert api.post(f"{detail}start/", {}, format="json").json()["state"] == "in_progress"
    r = api.post(f"{detail}preview/", {"disposition": "rework", "to_step": route[0].pk}, format="json")
    assert r.status_code == 200
    assert r.json()["consequences"] == [f"part {parts[0].serial_number} will return to step {route[0].sequence} "
                                        f"'{route[0].name}'; rework attempt 1 of 3"]
    assert api.get(f"{detail}options/").json()["options"]["rework"] is None
    r = api.post(f"{detail}disposition/", {"disposition": "rework", "to_step": route[0].pk, "password": "bad"},
                 format="json")
    assert r.status_code == 401 and r.json()["error"]["fields"]["password"]
    r = api.post(f"{detail}disposition/", {"disposition": "rework", "to_step": route[0].pk, "password": PASSWORD,
                                           "note": "Regrind"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "dispositioned" and r.json()["parts"][0]["outcome"] == "reworked"
    assert api.post(f"{detail}close/", {}, format="json").status_code == 409
    r = api.post(f"{detail}verify/", {"note": "Re-measured: 6.002 mm"}, format="json")
    assert r.status_code == 200 and r.json()["verified_at"]
    r = api.post(f"{detail}close/", {}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "closed"
    assert api.get(f"{detail}history/").status_code == 200


def test_bad_input_and_state_conflicts_answer_in_the_error_shape(tenant, qa):
    api = client_for(tenant, qa)
    r = api.post(URL, {"title": "No parts"}, format="json")
    assert r.status_code == 400 and "parts" in r.json()["error"]["fields"]
    ncr, _ = make_nonconformance(tenant, by=qa)
    r = api.post(f"{URL}{ncr.pk}/cancel/", {}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["error"]["fields"]
    r = api.post(f"{URL}{ncr.pk}/disposition/", {"disposition": "return_to_supplier", "password": PASSWORD},
                 format="json")
    assert r.status_code == 400 and "rma_number" in r.json()["error"]["fields"]
    r = api.patch(f"{URL}{ncr.pk}/", {"version": ncr.version, "parts": []}, format="json")
    assert r.status_code == 400 and "parts" in r.json()["error"]["fields"]
    r = api.patch(f"{URL}{ncr.pk}/", {"version": ncr.version, "severity": "critical"}, format="json")
    assert r.status_code == 200 and r.json()["severity"] == "critical"
    r = api.patch(f"{URL}{ncr.pk}/", {"version": ncr.version, "title": "stale"}, format="json")
    assert r.status_code == 409
    assert api.post(f"{URL}{ncr.pk}/cancel/", {"reason": "Wrong lot"}, format="json").json()["state"] == "cancelled"
    r = api.post(f"{URL}{ncr.pk}/start/", {}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


def test_critical_disposition_waits_for_approval_through_the_api(tenant, qa):
    make_member(tenant, roles=["qa_manager"])
    ncr, [part] = make_nonconformance(tenant, by=qa, severity="critical")
    r = client_for(tenant, qa).post(f"{URL}{ncr.pk}/disposition/", {"disposition": "scrap", "password": PASSWORD},
                                    format="json")
    assert r.status_code == 200 and r.json()["disposition_status"] == "awaiting_approval"
    with tenant_context(tenant):
        assert ApprovalRequest.objects.filter(record_id=str(ncr.pk), status="pending").exists()
        assert Part.objects.get(pk=part.pk).status == PartStatus.ON_HOLD


def test_roles_inspector_writes_operator_and_auditor_read(tenant, qa):
    ncr, _ = make_nonconformance(tenant, by=qa)
    inspector = client_for(tenant, make_member(tenant, roles=["qa_inspector"]))
    assert inspector.post(f"{URL}{ncr.pk}/start/", {}, format="json").status_code == 200
    for role in ("operator", "auditor", "production_manager"):
        api = client_for(tenant, make_member(tenant, roles=[role]))
        assert api.get(f"{URL}{ncr.pk}/").status_code == 200, role
        assert api.post(f"{URL}{ncr.pk}/cancel/", {"reason": "x"}, format="json").status_code == 403, role
        assert api.post(f"{URL}{ncr.pk}/disposition/", {"disposition": "scrap", "password": PASSWORD},
                        format="json").status_code == 403, role


def test_a_customer_sees_only_ncrs_and_concessions_of_its_own_orders_parts(tenant, qa):
    mine, theirs = make_company(tenant), make_company(tenant)
    my_order, their_order = make_order(tenant, company=mine), make_order(tenant, company=theirs)
    ours, [my_part] = make_nonconformance(tenant, by=qa, order=my_order)
    other, _ = make_nonconformance(tenant, by=qa, order=their_order)
    internal, _ = make_nonconformance(tenant, by=qa)
    staff = client_for(tenant, qa)
    r = staff.post(f"{URL}{ours.pk}/concessions/", {"customer": mine.pk, "granted_by": "Carla", "reference": "CC-1",
                                                    "granted_on": date.today().isoformat()}, format="json")
    assert r.status_code == 201, r.json()
    r = staff.post(f"{URL}{ours.pk}/concessions/", {"customer": theirs.pk, "granted_by": "X", "reference": "CC-2",
                                                    "granted_on": date.today().isoformat()}, format="json")
    assert r.status_code == 400 and "customer" in r.json()["error"]["fields"]
    customer = client_for(tenant, make_member(tenant, roles=["customer"], company=mine))
    rows = customer.get(URL).json()["results"]
    assert [row["id"] for row in rows] == [ours.pk]
    assert rows[0]["parts"] == [my_part.serial_number]
    assert "description" not in rows[0] and "owner" not in rows[0] and "disposition_note" not in rows[0]
    assert customer.get(f"{URL}{other.pk}/").status_code == 404
    assert customer.get(f"{URL}{internal.pk}/").status_code == 404
    assert [c["reference"] for c in customer.get(f"{URL}{ours.pk}/concessions/").json()] == ["CC-1"]
    assert customer.post(f"{URL}{ours.pk}/preview/", {"disposition": "scrap"}, format="json").status_code == 403
    assert customer.post(f"{URL}{ours.pk}/concessions/", {}, format="json").status_code == 403
    assert customer.post(URL, {"title": "x"}, format="json").status_code == 403


def test_use_as_is_through_the_api_needs_the_concession(tenant, qa):
    customer = make_company(tenant)
    ncr, [part] = make_nonconformance(tenant, by=qa, order=make_order(tenant, company=customer))
    api = client_for(tenant, qa)
    r = api.post(f"{URL}{ncr.pk}/preview/", {"disposition": "use_as_is"}, format="json")
    assert r.json()["problems"]["concession"] and r.json()["approval"] == "material_review"
    r = api.post(f"{URL}{ncr.pk}/disposition/", {"disposition": "use_as_is", "password": PASSWORD}, format="json")
    assert r.status_code == 400 and "concession" in r.json()["error"]["fields"]
    with tenant_context(tenant):
        assert route_steps(part.process)
