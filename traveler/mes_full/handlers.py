"""Step control on the traveler's transitions: the step's requirements guard the advance, and every
advance records the visits it ends."""

from traveler.core.registry import add_guard, add_recorder


def _requirements_guard(**context):
    from traveler.mes_full.services.requirements import requirements_guard

    return requirements_guard(**context)


def _executions(**context):
    from traveler.mes_full.services.executions import executions_record

    executions_record(**context)


add_guard("mes.part.advance", _requirements_guard)
add_recorder("mes.part.advance", _executions)


# Training and calibration --------------------------------------------------------------------------
# The training evaluator registers itself with the requirements guard when its module is imported; a
# calibration recorded through MES Lite becomes a calibration record; the outcome of a training
# certificate's approval decides whether the record counts.

import traveler.mes_full.services.training  # noqa: E402,F401  (registers the training evaluator)
from traveler.core.eventbus import Delivered, subscribe  # noqa: E402

TRAINING_RECORD = "mes_full.trainingrecord"


def _calibration_records(**context):
    from traveler.mes_full.services.calibration import calibration_recorded_by_equipment

    calibration_recorded_by_equipment(**context)


add_recorder("mes.equipment.calibrate", _calibration_records)


@subscribe("core.approval.approved", durable=True)
@subscribe("core.approval.rejected", durable=True)
@subscribe("core.approval.cancelled", durable=True)
def decide_training_certificate(event: Delivered) -> None:
    """An approved training certificate counts from now on; a rejected or cancelled one never will."""
    from traveler.core.models import User
    from traveler.core.tenancy import current_tenant, tenant_context
    from traveler.mes_full.services.training import CERTIFICATE_TEMPLATE, training_approval_decided

    p = event.payload
    if p.get("record_type") != TRAINING_RECORD or p.get("template_type") != CERTIFICATE_TEMPLATE:
        return
    approved = event.name == "core.approval.approved"
    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    with tenant_context(current_tenant(), actor=actor):
        training_approval_decided(
            record_id=p["record_id"], approved=approved,
            reason=f"Approval request #{p['request_id']} {event.name.rsplit('.', 1)[-1]}"
                   + (f": {p['reason']}" if p.get("reason") else ""))


# Lot acceptance: a work order's lot under inspection (or rejected) at a step keeps its parts there.
# Rollbacks: the outcome of a rollback's approval moves the part back, or closes the request.

def _lots_guard(**context):
    from traveler.mes_full.services.lots import lots_guard

    return lots_guard(**context)


add_guard("mes.part.advance", _lots_guard, kind="sampling_required")


def _rollback_of(event):
    from traveler.mes_full.models import StepRollback
    from traveler.mes_full.models.rollbacks import RollbackStatus
    from traveler.mes_full.services.rollbacks import ROLLBACK_TEMPLATE

    if event.payload.get("record_type") != "mes_full.steprollback" or \
            event.payload.get("template_type") != ROLLBACK_TEMPLATE:
        return None
    rollback = StepRollback.objects.filter(pk=event.payload["record_id"]).first()
    if rollback is None or rollback.status != RollbackStatus.REQUESTED:
        return None  # a retried delivery after it acted
    return rollback


def _as_actor(event):
    from traveler.core.models import User
    from traveler.core.tenancy import current_tenant, tenant_context

    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    return tenant_context(current_tenant(), actor=actor)


@subscribe("core.approval.approved", durable=True)
def complete_approved_rollback(event) -> None:
    """An approved rollback moves the part back (the last approver is the actor)."""
    from traveler.mes_full.services.rollbacks import rollback_complete

    rollback = _rollback_of(event)
    if rollback is None:
        return
    with _as_actor(event):
        rollback_complete(rollback=rollback, reason=f"Approved: approval request #{event.payload['request_id']}")


