"""Step executions: one row per visit of a part at a step, written with the advance that ends it."""

from __future__ import annotations

from django.db import connection

from traveler.core.tenancy import current_tenant
from traveler.mes_full.choices import ExecutionOutcome
from traveler.mes_lite.choices import PartStatus

_OUTCOME = {PartStatus.QUARANTINED: ExecutionOutcome.QUARANTINED, PartStatus.COMPLETED: ExecutionOutcome.COMPLETED}

# One statement for every part of the advance. A visit starts with the last move that brought the
# part to the step from elsewhere (a release or quarantine at the step does not restart it), or, at the
# first step, with the part's creation; the look-up uses the log's (part, time) index.
INSERT = """
INSERT INTO mes_full_stepexecution (tenant_id, created_at, updated_at, version, part_id, step_id, transition_id,
                                    started_at, finished_at, operator_id, equipment_ids, outcome)
SELECT %(tenant)s, %(now)s, %(now)s, 1, x.part_id, %(step)s, x.transition_id,
       COALESCE((SELECT max(l.transition_time) FROM mes_lite_steptransitionlog l
                 WHERE l.part_id = x.part_id AND l.to_step_id = %(step)s
                   AND l.from_step_id IS DISTINCT FROM l.to_step_id AND l.id <> x.transition_id), p.created_at),
       %(now)s, %(operator)s, %(equipment)s, x.outcome
FROM unnest(%(parts)s::bigint[], %(transitions)s::bigint[], %(outcomes)s::text[]) AS x(part_id, transition_id, outcome)
JOIN mes_lite_part p ON p.id = x.part_id
"""


def executions_record(*, parts, step, operator, equipment, moves, transitions, now, **_) -> None:
    """The recorder of ``mes.part.advance``: the visits the advance ends, in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(INSERT, {
            "tenant": current_tenant().pk, "now": now, "step": step.pk,
            "operator": operator.pk if operator else None, "equipment": [e.pk for e in equipment],
            "parts": [p.pk for p in parts], "transitions": [transitions[p.pk] for p in parts],
            "outcomes": [_OUTCOME.get(m[2], ExecutionOutcome.ADVANCED) for m in moves],
        })
