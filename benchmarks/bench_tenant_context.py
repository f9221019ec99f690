"""What the signed tenant context costs, against the unbound setting it replaced, in one run.

    ./dev db start && PYTHONPATH=. .venv/bin/python benchmarks/bench_tenant_context.py [--reads 5000]

As the app role in one tenant's context, on Company (row-level security, audit trail), alternating
three rounds of each mode on the same connection and data:

* signed: the policy as installed, ``tenant_id = (SELECT traveler_current_tenant())``, which verifies
  the HMAC of ``traveler.context`` once per statement; the audit trigger reads the signed actor;
* unbound: the policy before, ``tenant_id = <setting traveler.tenant_id>`` (an inlined SQL function
  over ``current_setting``), and the audit trigger reading ``traveler.actor_id`` unchecked.

Prints statements per second for point reads by id, a count over the tenant's rows (20,000 of 40,000),
and single-row audited ORM writes (synchronous_commit off), with the ratio signed / unbound.
Uses a database of its own (traveler_bench), dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import drop_database, fresh_database, owner_sql  # noqa: E402

UNBOUND = """
CREATE OR REPLACE FUNCTION bench_unbound_tenant() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT NULLIF(current_setting('traveler.tenant_id', true), '')::bigint
$$;
CREATE OR REPLACE FUNCTION traveler_current_actor() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT NULLIF(current_setting('traveler.actor_id', true), '')::bigint
$$;
GRANT EXECUTE ON FUNCTION bench_unbound_tenant(), traveler_current_actor() TO traveler_app;
DROP POLICY tenant_isolation ON core_company;
CREATE POLICY tenant_isolation ON core_company USING (tenant_id = bench_unbound_tenant())
  WITH CHECK (tenant_id = bench_unbound_tenant());
"""


def signed_sql() -> str:
    from traveler.core.dbobjects import HASH_SQL, tenant_policy
    from traveler.core.models import Company

    using, check = tenant_policy(Company)
    return (HASH_SQL + "DROP POLICY tenant_isolation ON core_company; "
            f"CREATE POLICY tenant_isolation ON core_company USING ({using}) WITH CHECK ({check}); "
            "GRANT EXECUTE ON FUNCTION traveler_context(), traveler_current_actor() TO traveler_app;")


def rate(n: int, fn) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reads", type=int, default=5000)
    ap.add_argument("--counts", type=int, default=200)
    ap.add_argument("--writes", type=int, default=1000)
    args = ap.parse_args()
    fresh_database()
    try:
        run(args)
    finally:
        drop_database()


def run(args) -> None:
    from django.db import connection

    from traveler.core.models import Company
    from traveler.core.services.tenants import tenant_create
    from traveler.core.services.users import member_add
    from traveler.core.tenancy import tenant_context

    tenant, other = tenant_create(name="Bench", slug="bench"), tenant_create(name="Other", slug="other")
    with tenant_context(other):
        Company.objects.bulk_create([Company(name=f"other-{i}") for i in range(20_000)])
    with tenant_context(tenant):
        user = member_add(email="bench@example.com", full_name="Bench", password="bench password 2026",
                          roles=["tenant_admin"]).user
    with tenant_context(tenant, actor=user):
        Company.objects.bulk_create([Company(name=f"mine-{i}") for i in range(20_000)])
        ids = list(Company.objects.values_list("pk", flat=True))
        with connection.cursor() as cur:
            cur.execute("ANALYZE core_company")
            cur.execute("SET synchronous_commit = off")
            cur.execute("SELECT set_config('traveler.tenant_id', %s, false), set_config('traveler.actor_id', %s, false)",
                        [str(tenant.pk), str(user.pk)])
            results: dict[str, dict[str, list[float]]] = {"signed": {}, "unbound": {}}

            def point(i):
                cur.execute("SELECT name FROM core_company WHERE id = %s", [ids[i % len(ids)]])
                assert cur.fetchone() is not None

            def count(i):
                cur.execute("SELECT count(*) FROM core_company")
                assert cur.fetchone()[0] >= 20_000

            def write(i):
                Company.objects.create(name=f"w-{time.perf_counter_ns()}-{i}")

            for _round in range(3):
                for mode in ("signed", "unbound"):
                    owner_sql(UNBOUND if mode == "unbound" else signed_sql())
                    r = results[mode]
                    r.setdefault("point reads/s", []).append(rate(args.reads, point))
                    r.setdefault("counts/s (20,000 rows each)", []).append(rate(args.counts, count))
                    r.setdefault("single-row audited writes/s", []).append(rate(args.writes, write))
            owner_sql(signed_sql())
    print("== Signed tenant context vs the unbound setting: median of 3 alternating rounds, app role ==")
    for label in results["signed"]:
        s, u = statistics.median(results["signed"][label]), statistics.median(results["unbound"][label])
        print(f"{label:30s} unbound {u:9.0f}   signed {s:9.0f}   signed/unbound {s / u:.2f}")


if __name__ == "__main__":
    main()
