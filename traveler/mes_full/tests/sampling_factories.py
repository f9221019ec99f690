"""Step control test factories: real services, unique names, no fixed ids."""

from __future__ import annotations

import itertools

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import record_factory
from traveler.mes_full.models import SamplingAnalytics, SamplingAuditLog, SamplingRuleSet
from traveler.mes_full.services.sampling import ruleset_create
from traveler.mes_lite.models import Process, Step
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_process, make_work_order

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


def make_sampled_work_order(tenant, *, quantity=5, **kw):
    """A rule set at the first step of a new route and a work order of ``quantity`` parts created there
    (decided at once)."""
    rs = make_ruleset(tenant, **kw)
    return rs, make_work_order(tenant, process=_process_of(tenant, rs), quantity=quantity)


def _process_of(tenant, rs):
    with tenant_context(tenant):
        return Process.objects.get(pk=rs.process_id)


@record_factory(SamplingAuditLog)
def _decision(tenant):
    rs, wo = make_sampled_work_order(tenant, quantity=1)
    with tenant_context(tenant):
        return SamplingAuditLog.objects.get(work_order=wo)


@record_factory(SamplingAnalytics)
def _analytics(tenant):
    rs, wo = make_sampled_work_order(tenant, quantity=2)
    with tenant_context(tenant):
        return SamplingAnalytics.objects.get(work_order=wo)
