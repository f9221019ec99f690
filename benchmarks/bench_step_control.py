"""Step control benchmark: what the gates cost a bulk advance and a single advance.

    ./dev db start && PYTHONPATH=. .venv/bin/python benchmarks/bench_step_control.py [--parts 2000] [--rounds 3]

On the demo's injector line, at its first step ("Receive & inspect forging", three measurements), as an
operator with the training the step requires:

(a) bulk advance of ``--parts`` parts of a work order through ``parts_advance_bulk``, with the step
    ungated (no requirement, no first-piece inspection, no sampling rule set) and gated (a training
    requirement, a first-piece inspection per work order, and a sampling rule set selecting every 10th
    part); the first piece and the sampled parts are inspected (signed-off rows written before the
    timing), the first piece advanced alone first in both variants. The two variants alternate within
    each round, on fresh work orders; the ratio gated / ungated is the figure (target ≤ 1.3).
(b) SQL queries of one single advance (``part_advance``) at the ungated and at the gated step, and with
    step control's guards and recorders taken out of the registry (as if the module were not
    installed): what the gates add (target ≤ 3 for all of them together).

Uses a database of its own (traveler_bench), dropped at the end; medians of ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import drop_database, fresh_database  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", type=int, default=2000, help="parts per bulk advance")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    fresh_database()
    try:
        run(args)
    finally:
        drop_database()


class Bench:
    def __init__(self):
        from traveler.core.models import Company
        from traveler.core.services.companies import company_create
        from traveler.core.services.tenants import tenant_create
        from traveler.core.services.users import member_add
        from traveler.core.tenancy import tenant_context
        from traveler.mes_full.choices import FPIScope, RequirementKind
        from traveler.mes_full.services.fpi import requirement_set
        from traveler.mes_full.services.requirements import requirement_create
        from traveler.mes_full.services.sampling import ruleset_create
        from traveler.mes_full.services.training import training_record_create, training_type_create
        from traveler.mes_lite.demo import injector_line, step_generators
        from traveler.mes_lite.services import orders as order_services

        self.tenant = tenant_create(name="Bench", slug="bench")
        self.password = "bench password 2026"
        with tenant_context(self.tenant):
            self.operator = member_add(email="operator@bench.example.com", full_name="Bench Operator",
                                       password=self.password, roles=["operator", "production_manager"]).user
            self.qa = member_add(email="qa@bench.example.com", full_name="Bench Inspector", password=self.password,
                                 roles=["qa_manager"]).user
        self.ctx = lambda user=None: tenant_context(self.tenant, actor=user or self.operator)
        with self.ctx():
            self.line = injector_line()
            self.step = self.line.steps[0]
            self.gens = step_generators(self.line.steps)
            company = company_create(data={"name": "Bench customer", "kind": Company.Kind.CUSTOMER})
            self.order = order_services.order_create(data={"number": "SO-BENCH", "company": company})
            order_services.order_release(order=self.order)
            ttype = training_type_create(data={"name": "Forging inspection", "validity_days": 365})
            training_record_create(data={"user": self.operator, "training_type": ttype,
                                         "completed_on": date.today() - timedelta(days=10)})
            self.requirement = requirement_create(data={"step": self.step, "kind": RequirementKind.TRAINING,
                                                        "training_type": ttype})
            self.fpi = requirement_set(step=self.step, scope=FPIScope.WORK_ORDER)
            self.ruleset = ruleset_create(data={
                "name": "Every 10th forging", "part_type": self.line.process.part_type, "process": self.line.process,
                "step": self.step, "rules": [{"kind": "every_nth", "count": 10}]})
        self.n = 0
        self.gated = True

    def gates(self, on: bool) -> None:
        """Switch the step's gates on or off (archive or restore them)."""
        from traveler.core.services.records import record_archive, record_restore
        from traveler.mes_full.services.sampling import ruleset_archive, ruleset_restore

        if on == self.gated:
            return
        with self.ctx():
            for obj in (self.requirement, self.fpi):
                obj.refresh_from_db()
                (record_restore if on else record_archive)(obj, reason="benchmark")
            self.ruleset.refresh_from_db()
            if on:
                ruleset_restore(ruleset=self.ruleset, reason="benchmark")
            else:
                ruleset_archive(ruleset=self.ruleset, reason="benchmark")
        self.gated = on

    def work_order(self, quantity: int):
        from traveler.mes_lite.demo import work_order_with_parts
        from traveler.mes_lite.models import Part

        self.n += 1
        with self.ctx():
            wo = work_order_with_parts(self.order, self.line, f"BW-{self.n:04d}", quantity,
                                       pattern=f"BENCH{self.n:03d}-{{seq:05}}")
            parts = list(Part.objects.filter(work_order=wo).order_by("sequence"))
        return wo, parts

    def inspect(self, parts) -> None:
        """The first piece signed off through the service; the parts sampling selected, inspected as
        rows (what an inspector's sign-off leaves), before the timing."""
        from django.utils import timezone

        from traveler.mes_full.models import SamplingAuditLog, StepInspection
        from traveler.mes_full.services.requirements import inspection_record

        with self.ctx(self.qa):
            inspection_record(part=parts[0], passed=True, user=self.qa, password=self.password)
            selected = set(SamplingAuditLog.objects.filter(part__in=parts[1:], step=self.step, selected=True)
                           .values_list("part_id", flat=True))
            now = timezone.now()
            StepInspection.objects.bulk_create([
                StepInspection(part_id=pk, step=self.step, passed=True, inspector=self.qa, inspected_at=now)
                for pk in selected])

    def readings(self, rng):
        from traveler.mes_lite.demo import readings

        return readings(self.gens[self.step.pk], rng)

    def bulk(self, on: bool, parts_n: int, rng) -> float:
        from traveler.mes_lite.services.parts import part_advance, parts_advance_bulk

        self.gates(on)
        wo, parts = self.work_order(parts_n + 1)
        if on:
            self.inspect(parts)
        with self.ctx():
            part_advance(part=parts[0], step=self.step.pk, measurements=self.readings(rng))
            items = [{"part": p.pk, "measurements": self.readings(rng)} for p in parts[1:]]
            start = time.perf_counter()
            out = parts_advance_bulk(work_order=wo, step=self.step.pk, parts=items)
            elapsed = time.perf_counter() - start
        assert out["advanced"] + out["quarantined"] == parts_n, out
        return parts_n / elapsed

    def single_queries(self, on: bool, rng, *, without_module: bool = False) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from traveler.core.registry import registry
        from traveler.mes_lite.services.parts import part_advance

        self.gates(on)
        wo, parts = self.work_order(3)
        if on:
            self.inspect(parts)
        saved = {}
        if without_module:
            for key in ("guards", "recorders", "waivers"):
                table = getattr(registry, key)
                saved[key] = {t: list(v) for t, v in table.items()}
                for t, v in table.items():
                    table[t] = [g for g in v if "mes_full" not in getattr(getattr(g, "guard", g), "__module__", "")]
        try:
            with self.ctx():
                part_advance(part=parts[0], step=self.step.pk, measurements=self.readings(rng))
                with CaptureQueriesContext(connection) as q:
                    part_advance(part=parts[1], step=self.step.pk, measurements=self.readings(rng))
        finally:
            for key, table in saved.items():
                getattr(registry, key).clear()
                getattr(registry, key).update(table)
        return len(q)


