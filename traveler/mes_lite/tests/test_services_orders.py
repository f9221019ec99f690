"""Cancelling work orders and orders, and completing orders, through the services."""

import pytest

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.models import History, OutboxEvent
from traveler.core.tenancy import tenant_context
from traveler.mes_lite.choices import OrderStatus, PartStatus, WorkOrderStatus
from traveler.mes_lite.models import Order, Part, StepTransitionLog, WorkOrder
from traveler.mes_lite.services import orders as order_services
from traveler.mes_lite.services.orders import order_cancel, order_complete, work_order_cancel, work_order_complete
from traveler.mes_lite.services.parts import Blocked, part_advance, part_hold, part_release, part_scrap
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_order, make_work_order

pytestmark = pytest.mark.django_db


def parts(wo) -> list[Part]:
    return list(Part.objects.filter(work_order=wo).order_by("serial_number"))


def finish(part, wo) -> None:
    for step in route_steps(wo.process):
        part_advance(part=part, step=step.pk, measurements=good_readings(step))


def last_reason(obj) -> str:
    return History.objects.filter(table_name=obj._meta.db_table, record_id=str(obj.pk)).order_by("-pk")[0].reason


def event(name, **payload) -> dict:
    return OutboxEvent.objects.get(name=name, **{f"payload__{k}": v for k, v in payload.items()}).payload


@pytest.fixture
def wo(tenant):
    """A work order of 4 parts: one completed, one scrapped, one on hold, one in process."""
    wo = make_work_order(tenant, quantity=4)
    with tenant_context(tenant):
        done, gone, held, busy = parts(wo)
        finish(done, wo)
        part_scrap(part=gone, reason="dropped")
        part_hold(part=held, reason="check the bore")
        step = route_steps(wo.process)[0]
        part_advance(part=busy, step=step.pk, measurements=good_readings(step))
    return wo


def test_cancel_scraps_the_unfinished_parts(tenant, admin, wo):
    with tenant_context(tenant, actor=admin):
        work_order_cancel(work_order=wo, reason="customer withdrew", unfinished_parts="scrap")
        assert wo.status == WorkOrderStatus.CANCELLED
        statuses = [p.status for p in parts(wo)]
        assert statuses == [PartStatus.COMPLETED, PartStatus.SCRAPPED, PartStatus.SCRAPPED, PartStatus.SCRAPPED]
        held, busy = parts(wo)[2:]
        note = f"Work order {wo.number} cancelled: customer withdrew"
        assert held.status_reason == busy.status_reason == note
        assert StepTransitionLog.objects.filter(part__in=[held, busy], action="scrap", note=note).count() == 2
        assert last_reason(wo) == "customer withdrew"
        assert event("mes.work_order.cancelled", work_order_id=wo.pk) == {
            "work_order_id": wo.pk, "scrapped": 2, "held": 0}


def test_cancel_releasing_puts_the_unfinished_parts_on_hold(tenant, wo):
    with tenant_context(tenant):
        work_order_cancel(work_order=wo, reason="design change", unfinished_parts="release")
        done, gone, held, busy = parts(wo)
        assert [p.status for p in parts(wo)] == [PartStatus.COMPLETED, PartStatus.SCRAPPED, PartStatus.ON_HOLD,
                                                 PartStatus.ON_HOLD]
        assert held.status_reason == "check the bore"  # already on hold: left as it was
        assert busy.status_reason == f"Work order {wo.number} cancelled: design change"
        assert busy.held_from_status == PartStatus.IN_PROCESS
        assert event("mes.work_order.cancelled", work_order_id=wo.pk)["held"] == 2
        assert last_reason(wo) == "design change"

        # Out of production: the hold cannot be lifted (the guard of mes.part.release, so the part never
        # advances again); scrapping stays possible.
        with pytest.raises(Blocked, match=f"Work order {wo.number} is cancelled"):
            part_release(part=busy, reason="QA: reuse later")
        assert Part.objects.get(pk=busy.pk).status == PartStatus.ON_HOLD
        part_scrap(part=held, reason="QA: scrap")


def test_cancel_is_all_or_nothing(tenant, wo, monkeypatch):
    real = order_services.part_scrap
    calls = []

    def scrap_then_fail(*, part, reason):
        calls.append(part.pk)
        if len(calls) == 2:
            raise Conflict(f"Cannot scrap {part.serial_number}.")
        return real(part=part, reason=reason)

    monkeypatch.setattr(order_services, "part_scrap", scrap_then_fail)
    with tenant_context(tenant):
        before = [(p.status, p.version) for p in parts(wo)]
        with pytest.raises(Conflict, match="Cannot scrap"):
            work_order_cancel(work_order=wo, reason="customer withdrew", unfinished_parts="scrap")
        assert len(calls) == 2  # the first part was scrapped, then rolled back
        assert [(p.status, p.version) for p in parts(wo)] == before
        assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.IN_PROGRESS
        assert not OutboxEvent.objects.filter(name="mes.work_order.cancelled").exists()
        assert OutboxEvent.objects.filter(name="mes.part.scrapped", payload__work_order_id=wo.pk).count() == 1  # "dropped"


