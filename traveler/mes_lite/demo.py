"""MES Lite demo data: a common-rail diesel-injector line, and large generated data sets like it.

In every demo tenant ``load_mes_demo`` builds (or reuses) the injector's part types, its released
ten-step process with measurements and tolerances, gauges and machines (one gauge overdue for
calibration), orders for the core demo's customer companies, and work orders whose parts are moved
along the route by the real services, with seeded measurement values: mostly in spec, a few out of
spec (quarantined), a couple on hold, a couple scrapped, some completed.

``production_generate`` makes the same kind of data in bulk (``mes_generate``, the benchmarks).
Everything goes through the services, so transitions, measurements, events and history are real.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from traveler.core.demo import DEMO_TENANTS, demo_loader
from traveler.core.models import Company, Tenant, User
from traveler.core.services.companies import company_create
from traveler.core.services.records import record_create
from traveler.core.tenancy import current_actor, tenant_context
from traveler.mes_lite.choices import MeasurementKind, PartStatus, ProcessStatus
from traveler.mes_lite.models import (
    Equipment,
    EquipmentType,
    MeasurementDefinition,
    Order,
    Part,
    PartType,
    Process,
    Step,
    WorkOrder,
)
from traveler.mes_lite.services import orders as order_services
from traveler.mes_lite.services import routing
from traveler.mes_lite.services.equipment import equipment_create
from traveler.mes_lite.services.parts import part_hold, part_scrap, parts_advance_bulk

# The line ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A measurement of the route, and how the line's values scatter (``mean``/``sd``, for generated data).

    Without ``nominal`` it is a pass/fail check. Tolerances are deviations from nominal, as in
    ``MeasurementDefinition``; by default values centre in the band with a capability of about 1.33.
    """

    label: str
    unit: str = ""
    nominal: str | None = None
    lower_tol: str = "0"
    upper_tol: str = "0"
    mean: float | None = None
    sd: float | None = None
    required: bool = True


PART_TYPES = (
    ("CRI-2200", "C", "Common-rail injector, 2,200 bar",
     "Solenoid common-rail injector for six-cylinder heavy-duty diesel engines; serialised on the body."),
    ("CRB-2200", "D", "Injector body", "Forged 18CrNi8 body: machined, case-hardened, seat ground, bore honed."),
    ("DLLA-150P", "B", "Nozzle and needle", "Seven-hole nozzle, 150° spray angle, with its matched needle."),
    ("SVA-0445", "A", "Solenoid valve assembly", "Armature, valve ball and 24 V coil, pre-tested."),
)
INJECTOR = ("CRI-2200", "C")
PROCESS_NAME = "Injector line"

ROUTE: tuple[tuple[str, str, tuple[Spec, ...]], ...] = (
    ("Receive & inspect forging", "Check the forged 18CrNi8 blank against the mill certificate; length and shank.", (
        Spec("Blank length", "mm", "62.00", "0.30", "0.30"),
        Spec("Shank Ø", "mm", "17.00", "0.10", "0.10"),
        Spec("Mill certificate matches heat number"),
    )),
    ("CNC machine body", "Turn, drill the high-pressure and return bores, cut the M16×1.25 nozzle-nut thread.", (
        Spec("Body length", "mm", "58.00", "0.05", "0.05"),
        Spec("Pre-bore Ø", "mm", "3.960", "0.010", "0.010"),
        Spec("Thread M16×1.25 go/no-go"),
    )),
    ("Heat treat", "Carburise at 920 °C, quench, temper at 180 °C; hardness on the batch test piece.", (
        Spec("Surface hardness", "HRC", "60", "2", "2", sd=0.45),
        Spec("Case depth", "mm", "0.60", "0.10", "0.10"),
    )),
    ("Grind seat", "Grind the 60° valve seat on the CNC seat grinder.", (
        Spec("Seat angle", "°", "60.00", "0.25", "0.25", sd=0.055),
        Spec("Seat runout", "µm", "0", "0", "2.0", mean=0.8, sd=0.3),
    )),
    ("Hone bore", "Hone the needle-guide bore to size and finish.", (
        Spec("Bore Ø", "mm", "4.000", "0.004", "0.004", sd=0.0010),
        Spec("Surface roughness Ra", "µm", "0", "0", "0.2", mean=0.11, sd=0.025),
        Spec("Cylindricity", "µm", "0", "0", "1.5", mean=0.6, sd=0.2, required=False),
    )),
    ("Deburr & wash", "Electro-chemical deburring of the bore intersections, then ultrasonic wash.", (
        Spec("Largest residual particle", "µm", "0", "0", "200", mean=85, sd=30),
        Spec("Bore intersections burr-free"),
    )),
    ("Assemble nozzle & needle", "Fit the matched nozzle and needle, spring and shims; torque the nozzle nut.", (
        Spec("Needle lift", "mm", "0.250", "0.010", "0.010"),
        Spec("Nozzle nut torque", "N·m", "55.0", "3.0", "3.0"),
    )),
    ("Leak test", "Pressurise with test oil to 2,000 bar for 10 s and measure the leakage.", (
        Spec("Leak rate", "mbar·l/s", "0", "0", "0.5", mean=0.18, sd=0.07),
        Spec("2,000 bar held for 10 s"),
    )),
    ("Flow test", "Injected quantity at 1,600 bar and 1.0 ms energising time on the flow bench.", (
        Spec("Injected quantity", "mm³/stroke", "430", "8", "8", sd=2.0),
        Spec("Nozzle opening pressure", "bar", "300", "10", "10", sd=2.5),
        Spec("Return flow", "mm³/stroke", "35", "10", "10"),
    )),
    ("Final inspection & marking", "Visual inspection, laser-mark the data-matrix code and verify it.", (
        Spec("Visual inspection"),
        Spec("Data-matrix code grade B or better"),
    )),
)

