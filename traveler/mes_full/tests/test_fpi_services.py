"""First-piece inspection: gating per scope (work order, shift, equipment, operator), the first piece
passing once inspected, a failure blocking its scope and opening one nonconformance, the signed waiver,
designation under concurrency, and the guard's query cost."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import Delivered
from traveler.core.models import ApprovalRequest, OutboxEvent
from traveler.core.queue import run_pending
from traveler.core.services.approvals import approval_respond
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.choices import BlockKind, FPIScope, FPIStatus
from traveler.mes_full.models import FPIRecord
from traveler.mes_full.services import fpi as svc
from traveler.mes_full.services.requirements import inspection_record
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.parts import Blocked, part_advance, parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_equipment, make_process, make_work_order

pytestmark = pytest.mark.django_db


def _line(tenant, scope=FPIScope.WORK_ORDER, quantity=4, process=None, **kw):
    """A work order whose first step needs a first-piece inspection for ``scope``; its parts, an operator
    and a QA inspector."""
    wo = make_work_order(tenant, quantity=quantity, process=process)
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        if process is None:
            svc.requirement_set(step=step, scope=scope, **kw)
        parts = list(Part.objects.filter(work_order=wo).order_by("sequence"))
    return wo, step, parts, make_member(tenant, roles=["operator"]), make_member(tenant, roles=["qa_inspector"])


def _advance(tenant, user, part, step, equipment=None):
    with tenant_context(tenant, actor=user):
        part.refresh_from_db()
        return part_advance(part=part, step=step.pk, measurements=good_readings(step), equipment=equipment)


def _blocked(tenant, user, part, step, equipment=None) -> Blocked:
    with pytest.raises(Blocked) as exc:
        _advance(tenant, user, part, step, equipment)
    return exc.value


def _inspect(tenant, qa, part, passed=True, note=""):
    with tenant_context(tenant, actor=qa):
        part.refresh_from_db()
        return inspection_record(part=part, passed=passed, user=qa, password=PASSWORD, note=note)


def _records(tenant, step):
    with tenant_context(tenant):
        return list(FPIRecord.objects.filter(step=step).order_by("pk"))


def test_per_work_order_the_first_piece_passes_once_inspected_and_then_the_others(tenant):
    wo, step, parts, op, qa = _line(tenant)
    p1, p2, p3, _ = parts
    first = _blocked(tenant, op, p1, step)
    assert [r.kind for r in first.refusals] == [BlockKind.FPI_FAILED]
    assert first.refusals[0].part_ids == (p1.pk,)
    assert first.refusals[0].reason == (f"{p1.serial_number} is the first piece at '{step.name}' for this work order: "
                                        "it passes once its first-piece inspection passed (an inspector signs it off).")
    assert _records(tenant, step) == []  # a refused advance writes nothing
    with tenant_context(tenant, actor=op):
        record = svc.fpi_designate(part=p1)
    assert (record.part_id, record.fpi_status, record.scope_key) == (p1.pk, FPIStatus.PENDING, f"wo{wo.pk}")
    waiting = _blocked(tenant, op, p2, step)
    assert waiting.refusals[0].reason == (f"First-piece inspection pending at '{step.name}' for this work order: first "
                                          f"piece {p1.serial_number}. {p2.serial_number} wait until it passed.")
    _inspect(tenant, qa, p1)
    assert _advance(tenant, op, p2, step)["result"] == "advanced"  # the first piece passed: the scope goes on
    (record,) = _records(tenant, step)
    assert (record.fpi_status, record.part_id, record.verified_by_id) == (FPIStatus.PASSED, p1.pk, qa.pk)
    assert _advance(tenant, op, p1, step)["result"] == "advanced"
    assert _advance(tenant, op, p3, step)["result"] == "advanced"
    # Another work order on the same route is another scope.
    _, _, other, _, _ = _line(tenant, process=wo.process, quantity=1)
    assert _blocked(tenant, op, other[0], step).refusals[0].part_ids == (other[0].pk,)


def test_a_first_piece_inspected_before_its_advance_is_designated_by_it(tenant):
    wo, step, parts, op, qa = _line(tenant)
    _inspect(tenant, qa, parts[2])
    with tenant_context(tenant, actor=op):
        out = parts_advance_bulk(work_order=wo, step=step.pk, parts=[
            {"part": p.pk, "measurements": good_readings(step)} for p in (parts[3], parts[2])])
    assert out == {"advanced": 2, "completed": 0, "quarantined": 0}
    (record,) = _records(tenant, step)
    assert (record.part_id, record.fpi_status, record.designated_by_id) == (parts[2].pk, FPIStatus.PASSED, op.pk)


def test_per_shift_a_new_shift_needs_a_new_first_piece(tenant, monkeypatch):
    wo, step, parts, op, qa = _line(tenant, scope=FPIScope.SHIFT, shift_hours=[6, 18])
    assert svc.shift_of([6, 18], datetime(2026, 12, 3, 5, 59, tzinfo=UTC))[0] == "2026-12-02#2"
    assert svc.shift_of([6, 18], datetime(2026, 12, 3, 6, 0, tzinfo=UTC)) == ("2026-12-03#1",
                                                                                 "shift 1 of 2026-12-03 (from 06:00)")
    monkeypatch.setattr(svc, "clock", lambda: datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    _inspect(tenant, qa, parts[0])
    assert _advance(tenant, op, parts[0], step)["result"] == "advanced"
    assert _advance(tenant, op, parts[1], step)["result"] == "advanced"
    monkeypatch.setattr(svc, "clock", lambda: datetime(2026, 12, 3, 18, 30, tzinfo=UTC))
    refusal = _blocked(tenant, op, parts[2], step).refusals[0]
    assert "for shift 2 of 2026-12-03 (from 18:00)" in refusal.reason and refusal.part_ids == (parts[2].pk,)
    assert [r.scope_key for r in _records(tenant, step)] == [f"wo{wo.pk}:shift2026-12-03#1"]


def test_per_equipment_each_machine_needs_its_first_piece(tenant):
    wo, step, parts, op, qa = _line(tenant, scope=FPIScope.EQUIPMENT)
    lathe, mill = make_equipment(tenant, name="Lathe 1"), make_equipment(tenant, name="Mill 2")
    _inspect(tenant, qa, parts[0])
    assert _advance(tenant, op, parts[0], step, [lathe.pk])["result"] == "advanced"
    assert _advance(tenant, op, parts[1], step, [lathe.pk])["result"] == "advanced"
    refusal = _blocked(tenant, op, parts[2], step, [mill.pk]).refusals[0]
    assert refusal.reason.startswith(f"{parts[2].serial_number} is the first piece at '{step.name}' for Mill 2:")


def test_per_operator_each_operator_needs_a_first_piece(tenant):
    wo, step, parts, op, qa = _line(tenant, scope=FPIScope.OPERATOR)
    other = make_member(tenant, roles=["operator"], full_name="Bea Other")
    _inspect(tenant, qa, parts[0])
    assert _advance(tenant, op, parts[0], step)["result"] == "advanced"
    assert _advance(tenant, op, parts[1], step)["result"] == "advanced"
    refusal = _blocked(tenant, other, parts[2], step).refusals[0]
    assert refusal.reason.startswith(f"{parts[2].serial_number} is the first piece at '{step.name}' for Bea Other:")
    assert [r.scope_key for r in _records(tenant, step)] == [f"wo{wo.pk}:op{op.pk}"]


def test_a_failed_first_piece_blocks_its_scope_and_opens_one_nonconformance(tenant):
    from django.apps import apps

    from traveler.core.registry import registry

    QuarantineDisposition = apps.get_model("qms", "QuarantineDisposition")  # noqa: N806
    [answer] = [h for h in registry.handlers_for("mes_full.nonconformance.requested") if h.module == "qms"]

    wo, step, parts, op, qa = _line(tenant)
    with tenant_context(tenant, actor=qa):
        record = svc.fpi_inspection_record(part=parts[0], passed=False, user=qa, password=PASSWORD,
                                           note="Bore 0.02 mm over", operator=op)
    assert record.fpi_status == FPIStatus.FAILED
    refusal = _blocked(tenant, op, parts[1], step).refusals[0]
    assert refusal.kind == BlockKind.FPI_FAILED
    assert refusal.reason == (f"First-piece inspection failed at '{step.name}' for this work order: first piece "
                              f"{parts[0].serial_number} failed. {parts[1].serial_number} wait until the failure is "
                              "waived (signed approval) or a new first piece passes.")
    run_pending()
    with tenant_context(tenant):
        ncrs = list(QuarantineDisposition.objects.filter(part_links__part=parts[0]))
        request = OutboxEvent.objects.get(name="mes_full.nonconformance.requested", payload__part_ids=[parts[0].pk])
        answer.func(Delivered(request.pk, request.name, request.payload, tenant.pk, request.actor_id))  # a retry
        assert QuarantineDisposition.objects.filter(part_links__part=parts[0]).count() == 1
    assert len(ncrs) == 1
    assert ncrs[0].title == f"First piece {parts[0].serial_number} failed at '{step.name}': Bore 0.02 mm over"


def test_a_failed_sign_off_of_a_designated_first_piece_fails_it(tenant):
    wo, step, parts, op, qa = _line(tenant)
    with tenant_context(tenant, actor=op):
        svc.fpi_designate(part=parts[0])
    _inspect(tenant, qa, parts[0], passed=False, note="Chatter marks")
    run_pending()
    with tenant_context(tenant):
        record = FPIRecord.objects.select_related("inspection").get(step=step)
    assert record.fpi_status == FPIStatus.FAILED and record.inspection.note == "Chatter marks"
    with tenant_context(tenant, actor=qa):
        restarted = svc.fpi_restart(record=record, reason="Insert changed")
    assert restarted.current is False
    assert _blocked(tenant, op, parts[1], step).refusals[0].part_ids == (parts[1].pk,)  # a new first piece


def test_a_waiver_needs_a_reason_and_a_signed_approval(tenant):
    wo, step, parts, op, qa = _line(tenant)
    manager = make_member(tenant, roles=["qa_manager"])
    approver = make_member(tenant, roles=["qa_manager"])
    with tenant_context(tenant, actor=qa):
        record = svc.fpi_inspection_record(part=parts[0], passed=False, user=qa, password=PASSWORD, note="Burr",
                                           operator=op)
    with tenant_context(tenant, actor=manager), pytest.raises(InvalidInput) as exc:
        svc.fpi_waiver_request(record=record, reason=" ", user=manager)
    assert exc.value.fields == {"reason": ["required"]}
    with tenant_context(tenant, actor=manager):
        request = svc.fpi_waiver_request(record=record, reason="Burr removed by hand; customer concession 12",
                                         user=manager)
    run_pending()
    assert _blocked(tenant, op, parts[1], step).refusals[0].kind == BlockKind.FPI_FAILED  # not yet approved
    with tenant_context(tenant, actor=approver):
        approval_respond(request=ApprovalRequest.objects.get(pk=request.pk), user=approver, password=PASSWORD,
                         decision="approved")
    run_pending()
    (record,) = _records(tenant, step)
    assert (record.fpi_status, record.waiver_request_id) == (FPIStatus.WAIVED, request.pk)
    assert record.waiver_reason == "Burr removed by hand; customer concession 12"
    assert _advance(tenant, op, parts[1], step)["result"] == "advanced"


def test_one_first_piece_per_scope(tenant):
    wo, step, parts, op, qa = _line(tenant)
    with tenant_context(tenant, actor=op):
        svc.fpi_designate(part=parts[0])
        assert svc.fpi_designate(part=parts[0]).part_id == parts[0].pk
        with pytest.raises(Conflict) as exc:
            svc.fpi_designate(part=parts[1])
    assert exc.value.message == (f"{parts[0].serial_number} is already the first piece at '{step.name}' for "
                                 "this work order.")


def test_the_guard_costs_a_constant_number_of_queries(tenant):
    process = make_process(tenant)
    plain, step, plain_parts, op, qa = _line(tenant, process=process, quantity=3)
    wo, _, parts, _, _ = _line(tenant, process=make_process(tenant), quantity=3)
    with tenant_context(tenant):
        fpi_step = route_steps(wo.process)[0]
        svc.requirement_set(step=fpi_step, scope=FPIScope.WORK_ORDER)
    _inspect(tenant, qa, parts[0])
    _advance(tenant, op, parts[0], fpi_step)  # designated, passed
    _advance(tenant, op, plain_parts[0], step)

    def count(part, at):
        with CaptureQueriesContext(connection) as q:
            _advance(tenant, op, part, at)
        return len(q)

    # Every advance asks for the step's requirement; at an FPI step the scope's record is one more.
    assert count(parts[1], fpi_step) - count(plain_parts[1], step) == 1
    with tenant_context(tenant):
        assert Part.objects.get(pk=parts[1].pk).status == PartStatus.IN_PROCESS