def run(args) -> None:
    import random

    bench = Bench()
    rng = random.Random(7)
    bench.bulk(False, 200, rng)  # warm-up: caches, plans
    bench.bulk(True, 200, rng)
    plain, gated = [], []
    for r in range(args.rounds):
        for on in ((False, True) if r % 2 == 0 else (True, False)):
            (gated if on else plain).append(bench.bulk(on, args.parts, rng))
    ratios = [p / g for p, g in zip(plain, gated, strict=True)]
    print(f"bulk advance of {args.parts} parts x 3 measurements, parts/s (rounds: {args.rounds})")
    print(f"  ungated step: {statistics.median(plain):.0f} ({min(plain):.0f}-{max(plain):.0f})")
    print(f"  gated step (training + FPI + sampling every 10th): {statistics.median(gated):.0f} "
          f"({min(gated):.0f}-{max(gated):.0f})")
    print(f"  time gated / ungated: median {statistics.median(ratios):.2f}x (per round: "
          f"{', '.join(f'{x:.2f}' for x in ratios)}), target <= 1.3x")
    none = bench.single_queries(False, rng, without_module=True)
    ungated = bench.single_queries(False, rng)
    gated_q = bench.single_queries(True, rng)
    print("SQL queries of one single advance (3 measurements):")
    print(f"  without step control's guards and recorders: {none}")
    print(f"  ungated step: {ungated} (+{ungated - none})")
    print(f"  gated step: {gated_q} (+{gated_q - none}; +{gated_q - ungated} over the ungated step), target <= +3")


if __name__ == "__main__":
    main()