# (name, description, calibration interval in days or None)
EQUIPMENT_TYPES = (
    ("Height gauge", "Digital height gauge on granite plate.", 365),
    ("Bore air gauge", "Air gauge with a 4 mm setting ring.", 180),
    ("Coordinate measuring machine", "Tactile CMM for body geometry.", 365),
    ("Rockwell hardness tester", "HRC, with reference blocks.", 365),
    ("Roughness tester", "Stylus profilometer, Ra/Rz.", 365),
    ("Torque wrench", "Click-type 20–100 N·m.", 90),
    ("Leak test rig", "High-pressure test-oil leak tester.", 180),
    ("Flow test bench", "Injection-quantity bench with a calibrated reference injector.", 90),
    ("CNC machine", "Production machine; not a measuring device.", None),
)
# (type, name, serial number, days since its last calibration, step it is used at)
EQUIPMENT = (
    ("Height gauge", "Height gauge HG-1", "HG-22871", 40, "Receive & inspect forging"),
    ("CNC machine", "Twin-spindle lathe L-3", "L3-0990213", None, "CNC machine body"),
    ("Coordinate measuring machine", "CMM Q-1", "CMM-71730", 120, "CNC machine body"),
    ("Rockwell hardness tester", "Hardness tester HT-2", "HT-55102", 200, "Heat treat"),
    ("CNC machine", "Seat grinder G-1", "G1-44810", None, "Grind seat"),
    ("CNC machine", "Honing machine H-2", "H2-30177", None, "Hone bore"),
    ("Bore air gauge", "Bore air gauge AG-1", "AG-0412", 150, "Hone bore"),
    ("Bore air gauge", "Bore air gauge AG-2", "AG-0398", 214, None),  # overdue: 180-day interval
    ("Roughness tester", "Roughness tester R-1", "RT-9921", 90, "Hone bore"),
    ("Torque wrench", "Torque wrench TW-7", "TW-5567", 30, "Assemble nozzle & needle"),
    ("Leak test rig", "Leak test rig LT-1", "LT-2207", 60, "Leak test"),
    ("Flow test bench", "Flow bench FB-3", "FB-1183", 21, "Flow test"),
)


def _ensure_part_types() -> dict[tuple[str, str], PartType]:
    out = {}
    for number, rev, name, description in PART_TYPES:
        out[(number, rev)] = (PartType.objects.filter(part_number=number, revision=rev).first()
                              or routing.part_type_create(data={"part_number": number, "revision": rev, "name": name,
                                                                "description": description}))
    return out


def _ensure_process(part_type: PartType) -> Process:
    process = Process.objects.filter(part_type=part_type, name=PROCESS_NAME, status=ProcessStatus.RELEASED).first()
    if process is not None:
        return process
    process = routing.process_create(data={"part_type": part_type, "name": PROCESS_NAME})
    for name, description, specs in ROUTE:
        step = routing.step_add(process=process, name=name, description=description)
        for spec in specs:
            data = {"label": spec.label, "unit": spec.unit, "required": spec.required}
            if spec.nominal is None:
                data["kind"] = MeasurementKind.PASS_FAIL
            else:
                data.update(nominal=spec.nominal, lower_tol=spec.lower_tol, upper_tol=spec.upper_tol)
            routing.measurement_definition_add(step=step, data=data)
    return routing.process_release(process=process, reason="Initial release of the injector line")


