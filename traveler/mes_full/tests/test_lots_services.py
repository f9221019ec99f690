"""Lot acceptance by Z1.4: plans with their exact sample sizes and Ac/Re, accept and reject, every
switching transition the engine implements, a rejected lot's holds and its one nonconformance (also
when the handler runs twice), the guard on the advance, and the refusal without the SPC module."""

import pytest
from django.apps import apps

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import Delivered, handler_by_name
from traveler.core.models import OutboxEvent
from traveler.core.queue import run_pending
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.mes_full.choices import BlockKind
from traveler.mes_full.models import LotInspection, Z14SwitchingState
from traveler.mes_full.models.lots import LotStatus
from traveler.mes_full.services import lots as svc
from traveler.mes_full.tests.lots_factories import make_supplier_lot
from traveler.mes_lite.choices import PartStatus, TransitionAction
from traveler.mes_lite.models import Part, StepTransitionLog
from traveler.mes_lite.services.parts import Blocked, part_advance, parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_part_type, make_work_order

pytestmark = pytest.mark.django_db


def _record(tenant, lot, defects, user, **kw):
    with tenant_context(tenant, actor=user):
        return svc.lot_inspection_record(lot=lot, defects_found=defects, user=user, **kw)


def _lots(tenant, part_type, supplier, defects: list[int], user, *, lot_size=500):
    out = []
    for d in defects:
        lot = make_supplier_lot(tenant, part_type=part_type, supplier=supplier, lot_size=lot_size)
        out.append(_record(tenant, lot, d, user))
    return out


@pytest.fixture
def inspector(tenant):
    return make_member(tenant, roles=["qa_inspector"])


def test_two_plans_have_the_standards_sample_sizes_and_numbers(tenant, inspector):
    # Lot of 500, level II, AQL 1.0, normal: code letter H, n = 50, Ac 1, Re 2 (Table I, Table II-A).
    a = make_supplier_lot(tenant, lot_size=500, aql="1.0")
    assert (a.level, a.aql, a.severity, a.code_letter, a.plan_code_letter) == ("II", "1.0", "normal", "H", "H")
    assert (a.sample_size, a.acceptance_number, a.rejection_number) == (50, 1, 2)
    assert a.status == LotStatus.PENDING and a.number.startswith("LOT-") and a.defects_found is None
    # Lot of 3000, AQL 1.0: code letter K, n = 125, Ac 3, Re 4.
    b = make_supplier_lot(tenant, lot_size=3000, aql=1)
    assert (b.code_letter, b.sample_size, b.acceptance_number, b.rejection_number) == ("K", 125, 3, 4)
    # Ac found: accepted; Re found: rejected.
    assert _record(tenant, a, 1, inspector).status == LotStatus.ACCEPTED
    b = _record(tenant, b, 4, inspector)
    assert (b.status, b.decision, b.defects_found, b.inspected_by) == (LotStatus.REJECTED, "reject", 4, inspector)
    # A received lot has no parts: nothing to hold.
    assert b.part_ids == []


def test_a_plan_on_tightened_inspection_follows_the_arrow(tenant, inspector):
    pt = make_part_type(tenant)
    _lots(tenant, pt, "Bosch", [2, 2], inspector)  # 2 of 2 rejected on normal: tightened
    lot = make_supplier_lot(tenant, part_type=pt, supplier="Bosch", lot_size=500)
    # Table II-B: letter H at AQL 1.0 points down to J: n = 80, Ac 1, Re 2.
    assert (lot.severity, lot.code_letter, lot.plan_code_letter, lot.sample_size, lot.acceptance_number,
            lot.rejection_number) == ("tightened", "H", "J", 80, 1, 2)


def test_normal_to_tightened_after_two_of_five_lots_rejected(tenant, inspector):
    pt = make_part_type(tenant)
    lots = _lots(tenant, pt, "Acme Castings", [2, 0, 0], inspector)
    assert [x.severity_after for x in lots] == ["normal"] * 3
    last = _lots(tenant, pt, "Acme Castings", [3], inspector)[0]
    assert (last.severity, last.severity_after) == ("normal", "tightened")
    assert last.switching_reason.startswith("8.3.1: 2 of 4")
    with tenant_context(tenant):
        state = Z14SwitchingState.objects.get(part_type=pt, supplier="Acme Castings")
    assert (state.severity, state.lots) == ("tightened", 4)
    # Another supplier of the same part type is on its own state.
    other = make_supplier_lot(tenant, part_type=pt, supplier="Other Foundry")
    assert other.severity == "normal" and other.switching_state_id != state.pk


