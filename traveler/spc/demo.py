"""SPC's demo data: a capability study of the injector line's first two steps, with enough history
that its charts have frozen baselines, one characteristic drifting (and raising signals), and one
below the capability threshold.

A work order of 2,400 injector bodies goes through "Receive & inspect forging" and "CNC machine
body" in subgroups of 100 parts. Blank length and pre-bore diameter are capable and stable; shank
diameter is stable but not capable (Cpk about 1.1); body length is charted X̄-R in subgroups of five
and drifts upwards over the last 250 parts, after its baseline's phase I (the first 1,500 parts).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db.models import Max

from traveler.core.demo import DEMO_PASSWORD, demo_loader
from traveler.core.models import Company, Tenant, User
from traveler.core.tenancy import tenant_context
from traveler.mes_lite.demo import injector_line, readings, step_generators, work_order_with_parts
from traveler.mes_lite.models import MeasurementDefinition, Order, Part, StepMeasurement
from traveler.mes_lite.services import orders as order_services
from traveler.mes_lite.services.parts import parts_advance_bulk
from traveler.spc.services.baselines import baseline_compute, baseline_freeze
from traveler.spc.services.characteristics import characteristic_save
from traveler.spc.services.signals import reaction_plan_save, signals_detect

ORDER = "SO-SPC-01"
PARTS = 2_400
CHUNK = 100  # parts advanced together
PHASE_ONE = 1_500  # parts in the baselines' phase I
DRIFT_FROM = PARTS - 250
# label -> (sigma as a fraction of the tolerance band, mean offset in sigmas)
STUDY = {
    "Blank length": (1 / 10, 0.0),
    "Shank Ø": (1 / 6.5, 0.35),
    "Body length": (1 / 10, 0.0),
    "Pre-bore Ø": (1 / 10, 0.1),
}
DRIFTING = "Body length"


def _user(tenant: Tenant, role: str) -> User | None:
    return User.objects.filter(email=f"{role.replace('_', '.')}@{tenant.slug}.example.com").first()


def _value(d: MeasurementDefinition, n: int, rng: random.Random) -> str:
    low, high = float(d.lower_limit), float(d.upper_limit)
    fraction, offset = STUDY[d.label]
    sd = (high - low) * fraction
    mean = (low + high) / 2 + offset * sd
    if d.label == DRIFTING and n >= DRIFT_FROM:
        mean += sd * (0.3 + 0.8 * (n - DRIFT_FROM) / (PARTS - DRIFT_FROM))  # a tool wearing
    value = min(max(rng.gauss(mean, sd), low), high)
    places = max(-min(d.lower_tol.normalize().as_tuple().exponent, d.upper_tol.normalize().as_tuple().exponent), 0)
    return f"{value:.{places + 2}f}"


@demo_loader
def load_spc_demo(tenant: Tenant) -> None:
    """The capability study; reuses it when it exists."""
    qa, operator = _user(tenant, "qa_manager"), _user(tenant, "operator")
    if qa is None or operator is None:
        return
    with tenant_context(tenant, actor=qa):
        if Order.objects.filter(number=ORDER).exists():
            return
        line = injector_line()
        steps = line.steps[:2]
        gens = step_generators(steps)
        studied = {d.label: d for d in MeasurementDefinition.objects.filter(step__in=steps, label__in=STUDY)}
        company = Company.objects.filter(kind=Company.Kind.CUSTOMER).order_by("pk").first()
        if company is None:
            return
        characteristic_save(definition=studied[DRIFTING], data={"chart_type": "xbar_r", "subgroup_size": 5,
                                                                "rules": "N1,N2"},
                            reason="Capability study: subgroups of five bodies")
        order = order_services.order_create(data={
            "number": ORDER, "company": company, "name": "Capability study, injector bodies",
            "estimated_completion": date.today() + timedelta(days=14)})
        wo = work_order_with_parts(order, line, "WO-SPC-01", PARTS, pattern="STUDY{yy}-{seq:05}")
    rng = random.Random(f"spc-demo-{tenant.slug}")
    with tenant_context(tenant, actor=operator):
        pks = list(Part.objects.filter(work_order=wo).order_by("pk").values_list("pk", flat=True))
        for step in steps:
            for start in range(0, PARTS, CHUNK):
                items = []
                for n, pk in enumerate(pks[start:start + CHUNK], start=start):
                    values = []
                    for reading, g in zip(readings(gens[step.pk], rng), gens[step.pk], strict=True):
                        d = next((d for d in studied.values() if d.pk == g.definition), None)
                        values.append({"definition": g.definition, "value": _value(d, n, rng)} if d else reading)
                    items.append({"part": pk, "measurements": values})
                parts_advance_bulk(work_order=wo, step=step.pk, parts=items, equipment=line.equipment.get(step.pk) or None)
    with tenant_context(tenant, actor=qa):
        for d in studied.values():
            phase_one_end = (StepMeasurement.objects.filter(definition=d, part_id__in=pks[:PHASE_ONE])
                             .aggregate(last=Max("recorded_at"))["last"])
            later = (StepMeasurement.objects.filter(definition=d, recorded_at__gt=phase_one_end)
                     .order_by("recorded_at").values_list("recorded_at", flat=True).first())
            draft = baseline_compute(definition=d, range_to=later, work_orders=[wo],
                                     notes=f"Capability study, first {PHASE_ONE:,} bodies")
            baseline_freeze(baseline=draft, user=qa, password=DEMO_PASSWORD)
        reaction_plan_save(definition=studied[DRIFTING], data={
            "notify_roles": ["qa_manager", "engineering"], "open_nonconformance": True, "owner": qa,
            "instructions": "Check the lathe's tool wear and the last bodies' length before going on."})
        signals_detect(definition=studied[DRIFTING])
