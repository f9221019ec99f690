"""Orders and work orders: their lifecycles, and the creation of a work order's serialized parts."""

from __future__ import annotations

import re
from datetime import date

from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.registry import run_recorders
from traveler.core.services.records import record_create, record_update
from traveler.core.tenancy import audit_reason
from traveler.mes_lite.choices import (
    ORDER_TRANSITIONS,
    WORK_ORDER_TRANSITIONS,
    OrderStatus,
    PartStatus,
    ProcessStatus,
    WorkOrderStatus,
)
from traveler.mes_lite.events import (
    OrderCancelled,
    OrderCompleted,
    OrderReleased,
    PartsCreated,
    WorkOrderCancelled,
    WorkOrderCompleted,
    WorkOrderReleased,
)
from traveler.mes_lite.models import Order, Part, SerialCounter, WorkOrder
from traveler.mes_lite.services.parts import part_hold, part_scrap
from traveler.mes_lite.services.routing import route_steps


def _transition(obj, table: dict[str, set[str]], action: str) -> None:
    if obj.status not in table[action]:
        allowed = ", ".join(sorted(table[action]))
        raise Conflict(f"{type(obj)._meta.verbose_name.capitalize()} {obj} is {obj.get_status_display().lower()}; "
                       f"it can be {action}d only when {allowed}.",
                       fields={"status": [obj.status]})


def _set_status(obj, status: str, *, expected: str, reason: str | None, **extra) -> None:
    model = type(obj)
    with audit_reason(reason):
        n = model.objects.filter(pk=obj.pk, status=expected).update(
            status=status, version=F("version") + 1, updated_at=timezone.now(), **extra)
    if n == 0:
        raise Conflict(f"{model._meta.verbose_name.capitalize()} {obj} changed meanwhile; reload it.")
    obj.refresh_from_db()


# Orders ----------------------------------------------------------------------------------------

def order_create(*, data: dict, reason: str | None = None) -> Order:
    data = {k: v for k, v in data.items() if k not in {"status", "completed_at"}}
    return record_create(Order, data=data, reason=reason)


def order_update(*, order: Order, version: int | None, data: dict, reason: str | None = None) -> Order:
    if order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
        raise Conflict(f"Order {order} is {order.get_status_display().lower()} and can no longer change.")
    data = {k: v for k, v in data.items() if k not in {"status", "completed_at"}}
    return record_update(order, version=version, data=data, reason=reason)


def order_release(*, order: Order, reason: str | None = None) -> Order:
    _transition(order, ORDER_TRANSITIONS, "release")
    with transaction.atomic():
        _set_status(order, OrderStatus.RELEASED, expected=order.status, reason=reason)
        publish(OrderReleased(order_id=order.pk))
    return order


def order_complete(*, order: Order, reason: str | None = None) -> Order:
    """Complete an order whose work orders are all completed or cancelled, at least one completed (an
    order whose work orders were all cancelled delivered nothing: cancel it instead)."""
    _transition(order, ORDER_TRANSITIONS, "complete")
    with transaction.atomic():
        work_orders = WorkOrder.objects.filter(order=order, archived_at__isnull=True)
        open_wos = list(work_orders.exclude(status__in=[WorkOrderStatus.COMPLETED, WorkOrderStatus.CANCELLED])
                        .values_list("number", flat=True)[:10])
        if open_wos:
            raise Conflict(f"Order {order} still has open work orders: {', '.join(open_wos)}.",
                           fields={"work_orders": open_wos})
        if work_orders.exists() and not work_orders.filter(status=WorkOrderStatus.COMPLETED).exists():
            raise Conflict(f"Every work order of order {order} is cancelled: nothing was delivered. Cancel the "
                           "order instead.", fields={"work_orders": ["all cancelled"]})
        _set_status(order, OrderStatus.COMPLETED, expected=order.status, reason=reason, completed_at=timezone.now())
        publish(OrderCompleted(order_id=order.pk))
    return order