def test_tightened_to_normal_after_five_lots_accepted(tenant, inspector):
    pt = make_part_type(tenant)
    _lots(tenant, pt, "S", [2, 2], inspector)
    lots = _lots(tenant, pt, "S", [0, 1, 0, 0, 0], inspector)
    assert [x.severity for x in lots] == ["tightened"] * 5
    assert [x.severity_after for x in lots] == ["tightened"] * 4 + ["normal"]
    assert lots[-1].switching_reason == "8.3.2: 5 consecutive lots accepted on tightened inspection: normal"


def test_a_rejection_on_tightened_restarts_the_count(tenant, inspector):
    pt = make_part_type(tenant)
    _lots(tenant, pt, "S", [2, 2], inspector)
    lots = _lots(tenant, pt, "S", [0, 0, 0, 0, 2, 0, 0, 0, 0], inspector)
    assert [x.severity_after for x in lots] == ["tightened"] * 9
    assert _lots(tenant, pt, "S", [0], inspector)[0].severity_after == "normal"


def test_normal_to_reduced_needs_the_score_steady_production_and_the_authority(tenant, inspector):
    # Ac 3 (lot 3000, AQL 1.0): +3 for each lot also acceptable at AQL 0.65 (Ac 2): 30 after 10 lots.
    pt = make_part_type(tenant)
    lots = _lots(tenant, pt, "S", [2] * 10, inspector, lot_size=3000)
    assert [x.severity_after for x in lots] == ["normal"] * 10  # the authority has not approved reduced
    with tenant_context(tenant):
        state = Z14SwitchingState.objects.get(part_type=pt, supplier="S")
        assert state.state["switching_score"] == 30
        state = svc.switching_state_update(state=state, version=state.version, data={"reduced_approved": True},
                                           reason="Supplier audit passed")
    lot = _lots(tenant, pt, "S", [0], inspector, lot_size=3000)[0]
    assert (lot.severity, lot.severity_after) == ("normal", "reduced")
    assert "switching score 33" in lot.switching_reason
    # On reduced: n = 50, Ac 1, Re 4 (Table II-C, letter K).
    reduced = make_supplier_lot(tenant, part_type=pt, supplier="S", lot_size=3000)
    assert (reduced.severity, reduced.sample_size, reduced.acceptance_number, reduced.rejection_number) == (
        "reduced", 50, 1, 4)


def test_reduced_back_to_normal_and_production_not_steady(tenant, inspector):
    pt = make_part_type(tenant)
    with tenant_context(tenant):
        state = svc.switching_state_get(part_type=pt, supplier="S", level="II", aql="1.0")
        svc.switching_state_update(state=state, version=state.version, data={"reduced_approved": True})
    _lots(tenant, pt, "S", [2] * 10, inspector, lot_size=3000)
    # Between Ac and Re on reduced: the lot is accepted and normal inspection is reinstated.
    lot = _lots(tenant, pt, "S", [2], inspector, lot_size=3000)[0]
    assert (lot.severity, lot.status, lot.decision, lot.severity_after) == (
        "reduced", LotStatus.ACCEPTED, "accept_reinstate_normal", "normal")
    # Back to reduced (the score restarts), then production irregular: normal again.
    _lots(tenant, pt, "S", [0] * 10, inspector, lot_size=3000)
    lot = make_supplier_lot(tenant, part_type=pt, supplier="S", lot_size=3000)
    assert lot.severity == "reduced"
    lot = _record(tenant, lot, 0, inspector, production_steady=False)
    assert (lot.status, lot.severity_after) == (LotStatus.ACCEPTED, "normal")
    assert "8.3.4 c" in lot.switching_reason


def test_discontinued_after_five_rejected_on_tightened_then_resumed(tenant, inspector):
    pt = make_part_type(tenant)
    _lots(tenant, pt, "S", [2, 2], inspector)
    lots = _lots(tenant, pt, "S", [2, 0, 2, 2, 0, 2, 2], inspector)
    assert [x.severity_after for x in lots] == ["tightened"] * 6 + ["discontinued"]
    with pytest.raises(Conflict, match="discontinued"):
        make_supplier_lot(tenant, part_type=pt, supplier="S")
    qa = make_member(tenant, roles=["qa_manager"])
    with tenant_context(tenant, actor=qa):
        state = Z14SwitchingState.objects.get(part_type=pt, supplier="S")
        with pytest.raises(InvalidInput):
            svc.switching_state_resume(state=state, reason="")
        state = svc.switching_state_resume(state=state, reason="8D closed: new die", version=state.version)
    assert state.severity == "tightened" and state.state["tightened_not_accepted"] == 0
    assert make_supplier_lot(tenant, part_type=pt, supplier="S").severity == "tightened"
    with tenant_context(tenant, actor=qa), pytest.raises(Conflict, match="not discontinued"):
        svc.switching_state_resume(state=state, reason="again")


