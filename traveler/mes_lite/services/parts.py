"""What happens to a part: advance (with measurements and equipment), quarantine, hold, release,
scrap, complete, rework, return to supplier, accept as it is; one part at a time or many parts of a
work order at one step in one call.

Every transition writes a StepTransitionLog row and publishes an event. Before any advance, the
guards registered for ``"mes.part.advance"`` run with ``parts``, ``step``, ``equipment``,
``measured`` (the measurement definitions recorded), ``operator`` and ``today``; any reason they give
blocks the advance (MES Lite itself registers the calibration guard; later modules add training,
sampling and open dispositions), unless a waiver registered for ``"mes.part.advance"`` lifts it (an
approved override). A part measured out of specification is quarantined unless a waiver of
``"mes.part.out_of_spec"`` (given ``refusals`` of kind ``out_of_spec``, one per part) accepts it. After
the advance wrote its rows, the recorders of ``"mes.part.advance"`` run in the same transaction with the
guards' context and ``moves`` (per part: action, to step id, to status, reason), ``transitions`` (the new
log row's id by part id), ``readings`` (per part) and ``now``; the parts then show their new state. Advancing covers
completing (the advance from the last step). Anything that lets a stopped part move again (release
from hold, rework, accept as it is) first runs the guards of ``"mes.part.release"`` with ``parts``,
``operator`` and ``reason``. MES Lite has no shipping transition: a completed part is delivered
outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.text import capfirst

from traveler.core.bulk import insert_rows
from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish_many
from traveler.core.registry import Refusal, guard_check, run_recorders, waivers_apply
from traveler.core.tenancy import audit_reason, current_actor, current_tenant
from traveler.mes_lite.choices import (
    PART_TRANSITIONS,
    EdgeKind,
    MeasurementKind,
    OrderStatus,
    PartStatus,
    TransitionAction,
    WorkOrderStatus,
)
from traveler.mes_lite.events import (
    PartAccepted,
    PartAdvanced,
    PartCompleted,
    PartHeld,
    PartQuarantined,
    PartReleased,
    PartReturned,
    PartReworked,
    PartScrapped,
)
from traveler.mes_lite.models import (
    Equipment,
    EquipmentUsage,
    MeasurementDefinition,
    Order,
    Part,
    Step,
    StepEdge,
    StepMeasurement,
    StepTransitionLog,
    WorkOrder,
)

MAX_BULK = 20_000


class Blocked(Conflict):
    """A registered guard refused the transition; ``refusals`` say which blocks, each with its kind."""

    code = "blocked"

    def __init__(self, refusals: list[Refusal]):
        self.refusals = refusals
        reasons = [r.reason for r in refusals]
        super().__init__(" ".join(reasons), fields={"guards": reasons, "kinds": [r.kind for r in refusals]})


@dataclass
class _Reading:
    definition: MeasurementDefinition
    value: Decimal | None
    passed: bool | None
    in_spec: bool


def describe(part: Part) -> str:
    step = part.current_step.name if part.current_step_id and part.current_step else "no step"
    return f"part {part.serial_number} is at step '{step}' with status {part.get_status_display().lower()}"


def _parse_value(defn: MeasurementDefinition, raw: Any, field: str) -> tuple[Decimal | None, bool | None]:
    if defn.kind == MeasurementKind.PASS_FAIL:
        if isinstance(raw, bool):
            return None, raw
        text = str(raw).strip().lower()
        if text in {"pass", "passed", "ok", "true", "1", "yes"}:
            return None, True
        if text in {"fail", "failed", "nok", "false", "0", "no"}:
            return None, False
        raise InvalidInput(f"{defn.label}: give pass or fail, not {raw!r}.", fields={field: ["pass or fail"]})
    if isinstance(raw, bool) or raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput(f"{defn.label}: a number is needed{f' ({defn.unit})' if defn.unit else ''}.",
                           fields={field: ["a number is needed"]})
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{defn.label}: {raw!r} is not a number.", fields={field: ["not a number"]}) from None
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise InvalidInput(f"{defn.label}: {raw!r} is out of range.", fields={field: ["out of range"]})
    return value, None


def _readings(step: Step, definitions: dict[int, MeasurementDefinition], raw: Any, prefix: str) -> list[_Reading]:
    """Check the measurements given for one part at ``step``; every problem is a 400 naming its field."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise InvalidInput("measurements must be a list.", fields={prefix: ["must be a list"]})
    readings: dict[int, _Reading] = {}
    for j, item in enumerate(raw):
        field = f"{prefix}[{j}]"
        if not isinstance(item, dict) or "definition" not in item:
            raise InvalidInput("Each measurement names its definition and value.", fields={field: ["definition and value"]})
        try:
            def_id = int(item["definition"])
        except (TypeError, ValueError):
            raise InvalidInput("definition must be an id.", fields={f"{field}.definition": ["not an id"]}) from None
        defn = definitions.get(def_id)
        if defn is None:
            other = MeasurementDefinition.objects.filter(pk=def_id).select_related("step").first()
            where = f"step '{other.step.name}'" if other else "no step of this route"
            raise InvalidInput(f"Measurement definition {def_id} belongs to {where}, not to the current step "
                               f"'{step.name}'.", fields={f"{field}.definition": ["not of this step"]})
        if def_id in readings:
            raise InvalidInput(f"{defn.label} is given twice.", fields={f"{field}.definition": ["duplicate"]})
        value, passed = _parse_value(defn, item.get("value"), f"{field}.value")
        in_spec = defn.in_spec(passed if defn.kind == MeasurementKind.PASS_FAIL else value)
        readings[def_id] = _Reading(defn, value, passed, in_spec)
    missing = [d.label for d in definitions.values() if d.required and d.pk not in readings]
    if missing:
        raise InvalidInput(f"Required measurement(s) missing at '{step.name}': {', '.join(missing)}.",
                           fields={prefix: [f"missing: {m}" for m in missing]})
    return list(readings.values())


