"""What a step requires before a part may pass it, and the guard on the advance that checks it.

Each kind of requirement has an evaluator (``EVALUATORS``): given the step's requirements of that
kind and the advance's context (``parts``, ``step``, ``equipment``, ``measured``, ``operator``,
``today``), it returns the refusals, each with the kind of block it is (``choices.BlockKind`` for the
ones an override may lift). Other parts of this module add evaluators (training) and their own guards
(sampling, first-piece inspection), which use the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import Document, DocumentRevision, User
from traveler.core.models.documents import RevisionState
from traveler.core.registry import Refusal, guard_check, registry
from traveler.core.services.records import record_archive, record_create, record_update
from traveler.core.services.signatures import password_confirm, signature_write
from traveler.core.tenancy import audit_reason
from traveler.mes_full.choices import DOCUMENT_UNACKNOWLEDGED, MISSING_MEASUREMENT, BlockKind, RequirementKind
from traveler.mes_full.events import InspectionRecorded, NonconformanceRequested
from traveler.mes_full.models import DocumentAcknowledgement, StepInspection, StepRequirement
from traveler.mes_full.models.execution import REQUIREMENT_TARGET
from traveler.mes_full.services.sampling import sampling_inspection_recorded
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import Part, Step, StepTransitionLog
from traveler.mes_lite.services.parts import part_hold

Evaluator = Callable[..., list[Refusal]]
EVALUATORS: dict[str, Evaluator] = {}


def evaluator(kind: str) -> Callable[[Evaluator], Evaluator]:
    def register(func: Evaluator) -> Evaluator:
        EVALUATORS[kind] = func
        return func
    return register


def _serials(parts, ids) -> str:
    named = [p.serial_number for p in parts if p.pk in ids]
    return ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")


# Requirements: create, change, archive -----------------------------------------------------------

def _check(data: dict) -> dict:
    kind = data.get("kind")
    if kind not in RequirementKind.values:
        raise InvalidInput(f"kind must be one of {', '.join(RequirementKind.values)}.", fields={"kind": ["unknown"]})
    target = REQUIREMENT_TARGET[kind]
    others = [f for f in ("definition", "document", "training_type", "equipment_type")
              if f != target and data.get(f) is not None]
    if others:
        raise InvalidInput(f"A {RequirementKind(kind).label.lower()} requirement names no {', '.join(others)}.",
                           fields={f: ["not for this kind"] for f in others})
    if target and data.get(target) is None:
        raise InvalidInput(f"A {RequirementKind(kind).label.lower()} requirement names its {target.replace('_', ' ')}.",
                           fields={target: ["required"]})
    step = data.get("step")
    definition = data.get("definition")
    if definition is not None and step is not None and definition.step_id != step.pk:
        raise InvalidInput(f"{definition.label} is measured at another step, not at '{step.name}'.",
                           fields={"definition": ["not of this step"]})
    return data


def requirement_create(*, data: dict, reason: str | None = None) -> StepRequirement:
    data = _check(dict(data))
    step = data["step"]
    same = {k: data.get(k) for k in ("kind", "definition", "document", "training_type", "equipment_type")}
    if StepRequirement.objects.filter(step=step, archived_at__isnull=True, **same).exists():
        raise Conflict(f"Step '{step.name}' already has this requirement.", fields={"kind": ["duplicate"]})
    return record_create(StepRequirement, data=data, reason=reason)


def requirement_update(*, requirement: StepRequirement, version: int | None, data: dict,
                       reason: str | None = None) -> StepRequirement:
    if "step" in data and data["step"] != requirement.step:
        raise InvalidInput("A requirement stays with its step; archive it and add one to the other step.",
                           fields={"step": ["cannot change"]})
    merged = {f: getattr(requirement, f) for f in ("step", "kind", "definition", "document", "training_type",
                                                    "equipment_type")}
    merged.update(data)
    _check(merged)
    return record_update(requirement, version=version, data=data, reason=reason)


def requirement_archive(*, requirement: StepRequirement, version: int | None = None,
                        reason: str | None = None) -> StepRequirement:
    return record_archive(requirement, version=version, reason=reason)


def requirements_of(step: Step) -> list[StepRequirement]:
    return list(StepRequirement.objects.filter(step=step, archived_at__isnull=True)
                .select_related("definition", "document", "training_type", "equipment_type").order_by("kind", "pk"))


# Inspections and acknowledgements ---------------------------------------------------------------

def _arrival(step_id: int):
    """When the part (OuterRef) last came to ``step_id`` from elsewhere: the start of its visit."""
    return Subquery(StepTransitionLog.objects.filter(part=OuterRef("part_id"), to_step_id=step_id)
                    .exclude(from_step_id=step_id).order_by().values("part").annotate(at=Max("transition_time"))
                    .values("at")[:1])


def inspections_this_visit(part_ids: list[int], step: Step) -> dict[int, StepInspection]:
    """The latest inspection of each part at ``step`` since it arrived there (its current visit)."""
    rows = (StepInspection.objects.filter(part_id__in=part_ids, step=step)
            .annotate(arrived=_arrival(step.pk))
            .filter(Q(arrived__isnull=True) | Q(inspected_at__gte=F("arrived")))
            .order_by("part_id", "-inspected_at", "-pk").distinct("part_id"))
    return {i.part_id: i for i in rows}


def inspection_record(*, part: Part, passed: bool, user: User, password: str, note: str = "",
                      ip: str | None = None, failure: str = "") -> StepInspection:
    """An inspector's signed decision on ``part`` at its current step. A failed inspection asks Quality
    for a nonconformance (which holds the part), or, without Quality, holds the part; ``failure`` names
    what failed in its title ("First piece INJ-0001 failed"; by default "Failed inspection of ...")."""
    if not isinstance(passed, bool):
        raise InvalidInput("Say whether the part passed.", fields={"passed": ["true or false"]})
    note = (note or "").strip()
    if not passed and not note:
        raise InvalidInput("Say what was found.", fields={"note": ["required when the part fails"]})
    if part.status != PartStatus.IN_PROCESS and part.status != PartStatus.PENDING:
        raise Conflict(f"Part {part.serial_number} is {part.get_status_display().lower()}: only a part in process "
                       "at a step is inspected there.", fields={"status": [part.status]})
    confirmation = password_confirm(user=user, password=password, ip=ip)
    with transaction.atomic(), audit_reason(note or "inspected"):
        locked = Part.objects.select_for_update().get(pk=part.pk)
        if locked.current_step_id != part.current_step_id or locked.status != part.status:
            raise Conflict(f"Part {part.serial_number} moved meanwhile: reload it.")
        inspection = StepInspection.objects.create(part=locked, step_id=locked.current_step_id, passed=passed,
                                                   inspector=user, inspected_at=timezone.now(), note=note)
        signature_write(confirmation=confirmation, record=inspection, meaning="inspected", comment=note)
        sampling_inspection_recorded(inspection=inspection)  # a defect at a sampled step starts its fallback
        publish(InspectionRecorded(inspection_id=inspection.pk, part_id=locked.pk, step_id=inspection.step_id,
                                   passed=passed))
        if not passed:
            step = locked.current_step
            why = f"{failure or f'Failed inspection of {locked.serial_number}'} at '{step.name}': {note}"
            if quality_installed():
                # Quality's nonconformance holds the part (containment) and decides what happens to it.
                publish(NonconformanceRequested(source="inspection", source_id=inspection.pk, title=why[:200],
                                                description=why, part_ids=[locked.pk], step_id=step.pk))
            else:
                part_hold(part=locked, reason=why)
    return inspection


def quality_installed() -> bool:
    return "qms" in registry.modules


def document_acknowledge(*, document: Document, user: User) -> DocumentAcknowledgement:
    """``user`` read the document's released revision (once per revision)."""
    revision = DocumentRevision.objects.filter(document=document, state=RevisionState.RELEASED).first()
    if revision is None:
        raise Conflict(f"{document} has no released revision to read.")
    ack, _ = DocumentAcknowledgement.objects.get_or_create(user=user, revision=revision,
                                                           defaults={"acknowledged_at": timezone.now()})
    return ack


