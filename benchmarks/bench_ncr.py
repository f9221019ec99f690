"""Nonconformance benchmark.

    ./dev db start && .venv/bin/python benchmarks/bench_ncr.py [--opens 200] [--ncrs 20000] [--runs 30]

Prints (1) nonconformances opened per second through ``POST /api/v1/qms/nonconformances/`` (one part
each: the NCR, its number, the part's hold, events and history in one transaction each), and (2) the
p50/p95 of the NCR board page (``/qms/nonconformances/``) with ``--ncrs`` nonconformances in the
tenant, spread over the five states. The bulk NCRs are inserted in one statement each batch (their
rows only; the board reads no parts), after the ones opened through the API. Uses a database of its
own (traveler_bench), dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import drop_database, fresh_database, pct  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--opens", type=int, default=200)
    ap.add_argument("--ncrs", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    fresh_database()
    try:
        run(args)
    finally:
        drop_database()


def run(args) -> None:
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from traveler.core.middleware import SESSION_TENANT
    from traveler.core.services.auth import token_issue
    from traveler.core.services.tenants import tenant_create
    from traveler.core.services.users import member_add
    from traveler.core.tenancy import tenant_context
    from traveler.mes_lite.models import Part
    from traveler.mes_lite.services import orders, routing
    from traveler.qms.models import QuarantineDisposition

    tenant = tenant_create(name="Bench", slug="bench")
    with tenant_context(tenant):
        qa = member_add(email="qa@example.com", full_name="Bench QA", password="bench password 2026",
                        roles=["qa_manager"]).user
        pt = routing.part_type_create(data={"part_number": "B-1", "name": "Body"})
        process = routing.process_create(data={"part_type": pt, "name": "Route"})
        for name in ("Turn", "Grind", "Inspect"):
            routing.step_add(process=process, name=name)
        process = routing.process_release(process=process)
        wo = orders.work_order_create(data={"number": "WO-B", "process": process, "quantity": args.opens})
        wo = orders.work_order_release(work_order=wo)
        orders.work_order_create_parts(work_order=wo, pattern="B{seq:06}")
        part_ids = list(Part.objects.filter(work_order=wo).order_by("pk").values_list("pk", flat=True))
        _, raw = token_issue(user=qa, tenant=tenant)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    t0 = time.perf_counter()
    for pk in part_ids:
        r = api.post("/api/v1/qms/nonconformances/", {"title": "Bench", "severity": "minor", "parts": [pk]},
                     content_type="application/json")
        assert r.status_code == 201, r.content[:300]
    elapsed = time.perf_counter() - t0
    print(f"POST /api/v1/qms/nonconformances/: {len(part_ids) / elapsed:.1f} opened per second "
          f"({len(part_ids)} in {elapsed:.1f} s)")

    rng = random.Random(1)
    states = ["open", "in_progress", "dispositioned", "closed", "cancelled"]
    now = timezone.now()
    with tenant_context(tenant):
        year = now.year
        rows = []
        for i in range(args.ncrs - len(part_ids)):
            state = rng.choice(states)
            done = state in ("dispositioned", "closed")
            rows.append(QuarantineDisposition(
                number=f"NCR-{year}-B{i:06d}", title=f"Bulk nonconformance {i}", state=state,
                severity=rng.choice(["critical", "major", "minor"]), owner=qa if i % 3 else None,
                disposition="scrap" if done else "", disposition_status="done" if done else "",
                verified_at=now if state == "closed" else None, closed_at=now if state == "closed" else None))
        for batch in range(0, len(rows), 5000):
            QuarantineDisposition.objects.bulk_create(rows[batch:batch + 5000])
        # Spread their ages over a year.
        for n, pk in enumerate(QuarantineDisposition.objects.values_list("pk", flat=True)):
            if n % 500 == 0:
                QuarantineDisposition.objects.filter(pk__gte=pk, pk__lt=pk + 500).update(
                    created_at=now - timedelta(days=rng.randint(0, 365)))
        total = QuarantineDisposition.objects.count()
    web = Client()
    web.force_login(qa)
    session = web.session
    session[SESSION_TENANT] = tenant.pk
    session.save()
    for url in ("/qms/nonconformances/", "/qms/nonconformances/?severity=critical&owner=me"):
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = web.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.status_code
        print(f"GET {url} with {total} NCRs: p50 {statistics.median(times):.1f} ms  p95 {pct(times, 95):.1f} ms "
              f"({args.runs} runs)")


if __name__ == "__main__":
    main()
