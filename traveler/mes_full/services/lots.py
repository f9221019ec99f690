"""Lot acceptance by ANSI/ASQ Z1.4 single sampling.

A lot is a work order's parts waiting at a step, or a lot received from a supplier (its lot number and
quantity). Opening a lot inspection draws the plan from the statistics engine of the SPC module
(``traveler.spc.stats.z14``: Table I's code letter, the master table's sample size and Ac/Re, arrows
followed) for the lot size, the inspection level and AQL, on the switching state the part type and
supplier are in. Recording the nonconforming units found judges the lot (accept / reject) and moves the
switching state by the engine's switching rules (Z1.4 section 8), one lot at a time under a row lock.

A rejected lot holds its parts (one hold per part, the reason naming the lot) and publishes
``mes_full.lot.rejected`` (a quality module opens one nonconformance for the lot). While a work order's
latest lot at a step is not accepted, its parts do not pass the step: the guard ``lots_guard`` refuses
with kind ``sampling_required``. Without the SPC module, lot acceptance is refused, saying why.

This module never copies the standard's tables or rules: every number comes from the engine.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import Company, User
from traveler.core.registry import Refusal
from traveler.core.services.numbering import number_next
from traveler.core.services.records import record_create, record_update
from traveler.core.tenancy import audit_reason, current_actor, current_tenant
from traveler.mes_full.choices import BlockKind
from traveler.mes_full.events import LotAccepted, LotRejected, NonconformanceRequested
from traveler.mes_full.models.lots import LotInspection, LotStatus, Severity, Z14SwitchingState
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part, PartType, Step, WorkOrder
from traveler.mes_lite.services.parts import part_hold

NUMBER_KEY = "mes_full.lot"
# The parts of a work order that make up its lot at a step: those waiting to pass it.
WAITING = (PartStatus.PENDING, PartStatus.IN_PROCESS)
# What a rejected lot holds: any of its parts still at the step and not already stopped.
HOLDABLE = (PartStatus.PENDING, PartStatus.IN_PROCESS, PartStatus.QUARANTINED)


# The statistics engine ------------------------------------------------------------------------------

def lot_acceptance_available() -> bool:
    """Whether the SPC module (whose statistics engine holds Z1.4) is installed."""
    return apps.is_installed("traveler.spc")


def _engine():
    if not lot_acceptance_available():
        raise Conflict("Lot acceptance by ANSI/ASQ Z1.4 needs the SPC module (its statistics engine holds the "
                       "standard's tables and switching rules), and it is not installed here. Ask an "
                       "administrator to install it.", fields={"module": ["spc is not installed"]})
    from traveler.spc.stats import z14

    return z14


def _stats_call(func, *args, field_names: dict[str, str] | None = None, **kwargs):
    """Call the engine; its input errors become 400s naming our field."""
    from traveler.spc.stats.errors import StatsInputError

    try:
        return func(*args, **kwargs)
    except StatsInputError as exc:
        name = (field_names or {}).get(exc.field, exc.field)
        raise InvalidInput(f"{name}: {exc.message}.", fields={name: [exc.message]}) from None


def z14_choices() -> dict[str, tuple[str, ...]]:
    """The inspection levels and AQLs the engine knows (for forms), empty without SPC."""
    if not lot_acceptance_available():
        return {"levels": (), "aqls": ()}
    from traveler.spc.stats.z14_tables import AQLS, LEVELS

    return {"levels": tuple(LEVELS), "aqls": tuple(AQLS)}


def _plan(*, lot_size: int, level: str, aql: str, severity: str):
    z14 = _engine()
    return _stats_call(z14.sampling_plan, lot_size=lot_size, level=level, aql=aql, severity=severity)


# Switching states ------------------------------------------------------------------------------------

def switching_state_get(*, part_type: PartType, supplier: str, level: str, aql: str,
                        lock: bool = False) -> Z14SwitchingState:
    """The switching state of ``part_type`` from ``supplier`` under (level, AQL); a new one starts on
    normal inspection. Call inside a transaction (``lock``: the row is locked until it ends)."""
    z14 = _engine()
    key = {"part_type": part_type, "supplier": supplier, "level": level, "aql": aql}
    qs = Z14SwitchingState.objects.filter(**key)
    state = (qs.select_for_update() if lock else qs).first()
    if state is None:
        machine = z14.Z14Switching(aql=aql, level=level)
        with transaction.atomic():
            Z14SwitchingState.objects.bulk_create(
                [Z14SwitchingState(tenant=current_tenant(), **key, severity=machine.severity, state=machine.to_dict(),
                                   last_reason="new: normal inspection (Z1.4 8.1)")],
                ignore_conflicts=True)
        state = (qs.select_for_update() if lock else qs).get()
    return state


def switching_state_update(*, state: Z14SwitchingState, version: int | None, data: dict[str, Any],
                           reason: str | None = None) -> Z14SwitchingState:
    """Change what the responsible authority decides: whether reduced inspection may be entered."""
    unknown = set(data) - {"reduced_approved"}
    if unknown:
        raise InvalidInput("Only reduced_approved can be changed: the engine moves the rest.",
                           fields={f: ["cannot change"] for f in sorted(unknown)})
    if "reduced_approved" in data and not isinstance(data["reduced_approved"], bool):
        raise InvalidInput("reduced_approved: true or false.", fields={"reduced_approved": ["true or false"]})
    return record_update(state, version=version, data=data, reason=reason)


def switching_state_resume(*, state: Z14SwitchingState, reason: str | None,
                           version: int | None = None) -> Z14SwitchingState:
    """After corrective action (Z1.4 8.4): a discontinued inspection resumes on tightened."""
    z14 = _engine()
    if not (reason or "").strip():
        raise InvalidInput("Say what corrective action was taken.", fields={"reason": ["required"]})
    with transaction.atomic(), audit_reason(reason):
        locked = Z14SwitchingState.objects.select_for_update().get(pk=state.pk)
        if version is not None and locked.version != version:
            raise Conflict(f"{locked} changed since you read it.", fields={"version": [f"current {locked.version}"]})
        if locked.severity != Severity.DISCONTINUED:
            raise Conflict(f"{locked}: inspection is not discontinued.", fields={"severity": [locked.severity]})
        # The engine's record of a discontinued state counts 5 lots not accepted, which its own
        # ``from_dict`` refuses (at most 4); resuming resets every counter, so the machine is rebuilt
        # from the plan alone.
        machine = _stats_call(z14.Z14Switching, aql=locked.aql, level=locked.level, severity=Severity.DISCONTINUED)
        outcome = machine.resume()
        return record_update(locked, version=locked.version, reason=reason, data={
            "state": machine.to_dict(), "severity": machine.severity,
            "last_reason": f"{outcome['reason']}: {reason.strip()}"[:300]})


# Lot inspections -------------------------------------------------------------------------------------

def _lot_parts(work_order: WorkOrder, step: Step) -> list[Part]:
    return list(Part.objects.filter(work_order=work_order, current_step=step, status__in=WAITING,
                                    archived_at__isnull=True).order_by("sequence", "pk"))


def _text(value: Any, field: str, *, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: text.", fields={field: ["text"]})
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInput(f"{field}: at most {max_length} characters.", fields={field: [f"at most {max_length}"]})
    return value


def lot_inspection_open(*, aql: Any, level: Any = "II", work_order: WorkOrder | None = None,
                        step: Step | None = None, part_type: PartType | None = None, supplier: str = "",
                        supplier_company: Company | None = None, supplier_lot_number: str = "",
                        lot_size: int | None = None, note: str = "", reason: str | None = None) -> LotInspection:
    """Open the inspection of a lot and draw its plan: the sample size to inspect and Ac/Re.

    A work order's lot at ``step`` is its parts waiting there (``lot_size`` is their number); a
    supplier's lot names the ``part_type``, the supplier (``supplier`` or ``supplier_company``), its
    ``supplier_lot_number`` and its ``lot_size``. A work order's lot may name the supplier too (parts
    received from one), which selects that supplier's switching state."""
    z14 = _engine()
    level = _stats_call(z14.parse_level, level)
    aql = _stats_call(z14.parse_aql, aql)
    supplier = _text(supplier, "supplier", max_length=200)
    supplier_lot_number = _text(supplier_lot_number, "supplier_lot_number", max_length=100)
    note = _text(note, "note", max_length=5000)
    if supplier_company is not None:
        if not isinstance(supplier_company, Company):
            raise InvalidInput("supplier_company: unknown.", fields={"supplier_company": ["unknown"]})
        supplier = supplier or supplier_company.name
    parts: list[Part] = []
    if work_order is not None or step is not None:
        if not isinstance(work_order, WorkOrder):
            raise InvalidInput("A work order's lot names its work order.", fields={"work_order": ["required"]})
        if not isinstance(step, Step):
            raise InvalidInput("A work order's lot names the step it is inspected at.", fields={"step": ["required"]})
        if step.process_id != work_order.process_id:
            raise InvalidInput(f"Step '{step.name}' is not a step of work order {work_order}'s route.",
                               fields={"step": ["not on the route"]})
        if part_type is not None and part_type.pk != work_order.process.part_type_id:
            raise InvalidInput(f"Work order {work_order} makes another part type.", fields={"part_type": ["mismatch"]})
        part_type = work_order.process.part_type
        if lot_size is not None:
            raise InvalidInput("A work order's lot is its parts waiting at the step: give no lot size.",
                               fields={"lot_size": ["counted from the parts"]})
    else:
        if not isinstance(part_type, PartType):
            raise InvalidInput("A supplier's lot names its part type.", fields={"part_type": ["required"]})
        if not supplier:
            raise InvalidInput("A received lot names its supplier.", fields={"supplier": ["required"]})
        if not supplier_lot_number:
            raise InvalidInput("A received lot names the supplier's lot number.",
                               fields={"supplier_lot_number": ["required"]})
        if lot_size is None:
            raise InvalidInput("A received lot gives its quantity.", fields={"lot_size": ["required"]})
        _stats_call(z14.parse_lot_size, lot_size)
    with transaction.atomic(), audit_reason(reason):
        if work_order is not None:
            # The work order's row orders concurrent openings: one lot at a time per work order and step.
            WorkOrder.objects.select_for_update().filter(pk=work_order.pk).first()
            if LotInspection.objects.filter(work_order=work_order, step=step, status=LotStatus.PENDING).exists():
                raise Conflict(f"Work order {work_order} already has a lot under inspection at '{step.name}': "
                               "record it first.", fields={"work_order": ["lot under inspection"]})
            parts = _lot_parts(work_order, step)
            if len(parts) < 2:
                raise InvalidInput(f"{len(parts)} part(s) of work order {work_order} wait at '{step.name}': Z1.4 "
                                   "lots have 2 or more units.", fields={"work_order": ["lot of fewer than 2"]})
            lot_size = len(parts)
        state = switching_state_get(part_type=part_type, supplier=supplier, level=level, aql=aql)
        if state.severity == Severity.DISCONTINUED:
            raise Conflict(f"{state}: acceptance inspection is discontinued (Z1.4 8.4) after 5 lots not accepted on "
                           "tightened inspection. Resume it after corrective action.",
                           fields={"severity": ["discontinued"]})
        plan = _plan(lot_size=lot_size, level=level, aql=aql, severity=state.severity)
        year = timezone.localdate().year
        number = f"LOT-{year}-{number_next(key=NUMBER_KEY, year=year):04d}"
        return record_create(LotInspection, reason=reason, data={
            "number": number, "part_type": part_type, "work_order": work_order, "step": step, "supplier": supplier,
            "supplier_company": supplier_company, "supplier_lot_number": supplier_lot_number, "lot_size": lot_size,
            "part_ids": [p.pk for p in parts], "switching_state": state, **_plan_fields(plan),
            "note": note, "opened_by": current_actor()})


