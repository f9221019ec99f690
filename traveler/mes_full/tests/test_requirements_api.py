"""Step requirements, inspections, acknowledgements, executions and a part's gates through the API:
bad input named, who may do what, what blocks a part now."""

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_document, make_member, make_revision
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_work_order

pytestmark = pytest.mark.django_db


def test_requirements_inspections_and_gates(api, tenant):
    engineer = make_member(tenant, roles=["engineering"])
    inspector = make_member(tenant, roles=["qa_inspector"])
    operator = make_member(tenant, roles=["operator"])
    wo = make_work_order(tenant, quantity=2)
    doc = make_document(tenant, title="Deburr bores")
    make_revision(tenant, doc, release=True)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        part = Part.objects.filter(work_order=wo).order_by("sequence").first()
        readings = good_readings(step)

    api.as_user(engineer, tenant)
    r = api.post("/api/v1/mes-full/requirements/", {"step": step.pk, "kind": "training"}, format="json")
    assert r.status_code == 400 and r.json()["error"]["fields"] == {"training_type": ["required"]}
    r = api.post("/api/v1/mes-full/requirements/", {"step": step.pk, "kind": "inspection"}, format="json")
    assert r.status_code == 201, r.json()
    r = api.post("/api/v1/mes-full/requirements/", {"step": step.pk, "kind": "document", "document": doc.pk},
                 format="json")
    assert r.status_code == 201, r.json()

    api.as_user(operator, tenant)
    assert api.post("/api/v1/mes-full/requirements/", {"step": step.pk, "kind": "inspection"},
                    format="json").status_code == 403
    gates = api.get(f"/api/v1/mes-full/parts/{part.pk}/gates/").json()
    assert gates["step"] == step.pk and {r["kind"] for r in gates["requirements"]} == {"inspection", "document"}
    kinds = {b["kind"]: b["overridable"] for b in gates["blocks"]}
    assert kinds == {"missing_inspection": True, "document_unacknowledged": False}
    r = api.post("/api/v1/mes-full/inspections/", {"part": part.pk, "passed": True, "password": PASSWORD},
                 format="json")
    assert r.status_code == 403  # operators do not sign off inspections
    r = api.post("/api/v1/mes-full/acknowledgements/", {"document": doc.pk}, format="json")
    assert r.status_code == 201 and r.json()["document"] == doc.pk

    api.as_user(inspector, tenant)
    r = api.post("/api/v1/mes-full/inspections/", {"part": part.pk, "passed": True, "password": "wrong"}, format="json")
    assert r.status_code == 401
    r = api.post("/api/v1/mes-full/inspections/", {"part": part.pk, "passed": False, "password": PASSWORD},
                 format="json")
    assert r.status_code == 400 and "note" in r.json()["error"]["fields"]
    r = api.post("/api/v1/mes-full/inspections/", {"part": part.pk, "passed": True, "password": PASSWORD},
                 format="json")
    assert r.status_code == 201 and r.json()["step"] == step.pk and r.json()["inspector"] == inspector.pk

    api.as_user(operator, tenant)
    assert api.get(f"/api/v1/mes-full/parts/{part.pk}/gates/").json()["blocks"] == []
    r = api.post(f"/api/v1/mes/parts/{part.pk}/advance/", {"step": step.pk, "measurements": readings},
                 format="json")
    assert r.status_code == 200, r.json()
    visits = api.get(f"/api/v1/mes-full/executions/?part={part.pk}").json()
    assert [(v["step"], v["outcome"], v["operator"]) for v in visits["results"]] == [(step.pk, "advanced", operator.pk)]
