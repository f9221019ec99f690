"""Step requirements on the process page (add, remove), the inspector's page (find a part, sign off
pass or fail), the part's visits panel, and who may do what."""

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.models import StepInspection, StepRequirement
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_work_order

pytestmark = pytest.mark.django_db


def signed_in(client, tenant, roles):
    user = make_member(tenant, roles=roles)
    assert client.login(email=user.email, password=PASSWORD)
    return user


def test_requirements_are_added_and_removed_on_the_process_page(client, tenant):
    signed_in(client, tenant, ["engineering"])
    wo = make_work_order(tenant, quantity=1)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
    page = client.get(f"/mes/processes/{wo.process_id}/")
    assert page.status_code == 200 and "This step requires nothing beyond its measurements" in page.content.decode()
    r = client.post(f"/mes-full/steps/{step.pk}/requirements/add/", {"kind": "equipment", "equipment_type": ""})
    assert r.status_code == 302
    page = client.get(f"/mes/processes/{wo.process_id}/").content.decode()
    assert "names its equipment type" in page  # the message says what is missing; nothing was written
    client.post(f"/mes-full/steps/{step.pk}/requirements/add/", {"kind": "inspection", "equipment_type": "5"})
    with tenant_context(tenant):
        req = StepRequirement.objects.get(step=step)
        assert req.kind == "inspection" and req.equipment_type_id is None
    page = client.get(f"/mes/processes/{wo.process_id}/").content.decode()
    assert 'data-testid="step-requirements"' in page and "Inspection sign-off" in page
    client.post(f"/mes-full/requirements/{req.pk}/archive/", {"version": req.version, "reason": "moved to final"})
    with tenant_context(tenant):
        assert StepRequirement.objects.get(pk=req.pk).archived_at is not None


def test_an_operator_cannot_change_requirements(client, tenant):
    signed_in(client, tenant, ["operator"])
    wo = make_work_order(tenant, quantity=1)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
    assert client.post(f"/mes-full/steps/{step.pk}/requirements/add/", {"kind": "inspection"}).status_code == 403
    assert client.get("/mes-full/inspect/").status_code == 403


def test_an_inspector_signs_off_a_part_found_by_serial(client, tenant):
    inspector = signed_in(client, tenant, ["qa_inspector"])
    wo = make_work_order(tenant, quantity=2)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        part, other = Part.objects.filter(work_order=wo).order_by("sequence")
    page = client.get(f"/mes-full/inspect/?serial={part.serial_number}")
    assert page.status_code == 200 and "not inspected yet" in page.content.decode()
    assert client.get("/mes-full/inspect/?serial=NOPE-1").status_code == 404
    r = client.post("/mes-full/inspect/", {"part": part.pk, "decision": "pass", "password": "wrong"})
    assert r.status_code == 401
    with tenant_context(tenant):
        assert not StepInspection.objects.filter(part=part).exists()
    r = client.post("/mes-full/inspect/", {"part": part.pk, "decision": "pass", "password": PASSWORD})
    assert r.status_code == 302
    with tenant_context(tenant):
        inspection = StepInspection.objects.get(part=part)
        assert inspection.passed and inspection.inspector_id == inspector.pk and inspection.step_id == step.pk
    r = client.post("/mes-full/inspect/", {"part": other.pk, "decision": "fail", "password": PASSWORD})
    assert r.status_code == 400 and "Say what was found" in r.content.decode()
    client.post("/mes-full/inspect/", {"part": other.pk, "decision": "fail", "password": PASSWORD, "note": "Dent"})
    with tenant_context(tenant):
        assert StepInspection.objects.get(part=other).passed is False
    detail = client.get(f"/mes/parts/{part.pk}/").content.decode()
    assert 'data-testid="part-inspections"' in detail and "passed" in detail


def test_the_part_page_lists_its_visits(client, tenant, admin):
    signed_in(client, tenant, ["qa_manager"])
    wo = make_work_order(tenant, quantity=1)
    with tenant_context(tenant, actor=admin):
        step = route_steps(wo.process)[0]
        part = Part.objects.get(work_order=wo)
        part_advance(part=part, step=step.pk, measurements=good_readings(step))
        assert Part.objects.get(pk=part.pk).status == PartStatus.IN_PROCESS
    detail = client.get(f"/mes/parts/{part.pk}/").content.decode()
    assert 'data-testid="part-visits"' in detail and step.name in detail and "Advanced" in detail
