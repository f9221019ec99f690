"""MES Lite's permissions, and its own guards on advancing a part (equipment calibration, cancelled
work orders)."""

from traveler.core.registry import add_guard, declare_permissions
from traveler.core.roles import ADMINS, AUDITOR, CUSTOMER, ENGINEERING, OPERATOR, PRODUCTION_MANAGER, READ_ALL
from traveler.mes_lite.choices import WorkOrderStatus
from traveler.mes_lite.models import WorkOrder

PLANNERS = (*ADMINS, PRODUCTION_MANAGER)
FLOOR = (*PLANNERS, OPERATOR, "qa_inspector", "qa_manager")
DESIGN = (*ADMINS, ENGINEERING)

declare_permissions(
    "mes_lite",
    ("mes_lite.view_parttype", "View part types", READ_ALL),
    ("mes_lite.add_parttype", "Add part types", DESIGN),
    ("mes_lite.change_parttype", "Change part types", DESIGN),
    ("mes_lite.archive_parttype", "Archive part types", DESIGN),
    ("mes_lite.view_process", "View processes and their steps", READ_ALL),
    ("mes_lite.add_process", "Design processes (steps, measurements)", DESIGN),
    ("mes_lite.change_process", "Change draft processes", DESIGN),
    ("mes_lite.archive_process", "Archive processes", DESIGN),
    ("mes_lite.release_process", "Release a process version", (*ADMINS, ENGINEERING, "qa_manager")),
    ("mes_lite.view_order", "View orders", (*READ_ALL, CUSTOMER)),
    ("mes_lite.add_order", "Add orders", PLANNERS),
    ("mes_lite.change_order", "Change, release and complete orders", PLANNERS),
    ("mes_lite.archive_order", "Archive orders", PLANNERS),
    ("mes_lite.view_workorder", "View work orders", READ_ALL),
    ("mes_lite.add_workorder", "Add work orders", PLANNERS),
    ("mes_lite.change_workorder", "Change, release and complete work orders, create their parts", PLANNERS),
    ("mes_lite.archive_workorder", "Archive work orders", PLANNERS),
    ("mes_lite.view_part", "View parts and their travelers", (*READ_ALL, CUSTOMER)),
    ("mes_lite.advance_part", "Advance parts and record measurements", FLOOR),
    ("mes_lite.hold_part", "Put parts on hold and release them", (*PLANNERS, "qa_inspector", "qa_manager")),
    ("mes_lite.scrap_part", "Scrap parts", (*PLANNERS, "qa_manager")),
    ("mes_lite.view_equipment", "View equipment and calibration status", READ_ALL),
    ("mes_lite.add_equipment", "Add equipment", (*PLANNERS, "qa_manager")),
    ("mes_lite.change_equipment", "Change equipment and record calibrations", (*PLANNERS, "qa_manager")),
    ("mes_lite.archive_equipment", "Archive equipment", (*PLANNERS, "qa_manager")),
    ("mes_lite.view_equipmenttype", "View equipment types", READ_ALL),
    ("mes_lite.add_equipmenttype", "Add equipment types", (*PLANNERS, "qa_manager")),
    ("mes_lite.change_equipmenttype", "Change equipment types", (*PLANNERS, "qa_manager")),
    ("mes_lite.archive_equipmenttype", "Archive equipment types", (*PLANNERS, "qa_manager")),
    ("mes_lite.view_transition", "View part transition logs", (*READ_ALL, AUDITOR)),
)


def calibration_guard(*, equipment, measured=(), today, **context) -> str | None:
    """Refuse equipment that may not be used (overdue, never calibrated though its type needs it, failed
    its last calibration), and a measurement whose definition names an equipment type recorded without
    equipment of that type."""
    reasons = []
    overdue = [e for e in equipment if e.calibration_overdue(today)]
    if overdue:
        names = ", ".join(f"{e.name} ({e.serial_number}, due {e.next_calibration:%Y-%m-%d})" for e in overdue)
        reasons.append(f"Calibration overdue: {names}. Use calibrated equipment or have it calibrated first.")
    other = [(e, why) for e in equipment if e not in overdue and (why := e.calibration_refusal(today))]
    if other:
        names = ", ".join(f"{e.name} ({e.serial_number}) {why}" for e, why in other)
        reasons.append(f"Not calibrated: {names}. Use calibrated equipment or record a passed calibration first.")
    types = {e.equipment_type_id for e in equipment}
    missing: dict[int, list[str]] = {}
    for d in measured:
        if d.equipment_type_id and d.equipment_type_id not in types:
            missing.setdefault(d.equipment_type_id, []).append(d.label)
    for type_id, labels in missing.items():
        name = next(d.equipment_type.name for d in measured if d.equipment_type_id == type_id)
        reasons.append(f"{', '.join(labels)} {'is' if len(labels) == 1 else 'are'} measured with a {name}: "
                       f"choose the {name} you used.")
    return " ".join(reasons) or None


def cancelled_work_order_guard(*, parts, **context) -> str | None:
    """Refuse to advance, or release from hold, a part of a cancelled work order: cancelling took it out
    of production, and only scrap or a QA decision under another work order follows."""
    ids = {p.work_order_id for p in parts if p.work_order_id}
    if not ids:
        return None
    cancelled = list(WorkOrder.objects.filter(pk__in=ids, status=WorkOrderStatus.CANCELLED)
                     .values_list("number", flat=True)[:5])
    if not cancelled:
        return None
    return (f"Work order {', '.join(cancelled)} is cancelled: its parts are out of production and can neither be "
            "advanced nor released from hold. Scrap them, or reuse them under another work order after a QA decision.")


add_guard("mes.part.advance", calibration_guard, kind="calibration_due")
add_guard("mes.part.advance", cancelled_work_order_guard, kind="cancelled_work_order", overridable=False)
add_guard("mes.part.release", cancelled_work_order_guard, kind="cancelled_work_order", overridable=False)
