"""Characteristic chart benchmark: a control chart of 100,000 measurements, query included.

    ./dev db start && PYTHONPATH=. .venv/bin/python benchmarks/bench_spc_chart.py [--points 100000] [--runs 15]

One numeric definition (a bore diameter) with ``--points`` recorded values on as many parts in 20 work
orders, next to a second definition with as many values at the same step (the query must pick one),
about 0.5 % of rows without a value and pairs of measurements recorded at the same instant (the order
falls back on the id). The rows are written in bulk SQL (``generate_series``) as the database owner
with the tables' audit triggers off for the load only, then ``VACUUM ANALYZE``.

Prints p50/p95 after a warm-up of: the query alone (``measurements``), ``subgroups``, and
``characteristic_chart`` for an I-MR chart and for an X̄-R chart of subgroups of 5 (all eight Nelson
rules, capability against the definition's tolerances); then the previous query (rows read through
the ORM) against the current one, and the whole chart with the previous query and the garbage collector
running throughout against the current chart, alternating in the same run, with a check that both give
the same rows and the same result. Uses a database of its own (traveler_bench), dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import bulk_load, drop_database, fresh_database, pct  # noqa: E402

BULK_TABLES = ("mes_lite_part", "mes_lite_steptransitionlog", "mes_lite_stepmeasurement")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--keep", action="store_true", help="leave the database for EXPLAIN (dropped by the next run)")
    args = ap.parse_args()
    fresh_database()
    try:
        run(args)
    finally:
        if not args.keep:
            drop_database()


def owner_script(*statements: str) -> None:
    bulk_load(BULK_TABLES, *statements, seed=0.12, triggers="USER")


def previous_measurements(definition, filters=None):
    """``measurements`` as it was: the ORM's model-less rows turned into ``Row`` objects one by one."""
    from traveler.spc.services.characteristics import Filters, Row, measurements_queryset

    filters = filters or Filters()
    qs = measurements_queryset(definition, filters)
    rows = qs.order_by("recorded_at", "pk").values_list("pk", "value", "recorded_at", "part_id", "part__work_order_id")
    return [Row(pk, float(v), at, part, wo) for pk, v, at, part, wo in rows]


def previous_chart(definition):
    """``characteristic_chart`` with the previous query and the garbage collector running throughout
    (``Row`` and ``Subgroup`` stay the current, lighter classes)."""
    from contextlib import nullcontext
    from unittest import mock

    from traveler.spc.services import characteristics as ch

    with mock.patch.object(ch, "measurements", previous_measurements), \
            mock.patch.object(ch, "_no_collection_pauses", nullcontext):
        return ch.characteristic_chart(definition)


def alternate(label: str, before, after, runs: int) -> None:
    before(), after()
    tb, ta = [], []
    for _ in range(runs):
        for fn, out in ((before, tb), (after, ta)):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
    b, a = statistics.median(tb), statistics.median(ta)
    print(f"{label:60s} p50 {b:7.1f} / {a:7.1f} ms   p95 {pct(tb, 95):7.1f} / {pct(ta, 95):7.1f} ms   {b / a:4.1f}x")


def timed(fn, runs: int) -> tuple[list[float], object]:
    out = fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times, out


def line(label: str, times: list[float], extra: str = "") -> None:
    print(f"{label:60s} p50 {statistics.median(times):7.1f} ms   p95 {pct(times, 95):7.1f} ms   {extra}")