def _plan_fields(plan) -> dict[str, Any]:
    return {"level": plan.level, "aql": plan.aql, "severity": plan.severity, "code_letter": plan.code_letter,
            "plan_code_letter": plan.plan_code_letter, "sample_size": plan.sample_size,
            "acceptance_number": plan.acceptance_number, "rejection_number": plan.rejection_number}


def lot_plan_notes(lot: LotInspection) -> list[str]:
    """The engine's notes on the lot's plan (an arrow followed, 100 % inspection), for pages."""
    if not lot_acceptance_available():
        return []
    return _plan(lot_size=lot.lot_size, level=lot.level, aql=lot.aql, severity=lot.severity).to_dict()["notes"]


def _locked_lot(lot: LotInspection, version: int | None) -> LotInspection:
    locked = LotInspection.objects.select_for_update().get(pk=lot.pk)
    if version is not None and locked.version != version:
        raise Conflict(f"Lot {locked} changed since you read it.", fields={"version": [f"current {locked.version}"]})
    if locked.status != LotStatus.PENDING:
        raise Conflict(f"Lot {locked} is {locked.get_status_display().lower()} already.",
                       fields={"status": [locked.status]})
    return locked


def lot_inspection_replan(*, lot: LotInspection, version: int | None = None,
                          reason: str | None = None) -> LotInspection:
    """Draw the plan of a lot under inspection again, on the switching state as it is now (another lot
    of the same part type and supplier moved it since this one was opened)."""
    with transaction.atomic(), audit_reason(reason):
        locked = _locked_lot(lot, version)
        state = Z14SwitchingState.objects.get(pk=locked.switching_state_id)
        if state.severity == Severity.DISCONTINUED:
            raise Conflict(f"{state}: acceptance inspection is discontinued (Z1.4 8.4); resume it first.",
                           fields={"severity": ["discontinued"]})
        plan = _plan(lot_size=locked.lot_size, level=locked.level, aql=locked.aql, severity=state.severity)
        return record_update(locked, version=locked.version, data=_plan_fields(plan),
                             reason=reason or f"plan drawn again on {state.severity} inspection")