@pytest.mark.parametrize("reason, choice, field", [
    ("", "scrap", "reason"), ("   ", "release", "reason"), (None, "scrap", "reason"),
    ("why", "", "unfinished_parts"), ("why", "keep", "unfinished_parts"),
])
def test_cancel_needs_a_reason_and_a_choice(tenant, wo, reason, choice, field):
    with tenant_context(tenant):
        with pytest.raises(InvalidInput) as exc:
            work_order_cancel(work_order=wo, reason=reason, unfinished_parts=choice)
        assert field in exc.value.fields
        assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.IN_PROGRESS
        with pytest.raises(InvalidInput) as exc:
            order_cancel(order=make_order(tenant), reason=reason, unfinished_parts=choice)
        assert field in exc.value.fields


def test_cancel_only_from_an_open_status(tenant, wo):
    with tenant_context(tenant):
        work_order_cancel(work_order=wo, reason="first", unfinished_parts="scrap")
        with pytest.raises(Conflict, match="cancelled"):
            work_order_cancel(work_order=wo, reason="again", unfinished_parts="scrap")
        with pytest.raises(Conflict):
            work_order_complete(work_order=wo)
    done = make_work_order(tenant, quantity=1)
    with tenant_context(tenant):
        finish(parts(done)[0], done)
        work_order_complete(work_order=WorkOrder.objects.get(pk=done.pk))
        with pytest.raises(Conflict, match="completed"):
            work_order_cancel(work_order=done, reason="late", unfinished_parts="scrap")


def test_no_parts_are_created_for_a_work_order_cancelled_meanwhile(tenant):
    wo = make_work_order(tenant, quantity=3, parts=False)
    with tenant_context(tenant):
        work_order_cancel(work_order=WorkOrder.objects.get(pk=wo.pk), reason="withdrawn", unfinished_parts="scrap")
        with pytest.raises(Conflict, match="cancelled"):  # ``wo`` as read before the cancellation
            order_services.work_order_create_parts(work_order=wo, pattern="LATE-{seq:03}")
        assert not Part.objects.filter(work_order=wo).exists()


def test_a_draft_work_order_is_cancelled_without_parts(tenant):
    wo = make_work_order(tenant, release=False)
    with tenant_context(tenant):
        work_order_cancel(work_order=wo, reason="not needed", unfinished_parts="release")
        assert WorkOrder.objects.get(pk=wo.pk).status == WorkOrderStatus.CANCELLED
        assert event("mes.work_order.cancelled", work_order_id=wo.pk) == {
            "work_order_id": wo.pk, "scrapped": 0, "held": 0}


def test_order_cancel_cancels_its_open_work_orders(tenant, admin):
    order = make_order(tenant)
    first = make_work_order(tenant, order=order, quantity=2)
    second = make_work_order(tenant, order=order, quantity=1)
    with tenant_context(tenant, actor=admin):
        finish(parts(second)[0], second)
        work_order_complete(work_order=WorkOrder.objects.get(pk=second.pk))
        order = Order.objects.get(pk=order.pk)
        order_cancel(order=order, reason="contract ended", unfinished_parts="scrap")
        assert order.status == OrderStatus.CANCELLED
        assert WorkOrder.objects.get(pk=first.pk).status == WorkOrderStatus.CANCELLED
        assert WorkOrder.objects.get(pk=second.pk).status == WorkOrderStatus.COMPLETED  # delivered stays delivered
        assert {p.status for p in parts(first)} == {PartStatus.SCRAPPED}
        assert last_reason(order) == last_reason(WorkOrder.objects.get(pk=first.pk)) == "contract ended"
        assert event("mes.order.cancelled", order_id=order.pk) == {"order_id": order.pk, "work_orders": 1}
        assert event("mes.work_order.cancelled", work_order_id=first.pk)["scrapped"] == 2
        with pytest.raises(Conflict):
            order_cancel(order=order, reason="again", unfinished_parts="scrap")


def test_order_complete_refuses_an_order_whose_work_orders_are_all_cancelled(tenant):
    order = make_order(tenant)
    wo = make_work_order(tenant, order=order, quantity=1)
    with tenant_context(tenant):
        work_order_cancel(work_order=wo, reason="withdrawn", unfinished_parts="scrap")
        order = Order.objects.get(pk=order.pk)
        with pytest.raises(Conflict, match="Cancel the order instead"):
            order_complete(order=order)
        assert Order.objects.get(pk=order.pk).status == OrderStatus.RELEASED


def test_order_complete_accepts_cancelled_next_to_completed_work_orders(tenant):
    order = make_order(tenant)
    kept = make_work_order(tenant, order=order, quantity=1)
    dropped = make_work_order(tenant, order=order, quantity=1)
    with tenant_context(tenant):
        finish(parts(kept)[0], kept)
        work_order_complete(work_order=WorkOrder.objects.get(pk=kept.pk))
        work_order_cancel(work_order=dropped, reason="second source", unfinished_parts="release")
        order = order_complete(order=Order.objects.get(pk=order.pk))
        assert order.status == OrderStatus.COMPLETED


def test_order_complete_without_work_orders_is_unchanged(tenant):
    order = make_order(tenant)
    with tenant_context(tenant):
        order_services.order_release(order=order)
        assert order_complete(order=order).status == OrderStatus.COMPLETED
