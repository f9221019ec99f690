"""Overrides: requested for a blocked part, approved with a signature by another person, lifting that
kind of block only, for one part, N parts or until a time; out of specification accepted instead of
quarantined; the requester never approves their own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.models import Signature
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.choices import BlockKind, OverrideLimit, OverrideStatus, RequirementKind
from traveler.mes_full.models import StepOverride, StepOverrideUse
from traveler.mes_full.services import overrides as svc
from traveler.mes_full.services.requirements import requirement_create
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import EquipmentType, Part, StepTransitionLog
from traveler.mes_lite.services.parts import Blocked, part_advance
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_work_order

pytestmark = pytest.mark.django_db


def _line(tenant, *kinds, quantity=3):
    """Parts waiting at a first step that requires ``kinds`` (inspection, equipment), an operator, a QA
    manager."""
    wo = make_work_order(tenant, quantity=quantity)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        for kind in kinds:
            extra = {"equipment_type": EquipmentType.objects.create(name="Torque wrench")} if kind == "equipment" else {}
            requirement_create(data={"step": step, "kind": kind, **extra})
        parts = list(Part.objects.filter(work_order=wo).order_by("sequence"))
    return step, parts, make_member(tenant, roles=["operator"]), make_member(tenant, roles=["qa_manager"])


def _advance(tenant, user, part, step, measurements=None):
    with tenant_context(tenant, actor=user):
        part.refresh_from_db()
        return part_advance(part=part, step=step.pk, measurements=measurements or good_readings(step))


def _kinds(tenant, user, part, step) -> list[str]:
    with pytest.raises(Blocked) as exc:
        _advance(tenant, user, part, step)
    return [r.kind for r in exc.value.refusals]


def _override(tenant, part, requester, approver=None, kind=BlockKind.MISSING_INSPECTION, **kw):
    with tenant_context(tenant, actor=requester):
        part.refresh_from_db()
        o = svc.override_request(part=part, block_kind=kind, reason="Inspector off sick; CMM report to follow",
                                 user=requester, **kw)
    if approver is not None:
        with tenant_context(tenant, actor=approver):
            o = svc.override_approve(override=o, user=approver, password=PASSWORD, note="Agreed until 14:00")
    return o


def test_an_approved_override_passes_that_block_only(tenant):
    step, parts, op, qa = _line(tenant, RequirementKind.INSPECTION, RequirementKind.EQUIPMENT)
    assert _kinds(tenant, op, parts[0], step) == [BlockKind.CALIBRATION_DUE, BlockKind.MISSING_INSPECTION]
    o = _override(tenant, parts[0], op)
    assert o.override_status == OverrideStatus.REQUESTED
    assert _kinds(tenant, op, parts[0], step) == [BlockKind.CALIBRATION_DUE, BlockKind.MISSING_INSPECTION]
    with tenant_context(tenant, actor=qa):
        o = svc.override_approve(override=o, user=qa, password=PASSWORD, note="Agreed")
        sig = Signature.objects.get(record_id=str(o.pk), meaning="approved")
    assert (o.override_status, o.approved_by_id, sig.signer_id, sig.record_version) == (
        OverrideStatus.APPROVED, qa.pk, qa.pk, o.version)
    assert _kinds(tenant, op, parts[0], step) == [BlockKind.CALIBRATION_DUE]  # the other block still blocks
    with tenant_context(tenant):
        assert StepOverrideUse.objects.count() == 0  # a refused advance used nothing
        assert StepOverride.objects.get(pk=o.pk).uses == 0


def test_the_advance_under_an_override_records_its_use(tenant):
    step, parts, op, qa = _line(tenant, RequirementKind.INSPECTION)
    o = _override(tenant, parts[0], op, qa)
    assert _advance(tenant, op, parts[0], step)["result"] == "advanced"
    with tenant_context(tenant):
        (use,) = StepOverrideUse.objects.all()
        o.refresh_from_db()
    assert (use.override_id, use.part_id, use.step_id) == (o.pk, parts[0].pk, step.pk)
    assert use.refusal.startswith(f"Inspection sign-off missing at '{step.name}' for {parts[0].serial_number}")
    assert (o.uses, o.override_status) == (1, OverrideStatus.EXPIRED)  # one part: used up
    assert _kinds(tenant, op, parts[1], step) == [BlockKind.MISSING_INSPECTION]  # not another part


def test_the_requester_cannot_approve_their_own_override(tenant):
    step, parts, op, qa = _line(tenant, RequirementKind.INSPECTION)
    o = _override(tenant, parts[0], qa)
    with tenant_context(tenant, actor=qa), pytest.raises(Conflict) as exc:
        svc.override_approve(override=o, user=qa, password=PASSWORD)
    assert exc.value.message == "You requested this override: another person approves it."
    with tenant_context(tenant):
        assert StepOverride.objects.get(pk=o.pk).override_status == OverrideStatus.REQUESTED


def test_n_parts_means_n(tenant):
    step, parts, op, qa = _line(tenant, RequirementKind.INSPECTION, quantity=4)
    o = _override(tenant, parts[0], op, qa, limit=OverrideLimit.PARTS, max_parts=2)
    assert _advance(tenant, op, parts[1], step)["result"] == "advanced"
    assert _advance(tenant, op, parts[0], step)["result"] == "advanced"
    assert _kinds(tenant, op, parts[2], step) == [BlockKind.MISSING_INSPECTION]
    with tenant_context(tenant):
        o.refresh_from_db()
        used = sorted(StepOverrideUse.objects.filter(override=o).values_list("part_id", flat=True))
    assert (o.uses, o.override_status, used) == (2, OverrideStatus.EXPIRED, sorted([parts[0].pk, parts[1].pk]))


def test_an_override_until_a_time_expires(tenant):
    step, parts, op, qa = _line(tenant, RequirementKind.INSPECTION, quantity=3)
    o = _override(tenant, parts[0], op, qa, limit=OverrideLimit.UNTIL, expires_at=timezone.now() + timedelta(hours=2))
    assert _advance(tenant, op, parts[0], step)["result"] == "advanced"
    assert _advance(tenant, op, parts[1], step)["result"] == "advanced"
    with tenant_context(tenant):
        StepOverride.objects.filter(pk=o.pk).update(expires_at=timezone.now() - timedelta(seconds=1))  # time passed
    assert _kinds(tenant, op, parts[2], step) == [BlockKind.MISSING_INSPECTION]
    with tenant_context(tenant):
        o.refresh_from_db()
    assert (o.uses, o.override_status, svc.is_active(o)) == (2, OverrideStatus.APPROVED, False)


def test_an_out_of_spec_override_advances_instead_of_quarantining(tenant):
    step, parts, op, qa = _line(tenant)
    with tenant_context(tenant):
        bad = [{"definition": r["definition"], "value": "6.5"} for r in good_readings(step)]
    _override(tenant, parts[0], op, qa, kind=BlockKind.OUT_OF_SPEC)
    assert _advance(tenant, op, parts[0], step, bad)["result"] == "advanced"
    assert _advance(tenant, op, parts[1], step, bad)["result"] == "quarantined"  # not covered
    with tenant_context(tenant):
        log = StepTransitionLog.objects.filter(part=parts[0]).get()
        assert Part.objects.get(pk=parts[1].pk).status == PartStatus.QUARANTINED
    assert log.note == f"Out of specification at '{step.name}': Bore diameter. Accepted under override."


def test_only_kinds_an_override_lifts_and_a_reason(tenant):
    step, parts, op, qa = _line(tenant)
    with tenant_context(tenant, actor=op):
        with pytest.raises(InvalidInput) as exc:
            svc.override_request(part=parts[0], block_kind="nonconformance", reason="x", user=op)
        assert list(exc.value.fields) == ["block_kind"]
        with pytest.raises(InvalidInput) as exc:
            svc.override_request(part=parts[0], block_kind=BlockKind.OUT_OF_SPEC, reason=" ", user=op)
        assert exc.value.fields == {"reason": ["required"]}
        with pytest.raises(InvalidInput) as exc:
            svc.override_request(part=parts[0], block_kind=BlockKind.OUT_OF_SPEC, reason="r", user=op,
                                 limit=OverrideLimit.PARTS, max_parts=0)
        assert list(exc.value.fields) == ["max_parts"]
        with pytest.raises(InvalidInput) as exc:
            svc.override_request(part=parts[0], block_kind=BlockKind.OUT_OF_SPEC, reason="r", user=op,
                                 limit=OverrideLimit.UNTIL, expires_at=timezone.now() - timedelta(minutes=1))
        assert list(exc.value.fields) == ["expires_at"]


def test_the_printed_traveler_shows_the_override_that_let_the_part_through(client, tenant):
    import io

    from pypdf import PdfReader

    step, parts, op, qa = _line(tenant, RequirementKind.INSPECTION)
    o = _override(tenant, parts[0], op, qa)
    _advance(tenant, op, parts[0], step)
    assert client.login(email=qa.email, password=PASSWORD)
    response = client.get(f"/mes/parts/{parts[0].pk}/traveler.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    assert f"Traveler of part {parts[0].serial_number}" in text
    assert f"Override #{o.pk} at '{step.name}': Missing inspection" in text
    assert f"approved (signed) by {qa.full_name}" in text and "used for this part" in text
    other = client.get(f"/mes/parts/{parts[1].pk}/traveler.pdf")
    other_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(other.content)).pages)
    assert "Override #" not in other_text and "Step control" not in other_text
