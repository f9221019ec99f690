"""Capability of the traveler's characteristics: the engine's numbers on the values the chart plots,
the within sigma of the active baseline, warnings, intervals, the summary per part type against the
tenant's threshold, the settings; who may see and change them; tenant isolation; the pages."""

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from traveler.core.services.tenants import tenant_module_set
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member
from traveler.mes_lite.models import MeasurementDefinition, Part, StepMeasurement
from traveler.mes_lite.services.parts import parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_process, make_work_order
from traveler.spc.services.baselines import baseline_compute, baseline_freeze
from traveler.spc.services.capability import (
    capability_status,
    capability_summary,
    characteristic_capability,
    spc_settings_save,
)
from traveler.spc.services.characteristics import Filters, characteristic_save
from traveler.spc.stats import anderson_darling, capability, imr_chart, xbar_r_chart
from traveler.spc.stats.capability import cpm_interval
from traveler.spc.stats.histogram import histogram
from traveler.spc.tests.factories import measured, stable_values

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
BORE_SPEC = {"lsl": 5.99, "usl": 6.01}
TWO_BORES = [
    ("Machine body", [
        {"label": "Bore diameter", "unit": "mm", "nominal": "6.000", "upper_tol": "0.010", "lower_tol": "0.010"},
        {"label": "Bore depth", "unit": "mm", "nominal": "12.000", "upper_tol": "0.004", "lower_tol": "0.004"},
    ]),
    ("Leak test", [{"label": "Leak rate", "unit": "mbar·l/s", "nominal": "0", "upper_tol": "0.5", "lower_tol": "0"}]),
]


def _only_limit_rule(tenant, definition):
    # Nelson's run rules flag a random sample now and then; beyond-the-limits only keeps "in control" stable.
    with tenant_context(tenant):
        characteristic_save(definition=definition, data={"rules": "N1"})


def _capability(tenant, definition, filters=Filters()):
    with tenant_context(tenant):
        return characteristic_capability(definition, filters)


def _codes(cap) -> set[str]:
    return {w.code for w in cap.warnings}


def test_indices_are_the_engines_on_the_values_the_chart_plots(tenant):
    values = stable_values(40)
    _, bore = measured(tenant, values, start=T0)
    _only_limit_rule(tenant, bore)
    cap = _capability(tenant, bore)
    expected = capability(values=values, **BORE_SPEC, sigma_within=imr_chart(values=values).sigma,
                          within_method="MR-bar / d2(2)")
    assert cap.n == 40 and cap.within_from == "trial" and cap.warnings == []
    for key in ("cp", "cpk", "pp", "ppk", "cp_ci", "cpk_ci", "pp_ci", "ppk_ci", "sigma_within", "sigma_overall", "mean"):
        assert cap.indices[key] == pytest.approx(expected[key], rel=1e-9), key
    assert cap.indices["cpm"] is None
    assert cap.normality == anderson_darling(values=values).to_dict()
    assert cap.histogram == histogram(values=values, **BORE_SPEC, sigma_within=expected["sigma_within"])
    assert sum(cap.histogram["counts"]) == 40 and cap.histogram["edges"][0] == min(values)
    with tenant_context(tenant):
        characteristic_save(definition=bore, data={"target": Decimal("6.001")}, version=1)
        cap = characteristic_capability(bore)
    with_target = capability(values=values, **BORE_SPEC, target=6.001, sigma_within=expected["sigma_within"])
    assert cap.indices["cpm"] == pytest.approx(with_target["cpm"]) and cap.indices["cpm"] < cap.indices["pp"]
    lo, hi = cap.indices["cpm_ci"]
    assert lo < cap.indices["cpm"] < hi


def test_xbar_capability_covers_the_complete_subgroups(tenant):
    values = stable_values(42, seed=21)
    _, bore = measured(tenant, values, start=T0)
    with tenant_context(tenant):
        characteristic_save(definition=bore, data={"chart_type": "xbar_r", "subgroup_size": 4, "rules": "N1"})
        cap = characteristic_capability(bore)
    groups = [values[i:i + 4] for i in range(0, 40, 4)]  # the last 2 parts wait for their subgroup
    chart = xbar_r_chart(subgroups=groups)
    expected = capability(values=values[:40], **BORE_SPEC, sigma_within=chart.sigma)
    assert cap.n == 40 and cap.indices["sigma_within_method"] == chart.sigma_method
    for key in ("cp", "cpk", "pp", "ppk", "cpk_ci", "ppk_ci"):
        assert cap.indices[key] == pytest.approx(expected[key], rel=1e-9), key