def _equipment(ids: Any) -> list[Equipment]:
    if not ids:
        return []
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidInput("equipment must be a list of ids.", fields={"equipment": ["list of ids"]})
    found = {e.pk: e for e in Equipment.objects.filter(pk__in=ids, archived_at__isnull=True)
                                              .select_related("equipment_type")}
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise InvalidInput(f"Unknown equipment: {', '.join(map(str, unknown))}.", fields={"equipment": ["unknown"]})
    return [found[i] for i in dict.fromkeys(ids)]


def _event(cls, part: Part, from_step_id, to_step_id, status):
    return cls(part_id=part.pk, serial_number=part.serial_number, work_order_id=part.work_order_id,
               from_step_id=from_step_id, to_step_id=to_step_id, status=status)


def _insert(model: type[models.Model], columns: dict[str, list], *, now: datetime, **same: Any) -> dict[Any, int]:
    """Insert rows of ``model`` in one statement (core's ``insert_rows``: one JSON document instead of
    ``bulk_create``'s model instances) with the columns every record has; returns the new ids by the
    first column's values (which must then be unique: the part of each log row), not by position,
    which SQL does not promise."""
    same = {"tenant": current_tenant().pk, "created_at": now, "updated_at": now, "version": 1, **same}
    return dict(insert_rows(model, columns, same=same, returning=(next(iter(columns)), "pk")))


