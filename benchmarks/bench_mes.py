"""MES Lite benchmark: part advances (one per request and in bulk), latency, order progress, queries.

    ./dev db start && PYTHONPATH=. .venv/bin/python benchmarks/bench_mes.py [--singles 400] [--bulk 10000] [--rounds 3]

On the injector line of the demo (traveler.mes_lite.demo), as an operator with a real Bearer token:

(a) part advances per second, one part per request: ``POST /api/v1/mes/parts/{id}/advance/`` with the
    three measurements of the first step and the gauge used (through the service ``part_advance`` as well);
(b) bulk advance of ``--bulk`` parts with three measurements each: ``parts_advance_bulk`` and
    ``POST /api/v1/mes/work-orders/{id}/advance-parts/``; also with the audit trail of the append-only
    tables (transition log, measurements) off, and entirely off, to show what the history costs;
(c) p50/p95 latency of one advance request;
(d) the order progress (``selectors.order_progress`` and ``GET /api/v1/mes/orders/{id}/progress/``) for an
    order of 10,000 parts spread over the route;
(e) SQL queries per request for (a) and (d) at two data sizes.

With ``--via service`` only the services are measured.
Uses a database of its own (traveler_bench), dropped at the end; medians of ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import drop_database, fresh_database, owner_sql, pct  # noqa: E402

# The history rows an advance writes: transition log and measurements are inserted once and never
# changed; the part row is updated.
APPEND_ONLY = ("mes_lite_steptransitionlog", "mes_lite_stepmeasurement", "mes_lite_equipmentusage")
AUDITED = (*APPEND_ONLY, "mes_lite_part")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--singles", type=int, default=400, help="parts advanced one per request, per round")
    ap.add_argument("--bulk", type=int, default=10_000, help="parts per bulk advance")
    ap.add_argument("--progress-parts", type=int, default=10_000, help="parts of the order whose progress is read")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--via", choices=["both", "service"], default="both")
    args = ap.parse_args()
    fresh_database()
    try:
        run(args)
    finally:
        drop_database()


def triggers(enable: bool, tables: tuple[str, ...]) -> None:
    """Switch the audit trail of ``tables`` on or off (user triggers: the foreign keys stay checked)."""
    for t in tables:
        owner_sql(f"ALTER TABLE {t} {'ENABLE' if enable else 'DISABLE'} TRIGGER USER")


class Bench:
    def __init__(self, args):
        from django.test import Client

        from traveler.core.services.auth import token_issue
        from traveler.core.services.companies import company_create
        from traveler.core.services.tenants import tenant_create
        from traveler.core.services.users import member_add
        from traveler.core.tenancy import tenant_context
        from traveler.mes_lite.demo import injector_line, step_generators

        self.args = args
        self.tenant = tenant_create(name="Bench", slug="bench")
        with tenant_context(self.tenant):
            self.user = member_add(email="operator@bench.example.com", full_name="Bench Operator",
                                   password="bench password 2026", roles=["operator", "production_manager"]).user
            _, raw = token_issue(user=self.user, tenant=self.tenant)
        self.ctx = lambda: tenant_context(self.tenant, actor=self.user)
        with self.ctx():
            self.line = injector_line()
            self.gens = step_generators(self.line.steps)
            self.company = company_create(data={"name": "Northwind Diesel"})
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        self.api = args.via == "both"
        self.n = 0

    def work_order(self, quantity: int):
        from traveler.mes_lite.demo import work_order_with_parts
        from traveler.mes_lite.services.orders import order_create

        self.n += 1
        with self.ctx():
            order = order_create(data={"number": f"B-{self.n:04d}", "company": self.company})
            return work_order_with_parts(order, self.line, f"BW-{self.n:04d}", quantity)

    def first_step_items(self, wo, rng, with_equipment=False):
        from traveler.mes_lite.demo import readings
        from traveler.mes_lite.models import Part

        step = self.line.steps[0]
        with self.ctx():
            pks = list(Part.objects.filter(work_order=wo).order_by("pk").values_list("pk", flat=True))
        return step, [{"part": pk, "measurements": readings(self.gens[step.pk], rng)} for pk in pks]

    # (a), (c) ---------------------------------------------------------------------------------
    def singles(self, rng, via_api: bool) -> tuple[float, list[float], int]:
        """One part per request (or service call): advances/s, latencies in ms, queries of one request."""
        from contextlib import nullcontext

        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from traveler.mes_lite.models import Part
        from traveler.mes_lite.services.parts import part_advance

        def advance(step, item):
            if via_api:
                r = self.client.post(f"/api/v1/mes/parts/{item['part']}/advance/", json.dumps(
                    {"step": step.pk, "measurements": item["measurements"], "equipment": equipment}),
                    content_type="application/json")
                assert r.status_code == 200, r.content[:300]
            else:
                part_advance(part=Part.objects.get(pk=item["part"]), step=step.pk,
                             measurements=item["measurements"], equipment=equipment)

        wo, counted = self.work_order(self.args.singles), self.work_order(1)
        step, items = self.first_step_items(wo, rng)
        equipment = self.line.equipment[step.pk]
        times = []
        # The service runs inside the tenant as a station's process would; a request sets it up itself.
        with nullcontext() if via_api else self.ctx():
            start = time.perf_counter()
            for item in items:
                t0 = time.perf_counter()
                advance(step, item)
                times.append((time.perf_counter() - t0) * 1000)
            rate = len(items) / (time.perf_counter() - start)
            _, (item,) = self.first_step_items(counted, rng)
            with CaptureQueriesContext(connection) as q:
                advance(step, item)
        return rate, times, len(q)

    # (b) --------------------------------------------------------------------------------------
    def bulk(self, rng, via_api: bool) -> float:
        from traveler.mes_lite.services.parts import parts_advance_bulk

        wo = self.work_order(self.args.bulk)
        step, items = self.first_step_items(wo, rng)
        start = time.perf_counter()
        if via_api:
            r = self.client.post(f"/api/v1/mes/work-orders/{wo.pk}/advance-parts/",
                                 json.dumps({"step": step.pk, "parts": items}), content_type="application/json")
            assert r.status_code == 200, r.content[:300]
            out = r.json()
        else:
            with self.ctx():
                out = parts_advance_bulk(work_order=wo, step=step.pk, parts=items)
        took = time.perf_counter() - start
        assert out["advanced"] == len(items), out
        return len(items) / took

    # (d) --------------------------------------------------------------------------------------
    def progress(self, order, via_api: bool, repeat: int = 60) -> tuple[list[float], int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from traveler.mes_lite.selectors import order_progress

        def once():
            if via_api:
                r = self.client.get(f"/api/v1/mes/orders/{order.pk}/progress/")
                assert r.status_code == 200, r.content[:300]
            else:
                with self.ctx():
                    order_progress(order=order)

        once()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            once()
            times.append((time.perf_counter() - t0) * 1000)
        with CaptureQueriesContext(connection) as q:
            once()
        return times, len(q)

    def spread_order(self, parts: int):
        from traveler.mes_lite.demo import production_generate

        with self.ctx():
            (order,) = production_generate(parts=parts, orders=1, profile="spread", seed=parts)
        return order

    def part_count(self) -> int:
        from traveler.mes_lite.models import Part

        with self.ctx():
            return Part.objects.count()


def run(args) -> None:
    import random

    b = Bench(args)
    rng = random.Random(2026)
    vias = [("service", False)] + ([("API", True)] if b.api else [])
    print(f"MES Lite benchmark: measuring through {' and '.join(v for v, _ in vias)}")

    # Small data: the order progress of a small order, and a first round of single advances.
    small_order = b.spread_order(100)
    owner_sql("VACUUM ANALYZE")
    queries = {}
    for via, api in vias:
        queries[("progress", via, "small")] = b.progress(small_order, api, repeat=5)[1]
    singles = {via: [] for via, _ in vias}
    for via, api in vias:
        rate, times, q = b.singles(rng, api)
        singles[via].append((rate, times))
        queries[("advance", via, "small")] = q
    small_parts = b.part_count()

    print(f"\n== (b) Bulk advance: {args.bulk:,} parts, three measurements each, one call ==")
    modes = [("audit trail on", None), ("append-only tables not audited on insert", APPEND_ONLY),
             ("audit trail off", AUDITED)]
    for via, api in vias:
        for label, off in modes:
            rates = []
            for _ in range(args.rounds):
                if off:
                    triggers(False, off)
                try:
                    rates.append(b.bulk(rng, api))
                finally:
                    if off:
                        triggers(True, off)
            print(f"{via:8s} {label:42s} {statistics.median(rates):8,.0f} parts/s   "
                  f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})")

    print(f"\n== (d) Order progress: an order of {args.progress_parts:,} parts spread over the route ==")
    t0 = time.perf_counter()
    big_order = b.spread_order(args.progress_parts)
    print(f"(generated in {time.perf_counter() - t0:.1f} s through the bulk services)")
    # Right after the writes, then as autovacuum leaves the table (visibility map set: index-only scans).
    for label, maintenance in (("just written", "ANALYZE"), ("after vacuum", "VACUUM ANALYZE")):
        owner_sql(maintenance)
        for via, api in vias:
            times, q = b.progress(big_order, api)
            queries[("progress", via, "large")] = q
            print(f"{via:8s} {label:13s} p50 {pct(times, 50):6.1f} ms   p95 {pct(times, 95):6.1f} ms")

    for _ in range(args.rounds - 1):
        for via, api in vias:
            rate, times, q = b.singles(rng, api)
            singles[via].append((rate, times))
            queries[("advance", via, "large")] = q
    large_parts = b.part_count()

    print(f"\n== (a) + (c) Single advances: one part per request, three measurements and a gauge, "
          f"{args.singles} per round ==")
    for via, _ in vias:
        rates = [r for r, _ in singles[via]]
        p50s = [pct(t, 50) for _, t in singles[via]]
        p95s = [pct(t, 95) for _, t in singles[via]]
        print(f"{via:8s} {statistics.median(rates):6,.0f} advances/s   p50 {statistics.median(p50s):5.1f} ms   "
              f"p95 {statistics.median(p95s):5.1f} ms   (rounds: {', '.join(f'{r:,.0f}/s' for r in rates)})")

    print(f"\n== (e) SQL queries per request: {small_parts:,} parts, order of 100 parts / {large_parts:,} parts, "
          f"order of {args.progress_parts:,} ==")
    for what in ("advance", "progress"):
        for via, _ in vias:
            print(f"{what:8s} {via:8s} {queries.get((what, via, 'small'))} / {queries.get((what, via, 'large'))}")


if __name__ == "__main__":
    main()
