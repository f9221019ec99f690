"""Rework, return to supplier and acceptance as it is, through the services."""

import pytest

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.models import OutboxEvent
from traveler.core.registry import add_guard, remove_guard
from traveler.core.tenancy import tenant_context
from traveler.mes_lite.choices import EdgeKind, PartStatus, TransitionAction
from traveler.mes_lite.models import Part, StepEdge, StepTransitionLog
from traveler.mes_lite.selectors import work_order_board
from traveler.mes_lite.services.orders import work_order_complete
from traveler.mes_lite.services.parts import (
    Blocked,
    part_accept,
    part_advance,
    part_hold,
    part_return,
    part_rework,
    part_rework_attempts,
    rework_steps,
)
from traveler.mes_lite.services.routing import part_type_update, route_steps
from traveler.mes_lite.tests.factories import good_readings, make_work_order


def _at_second_step(tenant, quantity=1):
    wo = make_work_order(tenant, quantity=quantity)
    with tenant_context(tenant):
        route = route_steps(wo.process)
        parts = list(Part.objects.filter(work_order=wo).order_by("pk"))
        for p in parts:
            part_advance(part=p, step=route[0].pk, measurements=good_readings(route[0]))
        return wo, route, parts


def _quarantine(part, step):
    bad = good_readings(step)
    bad[0]["value"] = "99"
    part_advance(part=part, step=step.pk, measurements=bad)
    part.refresh_from_db()
    assert part.status == PartStatus.QUARANTINED


def test_rework_sends_the_part_back_and_counts_attempts_up_to_the_limit(tenant):
    wo, route, [part] = _at_second_step(tenant)
    with tenant_context(tenant):
        part_type_update(part_type=part.part_type, version=part.part_type.version, data={"max_rework_attempts": 2})
        for attempt in (1, 2):
            _quarantine(part, route[1])
            part_rework(part=part, to_step=route[0], reason=f"Regrind {attempt}")
            assert part.status == PartStatus.IN_PROCESS and part.current_step_id == route[0].pk
            assert part_rework_attempts(part=part) == attempt
            part_advance(part=part, step=route[0].pk, measurements=good_readings(route[0]))
        log = StepTransitionLog.objects.filter(part=part, action=TransitionAction.REWORK).order_by("pk").last()
        assert (log.from_step_id, log.to_step_id, log.note) == (route[1].pk, route[0].pk, "Regrind 2")
        assert OutboxEvent.objects.filter(name="mes.part.reworked", payload__part_id=part.pk).count() == 2
        _quarantine(part, route[1])
        with pytest.raises(Conflict, match="limit"):
            part_rework(part=part, to_step=route[0], reason="Third time")
        assert part_rework_attempts(part=part) == 2


def test_rework_goes_only_to_earlier_steps_or_a_rework_loop(tenant):
    wo, route, [part] = _at_second_step(tenant)
    with tenant_context(tenant):
        assert [s.pk for s in rework_steps(part=part)] == [route[0].pk, route[1].pk]
        with pytest.raises(InvalidInput) as e:
            part_rework(part=part, to_step=route[2], reason="Forward is not rework")
        assert "to_step" in e.value.fields
        with pytest.raises(InvalidInput) as e:
            part_rework(part=part, to_step=route[0], reason="")
        assert "reason" in e.value.fields
        StepEdge.objects.create(process=wo.process, from_step=route[1], to_step=route[2], kind=EdgeKind.REWORK)
        assert route[2].pk in {s.pk for s in rework_steps(part=part)}
        part_rework(part=part, to_step=route[2], reason="Rework cell")
        assert part.current_step_id == route[2].pk


def test_rework_of_a_held_part_asks_the_release_guards(tenant):
    wo, route, [part] = _at_second_step(tenant)
    guard = lambda parts, **kw: "Under review." if any(p.pk == part.pk for p in parts) else None  # noqa: E731
    add_guard("mes.part.release", guard)
    try:
        with tenant_context(tenant):
            part_hold(part=part, reason="Suspect")
            with pytest.raises(Blocked, match="Under review"):
                part_rework(part=part, to_step=route[0], reason="x")
            with pytest.raises(Blocked):
                part_accept(part=part, reason="x")
    finally:
        remove_guard("mes.part.release", guard)


def test_accepting_a_quarantined_part_moves_it_on_as_its_advance_would_have(tenant):
    wo, route, [part] = _at_second_step(tenant)
    with tenant_context(tenant):
        _quarantine(part, route[1])
        part_hold(part=part, reason="Review board")
        part_accept(part=part, reason="Accepted by the review board")
        assert part.status == PartStatus.IN_PROCESS and part.current_step_id == route[2].pk
        assert part.held_from_status == ""
        log = StepTransitionLog.objects.filter(part=part).order_by("pk").last()
        assert log.action == TransitionAction.ACCEPT and log.from_status == PartStatus.ON_HOLD


def test_a_returned_part_leaves_the_order_count(tenant):
    wo, route, parts = _at_second_step(tenant, quantity=2)
    with tenant_context(tenant):
        part_return(part=parts[0], reason="RMA-1 to the casting supplier")
        assert parts[0].status == PartStatus.RETURNED
        for step in route[1:]:
            part_advance(part=parts[1], step=step.pk, measurements=good_readings(step))
        progress = work_order_board(work_order=wo)
        assert progress["by_status"]["returned"] == 1 and progress["percent_complete"] == 100.0
        wo.refresh_from_db()
        work_order_complete(work_order=wo)
        with pytest.raises(Conflict):
            part_return(part=parts[0], reason="again")