def _advance(*, parts: list[Part], step: Step, measurements: list[Any], equipment_ids: Any,
             note: str, prefixes: list[str]) -> dict[str, list[Part]]:
    """The one advance routine behind single and bulk advance. ``parts`` are locked by the caller and
    show their new state afterwards; ``step`` carries ``next_step_id`` (see ``_step``)."""
    # Ordered explicitly: the default ordering (by step, then process, ...) would join three tables.
    definitions = {d.pk: d for d in MeasurementDefinition.objects.filter(step=step, archived_at__isnull=True)
                   .select_related("equipment_type").order_by("sequence", "pk")}
    per_part = [_readings(step, definitions, raw, prefix) for raw, prefix in zip(measurements, prefixes, strict=True)]
    equipment = _equipment(equipment_ids)
    operator = current_actor()
    now = timezone.now()
    measured = list({r.definition.pk: r.definition for readings in per_part for r in readings}.values())
    context = {"parts": parts, "step": step, "equipment": equipment, "measured": measured, "operator": operator,
               "today": timezone.localdate()}
    refusals = guard_check("mes.part.advance", **context)
    if refusals:
        raise Blocked(refusals)
    # A part measured out of specification is quarantined, unless an approved override (a waiver of
    # "out_of_spec" for that part) accepts it: it then advances, and its log row says under what.
    out_of_spec = [Refusal(f"Out of specification at '{step.name}': "
                           f"{', '.join(r.definition.label for r in readings if not r.in_spec)}.",
                           kind="out_of_spec", part_ids=(part.pk,))
                   for part, readings in zip(parts, per_part, strict=True) if not all(r.in_spec for r in readings)]
    accepted: dict[int, str] = {}
    if out_of_spec:
        standing = waivers_apply("mes.part.out_of_spec", out_of_spec, **context)
        accepted = {r.part_ids[0]: r.reason for r in out_of_spec if r not in standing}
    following = step.next_step_id
    outcome: dict[str, list[Part]] = {"advanced": [], "completed": [], "quarantined": []}
    moves = []  # (action, to step id, to status, reason) of each part
    for part, readings in zip(parts, per_part, strict=True):
        if not all(r.in_spec for r in readings) and part.pk not in accepted:
            bad = ", ".join(r.definition.label for r in readings if not r.in_spec)
            kind, move = "quarantined", (TransitionAction.QUARANTINE, step.pk, PartStatus.QUARANTINED,
                                         f"Out of specification at '{step.name}': {bad}.")
        elif following is None:
            kind, move = "completed", (TransitionAction.COMPLETE, step.pk, PartStatus.COMPLETED, "")
        else:
            kind, move = "advanced", (TransitionAction.ADVANCE, following, PartStatus.IN_PROCESS, "")
        outcome[kind].append(part)
        moves.append(move)
    operator_id = operator.pk if operator else None
    log_of = _insert(StepTransitionLog, {
        "part": [p.pk for p in parts], "action": [m[0] for m in moves], "to_step": [m[1] for m in moves],
        "from_status": [p.status for p in parts], "to_status": [m[2] for m in moves],
        "note": [note or m[3] or (f"{accepted[p.pk]} Accepted under override." if p.pk in accepted else "")
                 for p, m in zip(parts, moves, strict=True)],
    }, from_step=step.pk, operator=operator_id, transition_time=now, now=now)
    rows = [(part.pk, log_of[part.pk], r) for part, readings in zip(parts, per_part, strict=True) for r in readings]
    if rows:
        _insert(StepMeasurement, {
            "part": [p for p, _, _ in rows], "transition": [t for _, t, _ in rows],
            "definition": [r.definition.pk for _, _, r in rows], "value": [r.value for _, _, r in rows],
            "passed": [r.passed for _, _, r in rows], "in_spec": [r.in_spec for _, _, r in rows],
        }, step=step.pk, recorded_by=operator_id, recorded_at=now, now=now)
    if equipment:
        pairs = [(part.pk, log_of[part.pk], e.pk) for part in parts for e in equipment]
        _insert(EquipmentUsage, {
            "part": [p for p, _, _ in pairs], "transition": [t for _, t, _ in pairs],
            "equipment": [e for _, _, e in pairs],
        }, step=step.pk, operator=operator_id, start_time=now, end_time=now, now=now)
    # A work order (and its order) starts with the first advance of one of its parts, which is then
    # pending; a part in process has been advanced before, so its work order has started already.
    starting = [p for p in parts if p.status == PartStatus.PENDING]
    groups: dict[tuple, list[int]] = {}
    for part, (_, to_step_id, to_status, reason) in zip(parts, moves, strict=True):
        groups.setdefault((to_step_id, to_status, reason), []).append(part.pk)
        part.current_step_id, part.status, part.status_reason = to_step_id, to_status, reason  # as written below
        part.version, part.updated_at = part.version + 1, now
    for (to_step_id, to_status, reason), ids in groups.items():
        Part.objects.filter(pk__in=ids).update(current_step_id=to_step_id, status=to_status,
                                               status_reason=reason, version=F("version") + 1, updated_at=now)
    wo_ids = {p.work_order_id for p in starting if p.work_order_id}
    if wo_ids:
        WorkOrder.objects.filter(pk__in=wo_ids, status=WorkOrderStatus.RELEASED).update(
            status=WorkOrderStatus.IN_PROGRESS, version=F("version") + 1, updated_at=now)
    order_ids = {p.order_id for p in starting if p.order_id}
    if order_ids:
        Order.objects.filter(pk__in=order_ids, status=OrderStatus.RELEASED).update(
            status=OrderStatus.IN_PROGRESS, version=F("version") + 1, updated_at=now)
    run_recorders("mes.part.advance", **context, moves=moves, transitions=log_of, readings=per_part, now=now)
    events = {PartStatus.QUARANTINED: PartQuarantined, PartStatus.COMPLETED: PartCompleted}
    publish_many([_event(events.get(to_status, PartAdvanced), part, step.pk, to_step_id, to_status)
                  for part, (_, to_step_id, to_status, _) in zip(parts, moves, strict=True)])
    return outcome


