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