def test_within_sigma_comes_from_the_active_baseline(tenant):
    qa = make_member(tenant, roles=["qa_manager"])
    values = stable_values(30) + stable_values(20, mean=6.0005, seed=11)
    _, bore = measured(tenant, values, start=T0)
    _only_limit_rule(tenant, bore)
    with tenant_context(tenant, actor=qa):
        draft = baseline_compute(definition=bore, range_to=T0 + timedelta(minutes=10 * 30))
        frozen = baseline_freeze(baseline=draft, user=qa, password=PASSWORD)
    cap = _capability(tenant, bore)
    chart = imr_chart(values=values, baseline=frozen.engine_baseline())
    assert cap.within_from == "baseline" and cap.chart.baseline == frozen
    assert cap.indices["sigma_within"] == pytest.approx(chart.sigma)
    assert cap.indices["sigma_within"] != pytest.approx(imr_chart(values=values).sigma)  # not the trial estimate
    assert cap.indices["cpk"] == pytest.approx(capability(values=values, **BORE_SPEC, sigma_within=chart.sigma)["cpk"])
    # The period narrows the values; the within sigma stays the baseline's.
    late = _capability(tenant, bore, Filters(date_from=T0 + timedelta(minutes=10 * 30)))
    assert late.n == 20 and late.indices["sigma_within"] == pytest.approx(chart.sigma)


def test_warnings_say_when_the_indices_are_not_to_be_trusted(tenant):
    rng = random.Random(3)
    shifted = stable_values(30) + [round(rng.gauss(6.006, 0.0015), 5) for _ in range(10)]
    _, bore = measured(tenant, shifted, start=T0)
    cap = _capability(tenant, bore)
    assert "not_in_control" in _codes(cap) and "trial limits" in cap.warnings[0].message
    assert cap.indices is not None  # still computed, with the warning beside it

    skewed = [round(5.992 + rng.expovariate(1 / 0.002), 5) for _ in range(60)]
    _, skew = measured(tenant, skewed, start=T0)
    _only_limit_rule(tenant, skew)
    cap = _capability(tenant, skew)
    assert cap.normality["p_value"] < 0.05 and "not_normal" in _codes(cap)

    _, few = measured(tenant, stable_values(12), start=T0)
    assert "few_values" in _codes(_capability(tenant, few))
    _, two = measured(tenant, stable_values(2), start=T0)
    cap = _capability(tenant, two)
    assert "too_few_values" in _codes(cap) and cap.indices is None and cap.histogram is None

    _, nospec = measured(tenant, stable_values(40), start=T0)
    with tenant_context(tenant):
        MeasurementDefinition.objects.filter(pk=nospec.pk).update(upper_tol=None, lower_tol=None)
        nospec.refresh_from_db()
    cap = _capability(tenant, nospec)
    assert "no_specification" in _codes(cap) and cap.indices is None
    assert cap.histogram is not None and cap.normality is not None  # still shown


def test_intervals_contain_the_estimate_and_narrow_with_more_values(tenant):
    _, small = measured(tenant, stable_values(20, seed=5), start=T0)
    _, large = measured(tenant, stable_values(200, seed=5), start=T0)
    a, b = _capability(tenant, small), _capability(tenant, large)
    for name in ("cp", "cpk", "pp", "ppk"):
        for cap in (a, b):
            lo, hi = cap.indices[f"{name}_ci"]
            assert lo < cap.indices[name] < hi, name
        assert (b.indices[f"{name}_ci"][1] - b.indices[f"{name}_ci"][0]) < \
            0.5 * (a.indices[f"{name}_ci"][1] - a.indices[f"{name}_ci"][0]), name