def _step(**filters) -> Step | None:
    """The step, with ``next_step_id``: where its ``next`` edge leads (None after the last step)."""
    following = StepEdge.objects.filter(from_step=OuterRef("pk"), kind=EdgeKind.NEXT, archived_at__isnull=True)
    return (Step.objects.filter(**filters).annotate(next_step_id=Subquery(following.values("to_step_id")[:1]))
            .order_by("pk").first())


_VERBS = {TransitionAction.ADVANCE: "advance", TransitionAction.HOLD: "put on hold",
          TransitionAction.RELEASE: "release", TransitionAction.SCRAP: "scrap",
          TransitionAction.REWORK: "send back for rework", TransitionAction.RETURN: "return to the supplier",
          TransitionAction.ACCEPT: "accept as it is"}


def _check_at(part: Part, step_id: int | None, action: str) -> None:
    if part.status not in PART_TRANSITIONS[action]:
        raise Conflict(f"Cannot {_VERBS[action]} {part.serial_number}: {describe(part)}.",
                       fields={"status": [part.status]})
    if step_id is not None and part.current_step_id != step_id:
        raise Conflict(f"{capfirst(describe(part))}, not at the step you advanced it from. "
                       "Reload it and try again.", fields={"step": [f"part is at step {part.current_step_id}"]})


def _locked(part_id: int) -> Part:
    # No join here: after waiting for the lock, PostgreSQL rechecks only the locked row, and a joined
    # step would be the one from before the concurrent change.
    part = Part.objects.select_for_update().filter(pk=part_id).first()
    if part is None:
        raise InvalidInput("No such part.", fields={"part": ["unknown"]})
    return part


def part_advance(*, part: Part, step: int | None, measurements: list | None = None, equipment: list | None = None,
                 version: int | None = None, note: str = "") -> dict:
    """Advance one part from ``step`` (the step the operator saw it at; required to detect a race)."""
    if step is None:
        raise InvalidInput("Say which step the part is advanced from.", fields={"step": ["required"]})
    with transaction.atomic(), audit_reason(note or None):
        locked = _locked(part.pk)  # a concurrent advance of the same part waits here, then sees the new state
        _check_at(locked, step, TransitionAction.ADVANCE)
        if version is not None and locked.version != version:
            raise Conflict(f"{capfirst(describe(locked))} (changed since you read it).",
                           fields={"version": [f"current {locked.version}"]})
        outcome = _advance(parts=[locked], step=_step(pk=locked.current_step_id), measurements=[measurements],
                           equipment_ids=equipment, note=note, prefixes=["measurements"])
    # The caller's part as written (``locked`` shows it); reading it back would also drop its cached
    # relations, which the caller then reads again.
    for field in Part._meta.concrete_fields:
        setattr(part, field.attname, getattr(locked, field.attname))
    result = next(k for k, v in outcome.items() if v)
    return {"part": part, "result": result}