def lot_inspection_record(*, lot: LotInspection, defects_found: Any, user: User, production_steady: bool = True,
                          note: str = "", version: int | None = None) -> LotInspection:
    """Record the nonconforming units found in the lot's sample: the engine judges the lot and moves
    the switching state. A rejected lot holds its parts and publishes ``mes_full.lot.rejected``."""
    z14 = _engine()
    if isinstance(defects_found, bool) or not isinstance(defects_found, int) or defects_found < 0:
        raise InvalidInput("defects_found: a whole number, 0 or more.", fields={"defects_found": ["whole number"]})
    if not isinstance(production_steady, bool):
        raise InvalidInput("production_steady: true or false.", fields={"production_steady": ["true or false"]})
    note = _text(note, "note", max_length=5000)
    with transaction.atomic(), audit_reason(note or "lot inspected"):
        # The switching state first: lots of one part type and supplier are judged one after the other.
        state = Z14SwitchingState.objects.select_for_update().get(pk=lot.switching_state_id)
        locked = _locked_lot(lot, version)
        if defects_found > locked.sample_size:
            raise InvalidInput(f"{defects_found} nonconforming units in a sample of {locked.sample_size}?",
                               fields={"defects_found": [f"at most {locked.sample_size}"]})
        if state.severity != locked.severity:
            raise Conflict(f"{state} since lot {locked} was opened on {locked.severity} inspection: draw its plan "
                           "again (replan), inspect the sample it asks for, then record.",
                           fields={"severity": [state.severity]})
        machine = _stats_call(z14.Z14Switching.from_dict, dict(state.state))
        result = _stats_call(machine.record_lot, lot_size=locked.lot_size, defectives=defects_found,
                             production_steady=production_steady,
                             authority_approves_reduced=state.reduced_approved,
                             field_names={"lot.defectives": "defects_found", "defectives": "defects_found"})
        if result["plan"]["sample_size"] != locked.sample_size:  # the same inputs give the same plan
            raise Conflict(f"Lot {locked}'s plan is not the engine's any more: draw it again (replan).")
        now = timezone.now()
        accepted = bool(result["accepted"])
        record_update(state, version=state.version, data={
            "state": result["state"], "severity": result["severity"], "lots": state.lots + 1,
            "last_reason": f"{locked.number}: {result['reason']}"[:300]})
        locked = record_update(locked, version=locked.version, data={
            "status": LotStatus.ACCEPTED if accepted else LotStatus.REJECTED, "defects_found": defects_found,
            "decision": result["decision"], "severity_after": result["severity"],
            "switching_reason": str(result["reason"])[:300], "production_steady": production_steady,
            "note": "\n".join(x for x in (locked.note, note) if x), "inspected_by": user, "inspected_at": now})
        if accepted:
            publish(LotAccepted(lot_id=locked.pk, number=locked.number, part_type_id=locked.part_type_id,
                                work_order_id=locked.work_order_id, step_id=locked.step_id, supplier=locked.supplier,
                                defects_found=defects_found, severity_after=locked.severity_after))
            return locked
        held = _hold_lot(locked)
        publish(LotRejected(
            lot_id=locked.pk, number=locked.number, part_type_id=locked.part_type_id,
            work_order_id=locked.work_order_id, step_id=locked.step_id, supplier=locked.supplier,
            supplier_lot_number=locked.supplier_lot_number, lot_size=locked.lot_size,
            sample_size=locked.sample_size, acceptance_number=locked.acceptance_number,
            rejection_number=locked.rejection_number, defects_found=defects_found, part_ids=held,
            url=lot_url(locked)))
        if held:  # a received lot without parts in the traveler: its supplier's nonconformance is opened by hand
            source = (f" from {locked.supplier} (lot {locked.supplier_lot_number})" if locked.supplier_lot_number
                      else "")
            publish(NonconformanceRequested(
                source="lot", source_id=locked.pk, part_ids=held, step_id=locked.step_id,
                title=(f"Lot {locked.number} rejected{source}: {defects_found} nonconforming in a sample of "
                       f"{locked.sample_size}")[:200],
                description=(f"Z1.4 lot acceptance: lot of {locked.lot_size}, sample of {locked.sample_size}, Ac "
                             f"{locked.acceptance_number}, Re {locked.rejection_number}; {defects_found} nonconforming "
                             f"found. The lot: {lot_url(locked)}")))
    return locked


