"""SPC test factories: measurements recorded through the traveler's own bulk advance."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import record_factory
from traveler.mes_lite.models import MeasurementDefinition, Part, Process, StepMeasurement, WorkOrder
from traveler.mes_lite.services.parts import parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_process, make_work_order
from traveler.spc.models import SPCBaseline, SPCSignal
from traveler.spc.services.baselines import baseline_compute


def measured(tenant, values: list[float], *, process: Process | None = None, start: datetime | None = None,
             every: timedelta = timedelta(minutes=10)) -> tuple[WorkOrder, MeasurementDefinition]:
    """A work order of ``len(values)`` parts, each advanced at the first step with its bore diameter
    (in order); with ``start``, the measurements are dated ``start``, ``start + every``, ..."""
    wo = make_work_order(tenant, process=process or make_process(tenant), quantity=len(values))
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        bore = MeasurementDefinition.objects.get(step=step, label="Bore diameter")
        parts = list(Part.objects.filter(work_order=wo).order_by("pk"))
        for i in range(0, len(parts), 500):
            parts_advance_bulk(work_order=wo, step=step.pk, parts=[
                {"part": p.pk, "measurements": [{"definition": bore.pk, "value": repr(v)}]}
                for p, v in zip(parts[i:i + 500], values[i:i + 500], strict=True)])
        if start is not None:
            ids = (StepMeasurement.objects.filter(part__work_order=wo, definition=bore)
                   .order_by("part_id").values_list("pk", flat=True))
            for n, pk in enumerate(ids):
                StepMeasurement.objects.filter(pk=pk).update(recorded_at=start + n * every)
    return wo, bore


def stable_values(n: int, *, mean: float = 6.0, seed: int = 7) -> list[float]:
    import random

    rng = random.Random(seed)
    return [round(rng.gauss(mean, 0.0015), 5) for _ in range(n)]


def make_baseline(tenant, n: int = 30) -> SPCBaseline:
    _, bore = measured(tenant, stable_values(n), start=timezone.now() - timedelta(days=2))
    with tenant_context(tenant):
        return baseline_compute(definition=bore)


@record_factory(SPCBaseline)
def _baseline(tenant):
    return make_baseline(tenant)


def make_signal(tenant):
    """A frozen baseline and one part out of its limits afterwards: an N1 signal (detection run)."""
    from traveler.core.queue import run_pending
    from traveler.core.tests.factories import PASSWORD, make_member
    from traveler.spc.services.baselines import baseline_freeze

    qa = make_member(tenant, roles=["qa_manager"])
    _, bore = measured(tenant, stable_values(30), start=timezone.now() - timedelta(days=2))
    with tenant_context(tenant, actor=qa):
        baseline_freeze(baseline=baseline_compute(definition=bore), user=qa, password=PASSWORD)
        process = bore.step.process
    measured(tenant, [6.0, 6.012, 6.0], process=process)
    run_pending()
    with tenant_context(tenant):
        return SPCSignal.objects.filter(definition=bore, rule="N1").get()


@record_factory(SPCSignal)
def _signal(tenant):
    return make_signal(tenant)