def parts_advance_bulk(*, work_order: WorkOrder, step: int, parts: list[dict], equipment: list | None = None,
                       note: str = "") -> dict:
    """Advance many parts of ``work_order`` at one step in one transaction: all of them, or none.

    ``parts`` is a list of ``{"part": id | "serial_number": str, "measurements": [...]}``.
    """
    if not isinstance(parts, list) or not parts:
        raise InvalidInput("Give the parts to advance.", fields={"parts": ["required"]})
    if len(parts) > MAX_BULK:
        raise InvalidInput(f"At most {MAX_BULK} parts per call.", fields={"parts": [f"at most {MAX_BULK}"]})
    step_obj = _step(pk=step, process_id=work_order.process_id) if isinstance(step, int) else None
    if step_obj is None:
        raise InvalidInput(f"Step {step!r} is not a step of work order {work_order}'s route.", fields={"step": ["not on route"]})
    ids, serials = [], []
    for i, item in enumerate(parts):
        if not isinstance(item, dict) or not (item.get("part") or item.get("serial_number")):
            raise InvalidInput("Each entry names a part by id or serial_number.", fields={f"parts[{i}]": ["part required"]})
        (ids if item.get("part") else serials).append(item.get("part") or item.get("serial_number"))
    with transaction.atomic(), audit_reason(note or None):
        locked = list(Part.objects.select_for_update().filter(work_order=work_order)
                      .filter(_part_filter(ids, serials)).order_by("pk"))
        by_id = {p.pk: p for p in locked}
        by_serial = {p.serial_number: p for p in locked}
        ordered = []
        for i, item in enumerate(parts):
            p = by_id.get(item.get("part")) if item.get("part") else by_serial.get(item.get("serial_number"))
            if p is None:
                ref = item.get("part") or item.get("serial_number")
                raise InvalidInput(f"Part {ref} is not a part of work order {work_order}.", fields={f"parts[{i}]": ["unknown"]})
            ordered.append((p, item.get("measurements"), f"parts[{i}].measurements"))
        if len({p.pk for p, _, _ in ordered}) != len(ordered):
            raise InvalidInput("A part is listed twice.", fields={"parts": ["duplicate"]})
        wrong = [p for p, _, _ in ordered if p.current_step_id != step_obj.pk or p.status not in
                 PART_TRANSITIONS[TransitionAction.ADVANCE]]
        if wrong:
            names = ", ".join(p.serial_number for p in wrong[:5]) + (" …" if len(wrong) > 5 else "")
            raise Conflict(f"{len(wrong)} part(s) are not waiting at '{step_obj.name}': {names}. Nothing was advanced.",
                           fields={"parts": [p.serial_number for p in wrong[:50]]})
        outcome = _advance(parts=[p for p, _, _ in ordered], step=step_obj, measurements=[m for _, m, _ in ordered],
                           equipment_ids=equipment, note=note, prefixes=[x for _, _, x in ordered])
    return {k: len(v) for k, v in outcome.items()}


def _part_filter(ids, serials):
    q = Q(pk__in=[i for i in ids if isinstance(i, int)]) if ids else Q(pk__in=[])
    if serials:
        q |= Q(serial_number__in=[str(s) for s in serials])
    return q


