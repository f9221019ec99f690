"""The station's step panel (requirements, blocks, "Request override", "I have read it"), the override
pages (inbox, detail, signed approval, never by the requester) and the overrides on a part's page."""

from __future__ import annotations

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.core.tests.test_ui_shell import signed_in
from traveler.mes_full.choices import BlockKind, OverrideStatus, RequirementKind
from traveler.mes_full.models import StepOverride, StepOverrideUse
from traveler.mes_full.services.requirements import requirement_create
from traveler.mes_lite.models import MeasurementDefinition, Part
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_work_order

pytestmark = pytest.mark.django_db

STATION = "/mes/station/"
ADVANCE = "/mes/station/advance/"


@pytest.fixture
def line(tenant):
    """Two parts waiting at a first step that needs an inspection sign-off."""
    wo = make_work_order(tenant, quantity=2)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        requirement_create(data={"step": step, "kind": RequirementKind.INSPECTION})
        bore = MeasurementDefinition.objects.get(step=step)
        requirement_create(data={"step": step, "kind": RequirementKind.MEASUREMENT, "definition": bore})
        parts = list(Part.objects.filter(work_order=wo).order_by("sequence"))
    return step, parts, bore


def _advance_form(part, step, bore):
    return {"part": part.pk, "step": step.pk, "version": part.version, "serial": part.serial_number,
            f"m-{bore.pk}": "6.000"}


def test_the_station_lists_requirements_and_blocks_with_request_override(tenant, line):
    step, parts, bore = line
    operator = make_member(tenant, roles=["operator"], full_name="Olga Operator")
    client = signed_in(operator, tenant)
    html = client.get(STATION, {"serial": parts[0].serial_number}).content.decode()
    assert f"What '{step.name}' requires" in html
    assert 'data-requirement data-state="to_record"' in html and "Record Bore diameter" in html
    assert 'data-requirement data-state="blocks"' in html and "Inspection sign-off" in html
    assert 'data-block="missing_inspection"' in html and "Request override" in html
    # Blocked at the advance: the panel under the message offers the override.
    r = client.post(ADVANCE, _advance_form(parts[0], step, bore))
    assert r.status_code == 409
    assert "Blocked: not advanced" in r.content.decode() and "Request override" in r.content.decode()
    # An auditor sees the panel without the action.
    auditor_html = signed_in(make_member(tenant, roles=["auditor"]), tenant).get(
        "/mes-full/overrides/").status_code
    assert auditor_html == 200


def test_request_then_approval_by_another_person_lets_the_part_through(tenant, line):
    step, parts, bore = line
    operator = make_member(tenant, roles=["operator"], full_name="Olga Operator")
    manager = make_member(tenant, roles=["qa_manager"], full_name="Quinn Manager")
    op_client, qa_client = signed_in(operator, tenant), signed_in(manager, tenant)
    r = op_client.post(f"/mes-full/parts/{parts[0].pk}/override/", {
        "block_kind": BlockKind.MISSING_INSPECTION, "reason": "Inspector away; CMM later", "limit": "one_part",
        "next": f"{STATION}?serial={parts[0].serial_number}"})
    assert r.status_code == 302 and r["Location"] == f"{STATION}?serial={parts[0].serial_number}"
    with tenant_context(tenant):
        o = StepOverride.objects.get(part=parts[0])
    html = op_client.get(STATION, {"serial": parts[0].serial_number}).content.decode()
    assert "Override requested by Olga Operator, awaiting a second person's approval." in html
    # The requester is refused, with the reason.
    assert op_client.post(f"/mes-full/overrides/{o.pk}/approve/", {"password": PASSWORD}).status_code == 403
    assert "You requested this override: another person approves it." in op_client.get(
        f"/mes-full/overrides/{o.pk}/").content.decode()
    with tenant_context(tenant):
        assert StepOverride.objects.get(pk=o.pk).override_status == OverrideStatus.REQUESTED
    inbox = qa_client.get("/mes-full/overrides/").content.decode()
    assert f'data-override="{o.pk}"' in inbox.split('id="mine"')[0]  # awaiting my approval
    qa_client.post(f"/mes-full/overrides/{o.pk}/approve/", {"password": "wrong"})
    with tenant_context(tenant):
        assert StepOverride.objects.get(pk=o.pk).override_status == OverrideStatus.REQUESTED
    r = qa_client.post(f"/mes-full/overrides/{o.pk}/approve/", {"password": PASSWORD, "note": "OK"})
    assert r.status_code == 302
    detail = qa_client.get(f"/mes-full/overrides/{o.pk}/").content.decode()
    assert "Quinn Manager · Approved" in detail
    html = op_client.get(STATION, {"serial": parts[0].serial_number}).content.decode()
    assert "Override approved by Quinn Manager: this part may pass." in html
    with tenant_context(tenant):
        parts[0].refresh_from_db()
    r = op_client.post(ADVANCE, _advance_form(parts[0], step, bore))
    assert r.status_code == 302
    with tenant_context(tenant):
        assert StepOverrideUse.objects.filter(override=o, part=parts[0]).count() == 1
    page = qa_client.get(f"/mes/parts/{parts[0].pk}/").content.decode()
    assert f"Override #{o.pk}" in page and "Let this part through" in page


def test_the_requester_cannot_approve_on_the_page(tenant, line):
    step, parts, _ = line
    manager = make_member(tenant, roles=["qa_manager"])
    client = signed_in(manager, tenant)
    client.post(f"/mes-full/parts/{parts[0].pk}/override/", {"block_kind": BlockKind.MISSING_INSPECTION,
                                                              "reason": "r", "limit": "one_part"})
    with tenant_context(tenant):
        o = StepOverride.objects.get(part=parts[0])
    page = client.get(f"/mes-full/overrides/{o.pk}/").content.decode()
    assert "Approve and sign" not in page and "You requested this override: another person approves it." in page
    r = client.post(f"/mes-full/overrides/{o.pk}/approve/", {"password": PASSWORD}, follow=True)
    assert "You requested this override: another person approves it." in r.content.decode()
    with tenant_context(tenant):
        assert StepOverride.objects.get(pk=o.pk).override_status == OverrideStatus.REQUESTED


def test_i_have_read_it_lifts_the_unread_work_instruction(tenant):
    from traveler.core.tests.factories import make_document, make_revision

    wo = make_work_order(tenant, quantity=1)
    doc = make_document(tenant, title="Torque sequence")
    make_revision(tenant, doc, release=True)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        requirement_create(data={"step": step, "kind": RequirementKind.DOCUMENT, "document": doc})
        part = Part.objects.get(work_order=wo)
    client = signed_in(make_member(tenant, roles=["operator"]), tenant)
    html = client.get(STATION, {"serial": part.serial_number}).content.decode()
    block = html.split('data-block="document_unacknowledged"')[1].split("</li>")[0]
    assert f"I have read {doc.number}" in block and "Request override" not in block  # not overridable
    r = client.post(f"/mes-full/station/documents/{doc.pk}/read/", {"next": f"{STATION}?serial={part.serial_number}"})
    assert r.status_code == 302
    html = client.get(STATION, {"serial": part.serial_number}).content.decode()
    assert 'data-block="document_unacknowledged"' not in html and f"Read {doc.number} Torque sequence" in html
