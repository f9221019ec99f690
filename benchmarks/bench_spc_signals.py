"""SPC signal latency: from an advance's commit to its signal being recorded.

    ./dev db start && .venv/bin/python benchmarks/bench_spc_signals.py [--history 2000] [--rounds 30]

A characteristic (bore diameter, I-MR) gets a frozen baseline from 100 stable parts and ``--history``
in-control parts after it; then, ``--rounds`` times, one part is advanced with a value beyond the
control limits (after a few in-control ones, so each is a new violation) and the benchmark waits for
its signal row. Detection runs in a real job worker (``django worker``, a separate process woken by
the queue's NOTIFY), as in production: the advance itself only queues it. Prints the advance's own
time and the commit-to-signal latency, p50/p95. Uses a database of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import BENCH_DB, ROOT, drop_database, fresh_database, pct  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--history", type=int, default=2000, help="in-control parts after phase I")
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    fresh_database()
    worker = None
    try:
        worker = subprocess.Popen(
            [sys.executable, "-m", "django", "worker", "--poll", "1"], cwd=ROOT,
            env={**os.environ, "TRAVELER_DB_NAME": BENCH_DB, "PYTHONPATH": str(ROOT),
                 "DJANGO_SETTINGS_MODULE": "traveler.server.settings"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run(args)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        drop_database()


def _advance(tenant, wo, step, bore, parts, values):
    from traveler.core.tenancy import tenant_context
    from traveler.mes_lite.services.parts import parts_advance_bulk

    with tenant_context(tenant):
        parts_advance_bulk(work_order=wo, step=step.pk, parts=[
            {"part": p, "measurements": [{"definition": bore.pk, "value": f"{v:.5f}"}]}
            for p, v in zip(parts, values, strict=True)])


def run(args) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from traveler.core.models import Job
    from traveler.core.tenancy import tenant_context
    from traveler.core.tests.factories import PASSWORD, make_member, make_tenant
    from traveler.mes_lite.models import MeasurementDefinition, Part
    from traveler.mes_lite.services.routing import route_steps
    from traveler.mes_lite.tests.factories import make_process, make_work_order
    from traveler.spc.models import SPCSignal
    from traveler.spc.services.baselines import baseline_compute, baseline_freeze
    from traveler.spc.services.signals import signals_detect

    rng = random.Random(11)
    tenant = make_tenant("Bench signals")
    qa = make_member(tenant, roles=["qa_manager"])
    process = make_process(tenant)
    per_round = 6
    wo = make_work_order(tenant, process=process, quantity=100 + args.history + per_round * args.rounds)
    with tenant_context(tenant):
        step = route_steps(process)[0]
        bore = MeasurementDefinition.objects.get(step=step, label="Bore diameter")
        parts = list(Part.objects.filter(work_order=wo).order_by("pk").values_list("pk", flat=True))

    def stable(n):
        return [rng.gauss(6.0, 0.0015) for _ in range(n)]

    _advance(tenant, wo, step, bore, parts[:100], stable(100))
    with tenant_context(tenant, actor=qa):
        draft = baseline_compute(definition=bore, range_to=timezone.now() + timedelta(microseconds=1))
        baseline_freeze(baseline=draft, user=qa, password=PASSWORD)
    at = 100
    for start in range(0, args.history, 500):
        n = min(500, args.history - start)
        _advance(tenant, wo, step, bore, parts[at:at + n], stable(n))
        at += n
    _wait_idle(tenant, Job)
    with tenant_context(tenant):
        before = SPCSignal.objects.count()

    advance_ms, latency_ms, missed = [], [], 0
    for _ in range(args.rounds):
        _advance(tenant, wo, step, bore, parts[at:at + per_round - 1], [6.0] * (per_round - 1))
        at += per_round - 1
        _wait_idle(tenant, Job)
        with tenant_context(tenant):
            known = set(SPCSignal.objects.filter(rule="N1").values_list("pk", flat=True))
        t0 = time.perf_counter()
        _advance(tenant, wo, step, bore, parts[at:at + 1], [6.012])  # beyond the UCL: rule N1
        committed = time.perf_counter()
        at += 1
        advance_ms.append((committed - t0) * 1000)
        while True:
            with tenant_context(tenant):
                if SPCSignal.objects.filter(rule="N1").exclude(pk__in=known).exists():
                    latency_ms.append((time.perf_counter() - committed) * 1000)
                    break
            if time.perf_counter() - committed > 30:
                missed += 1
                break
            time.sleep(0.002)
    with tenant_context(tenant):
        made = SPCSignal.objects.count() - before
        detect_ms = []
        for _ in range(10):  # the detection alone, in this process (it finds its signals made)
            t = time.perf_counter()
            signals_detect(definition=bore)
            detect_ms.append((time.perf_counter() - t) * 1000)
    print(f"SPC signal latency, I-MR characteristic with {100 + args.history:,} measurements before the rounds, "
          f"{args.rounds} rounds")
    print(f"  advance of one part (commit included)  p50 {statistics.median(advance_ms):7.1f} ms   "
          f"p95 {pct(advance_ms, 95):7.1f} ms")
    if latency_ms:
        print(f"  commit to signal recorded             p50 {statistics.median(latency_ms):7.1f} ms   "
              f"p95 {pct(latency_ms, 95):7.1f} ms   max {max(latency_ms):7.1f} ms")
    print(f"  the detection alone (chart of the window, nothing new)   p50 {statistics.median(detect_ms):7.1f} ms")
    print(f"  signals recorded: {made} (N1 and the moving range's), rounds without a signal in 30 s: {missed}")


def _wait_idle(tenant, Job) -> None:
    from traveler.core.tenancy import tenant_context

    deadline = time.time() + 120
    while time.time() < deadline:
        with tenant_context(tenant):
            if not Job.objects.filter(status__in=["queued", "running"]).exists():
                return
        time.sleep(0.05)


if __name__ == "__main__":
    main()