@pytest.mark.parametrize("n", [50])
def test_boyles_cpm_interval_covers_the_true_cpm_95_percent_of_the_time(n):
    """Independent of the formula: normal samples off target with a known Cpm."""
    reps, mu, sigma, target, lsl, usl = 10_000, 0.5, 1.0, 0.0, -4.0, 4.0
    true_cpm = (usl - lsl) / (6 * math.sqrt(sigma**2 + (mu - target) ** 2))
    x = np.random.default_rng(11).normal(mu, sigma, (reps, n))
    mean, sd = x.mean(axis=1), x.std(axis=1, ddof=1)
    tau = np.sqrt(((x - target) ** 2).sum(axis=1) / (n - 1))
    covered = 0
    for cpm, m, s in zip((usl - target) / (3 * tau), mean, sd, strict=True):
        lo, hi = cpm_interval(cpm=float(cpm), n=n, offset=float((m - target) / s), confidence=0.95)
        covered += lo <= true_cpm <= hi
    assert covered / reps == pytest.approx(0.95, abs=0.015)
    assert cpm_interval(cpm=None, n=n, offset=0.1, confidence=0.95) == (None, None)


def test_status_against_the_threshold():
    t = Decimal("1.33")
    assert [capability_status(v, t) for v in (None, 0.9, 1.329, 1.33, 1.46, 1.464, 2.0)] == \
        ["none", "bad", "bad", "warn", "warn", "good", "good"]