def _simple(part: Part, *, action: str, to_status: str, reason: str | None, event, reason_required: bool,
            held_from: str = "") -> Part:
    with transaction.atomic(), audit_reason(reason):
        locked = _locked(part.pk)
        _check_at(locked, None, action)  # first: a release of a scrapped part says it is scrapped
        if reason_required and not (reason or "").strip():
            raise InvalidInput("Give a reason.", fields={"reason": ["required"]})
        status_reason, held_from_status, held_from_reason = reason or "", "", ""
        if action == TransitionAction.HOLD:
            held_from_status, held_from_reason = locked.status, locked.status_reason
        elif action == TransitionAction.RELEASE:
            refusals = guard_check("mes.part.release", parts=[locked], operator=current_actor(), reason=reason)
            if refusals:
                raise Blocked(refusals)
            # Back to the status it was held from, and to the reason it had it (a quarantined part stays
            # quarantined for what was out of specification); the release's reason goes to the log.
            to_status = locked.held_from_status or PartStatus.IN_PROCESS
            status_reason = locked.held_from_reason
        now = timezone.now()
        log = StepTransitionLog.objects.create(
            part=locked, action=action, from_step=locked.current_step, to_step=locked.current_step,
            from_status=locked.status, to_status=to_status, operator=current_actor(), transition_time=now,
            note=reason or "")
        Part.objects.filter(pk=locked.pk).update(
            status=to_status, held_from_status=held_from_status, held_from_reason=held_from_reason,
            status_reason=status_reason, version=F("version") + 1, updated_at=now)
        publish_many([_event(event, locked, log.from_step_id, log.to_step_id, to_status)])
    part.refresh_from_db()
    return part


def part_hold(*, part: Part, reason: str | None) -> Part:
    return _simple(part, action=TransitionAction.HOLD, to_status=PartStatus.ON_HOLD, reason=reason, event=PartHeld,
                   reason_required=True)


def part_release(*, part: Part, reason: str | None) -> Part:
    """Release a held part to the status (and the reason for it) it had before the hold."""
    return _simple(part, action=TransitionAction.RELEASE, to_status="", reason=reason, event=PartReleased,
                   reason_required=True)


def part_scrap(*, part: Part, reason: str | None) -> Part:
    return _simple(part, action=TransitionAction.SCRAP, to_status=PartStatus.SCRAPPED, reason=reason,
                   event=PartScrapped, reason_required=True)


def part_return(*, part: Part, reason: str | None) -> Part:
    """The part goes back to its supplier: it leaves production and its order's count (like a scrapped
    part, it is not one to deliver)."""
    return _simple(part, action=TransitionAction.RETURN, to_status=PartStatus.RETURNED, reason=reason,
                   event=PartReturned, reason_required=True)


def _check_release_guards(part: Part, reason: str | None) -> None:
    refusals = guard_check("mes.part.release", parts=[part], operator=current_actor(), reason=reason)
    if refusals:
        raise Blocked(refusals)


def part_rework_attempts(*, part: Part) -> int:
    """How many times the part was sent back for rework: counted from its traveler's log."""
    return StepTransitionLog.objects.filter(part_id=part.pk, action=TransitionAction.REWORK).count()


def rework_steps(*, part: Part) -> list[Step]:
    """Where the part may be sent back to: any earlier step of its route (the step it is at included),
    and the steps a ``rework`` edge from its current step points to."""
    from traveler.mes_lite.services.routing import route_steps

    route = route_steps(part.process, strict=False)
    ids = [s.pk for s in route]
    earlier = route[:ids.index(part.current_step_id) + 1] if part.current_step_id in ids else []
    looped = list(Step.objects.filter(in_edges__from_step_id=part.current_step_id, in_edges__kind=EdgeKind.REWORK,
                                      in_edges__archived_at__isnull=True, archived_at__isnull=True)
                  .order_by("sequence"))
    return list({s.pk: s for s in [*earlier, *looped]}.values())