def order_cancel(*, order: Order, reason: str | None, unfinished_parts: str, version: int | None = None) -> Order:
    """Cancel an order: each of its open work orders is cancelled as ``work_order_cancel`` does, with
    the same reason and the same choice for their unfinished parts, then the order; all or nothing."""
    reason = _cancel_reason(reason)
    _unfinished_choice(unfinished_parts)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        _transition(locked, ORDER_TRANSITIONS, "cancel")
        _check_version(locked, version)
        open_wos = list(WorkOrder.objects.filter(order=order).exclude(
            status__in=[WorkOrderStatus.COMPLETED, WorkOrderStatus.CANCELLED]).order_by("pk"))
        for wo in open_wos:
            work_order_cancel(work_order=wo, reason=reason, unfinished_parts=unfinished_parts)
        _set_status(order, OrderStatus.CANCELLED, expected=locked.status, reason=reason)
        publish(OrderCancelled(order_id=order.pk, work_orders=len(open_wos)))
    return order


# Work orders -----------------------------------------------------------------------------------

def _check_work_order(data: dict) -> None:
    process, part_type = data.get("process"), data.get("part_type")
    if process is not None:
        if part_type is None:
            data["part_type"] = part_type = process.part_type
        if process.part_type_id != part_type.pk:
            raise InvalidInput(f"Process {process} is not a route for {part_type}.", fields={"process": ["other part type"]})
        if process.status != ProcessStatus.RELEASED:
            raise InvalidInput(f"Process {process} is {process.get_status_display().lower()}: work orders use a "
                               "released process.", fields={"process": ["not released"]})
    quantity = data.get("quantity")
    if quantity is not None and (not isinstance(quantity, int) or quantity <= 0):
        raise InvalidInput("The quantity must be a whole number above zero.", fields={"quantity": ["must be > 0"]})
    order = data.get("order")
    if order is not None and order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
        raise InvalidInput(f"Order {order} is {order.get_status_display().lower()}.", fields={"order": ["closed"]})


def work_order_create(*, data: dict, reason: str | None = None) -> WorkOrder:
    data = {k: v for k, v in data.items() if k not in {"status", "completed_at"}}
    _check_work_order(data)
    return record_create(WorkOrder, data=data, reason=reason)


def work_order_update(*, workorder: WorkOrder, version: int | None, data: dict, reason: str | None = None) -> WorkOrder:
    if workorder.status != WorkOrderStatus.DRAFT:
        allowed = {"expected_completion", "erp_id"}
        if set(data) - allowed:
            raise Conflict(f"Work order {workorder} is {workorder.get_status_display().lower()}: only the expected "
                           "completion and ERP id can change now.")
    data = {k: v for k, v in data.items() if k not in {"status", "completed_at"}}
    merged = {"process": data.get("process", workorder.process), "part_type": data.get("part_type", workorder.part_type),
              "quantity": data.get("quantity", workorder.quantity), "order": data.get("order", workorder.order)}
    _check_work_order(merged)
    existing = Part.objects.filter(work_order=workorder).count()
    if merged["quantity"] < existing:
        raise InvalidInput(f"Work order {workorder} already has {existing} parts.", fields={"quantity": [f">= {existing}"]})
    return record_update(workorder, version=version, data=data, reason=reason)


def work_order_release(*, work_order: WorkOrder, reason: str | None = None) -> WorkOrder:
    _transition(work_order, WORK_ORDER_TRANSITIONS, "release")
    with transaction.atomic():
        _set_status(work_order, WorkOrderStatus.RELEASED, expected=work_order.status, reason=reason)
        if work_order.order_id and Order.objects.filter(pk=work_order.order_id, status=OrderStatus.DRAFT).update(
                status=OrderStatus.RELEASED, version=F("version") + 1, updated_at=timezone.now()):
            publish(OrderReleased(order_id=work_order.order_id))
        publish(WorkOrderReleased(work_order_id=work_order.pk))
    return work_order


def work_order_complete(*, work_order: WorkOrder, reason: str | None = None) -> WorkOrder:
    _transition(work_order, WORK_ORDER_TRANSITIONS, "complete")
    with transaction.atomic():
        counts = Part.objects.filter(work_order=work_order).aggregate(
            total=Count("pk"), done=Count("pk", filter=Q(status=PartStatus.COMPLETED)),
            scrapped=Count("pk", filter=Q(status=PartStatus.SCRAPPED)),
            returned=Count("pk", filter=Q(status=PartStatus.RETURNED)))
        open_parts = counts["total"] - counts["done"] - counts["scrapped"] - counts["returned"]
        if open_parts:
            raise Conflict(f"Work order {work_order} has {open_parts} part(s) still in work.",
                           fields={"parts": [f"{open_parts} open"]})
        _set_status(work_order, WorkOrderStatus.COMPLETED, expected=work_order.status, reason=reason,
                    completed_at=timezone.now())
        publish(WorkOrderCompleted(work_order_id=work_order.pk, completed=counts["done"], scrapped=counts["scrapped"]))
    return work_order