# The guard -----------------------------------------------------------------------------------------

@evaluator(RequirementKind.MEASUREMENT)
def _measurements(requirements, *, parts, measured, step, **_) -> list[Refusal]:
    recorded = {d.pk for d in measured}
    missing = [r.definition.label for r in requirements if r.definition_id not in recorded]
    if not missing:
        return []
    return [Refusal(f"Record {', '.join(missing)} at '{step.name}' before the part passes it.",
                    kind=MISSING_MEASUREMENT, overridable=False)]


@evaluator(RequirementKind.INSPECTION)
def _inspection(requirements, *, parts, step, **_) -> list[Refusal]:
    done = inspections_this_visit([p.pk for p in parts], step)
    missing = tuple(p.pk for p in parts if not (p.pk in done and done[p.pk].passed))
    if not missing:
        return []
    return [Refusal(f"Inspection sign-off missing at '{step.name}' for {_serials(parts, missing)}: an inspector "
                    "signs it off first.", kind=BlockKind.MISSING_INSPECTION, part_ids=missing)]


@evaluator(RequirementKind.DOCUMENT)
def _documents(requirements, *, operator, step, **_) -> list[Refusal]:
    docs = {r.document_id: r.document for r in requirements}
    released = dict(DocumentRevision.objects.filter(document_id__in=docs, state=RevisionState.RELEASED)
                    .values_list("document_id", "pk"))
    read = set(DocumentAcknowledgement.objects.filter(user=operator, revision_id__in=released.values())
                .values_list("revision_id", flat=True)) if operator else set()
    unread = [docs[d] for d in docs if released.get(d) not in read]
    if not unread:
        return []
    names = ", ".join(f"{d.number} {d.title}".strip() for d in unread)
    return [Refusal(f"Read and acknowledge the work instruction first: {names}.", kind=DOCUMENT_UNACKNOWLEDGED,
                    overridable=False)]