def test_a_lot_opened_before_the_state_moved_is_planned_again(tenant, inspector):
    pt = make_part_type(tenant)
    _lots(tenant, pt, "S", [2], inspector)
    waiting = make_supplier_lot(tenant, part_type=pt, supplier="S")
    _lots(tenant, pt, "S", [2], inspector)  # now tightened
    with pytest.raises(Conflict, match="replan"):
        _record(tenant, waiting, 0, inspector)
    with tenant_context(tenant, actor=inspector):
        waiting = svc.lot_inspection_replan(lot=waiting)
    assert (waiting.severity, waiting.sample_size) == ("tightened", 80)
    assert _record(tenant, waiting, 1, inspector).status == LotStatus.ACCEPTED


def test_bad_input_names_the_field(tenant, inspector):
    pt = make_part_type(tenant)
    with tenant_context(tenant), pytest.raises(InvalidInput) as e:
        svc.lot_inspection_open(part_type=pt, supplier="S", supplier_lot_number="1", lot_size=500, aql="0.7")
    assert "aql" in e.value.fields
    with tenant_context(tenant), pytest.raises(InvalidInput) as e:
        svc.lot_inspection_open(part_type=pt, supplier="S", supplier_lot_number="1", lot_size=500, aql="1.0",
                                level="IV")
    assert "level" in e.value.fields
    with tenant_context(tenant), pytest.raises(InvalidInput) as e:
        svc.lot_inspection_open(part_type=pt, supplier="S", lot_size=500, aql="1.0")
    assert "supplier_lot_number" in e.value.fields
    lot = make_supplier_lot(tenant, part_type=pt)
    for bad in (51, -1, True, "3"):
        with pytest.raises(InvalidInput) as e:
            _record(tenant, lot, bad, inspector)
        assert "defects_found" in e.value.fields
    _record(tenant, lot, 0, inspector)
    with pytest.raises(Conflict):
        _record(tenant, lot, 0, inspector)


def _wo_at_second_step(tenant, quantity=5):
    wo = make_work_order(tenant, quantity=quantity)
    with tenant_context(tenant):
        route = route_steps(wo.process)
        parts = list(Part.objects.filter(work_order=wo).order_by("sequence"))
        parts_advance_bulk(work_order=wo, step=route[0].pk,
                           parts=[{"part": p.pk, "measurements": good_readings(route[0])} for p in parts])
    return wo, route, parts


def test_a_work_orders_lot_keeps_its_parts_at_the_step_until_accepted(tenant, inspector):
    wo, route, parts = _wo_at_second_step(tenant)
    with tenant_context(tenant, actor=inspector):
        lot = svc.lot_inspection_open(work_order=wo, step=route[1], aql="1.0")
        with pytest.raises(Conflict, match="already has a lot"):
            svc.lot_inspection_open(work_order=wo, step=route[1], aql="1.0")
    # 5 parts, code letter A, the arrow to E (n = 13) covers the lot: every part is inspected, Ac 0, Re 1.
    assert (lot.lot_size, lot.code_letter, lot.plan_code_letter, lot.sample_size, lot.acceptance_number,
            lot.rejection_number) == (5, "A", "E", 5, 0, 1)
    assert lot.part_ids == [p.pk for p in parts] and lot.part_type_id == wo.process.part_type_id
    with tenant_context(tenant), pytest.raises(Blocked) as e:
        part_advance(part=parts[0], step=route[1].pk, measurements=good_readings(route[1]))
    [refusal] = e.value.refusals
    assert refusal.kind == BlockKind.SAMPLING_REQUIRED and refusal.part_ids == (parts[0].pk,)
    assert f"Lot {lot.number} is under acceptance inspection at '{route[1].name}'" in refusal.reason
    # The first step is not the lot's: parts of another work order pass there as before.
    _record(tenant, lot, 0, inspector)
    with tenant_context(tenant):
        assert part_advance(part=parts[0], step=route[1].pk, measurements=good_readings(route[1]))["result"] == \
            "advanced"


