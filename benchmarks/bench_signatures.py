"""Signatures and approvals benchmark.

    ./dev db start && .venv/bin/python benchmarks/bench_signatures.py [--signatures 200] [--requests 50000]

Prints (1) signatures per second through ``signature_sign`` (password check included, one
transaction each, as the app role under row-level security) and the password hasher's share of that
time, measured in the same run by timing ``check_password`` alone; (2) the p50/p95 of "my approvals"
(``approvals_for_user``) and of ``GET /api/v1/core/approval-requests/?waiting=me`` for a user with
``--pending`` requests waiting among ``--requests``, with the number of SQL queries at two sizes of
the inbox (it must not grow). Uses a database of its own (traveler_bench), dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import drop_database, fresh_database, pct  # noqa: E402

PASSWORD = "bench password 2026"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--signatures", type=int, default=200)
    ap.add_argument("--requests", type=int, default=50_000)
    ap.add_argument("--pending", type=int, default=500)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    fresh_database()
    try:
        run(args)
    finally:
        drop_database()


def run(args) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from traveler.core.models import ApprovalApprover, ApprovalRequest, Company
    from traveler.core.registry import Approvable, register_approvable
    from traveler.core.services.approval_templates import approval_template_create
    from traveler.core.services.approvals import approvals_for_user
    from traveler.core.services.auth import token_issue
    from traveler.core.services.companies import company_create
    from traveler.core.services.signatures import signature_sign
    from traveler.core.services.tenants import tenant_create
    from traveler.core.services.users import member_add
    from traveler.core.tenancy import tenant_context

    # A module registers its own records; the benchmark signs companies.
    register_approvable(Approvable(model=Company, module="core", permission="core.change_company"))
    tenant = tenant_create(name="Bench", slug="bench")
    with tenant_context(tenant):
        me = member_add(email="approver@example.com", full_name="Bench Approver", password=PASSWORD,
                        roles=["qa_manager"]).user
        other = member_add(email="other@example.com", full_name="Other Approver", password=PASSWORD,
                           roles=["qa_manager"]).user
        company = company_create(data={"name": "Northwind Diesel"})

    with tenant_context(tenant, actor=me):
        print("== Signatures through the service (password re-entered each time) ==")
        from django.conf import settings

        print(f"password hasher: {settings.PASSWORD_HASHERS[0].rsplit('.', 1)[-1]}")
        signature_sign(user=me, password=PASSWORD, record=company, meaning="reviewed")  # warm up
        sign_t, hash_t = [], []
        for _ in range(3):  # alternate, so a change in the machine's speed hits both alike
            t0 = time.perf_counter()
            for _ in range(args.signatures):
                signature_sign(user=me, password=PASSWORD, record=company, meaning="reviewed")
            sign_t.append((time.perf_counter() - t0) / args.signatures)
            t0 = time.perf_counter()
            for _ in range(args.signatures):
                me.check_password(PASSWORD)
            hash_t.append((time.perf_counter() - t0) / args.signatures)
        s, h = statistics.median(sign_t), statistics.median(hash_t)
        print(f"signatures/s: {1 / s:.1f}  ({s * 1000:.1f} ms each, median of 3 runs of {args.signatures})")
        print(f"password check alone: {h * 1000:.1f} ms = {h / s:.0%} of a signature; the rest "
              f"(lock, content, hash chain, insert, audit): {(s - h) * 1000:.1f} ms")

    with tenant_context(tenant, actor=me):
        print(f"\n== My approvals: {args.pending} waiting for one user among {args.requests:,} requests ==")
        template = approval_template_create(data={"name": "Bench", "template_type": "eco", "sla_days": 5})
        ct = ContentType.objects.get_for_model(Company)
        now = timezone.now()
        batch = 5000
        made = 0
        while made < args.requests:
            n = min(batch, args.requests - made)
            rows = []
            for i in range(made, made + n):
                pending = i < args.pending or i % 7 == 0
                rows.append(ApprovalRequest(
                    template=template, template_type="eco", flow="all_required", order="parallel", sla_days=5,
                    record_type=ct, record_id=str(company.pk), record_label=f"Record {i}", record_version=1,
                    requested_by=other, status="pending" if pending else "approved", started_at=now,
                    due_at=now, completed_at=None if pending else now))
            created = ApprovalRequest.objects.bulk_create(rows)
            ApprovalApprover.objects.bulk_create([
                ApprovalApprover(request=r, user=me if made + k < args.pending else other, position=1)
                for k, r in enumerate(created)])
            made += n
        with connection.cursor() as cur:
            cur.execute("ANALYZE")

        def inbox_queries(limit_pending: int) -> int:
            with CaptureQueriesContext(connection) as q:
                approvals_for_user(user=me)
            return len(q)

        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            waiting = approvals_for_user(user=me)["waiting"]
            times.append((time.perf_counter() - t0) * 1000)
        assert len(waiting) == args.pending, len(waiting)
        q_full = inbox_queries(args.pending)
        # Fewer waiting: respond-free way to shrink the inbox is to hand half to the other user.
        half = list(ApprovalApprover.objects.filter(user=me).values_list("pk", flat=True)[: args.pending // 2])
        ApprovalApprover.objects.filter(pk__in=half).update(user=other)
        q_half = inbox_queries(args.pending // 2)
        ApprovalApprover.objects.filter(pk__in=half).update(user=me)
        print(f"approvals_for_user: p50 {statistics.median(times):.1f} ms  p95 {pct(times, 95):.1f} ms "
              f"({args.runs} runs); queries: {q_full} with {args.pending} waiting, {q_half} with {args.pending // 2}")

        _, raw = token_issue(user=me, tenant=tenant)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        r = client.get("/api/v1/core/approval-requests/?waiting=me&limit=50")
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.content[:300]
    with CaptureQueriesContext(connection) as q:
        client.get("/api/v1/core/approval-requests/?waiting=me&limit=50")
    print(f"GET ?waiting=me (first page of 50): p50 {statistics.median(times):.1f} ms  p95 {pct(times, 95):.1f} ms; "
          f"{len(q)} queries")


if __name__ == "__main__":
    main()
