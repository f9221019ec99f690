"""Reads for a user: the traveler of a part, the progress of an order, the board of a work order.

Each answers with a constant number of queries whatever the number of parts.
"""

from __future__ import annotations

from django.db.models import Count

from traveler.core.access import Access, visible
from traveler.core.errors import InvalidInput
from traveler.mes_lite.choices import PART_LEFT, PartStatus
from traveler.mes_lite.models import (
    EquipmentUsage,
    MeasurementDefinition,
    Order,
    Part,
    Step,
    StepMeasurement,
    StepTransitionLog,
    WorkOrder,
)
from traveler.mes_lite.services.routing import route_steps


class AmbiguousSerial(InvalidInput):
    """A serial number is unique per part type: this one names parts of several; ``parts`` lists them."""

    def __init__(self, serial_number: str, parts: list[Part]):
        self.parts = parts
        types = ", ".join(str(p.part_type.part_number) for p in parts)
        super().__init__(f"Serial number {serial_number!r} is on parts of several part types ({types}): "
                         "say which part type.", fields={"part_type": [f"one of {types}"]})


def part_get_by_serial(*, serial_number: str, access: Access, part_type: int | None = None) -> Part | None:
    """The visible, active part with this serial number (of ``part_type`` when given); None if there
    is none; ``AmbiguousSerial`` when parts of several part types carry it and no part type is given."""
    qs = visible(Part.objects.filter(serial_number=serial_number.strip(), archived_at__isnull=True), access)
    if part_type is not None:
        qs = qs.filter(part_type=part_type)
    found = list(qs.select_related("part_type", "current_step", "work_order", "order", "process").order_by("pk")[:20])
    if len(found) > 1:
        raise AmbiguousSerial(serial_number.strip(), found)
    return found[0] if found else None


def _progress(parts_qs, process_steps: list[Step]) -> dict:
    # COUNT(*), not COUNT(id): the count then comes from the (order|work order, step, status) index alone.
    rows = parts_qs.values("current_step_id", "status").annotate(n=Count("*")).order_by()
    by_step: dict[int | None, dict[str, int]] = {}
    totals = {s: 0 for s in PartStatus.values}
    for r in rows:
        by_step.setdefault(r["current_step_id"], {})[r["status"]] = r["n"]
        totals[r["status"]] += r["n"]
    steps = []
    for s in process_steps:
        counts = by_step.get(s.pk, {})
        steps.append({"step": {"id": s.pk, "name": s.name, "sequence": s.sequence},
                      "counts": {k: counts.get(k, 0) for k in PartStatus.values},
                      # completed parts stay at the last step; "at step" is the work still there
                      "in_work": sum(v for k, v in counts.items() if k not in (PartStatus.COMPLETED, *PART_LEFT))})
    total = sum(totals.values())
    done = totals[PartStatus.COMPLETED]
    # Percent complete is over the parts still to deliver: scrapped and returned parts are counted
    # apart (``by_status.scrapped``, ``by_status.returned``), so that a finished order with a scrapped
    # part reads 100 %.
    to_deliver = total - sum(totals[s] for s in PART_LEFT)
    return {"total": total, "by_status": totals, "steps": steps,
            "percent_complete": round(100.0 * done / to_deliver, 1) if to_deliver else 0.0}


def order_progress(*, order: Order) -> dict:
    """Parts of an order per step and status: the order's 'pizza tracker'."""
    wos = list(WorkOrder.objects.filter(order=order, archived_at__isnull=True).select_related("process"))
    processes = {wo.process_id: wo.process for wo in wos}
    steps: list[Step] = []
    for process in processes.values():
        steps.extend(route_steps(process, strict=False))
    result = _progress(Part.objects.filter(order=order, archived_at__isnull=True), steps)
    result["order"] = {"id": order.pk, "number": order.number, "status": order.status,
                       "estimated_completion": order.estimated_completion}
    result["work_orders"] = [{"id": wo.pk, "number": wo.number, "status": wo.status, "quantity": wo.quantity}
                             for wo in wos]
    return result


def work_order_board(*, work_order: WorkOrder) -> dict:
    result = _progress(Part.objects.filter(work_order=work_order, archived_at__isnull=True),
                       route_steps(work_order.process, strict=False))
    result["work_order"] = {"id": work_order.pk, "number": work_order.number, "status": work_order.status,
                            "quantity": work_order.quantity}
    return result


def part_traveler(*, part: Part) -> dict:
    """Everything an operator or auditor sees for one part: route, position, history, what to measure."""
    route = route_steps(part.process, strict=False)
    defs = list(MeasurementDefinition.objects.filter(step__process=part.process_id, archived_at__isnull=True)
                .order_by("step__sequence", "sequence"))
    transitions = list(StepTransitionLog.objects.filter(part=part).select_related("operator", "from_step", "to_step")
                       .order_by("transition_time", "pk"))
    measurements = list(StepMeasurement.objects.filter(part=part).select_related("definition")
                        .order_by("recorded_at", "pk"))
    usages = list(EquipmentUsage.objects.filter(part=part).select_related("equipment", "step", "operator")
                  .order_by("start_time", "pk"))
    current_index = next((i for i, s in enumerate(route) if s.pk == part.current_step_id), None)
    return {
        "part": part,
        "route": [{"step": s, "state": ("done" if current_index is not None and i < current_index else
                                        "current" if i == current_index else "ahead"),
                   "definitions": [d for d in defs if d.step_id == s.pk]} for i, s in enumerate(route)],
        "required_here": [d for d in defs if d.step_id == part.current_step_id],
        "transitions": transitions,
        "measurements": measurements,
        "equipment_usages": usages,
    }