def test_a_rejected_lot_holds_its_parts_and_opens_one_nonconformance(tenant, inspector):
    wo, route, parts = _wo_at_second_step(tenant)
    with tenant_context(tenant, actor=inspector):
        lot = svc.lot_inspection_open(work_order=wo, step=route[1], aql="1.0")
    lot = _record(tenant, lot, 1, inspector)
    assert (lot.status, lot.severity_after) == (LotStatus.REJECTED, "normal")
    with tenant_context(tenant):
        held = list(Part.objects.filter(work_order=wo).order_by("sequence"))
        assert {p.status for p in held} == {PartStatus.ON_HOLD}
        holds = StepTransitionLog.objects.filter(part__work_order=wo, action=TransitionAction.HOLD)
        assert holds.count() == 5 and {h.part_id for h in holds} == {p.pk for p in parts}
        assert holds.first().note == (f"Lot {lot.number} rejected at '{route[1].name}': 1 nonconforming in a sample "
                                      "of 5 (Z1.4 level II, AQL 1.0, normal: Ac 0, Re 1).")
        event = OutboxEvent.objects.get(name="mes_full.lot.rejected", payload__lot_id=lot.pk)
    assert event.payload["part_ids"] == [p.pk for p in parts] and event.payload["defects_found"] == 1
    run_pending()
    if not apps.is_installed("traveler.qms"):
        return
    ncr_model = apps.get_model("qms", "QuarantineDisposition")
    link_model = apps.get_model("qms", "NonconformancePart")
    with tenant_context(tenant):
        [ncr] = ncr_model.objects.filter(title__startswith=f"Lot {lot.number} rejected")
        assert ncr.title == f"Lot {lot.number} rejected: 1 nonconforming in a sample of 5"
        assert ncr.step_found_id == route[1].pk
        assert sorted(link_model.objects.filter(nonconformance=ncr).values_list("part_id", flat=True)) == \
            [p.pk for p in parts]
        # The event delivered again (a retry): still one nonconformance.
        handler = handler_by_name("traveler.qms.handlers.answer_nonconformance_request")
        request = OutboxEvent.objects.get(name="mes_full.nonconformance.requested", payload__source="lot",
                                          payload__source_id=lot.pk)
        delivered = Delivered(request.pk, request.name, request.payload, request.tenant_id, request.actor_id)
        handler.func(delivered)
        handler.func(delivered)
        assert ncr_model.objects.filter(title__startswith=f"Lot {lot.number} rejected").count() == 1


def test_a_rejected_lot_blocks_until_a_new_inspection_accepts_it(tenant, inspector):
    wo, route, parts = _wo_at_second_step(tenant, quantity=3)
    with tenant_context(tenant, actor=inspector):
        lot = svc.lot_inspection_open(work_order=wo, step=route[1], aql="1.0")
    _record(tenant, lot, 1, inspector)
    with tenant_context(tenant):
        # As if the nonconformance's disposition released them where they are.
        Part.objects.filter(work_order=wo).update(status=PartStatus.IN_PROCESS)
        with pytest.raises(Blocked, match="was rejected"):
            parts_advance_bulk(work_order=wo, step=route[1].pk,
                               parts=[{"part": p.pk, "measurements": good_readings(route[1])} for p in parts])
    with tenant_context(tenant, actor=inspector):
        again = svc.lot_inspection_open(work_order=wo, step=route[1], aql="1.0")
    _record(tenant, again, 0, inspector)
    with tenant_context(tenant):
        out = parts_advance_bulk(work_order=wo, step=route[1].pk,
                                 parts=[{"part": p.pk, "measurements": good_readings(route[1])} for p in parts])
    assert out["advanced"] == 3


def test_without_spc_lot_acceptance_is_refused_saying_why(tenant, monkeypatch):
    monkeypatch.setattr(svc, "lot_acceptance_available", lambda: False)
    pt = make_part_type(tenant)
    with tenant_context(tenant), pytest.raises(Conflict) as e:
        svc.lot_inspection_open(part_type=pt, supplier="S", supplier_lot_number="1", lot_size=500, aql="1.0")
    assert "needs the SPC module" in e.value.message and e.value.fields == {"module": ["spc is not installed"]}
    with tenant_context(tenant):
        assert LotInspection.objects.count() == 0
