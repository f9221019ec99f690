"""Step control test factories: real services, unique names, no fixed ids."""

from __future__ import annotations

import itertools

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import record_factory
from traveler.mes_full.models import SamplingRuleSet
from traveler.mes_full.services.sampling import ruleset_create
from traveler.mes_lite.models import Process, Step
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_process

_n = itertools.count(1)

EVERY_5TH = [{"kind": "every_nth", "count": 5}]


def make_ruleset(tenant, *, process: Process | None = None, step: Step | int | None = 1, rules=None,
                 fallback_parts=None, fallback_passes=None, name=None, actor=None) -> SamplingRuleSet:
    """A rule set on ``process`` (a new one by default) at its step number ``step`` (1-based; a Step
    is used as it is; None: every step of the process)."""
    process = process or make_process(tenant)
    with tenant_context(tenant, actor=actor):
        if isinstance(step, int):
            step = route_steps(process)[step - 1]
        return ruleset_create(data={
            "name": name or f"Sampling {next(_n)}", "part_type": process.part_type, "process": process, "step": step,
            "rules": EVERY_5TH if rules is None else rules, "fallback_parts": fallback_parts, "fallback_passes": fallback_passes})


@record_factory(SamplingRuleSet)
def _ruleset(tenant):
    return make_ruleset(tenant)