UNFINISHED_PARTS = {
    "scrap": "Scrap the unfinished parts",
    "release": "Put them on hold (released from production)",
}


def _cancel_reason(reason: str | None) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Give the reason for the cancellation.", fields={"reason": ["required"]})
    return reason.strip()


def _unfinished_choice(choice: str) -> None:
    if choice not in UNFINISHED_PARTS:
        raise InvalidInput("Say what happens to the unfinished parts: scrap or release.",
                           fields={"unfinished_parts": ["scrap or release"]})


def _check_version(obj, version: int | None) -> None:
    if version is not None and obj.version != version:
        raise Conflict(f"{type(obj)._meta.verbose_name.capitalize()} {obj} changed since you read it; reload it.",
                       fields={"version": [f"current {obj.version}"]})


def unfinished_parts_of(work_orders) -> models.QuerySet:
    """Parts of ``work_orders`` (a work order or a queryset of them) neither completed, scrapped nor
    returned to their supplier."""
    if isinstance(work_orders, WorkOrder):
        work_orders = [work_orders.pk]
    return Part.objects.filter(work_order__in=work_orders).exclude(
        status__in=[PartStatus.COMPLETED, PartStatus.SCRAPPED, PartStatus.RETURNED])


def work_order_cancel(*, work_order: WorkOrder, reason: str | None, unfinished_parts: str,
                      version: int | None = None) -> WorkOrder:
    """Cancel a work order; its unfinished parts are scrapped (``"scrap"``) or put on hold
    (``"release"``: released from production as they are, for a QA decision). All or nothing.

    Parts of a cancelled work order cannot be advanced (see ``cancelled_work_order_guard``).
    """
    reason = _cancel_reason(reason)
    _unfinished_choice(unfinished_parts)
    part_reason = f"Work order {work_order.number} cancelled: {reason}"
    scrapped = held = 0
    with transaction.atomic():
        # Locked, and checked as it is now: no part of it is created meanwhile.
        locked = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
        _transition(locked, WORK_ORDER_TRANSITIONS, "cancel")
        _check_version(locked, version)
        for part in unfinished_parts_of(work_order).order_by("pk"):
            if unfinished_parts == "scrap":
                part_scrap(part=part, reason=part_reason)
                scrapped += 1
            else:
                if part.status != PartStatus.ON_HOLD:
                    part_hold(part=part, reason=part_reason)
                held += 1
        _set_status(work_order, WorkOrderStatus.CANCELLED, expected=locked.status, reason=reason)
        publish(WorkOrderCancelled(work_order_id=work_order.pk, scrapped=scrapped, held=held))
    return work_order


# Serial numbers --------------------------------------------------------------------------------

TOKEN = re.compile(r"\{([a-z]+)(?::0?(\d+))?\}")
DATE_TOKENS = {"yyyy": "%Y", "yy": "%y", "mm": "%m", "dd": "%d"}


