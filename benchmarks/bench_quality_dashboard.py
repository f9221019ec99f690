"""Quality dashboard and heatmap benchmark.

    ./dev db start && PYTHONPATH=. .venv/bin/python benchmarks/bench_quality_dashboard.py \
        [--transitions 1000000] [--annotations 100000] [--runs 20]

(1) The quality dashboard (``/qms/dashboard/``, signed in as a QA manager) and its analytics API
    (``/api/v1/qms/analytics/pareto/`` and ``/first-pass-yield/``, Bearer token) over ``--transitions``
    transition log rows of one tenant: parts on an eight-step route, ten log rows each (the start, one
    departure from every step, and a second pass at one step later), spread over the last 28 days, so
    that the dashboard's default period (30 days) holds all of them. About 5 % of first departures are
    quarantines (more at the inspection steps), each with a failed quality report and one or two defect
    codes (25 codes, Pareto-shaped): the Pareto and first-pass-yield panels have real work.
(2) The heatmap of one 3D model (the injector body, ``traveler.qms.demo_maps.injector_body_glb``,
    created through ``three_d_model_create``) with ``--annotations`` annotations: the service
    ``heatmap_aggregate`` at a coarse and a fine resolution and ``GET /api/v1/qms/3d-models/<id>/heatmap/``.

The bulk rows are written in SQL (``generate_series``) as the database owner with the tables' audit
triggers disabled for the load only (the foreign keys stay checked), then ``VACUUM ANALYZE``. Quality's
triggers (migration qms 0007) stay on: the load's one INSERT of the log fills ``qms_firstdeparture``
and its hourly counts ``qms_firstpasscount`` through the same path as the traveler's writes.
p50/p95 over ``--runs`` runs after one warm-up. Uses a database of its own (traveler_bench), dropped
at the end.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import BENCH_DB, _owner_connect, bulk_load, drop_database, fresh_database, owner_sql, pct  # noqa: E402

STEPS = ("Receive", "Turn", "Drill", "Inspect bores", "Grind", "Heat treat", "Final inspect", "Pack")
# Share of first departures that are quarantines, per step (the inspection steps find most).
FAIL_RATE = (0.02, 0.03, 0.04, 0.12, 0.03, 0.02, 0.09, 0.01)
CODES = 25
BULK_TABLES = ("mes_lite_part", "mes_lite_steptransitionlog", "qms_qualityreport", "qms_qualityreportdefect",
               "qms_heatmapannotation")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transitions", type=int, default=1_000_000)
    ap.add_argument("--annotations", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--keep", action="store_true", help="leave the database for EXPLAIN (dropped by the next run)")
    args = ap.parse_args()
    fresh_database()
    try:
        run(args)
    finally:
        if not args.keep:
            drop_database()


def owner_script(*statements: str) -> None:
    bulk_load(BULK_TABLES, *statements, seed=0.2026, triggers="audit")


def timed(fn, runs: int) -> tuple[list[float], object]:
    out = fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times, out


def line(label: str, times: list[float], extra: str = "") -> None:
    print(f"{label:72s} p50 {statistics.median(times):7.1f} ms   p95 {pct(times, 95):7.1f} ms   {extra}")


PREVIOUS_INDEX = ("CREATE INDEX IF NOT EXISTS qms_transition_first_departure ON mes_lite_steptransitionlog "
                  "(tenant_id, from_step_id, part_id, transition_time, id) INCLUDE (action) "
                  "WHERE from_step_id IS NOT NULL")


def previous_first_pass_counts(filters) -> list[tuple]:
    """First-pass counts per step as the service computed them before migration qms 0007: each
    (step, part)'s first row of the whole log by ``DISTINCT ON``, read in the order of the index of
    migration qms 0006 (which 0007 drops; the benchmark creates it again for this comparison), then
    those of the period counted per step."""
    from django.db import connection

    from traveler.mes_lite.models import StepTransitionLog
    from traveler.qms.services.analytics import FIRST_PASS_ACTIONS

    start, end = filters.bounds()
    firsts = (StepTransitionLog.objects.filter(from_step__isnull=False, transition_time__lt=end)
              .order_by("from_step_id", "part_id", "transition_time", "pk").distinct("from_step_id", "part_id")
              .values_list("from_step", "action", "transition_time"))
    sql, params = firsts.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT f.from_step, count(*), count(*) FILTER (WHERE f.action = ANY(%s)) "  # noqa: S608 (compiled query)
            f"FROM ({sql}) AS f (from_step, action, transition_time) WHERE f.transition_time >= %s GROUP BY 1",
            [[str(a) for a in FIRST_PASS_ACTIONS], *params, start])
        return cursor.fetchall()


def first_departures_counted(filters) -> list[tuple]:
    """The period's first departures counted per step from ``qms_firstdeparture`` itself (its index on
    tenant, time and step), without the hourly counts."""
    from django.db.models import Count, Q

    from traveler.qms.models import FirstDeparture
    from traveler.qms.services.analytics import FIRST_PASS_ACTIONS

    start, end = filters.bounds()
    return list(FirstDeparture.objects.filter(departed_at__gte=start, departed_at__lt=end).values("step")
                .annotate(n=Count("step"), p=Count("step", filter=Q(action__in=FIRST_PASS_ACTIONS))).order_by()
                .values_list("step", "n", "p"))


def log_row_insert_cost(tenant_id: int, part_id: int, step_id: int, user_id: int, runs: int) -> None:
    """One log row written (and rolled back) as the owner, the audit trail on, with and without quality's
    trigger, alternately: what keeping the first departures costs a transition."""
    insert = (f"INSERT INTO mes_lite_steptransitionlog (tenant_id, created_at, updated_at, version, part_id, action, "
              f"from_step_id, to_step_id, from_status, to_status, operator_id, transition_time, note) "
              f"VALUES ({tenant_id}, now(), now(), 1, {part_id}, 'hold', {step_id}, {step_id}, 'in_process', "
              f"'on_hold', {user_id}, now() - interval '60 days', '')")  # earlier than all: it replaces one
    with _owner_connect(BENCH_DB) as conn:
        times = {True: [], False: []}
        for n in range(2 * runs + 2):
            on = n % 2 == 0
            with conn.transaction(force_rollback=True):
                # Both ways alter the table (which makes the next statement plan afresh), only one disables.
                conn.execute(f"ALTER TABLE mes_lite_steptransitionlog {'ENABLE' if on else 'DISABLE'} "
                             "TRIGGER qms_first_departures")
                t0 = time.perf_counter()
                conn.execute(insert)
                elapsed = (time.perf_counter() - t0) * 1000
                if n >= 2:
                    times[on].append(elapsed)
    print(f"{'one log row written (audit trail on): without / with the trigger':60s} without p50 "
          f"{statistics.median(times[False]):6.2f} ms   with p50 {statistics.median(times[True]):6.2f} ms")


def compare(label: str, before, after, runs: int) -> None:
    """``before`` and ``after`` alternately, after a warm-up of each: p50s and their ratio."""
    before(), after()
    tb, ta = [], []
    for _ in range(runs):
        for fn, out in ((before, tb), (after, ta)):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
    b, a = statistics.median(tb), statistics.median(ta)
    print(f"{label:60s} before p50 {b:7.1f} ms (p95 {pct(tb, 95):7.1f})   after p50 {a:7.1f} ms "
          f"(p95 {pct(ta, 95):7.1f})   {b / a:4.1f}x")


def run(args) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from traveler.core.middleware import SESSION_TENANT
    from traveler.core.services.auth import token_issue
    from traveler.core.services.tenants import tenant_create
    from traveler.core.services.users import member_add
    from traveler.core.tenancy import tenant_context
    from traveler.mes_lite.models import Part, Step, StepTransitionLog
    from traveler.mes_lite.services import routing
    from traveler.qms.demo_maps import injector_body_glb
    from traveler.qms.models import (
        FirstDeparture,
        FirstPassCount,
        HeatmapAnnotation,
        QualityReport,
        QualityReportDefect,
    )
    from traveler.qms.services.analytics import analytics_filters, defect_pareto, first_pass_yield
    from traveler.qms.services.defects import defect_code_create
    from traveler.qms.services.maps import heatmap_aggregate, three_d_model_create

    tenant = tenant_create(name="Bench", slug="bench")
    with tenant_context(tenant):
        qa = member_add(email="qa@example.com", full_name="Bench QA", password="bench password 2026",
                        roles=["qa_manager"]).user
    with tenant_context(tenant, actor=qa):
        pt = routing.part_type_create(data={"part_number": "CRI-2200", "name": "Injector body"})
        process = routing.process_create(data={"part_type": pt, "name": "Injector line"})
        for name in STEPS:
            routing.step_add(process=process, name=name)
        process = routing.process_release(process=process)
        steps = list(Step.objects.filter(process=process).order_by("sequence").values_list("pk", flat=True))
        codes = [defect_code_create(data={"code": f"D{n:02d}", "description": f"Defect {n}",
                                          "severity": ("critical", "major", "minor")[n % 3]}).pk
                 for n in range(CODES)]
        model = three_d_model_create(part_type=pt, name="Injector body", content=io.BytesIO(injector_body_glb()),
                                     original_name="injector-body.glb")
        _, raw = token_issue(user=qa, tenant=tenant)

    n_parts = max(args.transitions // 10, 1)
    step_array = "ARRAY[" + ",".join(map(str, steps)) + "]::bigint[]"
    fail_array = "ARRAY[" + ",".join(map(str, FAIL_RATE)) + "]::float8[]"
    codes_array = "ARRAY[" + ",".join(map(str, codes)) + "]::bigint[]"
    t, p = tenant.pk, pt.pk
    t0 = time.perf_counter()
    owner_script(
        # Parts: all finished, the last step's completion is their last row.
        f"""INSERT INTO mes_lite_part (tenant_id, created_at, updated_at, version, part_type_id, serial_number,
                status, current_step_id, process_id, held_from_status, held_from_reason, status_reason)
            SELECT {t}, now(), now(), 1, {p}, 'B' || lpad(g::text, 7, '0'), 'completed', NULL, {process.pk}, '', '', ''
            FROM generate_series(1, {n_parts}) g""",
        # Each part: a base time within the last 28 days; row k = 0 starts it, rows 1..8 leave step k
        # (advance, completion at the last, or a quarantine), row 9 passes one step again 3 h later.
        f"""CREATE TEMP TABLE bench_part AS
            SELECT id, now() - interval '28 days' * random() - interval '3 hours' AS t0
            FROM mes_lite_part WHERE tenant_id = {t}""",
        f"""INSERT INTO mes_lite_steptransitionlog (tenant_id, created_at, updated_at, version, part_id, action,
                from_step_id, to_step_id, from_status, to_status, operator_id, transition_time, note)
            SELECT {t}, tt, tt, 1, id, action, from_step, to_step, from_status, to_status, {qa.pk}, tt, ''
            FROM (
              SELECT bp.id, bp.t0 + interval '10 minutes' * k + (CASE WHEN k = 9 THEN interval '3 hours' ELSE
                     interval '0' END) AS tt,
                     CASE WHEN k = 0 THEN 'start' WHEN k = 9 THEN 'advance'
                          WHEN random() < ({fail_array})[k] THEN 'quarantine'
                          WHEN k = 8 THEN 'complete' ELSE 'advance' END AS action,
                     CASE WHEN k = 0 THEN NULL WHEN k = 9 THEN ({step_array})[1 + bp.id % 7]
                          ELSE ({step_array})[k] END AS from_step,
                     CASE WHEN k = 0 THEN ({step_array})[1] WHEN k = 9 THEN ({step_array})[2 + bp.id % 7]
                          WHEN k = 8 THEN NULL ELSE ({step_array})[k + 1] END AS to_step,
                     CASE WHEN k = 0 THEN 'pending' ELSE 'in_process' END AS from_status,
                     CASE WHEN k = 8 THEN 'completed' ELSE 'in_process' END AS to_status
              FROM bench_part bp CROSS JOIN generate_series(0, 9) k
              ORDER BY tt
            ) rows LIMIT {args.transitions}""",
        # A failed quality report for every quarantine, at its step and time.
        f"""INSERT INTO qms_qualityreport (tenant_id, created_at, updated_at, version, part_id, step_id, status,
                description, origin)
            SELECT {t}, transition_time, transition_time, 1, part_id, from_step_id, 'fail', 'Failed inspection',
                   'quarantine'
            FROM mes_lite_steptransitionlog WHERE tenant_id = {t} AND action = 'quarantine'""",
        # One or two defect codes per report, the low codes far more often (a Pareto's long tail).
        f"""INSERT INTO qms_qualityreportdefect (tenant_id, created_at, updated_at, version, report_id, error_id,
                count)
            SELECT {t}, r.created_at, r.created_at, 1, r.id, ({codes_array})[1 + (r.i + 7 * (n - 1)) % {CODES}],
                   1 + floor(random() * 3)::int
            FROM (SELECT id, created_at, floor({CODES} * power(random(), 2.5))::int AS i, random() < 0.3 AS two
                  FROM qms_qualityreport WHERE tenant_id = {t}) r
            CROSS JOIN generate_series(1, 2) n WHERE n = 1 OR r.two""",
        # Annotations on the injector body (turned about y, radius up to 9 mm, 63 mm high): most near
        # the thread and the nozzle, spread over the last 90 days.
        f"""INSERT INTO qms_heatmapannotation (tenant_id, created_at, updated_at, version, model_id, x, y, z,
                normal_x, normal_y, normal_z, defect_code_id, part_id, step_id, note, created_by_id)
            SELECT {t}, tt, tt, 1, {model.pk}, 8.5 * cos(a), y, 8.5 * sin(a), cos(a), 0, sin(a),
                   ({codes_array})[1 + floor({CODES} * power(random(), 2))::int],
                   (SELECT min(id) FROM bench_part) + (g % {n_parts}), ({step_array})[1 + g % 8], '', {qa.pk}
            FROM (SELECT g, 2 * pi() * random() AS a,
                         CASE WHEN random() < 0.6 THEN 40 + 20 * power(random(), 2) ELSE 63 * random() END AS y,
                         now() - interval '90 days' * random() AS tt
                  FROM generate_series(1, {args.annotations}) g) s""",
    )
    load = time.perf_counter() - t0
    with tenant_context(tenant):
        first_part = Part.objects.order_by("pk").values_list("pk", flat=True).first()
        counts = (StepTransitionLog.objects.count(), Part.objects.count(), QualityReport.objects.count(),
                  QualityReportDefect.objects.count(), HeatmapAnnotation.objects.count())
    print(f"Loaded in {load:.1f} s: {counts[0]:,} transition log rows, {counts[1]:,} parts, {counts[2]:,} failed "
          f"quality reports with {counts[3]:,} defect rows, {counts[4]:,} heatmap annotations")

    web = Client()
    web.force_login(qa)
    session = web.session
    session[SESSION_TENANT] = tenant.pk
    session.save()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def get(client, url):
        def once():
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code, r.content[:300])
            return r
        return once

    def queries(fn) -> int:
        with CaptureQueriesContext(connection) as q:
            fn()
        return len(q)

    print(f"\n== Quality dashboard: {counts[0]:,} transition log rows, {counts[3]:,} defect rows ==")
    with tenant_context(tenant):
        filters = analytics_filters({})
        times, fpy = timed(lambda: first_pass_yield(filters=filters), args.runs)
        line("service first_pass_yield (default period: 30 days)", times,
             f"{fpy['attempts']:,} first departures, yield {fpy['yield_percent']} %")
        times, pareto = timed(lambda: defect_pareto(by="code", filters=filters), args.runs)
        line("service defect_pareto by code", times, f"{pareto['total']:,} defects")
        times, _ = timed(lambda: defect_pareto(by="week", filters=filters), args.runs)
        line("service defect_pareto by week", times)
    for client, url in ((web, "/qms/dashboard/"), (web, "/qms/dashboard/?by=step"),
                        (api, "/api/v1/qms/analytics/pareto/"), (api, "/api/v1/qms/analytics/first-pass-yield/")):
        fn = get(client, url)
        times, _ = timed(fn, args.runs)
        line(f"GET {url}", times, f"{queries(fn)} queries")

    print("\n== Before / after, alternating in this run ==")
    owner_sql(PREVIOUS_INDEX)
    owner_sql("ANALYZE mes_lite_steptransitionlog")
    with tenant_context(tenant):
        new = sorted((r["step"], r["parts"], r["first_pass"]) for r in first_pass_yield(filters=filters)["steps"])
        old = sorted(previous_first_pass_counts(filters))
        assert new == old == sorted(first_departures_counted(filters)), (new, old)
        kept, hours = FirstDeparture.objects.count(), FirstPassCount.objects.count()
        print(f"{kept:,} first departures kept in {hours:,} hourly counts: the same counts per step as derived "
              "from the log")
        compare("first-pass yield: derived from the log (0006) / hourly counts",
                lambda: previous_first_pass_counts(filters), lambda: first_pass_yield(filters=filters), args.runs)
        compare("first-pass yield: first departures counted / hourly counts",
                lambda: first_departures_counted(filters), lambda: first_pass_yield(filters=filters), args.runs)
    owner_sql("DROP INDEX qms_transition_first_departure")
    log_row_insert_cost(tenant.pk, first_part, steps[3], qa.pk, args.runs * 5)

    print(f"\n== Heatmap: {counts[4]:,} annotations on one 3D model ==")
    with tenant_context(tenant):
        for resolution in (20, 200):
            times, heat = timed(lambda r=resolution: heatmap_aggregate(model=model, resolution=r), args.runs)
            line(f"service heatmap_aggregate, resolution {resolution}", times,
                 f"{len(heat.bins):,} cells, {heat.total:,} annotations")
        month = timezone.localdate() - timedelta(days=29)
        times, heat = timed(lambda: heatmap_aggregate(model=model, resolution=20, date_from=month), args.runs)
        line("service heatmap_aggregate, resolution 20, last 30 days", times, f"{heat.total:,} annotations")
    for url in (f"/api/v1/qms/3d-models/{model.pk}/heatmap/", f"/api/v1/qms/3d-models/{model.pk}/heatmap/?resolution=200"):
        fn = get(api, url)
        times, _ = timed(fn, args.runs)
        line(f"GET {url}", times, f"{queries(fn)} queries")


if __name__ == "__main__":
    main()
