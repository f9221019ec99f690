"""Part lifecycles through the services."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.models import History, OutboxEvent
from traveler.core.registry import add_guard, remove_guard
from traveler.core.tenancy import tenant_context
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part, StepMeasurement, StepTransitionLog
from traveler.mes_lite.services.parts import (
    Blocked,
    part_advance,
    part_hold,
    part_release,
    part_scrap,
    parts_advance_bulk,
)
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_equipment, make_work_order


@pytest.fixture
def wo(tenant):
    return make_work_order(tenant, quantity=4)


def first_part(wo):
    return Part.objects.filter(work_order=wo).order_by("serial_number").first()


def test_advance_through_the_route_to_completion(tenant, admin, wo):
    with tenant_context(tenant, actor=admin):
        part = first_part(wo)
        route = route_steps(wo.process)
        for i, step in enumerate(route):
            out = part_advance(part=part, step=step.pk, measurements=good_readings(step))
            assert out["result"] == ("completed" if i == len(route) - 1 else "advanced")
        part.refresh_from_db()
        assert part.status == PartStatus.COMPLETED and part.current_step_id == route[-1].pk
        logs = list(StepTransitionLog.objects.filter(part=part).order_by("pk"))
        assert [log.action for log in logs] == ["advance", "advance", "complete"]
        assert all(log.operator_id == admin.pk for log in logs)
        assert StepMeasurement.objects.filter(part=part, in_spec=True).count() == 4  # incl. the optional one
        names = list(OutboxEvent.objects.filter(payload__part_id=part.pk).order_by("pk").values_list("name", flat=True))
        assert names == ["mes.part.advanced", "mes.part.advanced", "mes.part.completed"]
        assert History.objects.filter(table_name="mes_lite_part", record_id=str(part.pk), action="U").count() == 3
        wo.refresh_from_db()
        assert wo.status == "in_progress"


def test_out_of_spec_quarantines_instead_of_advancing(tenant, wo):
    with tenant_context(tenant):
        part = first_part(wo)
        step = route_steps(wo.process)[0]
        readings = good_readings(step)
        readings[0]["value"] = "6.0101"  # nominal 6.000 + 0.010 is the upper limit
        out = part_advance(part=part, step=step.pk, measurements=readings)
        assert out["result"] == "quarantined"
        part.refresh_from_db()
        assert part.status == PartStatus.QUARANTINED and part.current_step_id == step.pk
        assert "Bore diameter" in part.status_reason
        m = StepMeasurement.objects.get(part=part)
        assert m.value == Decimal("6.0101") and m.in_spec is False
        assert OutboxEvent.objects.filter(name="mes.part.quarantined", payload__part_id=part.pk).exists()
        with pytest.raises(Conflict, match="quarantined"):
            part_advance(part=part, step=step.pk, measurements=good_readings(step))


def test_limits_are_inclusive(tenant, wo):
    with tenant_context(tenant):
        part = first_part(wo)
        step = route_steps(wo.process)[0]
        readings = good_readings(step)
        readings[0]["value"] = "5.990"
        assert part_advance(part=part, step=step.pk, measurements=readings)["result"] == "advanced"


@pytest.mark.parametrize("mutate,field,message", [
    (lambda r, s: r.clear(), "measurements", r"Required measurement\(s\) missing"),
    (lambda r, s: r[0].update(value="six"), "measurements[0].value", "is not a number"),
    (lambda r, s: r[0].update(value=True), "measurements[0].value", "a number is needed"),
    (lambda r, s: r.append(dict(r[0])), "measurements[1].definition", "given twice"),
])
def test_bad_measurements_are_refused_and_nothing_is_written(tenant, wo, mutate, field, message):
    with tenant_context(tenant):
        part = first_part(wo)
        step = route_steps(wo.process)[0]
        readings = good_readings(step)
        mutate(readings, step)
        before = (StepTransitionLog.objects.count(), StepMeasurement.objects.count(), OutboxEvent.objects.count())
        with pytest.raises(InvalidInput, match=message) as exc:
            part_advance(part=part, step=step.pk, measurements=readings)
        assert field in exc.value.fields
        assert (StepTransitionLog.objects.count(), StepMeasurement.objects.count(), OutboxEvent.objects.count()) == before
        part.refresh_from_db()
        assert part.status == PartStatus.PENDING and part.current_step_id == step.pk


def test_measurement_of_another_step_is_refused(tenant, wo):
    with tenant_context(tenant):
        part = first_part(wo)
        first, second = route_steps(wo.process)[:2]
        with pytest.raises(InvalidInput, match="belongs to step 'Leak test'"):
            part_advance(part=part, step=first.pk, measurements=good_readings(first) + good_readings(second)[:1])


def test_part_not_at_the_claimed_step_is_a_conflict_naming_its_state(tenant, wo):
    with tenant_context(tenant):
        part = first_part(wo)
        first, second = route_steps(wo.process)[:2]
        part_advance(part=part, step=first.pk, measurements=good_readings(first))
        with pytest.raises(Conflict, match="is at step 'Leak test' with status in process"):
            part_advance(part=part, step=first.pk, measurements=good_readings(first))


def test_calibration_overdue_blocks_the_advance(tenant, wo):
    ok, overdue = make_equipment(tenant), make_equipment(tenant, overdue=True)
    with tenant_context(tenant):
        part = first_part(wo)
        step = route_steps(wo.process)[0]
        with pytest.raises(Blocked, match="Calibration overdue"):
            part_advance(part=part, step=step.pk, measurements=good_readings(step), equipment=[ok.pk, overdue.pk])
        assert part_advance(part=part, step=step.pk, measurements=good_readings(step), equipment=[ok.pk])["result"] == "advanced"
        assert part.equipment_usages.get().equipment_id == ok.pk


def test_other_modules_can_register_guards(tenant, wo):
    def no_night_shift(*, operator, **ctx):
        return "Training record missing for this step." if operator is None else None

    add_guard("mes.part.advance", no_night_shift)
    try:
        with tenant_context(tenant, actor=None):
            part = first_part(wo)
            step = route_steps(wo.process)[0]
            with pytest.raises(Blocked, match="Training record missing"):
                part_advance(part=part, step=step.pk, measurements=good_readings(step))
    finally:
        remove_guard("mes.part.advance", no_night_shift)


def test_hold_release_and_scrap(tenant, wo):
    with tenant_context(tenant):
        part = first_part(wo)
        with pytest.raises(InvalidInput, match="reason"):
            part_hold(part=part, reason="")
        part_hold(part=part, reason="suspect material lot")
        assert part.status == PartStatus.ON_HOLD and part.held_from_status == PartStatus.PENDING
        with pytest.raises(Conflict):
            part_advance(part=part, step=part.current_step_id, measurements=[])
        part_release(part=part, reason="lot cleared")
        assert part.status == PartStatus.PENDING
        part_scrap(part=part, reason="cracked casting")
        assert part.status == PartStatus.SCRAPPED
        with pytest.raises(Conflict):
            part_release(part=part, reason="again")
        actions = list(StepTransitionLog.objects.filter(part=part).order_by("pk").values_list("action", flat=True))
        assert actions == ["hold", "release", "scrap"]


def test_a_quarantined_part_keeps_its_reason_through_hold_and_release(tenant, wo):
    with tenant_context(tenant):
        part = first_part(wo)
        step = route_steps(wo.process)[0]
        readings = good_readings(step)
        readings[0]["value"] = "6.0101"
        part_advance(part=part, step=step.pk, measurements=readings)
        part.refresh_from_db()
        why = part.status_reason
        assert part.status == PartStatus.QUARANTINED and "Bore diameter" in why
        part_hold(part=part, reason="awaiting MRB")
        assert (part.status, part.status_reason) == (PartStatus.ON_HOLD, "awaiting MRB")
        assert (part.held_from_status, part.held_from_reason) == (PartStatus.QUARANTINED, why)
        for blank in (None, "", "   "):
            with pytest.raises(InvalidInput, match="reason") as exc:
                part_release(part=part, reason=blank)
            assert exc.value.fields == {"reason": ["required"]}
        part.refresh_from_db()
        assert part.status == PartStatus.ON_HOLD  # nothing half-written
        part_release(part=part, reason="MRB: stays in quarantine until disposition")
        assert (part.status, part.status_reason) == (PartStatus.QUARANTINED, why)
        assert (part.held_from_status, part.held_from_reason) == ("", "")
        release = StepTransitionLog.objects.filter(part=part).order_by("pk").last()
        assert (release.action, release.to_status, release.note) == (
            "release", PartStatus.QUARANTINED, "MRB: stays in quarantine until disposition")
        # Still a quarantined part: it cannot be advanced, but it can be held (and scrapped) again.
        with pytest.raises(Conflict):
            part_advance(part=part, step=step.pk, measurements=good_readings(step))
        part_hold(part=part, reason="second look")
        assert part.held_from_reason == why


def test_bulk_advance_all_or_nothing(tenant, wo):
    with tenant_context(tenant):
        parts = list(Part.objects.filter(work_order=wo).order_by("pk"))
        step = route_steps(wo.process)[0]
        items = [{"part": p.pk, "measurements": good_readings(step)} for p in parts]
        items[-1]["measurements"] = []  # one bad entry: nothing moves
        with pytest.raises(InvalidInput, match="missing"):
            parts_advance_bulk(work_order=wo, step=step.pk, parts=items)
        assert not StepTransitionLog.objects.filter(part__in=parts).exists()
        items[-1]["measurements"] = good_readings(step)
        items[0]["measurements"][0]["value"] = "7"  # out of spec: quarantined, not an error
        out = parts_advance_bulk(work_order=wo, step=step.pk, parts=items)
        assert out == {"advanced": 3, "completed": 0, "quarantined": 1}
        assert OutboxEvent.objects.filter(name__startswith="mes.part.", payload__work_order_id=wo.pk).count() == 4


def test_bulk_advance_refuses_parts_not_at_the_step(tenant, wo):
    with tenant_context(tenant):
        parts = list(Part.objects.filter(work_order=wo).order_by("pk"))
        first, second = route_steps(wo.process)[:2]
        part_advance(part=parts[0], step=first.pk, measurements=good_readings(first))
        with pytest.raises(Conflict, match="not waiting at 'Machine body'"):
            parts_advance_bulk(work_order=wo, step=first.pk,
                               parts=[{"part": p.pk, "measurements": good_readings(first)} for p in parts])
        assert StepTransitionLog.objects.filter(part__in=parts).count() == 1


@pytest.fixture(scope="module")
def committed(django_db_setup, django_db_blocker):
    """Data committed for real, so that two connections (two operators) can race on it."""
    from traveler.core.tests.factories import make_member, make_tenant

    with django_db_blocker.unblock():
        tenant = make_tenant("Race Tenant")
        users = [make_member(tenant, roles=["operator"]) for _ in range(2)]
        wo = make_work_order(tenant, quantity=3)
        yield tenant, users, wo
        connection.close()


def test_two_operators_advance_the_same_part_at_once(committed, django_db_blocker):
    """Exactly one wins; the other waits on the row lock, then gets 409 naming the part's new state."""
    tenant, users, wo = committed
    with django_db_blocker.unblock(), tenant_context(tenant):
        part = first_part(wo)
        step = route_steps(wo.process)[0]
        readings = good_readings(step)
    barrier = threading.Barrier(2)
    results: list = []

    def operator(user):
        with django_db_blocker.unblock():
            try:
                with tenant_context(tenant, actor=user):
                    barrier.wait(timeout=10)
                    results.append(("ok", part_advance(part=Part.objects.get(pk=part.pk), step=step.pk,
                                                       measurements=readings)["result"]))
            except Conflict as exc:
                results.append(("conflict", exc.message))
            finally:
                connection.close()

    threads = [threading.Thread(target=operator, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r[0] for r in results) == ["conflict", "ok"], results
    message = next(r[1] for r in results if r[0] == "conflict")
    assert f"Part {part.serial_number} is at step 'Leak test' with status in process" in message
    with django_db_blocker.unblock(), tenant_context(tenant):
        assert StepTransitionLog.objects.filter(part_id=part.pk).count() == 1