def _hold_lot(lot: LotInspection) -> list[int]:
    """Hold each part of a rejected lot still at its step; returns the parts of the lot held."""
    if not lot.part_ids:
        return []
    where = f" at '{lot.step.name}'" if lot.step_id else ""
    reason = (f"Lot {lot.number} rejected{where}: {lot.defects_found} nonconforming in a sample of "
              f"{lot.sample_size} (Z1.4 level {lot.level}, AQL {lot.aql}, {lot.severity}: Ac {lot.acceptance_number}, "
              f"Re {lot.rejection_number}).")
    parts = list(Part.objects.filter(pk__in=lot.part_ids, current_step_id=lot.step_id, status__in=HOLDABLE)
                 .order_by("pk"))
    for part in parts:
        part_hold(part=part, reason=reason)
    return list(Part.objects.filter(pk__in=lot.part_ids).exclude(status__in=(PartStatus.SCRAPPED, PartStatus.RETURNED))
                .order_by("pk").values_list("pk", flat=True))


def lot_url(lot: LotInspection) -> str:
    try:
        return reverse("mes_full:lotinspection-detail", args=[lot.pk])
    except NoReverseMatch:
        return ""


# The guard ---------------------------------------------------------------------------------------------

def lots_blocking(*, work_order_ids: set[int], step: Step) -> dict[int, LotInspection]:
    """The latest lot of each work order at ``step`` when it is not accepted (one query)."""
    if not work_order_ids:
        return {}
    latest = (LotInspection.objects.filter(step=step, work_order_id__in=work_order_ids, archived_at__isnull=True)
              .order_by("work_order_id", "-pk").distinct("work_order_id"))
    return {lot.work_order_id: lot for lot in latest if lot.status != LotStatus.ACCEPTED}


def lots_guard(*, parts, step, **_) -> list[Refusal]:
    """The guard on ``mes.part.advance``: parts whose work order's lot at the step is under inspection
    or was rejected do not pass it."""
    if step is None:
        return []
    blocking = lots_blocking(work_order_ids={p.work_order_id for p in parts if p.work_order_id}, step=step)
    refusals = []
    for wo_id, lot in blocking.items():
        ids = tuple(p.pk for p in parts if p.work_order_id == wo_id)
        if lot.status == LotStatus.PENDING:
            text = (f"Lot {lot.number} is under acceptance inspection at '{step.name}' (inspect a sample of "
                    f"{lot.sample_size}, Ac {lot.acceptance_number}, Re {lot.rejection_number}): its parts pass the "
                    "step once the lot is accepted.")
        else:
            text = (f"Lot {lot.number} was rejected at '{step.name}' ({lot.defects_found} nonconforming in a sample "
                    f"of {lot.sample_size}): its parts pass the step once a new inspection of the lot accepts it.")
        refusals.append(Refusal(text, kind=BlockKind.SAMPLING_REQUIRED, part_ids=ids))
    return refusals
