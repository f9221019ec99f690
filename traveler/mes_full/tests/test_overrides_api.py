"""Overrides through the API: requested by an operator, refused to the requester's own approval (409),
approved with a password by a QA manager, then the advance passes; permissions per action."""

from __future__ import annotations

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.choices import RequirementKind
from traveler.mes_full.services.requirements import requirement_create
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_work_order

pytestmark = pytest.mark.django_db


def test_request_refused_self_approval_then_approval_and_advance(tenant, api):
    wo = make_work_order(tenant, quantity=1)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        requirement_create(data={"step": step, "kind": RequirementKind.INSPECTION})
        part = Part.objects.get(work_order=wo)
        readings = good_readings(step)
    operator = make_member(tenant, roles=["operator"])
    manager = make_member(tenant, roles=["qa_manager"])
    auditor = make_member(tenant, roles=["auditor"])
    api.as_user(operator, tenant)
    advance = {"step": step.pk, "measurements": readings}
    r = api.post(f"/api/v1/mes/parts/{part.pk}/advance/", advance, format="json")
    assert r.status_code == 409 and r.json()["error"]["fields"]["kinds"] == ["missing_inspection"]
    r = api.post("/api/v1/mes-full/overrides/request/", {"part": part.pk, "block_kind": "nonconformance",
                                                         "reason": "x"}, format="json")
    assert r.status_code == 400
    r = api.post("/api/v1/mes-full/overrides/request/", {
        "part": part.pk, "block_kind": "missing_inspection", "reason": "Inspector away", "limit": "one_part"},
        format="json")
    assert r.status_code == 201, r.content
    o = r.json()
    assert (o["override_status"], o["requested_by"], o["active"]) == ("requested", operator.pk, False)
    assert api.post(f"/api/v1/mes-full/overrides/{o['id']}/approve/", {"password": PASSWORD},
                    format="json").status_code == 403  # operators do not approve
    api.as_user(auditor, tenant)
    assert api.get(f"/api/v1/mes-full/overrides/{o['id']}/").status_code == 200
    assert api.post("/api/v1/mes-full/overrides/request/", {"part": part.pk, "block_kind": "missing_inspection",
                                                            "reason": "r"}, format="json").status_code == 403
    api.as_user(manager, tenant)
    r = api.post("/api/v1/mes-full/overrides/request/", {"part": part.pk, "block_kind": "missing_inspection",
                                                         "reason": "Mine"}, format="json")
    own = r.json()
    r = api.post(f"/api/v1/mes-full/overrides/{own['id']}/approve/", {"password": PASSWORD}, format="json")
    assert r.status_code == 409
    assert r.json()["error"]["message"] == "You requested this override: another person approves it."
    r = api.post(f"/api/v1/mes-full/overrides/{o['id']}/approve/", {"password": PASSWORD, "note": "OK"}, format="json")
    assert r.status_code == 200 and (r.json()["override_status"], r.json()["approved_by"]) == ("approved", manager.pk)
    api.as_user(operator, tenant)
    r = api.post(f"/api/v1/mes/parts/{part.pk}/advance/", advance, format="json")
    assert r.status_code == 200, r.content
    r = api.get(f"/api/v1/mes-full/overrides/{o['id']}/").json()
    assert (r["uses"], r["override_status"], r["active"]) == (1, "expired", False)