def serial_pattern_parse(pattern: str, *, work_order: WorkOrder, today: date | None = None) -> tuple[str, int]:
    """Split ``pattern`` into the counter key (everything but the sequence rendered) and the width.

    Tokens: {yyyy} {yy} {mm} {dd} {wo} (work order number) {pn} (part number) and exactly one
    {seq} or {seq:0N}. Anything else cannot be trusted to give unique serials and is refused.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise InvalidInput("Give a serial-number pattern, e.g. INJ-{yyyy}-{seq:05}.", fields={"pattern": ["required"]})
    if len(pattern) > 80:
        raise InvalidInput("A serial-number pattern is at most 80 characters.", fields={"pattern": ["too long"]})
    today = today or timezone.now().date()
    seqs = [m for m in TOKEN.finditer(pattern) if m.group(1) == "seq"]
    if len(seqs) != 1:
        raise InvalidInput(
            "The pattern cannot produce unique serial numbers: it needs exactly one {seq} (for example "
            "INJ-{yyyy}-{seq:05}).", fields={"pattern": ["needs one {seq}"]})
    width = int(seqs[0].group(2) or 1)
    if width > 12:
        raise InvalidInput("{seq} is at most 12 digits wide.", fields={"pattern": ["seq too wide"]})

    def render(m: re.Match) -> str:
        name = m.group(1)
        if name == "seq":
            return "{seq}"
        if name in DATE_TOKENS:
            return today.strftime(DATE_TOKENS[name])
        if name == "wo":
            return work_order.number
        if name == "pn":
            return work_order.part_type.part_number
        raise InvalidInput(f"Unknown token {{{name}}} in the pattern; use {{yyyy}}, {{yy}}, {{mm}}, {{dd}}, {{wo}}, "
                           "{pn} and {seq}.", fields={"pattern": [f"unknown token {name}"]})

    key = TOKEN.sub(render, pattern)
    leftover = key.replace("{seq}", "")
    if "{" in leftover or "}" in leftover:
        raise InvalidInput("The pattern has an unmatched brace.", fields={"pattern": ["unmatched brace"]})
    return key, width


def work_order_create_parts(*, work_order: WorkOrder, pattern: str, quantity: int | None = None,
                            reason: str | None = None) -> list[Part]:
    """Create serialized parts for a released work order, at the first step of its route, numbered in
    the work order from 1 (``sequence``). The recorders of ``"mes.part.created"`` then run in the same
    transaction with ``parts``, ``work_order`` and ``step`` (the first step)."""
    if work_order.status not in (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS):
        raise Conflict(f"Work order {work_order} is {work_order.get_status_display().lower()}: release it first.")
    key, width = serial_pattern_parse(pattern, work_order=work_order)
    with transaction.atomic(), audit_reason(reason):
        locked = WorkOrder.objects.select_for_update().filter(pk=work_order.pk).first()
        if locked.status not in (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS):  # cancelled meanwhile
            raise Conflict(f"Work order {work_order} is {locked.get_status_display().lower()}: no parts can be "
                           "created for it.")
        counted = Part.objects.filter(work_order=work_order).aggregate(n=Count("pk"), last=models.Max("sequence"))
        existing, last = counted["n"], counted["last"] or 0
        remaining = work_order.quantity - existing
        quantity = remaining if quantity is None else quantity
        if not isinstance(quantity, int) or quantity <= 0:
            raise InvalidInput("The number of parts must be above zero.", fields={"quantity": ["must be > 0"]})
        if quantity > remaining:
            raise InvalidInput(f"Work order {work_order} is for {work_order.quantity} parts and has {existing}: at most "
                               f"{remaining} more.", fields={"quantity": [f"at most {remaining}"]})
        first = route_steps(work_order.process)[0]
        counter, _ = SerialCounter.objects.get_or_create(key=key)
        counter = SerialCounter.objects.select_for_update().get(pk=counter.pk)
        start = counter.last_value + 1
        end = counter.last_value + quantity
        if len(str(end)) > width and "{seq:" in pattern:
            raise InvalidInput(
                f"The pattern allows {10 ** width - 1} serial numbers and {counter.last_value} are used: it cannot "
                f"produce {quantity} more unique ones. Widen {{seq}} or change the prefix.",
                fields={"pattern": ["sequence exhausted"]})
        serials = [key.replace("{seq}", str(n).zfill(width)) for n in range(start, end + 1)]
        taken = list(Part.objects.filter(part_type=work_order.part_type, serial_number__in=serials)
                     .values_list("serial_number", flat=True)[:5])
        if taken:
            raise InvalidInput(f"The pattern would repeat serial numbers already in use: {', '.join(taken)}.",
                               fields={"pattern": ["serials in use"]})
        SerialCounter.objects.filter(pk=counter.pk).update(last_value=end, version=F("version") + 1)
        try:
            parts = Part.objects.bulk_create([
                Part(part_type=work_order.part_type, serial_number=s, process=work_order.process, order=work_order.order,
                     work_order=work_order, sequence=last + i, current_step=first, status=PartStatus.PENDING)
                for i, s in enumerate(serials, start=1)
            ])
        except IntegrityError as exc:  # a concurrent import took one of them
            raise InvalidInput("Some serial numbers were taken meanwhile; try again.",
                               fields={"pattern": ["serials in use"]}) from exc
        run_recorders("mes.part.created", parts=parts, work_order=work_order, step=first)
        publish(PartsCreated(work_order_id=work_order.pk, count=len(parts), first_serial=serials[0],
                             last_serial=serials[-1]))
    return parts