def part_rework(*, part: Part, to_step: Step, reason: str | None) -> Part:
    """Send the part back to ``to_step`` (see ``rework_steps``) to be worked again: it is in process
    there, and the attempt is counted. Refused once the part type's ``max_rework_attempts`` is reached."""
    if not isinstance(to_step, Step):
        raise InvalidInput("Say which step the part goes back to.", fields={"to_step": ["required"]})
    with transaction.atomic(), audit_reason(reason):
        locked = _locked(part.pk)
        _check_at(locked, None, TransitionAction.REWORK)
        if not (reason or "").strip():
            raise InvalidInput("Give a reason.", fields={"reason": ["required"]})
        if to_step.pk not in {s.pk for s in rework_steps(part=locked)}:
            raise InvalidInput(f"Step '{to_step.name}' is not an earlier step of {locked.serial_number}'s route nor a "
                               "rework loop from where it is.", fields={"to_step": ["not a rework step"]})
        limit = locked.part_type.max_rework_attempts
        done = part_rework_attempts(part=locked)
        if limit is not None and done >= limit:
            raise Conflict(f"{locked.serial_number} was reworked {done} time(s), the limit of its part type: it can "
                           "only be scrapped or accepted as it is.", fields={"to_step": ["rework limit reached"]})
        _check_release_guards(locked, reason)
        now = timezone.now()
        StepTransitionLog.objects.create(
            part=locked, action=TransitionAction.REWORK, from_step_id=locked.current_step_id, to_step=to_step,
            from_status=locked.status, to_status=PartStatus.IN_PROCESS, operator=current_actor(),
            transition_time=now, note=reason or "")
        Part.objects.filter(pk=locked.pk).update(
            status=PartStatus.IN_PROCESS, current_step=to_step, held_from_status="", held_from_reason="",
            status_reason=reason or "", version=F("version") + 1, updated_at=now)
        publish_many([PartReworked(part_id=locked.pk, serial_number=locked.serial_number,
                                   work_order_id=locked.work_order_id, from_step_id=locked.current_step_id,
                                   to_step_id=to_step.pk, status=PartStatus.IN_PROCESS, attempt=done + 1)])
    part.refresh_from_db()
    return part


def part_accept(*, part: Part, reason: str | None) -> Part:
    """Accept a quarantined part as it is (or a held one that was quarantined, or held in process):
    it goes on as its advance would have, to the next step or completed; a part held in process is
    released where it is."""
    with transaction.atomic(), audit_reason(reason):
        locked = _locked(part.pk)
        _check_at(locked, None, TransitionAction.ACCEPT)
        if not (reason or "").strip():
            raise InvalidInput("Give a reason.", fields={"reason": ["required"]})
        was = locked.held_from_status if locked.status == PartStatus.ON_HOLD else locked.status
        _check_release_guards(locked, reason)
        step = _step(pk=locked.current_step_id)
        if was != PartStatus.QUARANTINED or step is None:
            action, to_step_id = TransitionAction.ACCEPT, locked.current_step_id
            to_status = was if was in (PartStatus.PENDING, PartStatus.IN_PROCESS) else PartStatus.IN_PROCESS
            event = PartAccepted
        elif step.next_step_id is None:
            action, to_step_id, to_status, event = TransitionAction.COMPLETE, step.pk, PartStatus.COMPLETED, PartCompleted
        else:
            action, to_step_id, to_status, event = TransitionAction.ACCEPT, step.next_step_id, PartStatus.IN_PROCESS, \
                PartAccepted
        now = timezone.now()
        StepTransitionLog.objects.create(
            part=locked, action=action, from_step_id=locked.current_step_id, to_step_id=to_step_id,
            from_status=locked.status, to_status=to_status, operator=current_actor(), transition_time=now,
            note=reason or "")
        Part.objects.filter(pk=locked.pk).update(
            status=to_status, current_step_id=to_step_id, held_from_status="", held_from_reason="",
            status_reason=reason or "", version=F("version") + 1, updated_at=now)
        publish_many([_event(event, locked, locked.current_step_id, to_step_id, to_status)])
    part.refresh_from_db()
    return part
