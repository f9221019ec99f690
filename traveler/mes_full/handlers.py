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