@subscribe("core.approval.rejected", durable=True)
@subscribe("core.approval.cancelled", durable=True)
def close_rejected_rollback(event) -> None:
    """A rejected or cancelled approval leaves the part where it is."""
    from traveler.mes_full.services.rollbacks import rollback_reject

    rollback = _rollback_of(event)
    if rollback is None:
        return
    with _as_actor(event):
        rollback_reject(rollback=rollback, reason=(f"Approval request #{event.payload['request_id']} "
                                                   f"{event.name.rsplit('.', 1)[-1]}: "
                                                   f"{event.payload.get('reason') or ''}").strip())


# First-piece inspection and overrides ------------------------------------------------------------

from traveler.core.eventbus import Delivered, subscribe  # noqa: E402
from traveler.core.registry import Panel, add_panel, add_waiver  # noqa: E402


def _fpi_guard(**context):
    from traveler.mes_full.services.fpi import fpi_guard

    return fpi_guard(**context)


def _overrides_waive(refusals, **context):
    from traveler.mes_full.services.overrides import overrides_waive

    return overrides_waive(refusals, **context)


add_guard("mes.part.advance", _fpi_guard)
add_waiver("mes.part.advance", _overrides_waive)
add_waiver("mes.part.out_of_spec", _overrides_waive)


@subscribe("mes.part.held", durable=True)
def fpi_failed_on_hold(event: Delivered) -> None:
    """A first piece held after a failed inspection: its first-piece inspection failed."""
    from traveler.core.models import User
    from traveler.core.tenancy import current_tenant, tenant_context
    from traveler.mes_full.services.fpi import fpi_failure_from_hold

    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    with tenant_context(current_tenant(), actor=actor):
        fpi_failure_from_hold(part_id=event.payload["part_id"])


@subscribe("core.approval.approved", durable=True)
def fpi_waive_on_approval(event: Delivered) -> None:
    """The approval of a first-piece waiver lets its scope go on."""
    from traveler.core.models import User
    from traveler.core.tenancy import current_tenant, tenant_context
    from traveler.mes_full.models import FPIRecord
    from traveler.mes_full.services.fpi import WAIVER_TEMPLATE, fpi_waive

    p = event.payload
    if p.get("record_type") != "mes_full.fpirecord" or p.get("template_type") != WAIVER_TEMPLATE:
        return
    record = FPIRecord.objects.filter(pk=p["record_id"]).first()
    if record is None:
        return
    actor = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    with tenant_context(current_tenant(), actor=actor):
        fpi_waive(record=record, request_id=p["request_id"])


def _station_panel(request, part):
    from traveler.mes_full.ui.station import station_panel

    return station_panel(request, part)


def _part_overrides_panel(request, part):
    from traveler.mes_full.ui.overrides import part_panel

    return part_panel(request, part)


add_panel(Panel("mes_full", "mes_lite.station.part", "Step requirements", _station_panel, order=10))
add_panel(Panel("mes_full", "mes_lite.part.detail", "Overrides", _part_overrides_panel,
                permission="mes_full.view_stepoverride", order=60))


# Per-part sampling: decisions as parts arrive at a sampled step (or are created at it), and the guard
# that keeps a selected part there until it is inspected.
def _sampling_guard(**context):
    from traveler.mes_full.services.sampling import sampling_guard

    return sampling_guard(**context)


def _sampling_on_advance(**context):
    from traveler.mes_full.services.sampling import sampling_on_advance

    sampling_on_advance(**context)


def _sampling_on_created(**context):
    from traveler.mes_full.services.sampling import sampling_on_created

    sampling_on_created(**context)


add_guard("mes.part.advance", _sampling_guard, kind="sampling_required")
add_recorder("mes.part.advance", _sampling_on_advance)
add_recorder("mes.part.created", _sampling_on_created)


# A quality report (Quality module, when installed: its event, by name) is an inspection for sampling.
from traveler.core.eventbus import Delivered, subscribe  # noqa: E402


@subscribe("qms.quality_report.created", durable=True)
def _sampling_quality_report(event: Delivered) -> None:
    from traveler.mes_full.services.sampling import sampling_quality_report

    p = event.payload
    sampling_quality_report(report_id=p["report_id"], part_id=p["part_id"], step_id=p["step_id"], status=p["status"])