@evaluator(RequirementKind.EQUIPMENT)
def _equipment(requirements, *, equipment, step, **_) -> list[Refusal]:
    used = {e.equipment_type_id for e in equipment}
    missing = [r.equipment_type.name for r in requirements if r.equipment_type_id not in used]
    if not missing:
        return []
    return [Refusal(f"Use calibrated equipment at '{step.name}': a {', a '.join(missing)}.",
                    kind=BlockKind.CALIBRATION_DUE)]


def requirements_guard(*, step, **context: Any) -> list[Refusal]:
    """The guard on ``mes.part.advance``: every requirement of the step, by kind."""
    if step is None:
        return []
    by_kind: dict[str, list[StepRequirement]] = {}
    for r in requirements_of(step):
        by_kind.setdefault(r.kind, []).append(r)
    refusals: list[Refusal] = []
    for kind, requirements in by_kind.items():
        if kind in EVALUATORS:
            refusals += EVALUATORS[kind](requirements, step=step, **context)
    return refusals



def part_gates(*, part: Part, operator: User | None) -> tuple[Step | None, list[Refusal]]:
    """The part's current step and every refusal its advance would meet now, with ``operator`` at the
    station and no measurements or equipment given yet; no override is consumed."""
    step = part.current_step
    if step is None or part.status not in (PartStatus.PENDING, PartStatus.IN_PROCESS):
        return step, []
    return step, guard_check("mes.part.advance", waive=False, parts=[part], step=step, equipment=[], measured=[],
                             operator=operator, today=timezone.localdate())
