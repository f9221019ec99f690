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