def _ensure_equipment(today: date) -> dict[str, list[int]]:
    """Create the gauges and machines; returns the equipment ids used at each step (by step name)."""
    types = {}
    for name, description, interval in EQUIPMENT_TYPES:
        types[name] = (EquipmentType.objects.filter(name=name).first()
                       or record_create(EquipmentType, data={"name": name, "description": description,
                                                             "calibration_interval_days": interval}))
    by_step: dict[str, list[int]] = {}
    for type_name, name, serial, age, step_name in EQUIPMENT:
        eq = Equipment.objects.filter(serial_number=serial).first() or equipment_create(data={
            "equipment_type": types[type_name], "name": name, "serial_number": serial,
            "last_calibration": today - timedelta(days=age) if age is not None else None})
        if step_name:
            by_step.setdefault(step_name, []).append(eq.pk)
    return by_step


@dataclass
class Line:
    """The injector line of the current tenant: its process, route and the equipment used at each step."""

    process: Process
    steps: list[Step]
    equipment: dict[int, list[int]]  # step id -> equipment ids


def injector_line(today: date | None = None) -> Line:
    """Build (or reuse) the injector line in the current tenant. Idempotent."""
    part_types = _ensure_part_types()
    process = _ensure_process(part_types[INJECTOR])
    by_name = _ensure_equipment(today or date.today())
    steps = routing.route_steps(process)
    return Line(process, steps, {s.pk: by_name.get(s.name, []) for s in steps})


# Generated measurement values ----------------------------------------------------------------

_SPECS = {spec.label: spec for _, _, specs in ROUTE for spec in specs}


@dataclass(frozen=True)
class _Gen:
    definition: int
    check: bool
    low: float = 0.0
    high: float = 0.0
    mean: float = 0.0
    sd: float = 0.0
    decimals: int = 0


def _gen(d: MeasurementDefinition) -> _Gen:
    if d.kind == MeasurementKind.PASS_FAIL:
        return _Gen(d.pk, check=True)
    spec = _SPECS.get(d.label)
    low, high = float(d.lower_limit), float(d.upper_limit)
    mean = spec.mean if spec and spec.mean is not None else (low + high) / 2
    sd = spec.sd if spec and spec.sd is not None else (high - low) / 8
    # One digit finer than the tolerance is written with: the resolution of the gauge.
    places = max(-min(d.lower_tol.normalize().as_tuple().exponent, d.upper_tol.normalize().as_tuple().exponent), 0)
    return _Gen(d.pk, check=False, low=low, high=high, mean=mean, sd=sd, decimals=places + 1)


def step_generators(steps: list[Step]) -> dict[int, list[_Gen]]:
    """How to generate readings at each step, from its measurement definitions."""
    out: dict[int, list[_Gen]] = {s.pk: [] for s in steps}
    for d in MeasurementDefinition.objects.filter(step__in=steps, archived_at__isnull=True).order_by("sequence", "pk"):
        out[d.step_id].append(_gen(d))
    return out


def readings(gens: list[_Gen], rng: random.Random, *, out_of_spec: bool = False) -> list[dict]:
    """Measurements of one part at one step; with ``out_of_spec`` exactly one of them is out of spec."""
    bad = rng.randrange(len(gens)) if out_of_spec and gens else -1
    out = []
    for i, g in enumerate(gens):
        if g.check:
            out.append({"definition": g.definition, "value": "fail" if i == bad else "pass"})
            continue
        band = g.high - g.low
        if i == bad:
            # Beyond a limit by 15–50 % of the band; one-sided limits (nominal 0) fail high.
            above = g.low == 0 or rng.random() < 0.5
            off = band * rng.uniform(0.15, 0.5)
            value = g.high + off if above else g.low - off
        else:
            value = min(max(rng.gauss(g.mean, g.sd), g.low), g.high)
        out.append({"definition": g.definition, "value": f"{value:.{g.decimals}f}"})
    return out


# Moving a work order's parts along the route ----------------------------------------------------

# Where a work order's parts are headed: weights over the steps, the last entry meaning completed.
PROFILES = {
    "done": [0] * 10 + [1],
    "late": [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 10],
    "mid": [0, 0, 1, 2, 2, 2, 2, 1, 0, 0, 1],
    "early": [3, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0],
    "released": [1] + [0] * 10,
    "spread": [1] * 11,
}