def run(args) -> None:
    from traveler.core.services.tenants import tenant_create
    from traveler.core.services.users import member_add
    from traveler.core.tenancy import tenant_context
    from traveler.mes_lite.models import StepMeasurement
    from traveler.mes_lite.services import orders, routing
    from traveler.spc.services import characteristics as ch
    from traveler.spc.stats import analyze

    tenant = tenant_create(name="Bench", slug="bench")
    with tenant_context(tenant):
        user = member_add(email="qe@example.com", full_name="Bench Quality Engineer", password="bench password 2026",
                          roles=["qa_manager", "engineering"]).user
    with tenant_context(tenant, actor=user):
        pt = routing.part_type_create(data={"part_number": "CRI-2200", "name": "Injector body"})
        process = routing.process_create(data={"part_type": pt, "name": "Injector line"})
        bore_step = routing.step_add(process=process, name="Bore")
        routing.step_add(process=process, name="Inspect")
        bore = routing.measurement_definition_add(step=bore_step, data={
            "label": "Bore diameter", "unit": "mm", "nominal": "6.000", "upper_tol": "0.020", "lower_tol": "0.020"})
        depth = routing.measurement_definition_add(step=bore_step, data={
            "label": "Bore depth", "unit": "mm", "nominal": "12.00", "upper_tol": "0.05", "lower_tol": "0.05"})
        process = routing.process_release(process=process)
        wos = [orders.work_order_release(work_order=orders.work_order_create(
            data={"number": f"WO-{n:02d}", "process": process, "quantity": args.points // 20 + 1}))
            for n in range(20)]
    n = args.points
    t, wo_array = tenant.pk, "ARRAY[" + ",".join(str(w.pk) for w in wos) + "]::bigint[]"
    t0 = time.perf_counter()
    owner_script(
        f"""INSERT INTO mes_lite_part (tenant_id, created_at, updated_at, version, part_type_id, serial_number,
                status, current_step_id, process_id, work_order_id, held_from_status, held_from_reason, status_reason)
            SELECT {t}, now(), now(), 1, {pt.pk}, 'B' || lpad(g::text, 7, '0'), 'in_process', NULL, {process.pk},
                   ({wo_array})[1 + (g / {max(n // 20, 1)}) % 20], '', '', ''
            FROM generate_series(1, {n}) g""",
        # One advance from the bore step per part, every 30 s; pairs of parts share an instant.
        f"""INSERT INTO mes_lite_steptransitionlog (tenant_id, created_at, updated_at, version, part_id, action,
                from_step_id, to_step_id, from_status, to_status, operator_id, transition_time, note)
            SELECT {t}, tt, tt, 1, p.id, 'advance', {bore_step.pk}, NULL, 'in_process', 'in_process', {user.pk}, tt, ''
            FROM (SELECT id, now() - interval '60 days' + interval '30 seconds' * (row_number() OVER (ORDER BY id) / 2)
                         AS tt FROM mes_lite_part WHERE tenant_id = {t}) p""",
        # Both definitions measured at each advance: the diameter with a slow drift and noise (Box-Muller),
        # about 0.5 % of rows without a value.
        f"""INSERT INTO mes_lite_stepmeasurement (tenant_id, created_at, updated_at, version, part_id, step_id,
                definition_id, transition_id, value, passed, in_spec, recorded_by_id, recorded_at)
            SELECT {t}, l.transition_time, l.transition_time, 1, l.part_id, {bore_step.pk}, d.id, l.id,
                   CASE WHEN random() < 0.005 THEN NULL
                        ELSE round((d.nominal + d.spread * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())
                                    + d.spread * sin(l.id / 5000.0))::numeric, 6) END,
                   NULL, true, {user.pk}, l.transition_time
            FROM mes_lite_steptransitionlog l
            CROSS JOIN (VALUES ({bore.pk}, 6.0::float8, 0.004::float8), ({depth.pk}, 12.0, 0.01))
                AS d (id, nominal, spread)
            WHERE l.tenant_id = {t}
            ORDER BY l.transition_time, l.id""",
    )
    with tenant_context(tenant):
        total = StepMeasurement.objects.filter(definition=bore, value__isnull=False).count()
    print(f"Loaded in {time.perf_counter() - t0:.1f} s: {total:,} values of {bore.label} "
          f"(and as many of {depth.label}), {n:,} parts in {len(wos)} work orders")

    with tenant_context(tenant, actor=user):
        times, rows = timed(lambda: ch.measurements(bore), args.runs)
        line("measurements(definition): the query", times, f"{len(rows):,} rows")
        assert len(rows) == total
        imr = ch.characteristic_for(bore)
        times, groups = timed(lambda: ch.subgroups(rows, imr), args.runs)
        line("subgroups(), I-MR", times, f"{len(groups):,} subgroups")
        data = ch.engine_data(groups, "imr")
        times, _ = timed(lambda: analyze(chart_type="imr", data=data, rules=None, lsl=5.98, usl=6.02, target=6.0),
                         args.runs)
        line("engine analyze(), I-MR, capability, no rules", times)
        times, _ = timed(lambda: analyze(chart_type="imr", data=data, rules="nelson", lsl=5.98, usl=6.02, target=6.0),
                         args.runs)
        line("engine analyze(), I-MR, 8 Nelson rules, capability", times)
        times, chart = timed(lambda: ch.characteristic_chart(bore), args.runs)
        line("characteristic_chart(), I-MR", times, f"{chart.result['n_points']:,} points, "
             f"{len(chart.result['rules']['violations']):,} flagged")

        ch.characteristic_save(definition=bore, data={"chart_type": "xbar_r", "subgroup_size": 5})
        xbar = ch.characteristic_for(bore)
        times, groups = timed(lambda: ch.subgroups(rows, xbar), args.runs)
        line("subgroups(), X̄-R n=5", times, f"{len(groups):,} subgroups")
        data = ch.engine_data(groups, "xbar_r")
        times, _ = timed(lambda: analyze(chart_type="xbar_r", data=data, rules="nelson", lsl=5.98, usl=6.02,
                                         target=6.0), args.runs)
        line("engine analyze(), X̄-R n=5, 8 Nelson rules, capability", times)
        times, chart = timed(lambda: ch.characteristic_chart(bore), args.runs)
        line("characteristic_chart(), X̄-R n=5", times, f"{chart.result['n_points']:,} subgroups")

        print("\n== Previous / current, alternating in this run ==")
        assert previous_measurements(bore) == ch.measurements(bore)
        wo_filter = ch.Filters(work_orders=(wos[3].pk, wos[4].pk), date_from=rows[1000].recorded_at)
        assert previous_measurements(bore, wo_filter) == ch.measurements(bore, wo_filter)
        alternate(f"query, {len(rows):,} rows", lambda: previous_measurements(bore), lambda: ch.measurements(bore),
                  args.runs)
        for settings in ({"chart_type": "xbar_r", "subgroup_size": 5}, {"chart_type": "imr", "subgroup_size": 1}):
            c = ch.characteristic_save(definition=bore, data=settings, version=ch.characteristic_for(bore).version)
            old, new = previous_chart(bore), ch.characteristic_chart(bore)
            assert old.result == new.result and [g.rows for g in old.groups] == [g.rows for g in new.groups]
            alternate(f"characteristic_chart(), {c.chart_type} n={c.subgroup_size}", lambda: previous_chart(bore),
                      lambda: ch.characteristic_chart(bore), args.runs)


if __name__ == "__main__":
    main()