def _two_bores(tenant, n=40):
    process = make_process(tenant, route=TWO_BORES)
    wo = make_work_order(tenant, process=process, quantity=n)
    with tenant_context(tenant):
        step = route_steps(process)[0]
        bore = MeasurementDefinition.objects.get(step=step, label="Bore diameter")
        depth = MeasurementDefinition.objects.get(step=step, label="Bore depth")
        parts = list(Part.objects.filter(work_order=wo).order_by("pk"))
        bores, depths = stable_values(n), stable_values(n, mean=12.0, seed=9)
        parts_advance_bulk(work_order=wo, step=step.pk, parts=[
            {"part": p.pk, "measurements": [{"definition": bore.pk, "value": repr(a)},
                                            {"definition": depth.pk, "value": repr(b)}]}
            for p, a, b in zip(parts, bores, depths, strict=True)])
        ids = StepMeasurement.objects.filter(part__work_order=wo).order_by("part_id", "definition_id").values_list(
            "pk", flat=True)
        for i, pk in enumerate(ids):
            StepMeasurement.objects.filter(pk=pk).update(recorded_at=T0 + (i // 2) * timedelta(minutes=10))
    return process.part_type, bore, depth


def test_summary_ranks_worst_first_against_the_tenant_threshold(tenant):
    part_type, bore, depth = _two_bores(tenant)
    with tenant_context(tenant):
        summary = capability_summary(part_type)
        cpk = {r.definition.label: r.cpk for r in summary.rows}
        assert [r.definition.label for r in summary.rows] == ["Bore depth", "Bore diameter", "Leak rate"]
        assert cpk["Bore depth"] < cpk["Bore diameter"] and cpk["Leak rate"] is None
        assert cpk["Bore diameter"] == pytest.approx(characteristic_capability(bore).indices["cpk"])
        assert summary.rows[-1].status == "none" and summary.rows[-1].capability.n == 0
        # A threshold between the two: depth is bad; just under the diameter's Cpk: diameter warns.
        spc_settings_save(cpk_threshold=round((cpk["Bore depth"] + cpk["Bore diameter"]) / 2, 3))
        statuses = [r.status for r in capability_summary(part_type).rows]
        assert statuses == ["bad", "good", "none"] or statuses == ["bad", "warn", "none"]
        spc_settings_save(cpk_threshold=round(cpk["Bore diameter"] * 0.95, 3), version=1)
        rows = capability_summary(part_type).rows
        assert [r.status for r in rows] == ["bad", "warn", "none"]
        spc_settings_save(cpk_threshold=round(min(cpk["Bore depth"] * 0.8, 3), 3), version=2)
        assert [r.status for r in capability_summary(part_type).rows][:2] == ["good", "good"]


def test_capability_api(api, tenant, other_tenant):
    part_type, bore, _ = _two_bores(tenant)
    api.as_user(make_member(tenant, roles=["operator"]), tenant)
    r = api.get(f"/api/v1/spc/characteristics/{bore.pk}/capability/")
    assert r.status_code == 200, r.json()
    body = r.json()
    with tenant_context(tenant):
        cap = characteristic_capability(bore)
    assert body["cpk"] == pytest.approx(cap.indices["cpk"]) and body["cpk_ci"] == pytest.approx(cap.indices["cpk_ci"])
    assert (body["limits"], body["within_from"], body["n"], body["lsl"]) == ("trial", "trial", 40, 5.99)
    assert body["histogram"]["counts"] == cap.histogram["counts"]
    late = api.get(f"/api/v1/spc/characteristics/{bore.pk}/capability/",
                   {"date_from": (T0 + timedelta(minutes=200)).isoformat()}).json()
    assert late["n"] == 20
    r = api.get("/api/v1/spc/capability/", {"part_type": part_type.pk})
    assert r.status_code == 200, r.json()
    assert [row["label"] for row in r.json()["rows"]] == ["Bore depth", "Bore diameter", "Leak rate"]
    assert r.json()["threshold"] == "1.330"
    assert api.get("/api/v1/spc/capability/").status_code == 400  # the part type is required
    assert api.get("/api/v1/spc/characteristics/999999/capability/").status_code == 404
    customer = make_member(tenant, roles=["customer"], company=make_company(tenant))
    api.as_user(customer, tenant)
    assert api.get(f"/api/v1/spc/characteristics/{bore.pk}/capability/").status_code == 403
    assert api.get("/api/v1/spc/capability/", {"part_type": part_type.pk}).status_code == 403
    assert api.get("/api/v1/spc/settings/").status_code == 403
    api.as_user(make_member(other_tenant, roles=["qa_manager"]), other_tenant)
    assert api.get(f"/api/v1/spc/characteristics/{bore.pk}/capability/").status_code == 404
    assert api.get("/api/v1/spc/capability/", {"part_type": part_type.pk}).status_code == 400  # not theirs


def test_settings_api(api, tenant, other_tenant):
    api.as_user(make_member(tenant, roles=["operator"]), tenant)
    assert api.get("/api/v1/spc/settings/").json() == {"cpk_threshold": "1.330", "configured": False, "version": None}
    assert api.put("/api/v1/spc/settings/", {"cpk_threshold": "1.67"}, format="json").status_code == 403
    api.as_user(make_member(tenant, roles=["auditor"]), tenant)
    assert api.put("/api/v1/spc/settings/", {"cpk_threshold": "1.67"}, format="json").status_code == 403
    api.as_user(make_member(tenant, roles=["qa_manager"]), tenant)
    for bad in ("0.4", "3.5", "many"):
        r = api.put("/api/v1/spc/settings/", {"cpk_threshold": bad}, format="json")
        assert r.status_code == 400 and "cpk_threshold" in r.json()["error"]["fields"], bad
    r = api.put("/api/v1/spc/settings/", {"cpk_threshold": "1.67", "reason": "Customer asks for 1.67"}, format="json")
    assert r.status_code == 200 and r.json() == {"cpk_threshold": "1.670", "configured": True, "version": 1}
    r = api.put("/api/v1/spc/settings/", {"cpk_threshold": "1.5"}, format="json")
    assert r.status_code == 400 and "version" in r.json()["error"]["fields"]
    assert api.put("/api/v1/spc/settings/", {"cpk_threshold": "1.5", "version": 7}, format="json").status_code == 409
    api.as_user(make_member(tenant, roles=["tenant_admin"]), tenant)
    r = api.put("/api/v1/spc/settings/", {"cpk_threshold": "1.5", "version": 1}, format="json")
    assert r.status_code == 200 and r.json()["cpk_threshold"] == "1.500"
    history = api.get("/api/v1/spc/settings/").json()
    assert history["version"] == 2
    api.as_user(make_member(other_tenant, roles=["tenant_admin"]), other_tenant)
    assert api.get("/api/v1/spc/settings/").json()["cpk_threshold"] == "1.330"  # theirs are their own


def _sign_in(client, tenant, roles, company=None):
    user = make_member(tenant, roles=roles, company=company)
    assert client.login(email=user.email, password=PASSWORD)
    return user


def test_capability_page(client, tenant, other_tenant):
    part_type, bore, _ = _two_bores(tenant)
    _sign_in(client, tenant, ["operator"])
    r = client.get(f"/spc/characteristics/{bore.pk}/capability/")
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="histogram"' in html and "<svg" in html
    with tenant_context(tenant):
        cap = characteristic_capability(bore)
    assert f"{cap.indices['cpk']:.3f}" in html and f"{cap.indices['cpk_ci'][0]:.3f}" in html
    assert "trial limits: estimated from this period" in html and "Anderson-Darling" in html
    assert f"/spc/characteristics/{bore.pk}/report.pdf" in html and "measurements.csv" in html
    r = client.get(f"/spc/characteristics/{bore.pk}/capability/", {"date_from": "2026-11-03", "date_to": "2026-11-01"})
    assert r.status_code == 400 and "must be on or after the start" in r.content.decode()
    r = client.get(f"/spc/characteristics/{bore.pk}/capability/", {"date_from": "2026-11-03"})
    assert r.status_code == 200 and "Not enough data for a chart yet" in r.content.decode()  # warnings shown
    assert 'href="/spc/capability/"' in html  # the menu item
    tenant_module_set(tenant=tenant, module="spc", enabled=False)
    assert client.get(f"/spc/characteristics/{bore.pk}/capability/").status_code == 403
    assert client.get(f"/spc/characteristics/{bore.pk}/report.pdf").status_code == 403
    tenant_module_set(tenant=tenant, module="spc", enabled=True)
    client.logout()
    _sign_in(client, tenant, ["customer"], company=make_company(tenant))
    assert client.get(f"/spc/characteristics/{bore.pk}/capability/").status_code == 403
    assert client.get("/spc/capability/", {"part_type": part_type.pk}).status_code == 403
    client.logout()
    _sign_in(client, other_tenant, ["qa_manager"])
    assert client.get(f"/spc/characteristics/{bore.pk}/capability/").status_code == 404
    assert client.get("/spc/capability/", {"part_type": part_type.pk}).status_code == 404


def test_summary_page_colours_against_the_threshold(client, tenant):
    part_type, bore, depth = _two_bores(tenant)
    with tenant_context(tenant):
        cpk = characteristic_capability(bore).indices["cpk"]
        spc_settings_save(cpk_threshold=round(cpk * 0.95, 3))
    _sign_in(client, tenant, ["qa_inspector"])
    html = client.get("/spc/capability/", {"part_type": part_type.pk}).content.decode()
    table = html[html.index('data-testid="capability-summary"'):]
    order = [table.index(f'data-definition="{d}"') for d in (depth.pk, bore.pk)]
    assert order == sorted(order)
    assert f'data-status="bad" data-definition="{depth.pk}"' in table
    assert f'data-status="warn" data-definition="{bore.pk}"' in table and "badge-queued" in table
    assert f'href="/spc/characteristics/{bore.pk}/capability/"' in table
    assert "Choose a part type" in client.get("/spc/capability/").content.decode()


def test_settings_page(client, tenant):
    _sign_in(client, tenant, ["operator"])
    r = client.get("/spc/capability/settings/")
    assert r.status_code == 200 and 'data-testid="threshold">1.330<' in r.content.decode()
    assert client.post("/spc/capability/settings/", {"cpk_threshold": "1.67"}).status_code == 403
    client.logout()
    _sign_in(client, tenant, ["qa_manager"])
    r = client.post("/spc/capability/settings/", {"cpk_threshold": "9"})
    assert r.status_code == 400
    r = client.post("/spc/capability/settings/", {"cpk_threshold": "1.67", "reason": "Customer requirement"})
    assert r.status_code == 302
    html = client.get("/spc/capability/settings/").content.decode()
    assert 'value="1.670"' in html and 'name="version" value="1"' in html
    r = client.post("/spc/capability/settings/", {"cpk_threshold": "1.5", "version": "5"})
    assert r.status_code == 400 and "changed" in r.content.decode().lower()
