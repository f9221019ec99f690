"""Designing routes: part types, processes (versioned), steps, edges, measurement definitions.

A process is edited while it is a draft. ``process_release`` freezes it; changing a released route
means ``process_new_version`` (a draft copy), editing that, and releasing it in turn.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.services.records import record_create, record_update
from traveler.core.tenancy import audit_reason, current_actor
from traveler.mes_lite.choices import EdgeKind, MeasurementKind, ProcessStatus
from traveler.mes_lite.events import ProcessReleased
from traveler.mes_lite.models import MeasurementDefinition, PartType, Process, Step, StepEdge


def part_type_create(*, data: dict, reason: str | None = None) -> PartType:
    return record_create(PartType, data=data, reason=reason)


def part_type_update(*, part_type: PartType, version: int | None, data: dict, reason: str | None = None) -> PartType:
    return record_update(part_type, version=version, data=data, reason=reason)


def _editable(process: Process) -> None:
    if process.status != ProcessStatus.DRAFT:
        raise Conflict(
            f"{process} is {process.get_status_display().lower()}: a released process is never edited in place. "
            "Make a new version and edit that.")


def process_create(*, data: dict, reason: str | None = None) -> Process:
    data = {k: v for k, v in data.items() if k not in {"status", "version", "route_version", "released_at", "released_by"}}
    part_type = data.get("part_type")
    if part_type is not None and data.get("name"):
        latest = Process.objects.filter(part_type=part_type, name=data["name"]).aggregate(v=Max("route_version"))["v"]
        if latest:
            raise InvalidInput(f"A process named {data['name']!r} exists for this part type: make a new version of it.",
                               fields={"name": ["exists; use new-version"]})
    return record_create(Process, data=data, reason=reason)


def process_update(*, process: Process, version: int | None, data: dict, reason: str | None = None) -> Process:
    _editable(process)
    data = {k: v for k, v in data.items() if k in {"name"}}
    return record_update(process, version=version, data=data, reason=reason)


def step_add(*, process: Process, name: str, description: str = "", sequence: int | None = None,
             link: bool = True, reason: str | None = None) -> Step:
    """Add a step; with ``link`` it is appended to the route after the current last step."""
    _editable(process)
    if not (name or "").strip():
        raise InvalidInput("A step needs a name.", fields={"name": ["required"]})
    with transaction.atomic(), audit_reason(reason):
        Process.objects.select_for_update().filter(pk=process.pk).first()
        last = Step.objects.filter(process=process, archived_at__isnull=True).order_by("-sequence").first()
        if sequence is None:
            sequence = (last.sequence + 10) if last else 10
        elif Step.objects.filter(process=process, sequence=sequence).exists():
            raise InvalidInput(f"Sequence {sequence} is taken in this process.", fields={"sequence": ["taken"]})
        step = Step.objects.create(process=process, name=name.strip(), description=description, sequence=sequence)
        if link and last is not None and last.sequence < sequence:
            tail = _route_tail(process, exclude=step)
            if tail is not None:
                StepEdge.objects.create(process=process, from_step=tail, to_step=step, kind=EdgeKind.NEXT)
    return step


def step_update(*, step: Step, version: int | None, data: dict, reason: str | None = None) -> Step:
    _editable(step.process)
    data = {k: v for k, v in data.items() if k in {"name", "description"}}
    return record_update(step, version=version, data=data, reason=reason)


def edge_add(*, process: Process, from_step: Step, to_step: Step, kind: str = EdgeKind.NEXT) -> StepEdge:
    _editable(process)
    if from_step.process_id != process.pk or to_step.process_id != process.pk:
        raise InvalidInput("Both steps must belong to this process.", fields={"to_step": ["other process"]})
    if kind == EdgeKind.NEXT and StepEdge.objects.filter(from_step=from_step, kind=EdgeKind.NEXT,
                                                         archived_at__isnull=True).exists():
        raise InvalidInput(f"Step {from_step} already has a next step.", fields={"from_step": ["has a next step"]})
    return record_create(StepEdge, data={"process": process, "from_step": from_step, "to_step": to_step, "kind": kind})


def _route_tail(process: Process, exclude: Step | None = None) -> Step | None:
    route = route_steps(process, strict=False)
    route = [s for s in route if exclude is None or s.pk != exclude.pk]
    return route[-1] if route else None


def route_steps(process: Process, *, strict: bool = True) -> list[Step]:
    """The steps a part visits, first to last, following the ``next`` edges.

    With ``strict``, raise when the route is not one chain covering every step (no start, a fork,
    a cycle, or a step off the route).
    """
    steps = {s.pk: s for s in Step.objects.filter(process=process, archived_at__isnull=True)}
    nxt = {e.from_step_id: e.to_step_id for e in StepEdge.objects.filter(
        process=process, kind=EdgeKind.NEXT, archived_at__isnull=True)}
    targets = set(nxt.values())
    starts = sorted((s for s in steps.values() if s.pk not in targets), key=lambda s: s.sequence)
    if not steps:
        if strict:
            raise InvalidInput(f"{process} has no steps.", fields={"steps": ["empty"]})
        return []
    if not starts:
        if strict:
            raise InvalidInput(f"The route of {process} is a loop with no first step.", fields={"steps": ["cycle"]})
        return sorted(steps.values(), key=lambda s: s.sequence)
    route, seen, cur = [], set(), starts[0].pk
    while cur is not None and cur not in seen and cur in steps:
        seen.add(cur)
        route.append(steps[cur])
        cur = nxt.get(cur)
    if strict:
        if len(starts) > 1 or len(route) != len(steps):
            off = sorted(s.name for s in steps.values() if s.pk not in seen)
            raise InvalidInput(f"Every step must be on one route from the first step to the last; not on it: "
                               f"{', '.join(off)}.", fields={"steps": ["not one route"]})
        if cur is not None:
            raise InvalidInput(f"The route of {process} loops back to a step it already passed.",
                               fields={"steps": ["cycle"]})
    return route


def next_step(step: Step) -> Step | None:
    edge = StepEdge.objects.filter(from_step=step, kind=EdgeKind.NEXT, archived_at__isnull=True) \
        .select_related("to_step").first()
    return edge.to_step if edge else None


def _number(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value))
    except Exception as exc:
        raise InvalidInput(f"{field} must be a number.", fields={field: ["not a number"]}) from exc
    if not d.is_finite():
        raise InvalidInput(f"{field} must be a finite number.", fields={field: ["not finite"]})
    return d


def measurement_definition_add(*, step: Step, data: dict, reason: str | None = None) -> MeasurementDefinition:
    _editable(step.process)
    data = dict(data)
    kind = data.get("kind") or MeasurementKind.NUMERIC
    if kind not in MeasurementKind.values:
        raise InvalidInput(f"kind must be one of {', '.join(MeasurementKind.values)}.", fields={"kind": ["invalid"]})
    if kind == MeasurementKind.NUMERIC:
        for f in ("nominal", "upper_tol", "lower_tol"):
            data[f] = _number(data.get(f), f)
            if data[f] is None:
                raise InvalidInput(f"A numeric measurement needs {f}.", fields={f: ["required for numeric"]})
        for f in ("upper_tol", "lower_tol"):
            if data[f] < 0:
                raise InvalidInput(f"{f} is a deviation from nominal and cannot be negative.",
                                   fields={f: ["must be 0 or more"]})
    else:
        data.update(nominal=None, upper_tol=None, lower_tol=None)
    if not (data.get("label") or "").strip():
        raise InvalidInput("A measurement needs a label.", fields={"label": ["required"]})
    if data.get("sequence") is None:
        last = MeasurementDefinition.objects.filter(step=step).aggregate(m=Max("sequence"))["m"] or 0
        data["sequence"] = last + 1
    data["kind"] = kind
    return record_create(MeasurementDefinition, data={**data, "step": step}, reason=reason)


def process_release(*, process: Process, reason: str | None = None) -> Process:
    """Freeze a draft: its route must be one chain and every numeric measurement fully specified."""
    _editable(process)
    with transaction.atomic(), audit_reason(reason):
        route_steps(process, strict=True)
        # An earlier released version of the same process becomes obsolete: new work uses this one.
        Process.objects.filter(part_type=process.part_type, name=process.name, status=ProcessStatus.RELEASED) \
            .exclude(pk=process.pk).update(status=ProcessStatus.OBSOLETE, version=F("version") + 1, updated_at=timezone.now())
        n = Process.objects.filter(pk=process.pk, status=ProcessStatus.DRAFT).update(
            status=ProcessStatus.RELEASED, released_at=timezone.now(), released_by=current_actor(),
            version=F("version") + 1, updated_at=timezone.now())
        if n == 0:
            raise Conflict(f"{process} was released by someone else meanwhile.")
        process.refresh_from_db()
        publish(ProcessReleased(process_id=process.pk, part_type_id=process.part_type_id, version=process.route_version))
    return process


def process_new_version(*, process: Process, reason: str | None = None) -> Process:
    """A draft copy of ``process`` (steps, edges, measurement definitions) with the next version number."""
    with transaction.atomic(), audit_reason(reason):
        latest = Process.objects.filter(part_type=process.part_type, name=process.name) \
            .aggregate(v=Max("route_version"))["v"]
        if Process.objects.filter(part_type=process.part_type, name=process.name, status=ProcessStatus.DRAFT).exists():
            raise Conflict(f"A draft version of {process.name} exists already: edit or release it first.")
        new = Process.objects.create(part_type=process.part_type, name=process.name, route_version=latest + 1,
                                     previous=process)
        mapping = {}
        for step in Step.objects.filter(process=process, archived_at__isnull=True).order_by("sequence"):
            mapping[step.pk] = Step.objects.create(process=new, sequence=step.sequence, name=step.name,
                                                   description=step.description)
        for edge in StepEdge.objects.filter(process=process, archived_at__isnull=True):
            StepEdge.objects.create(process=new, from_step=mapping[edge.from_step_id], to_step=mapping[edge.to_step_id],
                                    kind=edge.kind)
        MeasurementDefinition.objects.bulk_create([
            MeasurementDefinition(step=mapping[d.step_id], sequence=d.sequence, label=d.label, kind=d.kind, unit=d.unit,
                                  nominal=d.nominal, upper_tol=d.upper_tol, lower_tol=d.lower_tol, required=d.required,
                                  equipment_type_id=d.equipment_type_id)
            for d in MeasurementDefinition.objects.filter(step__process=process, archived_at__isnull=True)
        ])
    return new