def work_order_run(work_order: WorkOrder, line: Line, gens: dict[int, list[_Gen]], rng: random.Random, *,
                   profile: str, out_of_spec_rate: float = 0.005,
                   progress: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Advance the parts of ``work_order`` step by step (one bulk call per step) towards targets drawn
    from ``profile``. A part whose readings are out of spec is quarantined and stays where it is."""
    pks = list(Part.objects.filter(work_order=work_order, status=PartStatus.PENDING).order_by("pk")
               .values_list("pk", flat=True))
    waiting = list(zip(pks, _targets(rng, PROFILES[profile], len(pks), len(line.steps)), strict=True))
    totals = {"advanced": 0, "completed": 0, "quarantined": 0}
    for i, step in enumerate(line.steps):
        moving = [(pk, target) for pk, target in waiting if target > i]
        if not moving:
            break
        bad = [rng.random() < out_of_spec_rate for _ in moving]
        items = [{"part": pk, "measurements": readings(gens[step.pk], rng, out_of_spec=b)}
                 for (pk, _), b in zip(moving, bad, strict=True)]
        outcome = parts_advance_bulk(work_order=work_order, step=step.pk, parts=items,
                                     equipment=line.equipment.get(step.pk) or None)
        for k, v in outcome.items():
            totals[k] += v
        progress(f"{work_order.number}: {len(items):,} parts through '{step.name}' ({i + 1}/{len(line.steps)})")
        waiting = [m for m, b in zip(moving, bad, strict=True) if not b]
    return totals


def _targets(rng: random.Random, weights: list[int], n: int, steps: int) -> list[int]:
    """``n`` targets drawn from ``weights``, scaled to a route of ``steps`` steps (``steps``: completed)."""
    scale = steps / (len(weights) - 1)
    return [round(t * scale) for t in rng.choices(range(len(weights)), weights=weights, k=n)]


# Generated production (mes_generate, benchmarks) ---------------------------------------------------

MAX_WORK_ORDER = 10_000


def production_generate(*, parts: int, orders: int | None = None, seed: int = 1, profile: str | None = None,
                        progress: Callable[[str], None] = lambda _: None) -> list[Order]:
    """Orders of ``parts`` parts in all, in work orders of at most 10,000 parts spread over the route.

    Runs in the current tenant (and as the current actor); numbers continue from earlier runs.
    """
    if parts < 1:
        raise ValueError("parts must be at least 1")
    orders = orders or math.ceil(parts / (2 * MAX_WORK_ORDER))
    if not 1 <= orders <= parts:
        raise ValueError("orders must be between 1 and the number of parts")
    rng = random.Random(seed)
    line = injector_line()
    gens = step_generators(line.steps)
    companies = list(Company.objects.filter(kind=Company.Kind.CUSTOMER, archived_at__isnull=True).order_by("pk")) \
        or [company_create(data={"name": "Generated Customer", "kind": Company.Kind.CUSTOMER})]
    first = Order.objects.filter(number__startswith="GEN-").count() + 1
    made, done = [], 0
    for n in range(orders):
        size = parts // orders + (1 if n < parts % orders else 0)
        order = order_services.order_create(data={
            "number": f"GEN-{first + n:06d}", "company": companies[n % len(companies)],
            "name": f"Generated injectors, {size:,} parts", "estimated_completion": date.today() + timedelta(days=30)})
        for k in range(math.ceil(size / MAX_WORK_ORDER)):
            quantity = min(MAX_WORK_ORDER, size - k * MAX_WORK_ORDER)
            wo = work_order_with_parts(order, line, f"{order.number}-{k + 1:02d}", quantity)
            work_order_run(wo, line, gens, rng, profile=profile or rng.choice(["late", "mid", "early", "spread"]),
                           progress=progress)
            done += quantity
            progress(f"{done:,}/{parts:,} parts: work order {wo.number} done")
        made.append(order)
    return made


def work_order_with_parts(order: Order, line: Line, number: str, quantity: int, *, pattern: str | None = None,
                          expected: date | None = None) -> WorkOrder:
    """A released work order of ``order`` on ``line`` with its ``quantity`` parts, pending at the first step."""
    wo = order_services.work_order_create(data={
        "number": number, "order": order, "process": line.process, "quantity": quantity,
        "expected_completion": expected or order.estimated_completion})
    wo = order_services.work_order_release(work_order=wo)
    order_services.work_order_create_parts(work_order=wo, pattern=pattern or f"{number}-{{seq:05}}")
    return wo


# The demo -------------------------------------------------------------------------------------

# (order number, customer index, name, days to estimated completion,
#  [(work order number, quantity, profile)]); no work orders: a draft order with a draft work order.
DEMO_ORDERS = (
    ("SO-1001", 0, "Injectors for the D13 engine build, lot 1", -5, [("WO-1001", 24, "done")]),
    ("SO-1002", 0, "Injectors for the D13 engine build, lot 2", 12, [("WO-1002", 120, "late"), ("WO-1003", 60, "mid")]),
    ("SO-1003", 1, "Genset service injectors", 20, [("WO-1004", 80, "mid")]),
    ("SO-1004", 2, "Locomotive overhaul programme", 35, [("WO-1005", 40, "early"), ("WO-1006", 30, "released")]),
    ("SO-1005", 2, "Spare injectors, call-off 2", 60, []),
)
SERIAL_PATTERN = "INJ{yy}-{seq:06}"


def _user(tenant: Tenant, role: str) -> User | None:
    return User.objects.filter(email=f"{role.replace('_', '.')}@{tenant.slug}.example.com").first()


@demo_loader
def load_mes_demo(tenant: Tenant) -> None:
    """The injector line with a few hundred parts at work in ``tenant``; reuses whatever exists."""
    today = date.today()
    rng = random.Random(f"mes-demo-{tenant.slug}")
    customers = next((c for slug, _, c in DEMO_TENANTS if slug == tenant.slug), ())
    companies = [Company.objects.filter(name=name).first() for name in customers]
    companies = [c for c in companies if c is not None] or list(Company.objects.filter(kind=Company.Kind.CUSTOMER)[:3])
    if not companies:
        return
    with tenant_context(tenant, actor=_user(tenant, "engineering") or current_actor()):
        line = injector_line(today)
        gens = step_generators(line.steps)
    for number, customer, name, days, work_orders in DEMO_ORDERS:
        if Order.objects.filter(number=number).exists():
            continue
        with tenant_context(tenant, actor=_user(tenant, "production_manager") or current_actor()):
            order = order_services.order_create(data={
                "number": number, "company": companies[customer % len(companies)], "name": name,
                "estimated_completion": today + timedelta(days=days)})
            if not work_orders:
                order_services.work_order_create(data={
                    "number": number.replace("SO-", "WO-9"), "order": order, "process": line.process, "quantity": 200,
                    "expected_completion": today + timedelta(days=days - 5)})
                continue
            started = [(work_order_with_parts(order, line, wo_number, quantity, pattern=SERIAL_PATTERN,
                                              expected=today + timedelta(days=days - 3)), profile)
                       for wo_number, quantity, profile in work_orders]
        with tenant_context(tenant, actor=_user(tenant, "operator") or current_actor()):
            for wo, profile in started:
                work_order_run(wo, line, gens, rng, profile=profile, out_of_spec_rate=0.006)
        with tenant_context(tenant, actor=_user(tenant, "qa_manager") or current_actor()):
            for wo, profile in started:
                _disposition(wo, profile, rng)
            if all(profile == "done" for _, profile in started):
                order.refresh_from_db()
                order_services.order_complete(order=order, reason="All injectors shipped")


def _disposition(wo: WorkOrder, profile: str, rng: random.Random) -> None:
    """What quality does with a work order: holds, scrap, and closing a finished one."""
    parts = Part.objects.filter(work_order=wo).order_by("pk")
    if profile == "done":
        for part in parts.filter(status=PartStatus.QUARANTINED):
            part_scrap(part=part, reason=f"{part.status_reason} Not reworkable (MRB decision).")
        wo.refresh_from_db()
        order_services.work_order_complete(work_order=wo, reason="All parts completed or scrapped")
    elif profile == "mid":
        waiting = list(parts.filter(status=PartStatus.IN_PROCESS))
        if waiting:
            part_hold(part=rng.choice(waiting), reason="Suspect nozzle lot L2291: awaiting the supplier's 8D report")
        quarantined = parts.filter(status=PartStatus.QUARANTINED).first()
        if quarantined is not None:
            part_scrap(part=quarantined, reason=f"{quarantined.status_reason} Not reworkable (MRB decision).")
        waiting = list(parts.filter(status=PartStatus.IN_PROCESS))
        if waiting:
            part_scrap(part=rng.choice(waiting), reason="Dropped during transfer: cracked nozzle nut")
