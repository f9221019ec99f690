"""Platform benchmark: audit-trail write overhead and paginated API list latency.

    ./dev db start && .venv/bin/python benchmarks/bench_platform.py [--rows 100000] [--writes 3000]

Prints (1) single-row writes per second of a simple tenant-owned model (Company, through the ORM,
one transaction each, as the app role under row-level security) with the audit trail on and off,
and bulk writes of 1,000 rows per statement; whether a large update after many one-row updates
costs what it costs on fresh plans (the audit trigger's statements are planned per call); (2) p50/p95 latency of GET /api/v1/core/companies/
over ``--rows`` rows, first pages and deep pages, and the number of SQL queries per request.
Uses a database of its own (traveler_bench), dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import drop_database, fresh_database, owner_sql, pct  # noqa: E402


def writes_per_second(n: int, label: str) -> float:
    from django.db import transaction

    from traveler.core.models import Company

    start = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            Company.objects.create(name=f"{label}-{i}")
    return n / (time.perf_counter() - start)


def bulk_rows_per_second(batches: int, label: str) -> float:
    from traveler.core.models import Company

    start = time.perf_counter()
    for b in range(batches):
        Company.objects.bulk_create([Company(name=f"{label}-{b}-{i}") for i in range(1000)])
    return batches * 1000 / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--writes", type=int, default=3000)
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    fresh_database()
    try:
        run(args)
    finally:
        drop_database()


def run(args) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from traveler.core.models import Company
    from traveler.core.services.auth import token_issue
    from traveler.core.services.tenants import tenant_create
    from traveler.core.services.users import member_add
    from traveler.core.tenancy import tenant_context

    tenant = tenant_create(name="Bench", slug="bench")
    with tenant_context(tenant):
        user = member_add(email="bench@example.com", full_name="Bench", password="bench password 2026",
                          roles=["tenant_admin"]).user
        _, raw = token_issue(user=user, tenant=tenant)

        print("== Writes: Company (tenant-owned, RLS), one transaction per row, app role ==")
        durable = writes_per_second(min(args.writes, 500), "durable")
        print(f"single-row writes/s with audit, synchronous_commit on (each commit waits for fsync): {durable:.0f}")
        # The audit trail's cost is CPU and WAL, which fsync latency hides: compare with commits
        # not waiting for the disk, alternating on/off runs.
        with connection.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
        on, off, bulk_on, bulk_off = [], [], [], []
        for rnd in range(3):
            on.append(writes_per_second(args.writes, f"on{rnd}"))
            bulk_on.append(bulk_rows_per_second(5, f"bon{rnd}"))
            owner_sql("ALTER TABLE core_company DISABLE TRIGGER USER")
            try:
                off.append(writes_per_second(args.writes, f"off{rnd}"))
                bulk_off.append(bulk_rows_per_second(5, f"boff{rnd}"))
            finally:
                owner_sql("ALTER TABLE core_company ENABLE TRIGGER USER")
        on_, off_ = statistics.median(on), statistics.median(off)
        bon, boff = statistics.median(bulk_on), statistics.median(bulk_off)
        print("synchronous_commit off, median of 3 alternating runs:")
        print(f"single-row writes/s  audit off: {off_:8.0f}   audit on: {on_:8.0f}   overhead: {off_ / on_:.2f}x")
        print(f"bulk rows/s (1,000 per statement)  audit off: {boff:8.0f}   audit on: {bon:8.0f}   "
              f"overhead: {boff / bon:.2f}x")
        with connection.cursor() as cur:
            cur.execute("SET synchronous_commit = on")

        print("\n== Audit trigger plans: one 2,000-row update after 300 one-row updates on the connection ==")
        ids = list(Company.objects.order_by("pk").values_list("pk", flat=True)[:2000])
        for pk in ids[:300]:
            Company.objects.filter(pk=pk).update(description="one row")
        t0 = time.perf_counter()
        Company.objects.filter(pk__in=ids).update(description="after one-row updates")
        warm = (time.perf_counter() - t0) * 1000
        with connection.cursor() as cur:
            cur.execute("DISCARD PLANS")  # what a new connection would do: plan afresh
        t0 = time.perf_counter()
        Company.objects.filter(pk__in=ids).update(description="after DISCARD PLANS")
        fresh = (time.perf_counter() - t0) * 1000
        print(f"2,000-row update after one-row updates: {warm:7.1f} ms   with fresh plans: {fresh:7.1f} ms "
              f"(equal when each trigger statement is planned for its own row count)")

        have = Company.objects.count()
        todo = max(args.rows - have, 0)
        for start in range(0, todo, 5000):
            Company.objects.bulk_create([Company(name=f"row-{start + i:07d}") for i in range(min(5000, todo - start))])
        total = Company.objects.count()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.get("/api/v1/core/companies/")
    print(f"\n== API list: GET /api/v1/core/companies/ over {total:,} rows (limit 50) ==")
    for label, offsets in (("first pages", [0, 50, 100]), ("deep pages", None)):
        times = []
        for _ in range(args.requests):
            off = random.choice(offsets) if offsets else random.randrange(0, total - 50)
            t0 = time.perf_counter()
            r = client.get(f"/api/v1/core/companies/?limit=50&offset={off}")
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.content[:200]
        print(f"{label:12s} p50 {pct(times, 50):6.1f} ms   p95 {pct(times, 95):6.1f} ms")
    counts = []
    for off in (0, 5000, total - 60):
        with CaptureQueriesContext(connection) as q:
            client.get(f"/api/v1/core/companies/?limit=50&offset={off}")
        counts.append(len(q))
    with CaptureQueriesContext(connection) as q:
        client.get("/api/v1/core/companies/?limit=50&search=row-00012")
    print(f"queries per request at offsets 0 / 5,000 / {total - 60:,}: {counts}; with search: {len(q)}")


if __name__ == "__main__":
    main()
