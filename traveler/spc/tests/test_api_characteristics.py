"""Characteristics and baselines through the HTTP API: settings, the chart as JSON and SVG, compute,
freeze with a password, supersede, discard; who may do what; tenant isolation."""

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member
from traveler.spc.models import SPCBaseline
from traveler.spc.tests.factories import measured, stable_values

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def test_settings_chart_and_svg(api, tenant):
    engineer = make_member(tenant, roles=["engineering"])
    values = stable_values(40)
    wo, bore = measured(tenant, values, start=T0)
    api.as_user(engineer, tenant)
    listed = api.get("/api/v1/spc/characteristics/").json()
    row = next(r for r in listed if r["definition"] == bore.pk)
    assert row["configured"] is False and row["settings"]["chart_type"] == "imr" and row["label"] == "Bore diameter"
    assert all(r["label"] != "Visual" for r in listed)  # pass / fail measurements are not charted
    chart = api.get(f"/api/v1/spc/characteristics/{bore.pk}/chart/").json()
    assert chart["limits"] == "trial" and len(chart["subgroups"]) == 40
    assert chart["result"]["primary"]["values"][0] == pytest.approx(values[0])
    r = api.put(f"/api/v1/spc/characteristics/{bore.pk}/", {"chart_type": "xbar_r", "subgroup_size": 4}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["configured"] is True and r.json()["version"] == 1
    r = api.put(f"/api/v1/spc/characteristics/{bore.pk}/", {"subgroup_size": 1, "version": 1}, format="json")
    assert r.status_code == 400 and "subgroup_size" in r.json()["error"]["fields"]
    chart = api.get(f"/api/v1/spc/characteristics/{bore.pk}/chart/?work_order={wo.pk}"
                    f"&date_to={(T0 + timedelta(minutes=95)).isoformat().replace('+', '%2B')}").json()
    assert len(chart["subgroups"]) == 2  # 10 measurements before 06:35: two complete subgroups of 4
    svg = api.get(f"/api/v1/spc/characteristics/{bore.pk}/chart.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert "trial limits" in svg.content.decode()
    ElementTree.fromstring(svg.content)
    assert api.get("/api/v1/spc/characteristics/999999/chart/").status_code == 404


def test_baseline_compute_freeze_supersede_discard(api, tenant):
    qa = make_member(tenant, roles=["qa_manager"])
    engineer = make_member(tenant, roles=["engineering"])
    _, bore = measured(tenant, stable_values(60), start=T0)
    api.as_user(engineer, tenant)
    r = api.post("/api/v1/spc/baselines/", {"definition": bore.pk,
                                            "range_to": (T0 + timedelta(hours=5)).isoformat()}, format="json")
    assert r.status_code == 201, r.json()
    draft = r.json()
    assert (draft["status"], draft["sample_count"]) == ("draft", 30)
    r = api.post(f"/api/v1/spc/baselines/{draft['id']}/freeze/", {"password": PASSWORD}, format="json")
    assert r.status_code == 403  # engineering computes; only QA managers freeze
    api.as_user(qa, tenant)
    r = api.post(f"/api/v1/spc/baselines/{draft['id']}/freeze/", {"password": "nope"}, format="json")
    assert r.status_code in (401, 403)
    with tenant_context(tenant):
        assert not SPCBaseline.objects.filter(status="active").exists()
    r = api.post(f"/api/v1/spc/baselines/{draft['id']}/freeze/", {"password": PASSWORD}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "active" and r.json()["frozen_by"] == qa.pk
    signatures = api.get(f"/api/v1/core/signatures/?record_type=spc.spcbaseline&record_id={draft['id']}").json()
    assert [s["meaning"] for s in signatures] == ["approved"]
    chart = api.get(f"/api/v1/spc/characteristics/{bore.pk}/chart/").json()
    assert chart["limits"] == "baseline" and chart["baseline"] == draft["id"]
    second = api.post("/api/v1/spc/baselines/", {"definition": bore.pk}, format="json").json()
    r = api.post(f"/api/v1/spc/baselines/{second['id']}/freeze/", {"password": PASSWORD}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["error"]["fields"]
    r = api.post(f"/api/v1/spc/baselines/{second['id']}/freeze/", {"password": PASSWORD, "reason": "Re-baselined"},
                 format="json")
    assert r.status_code == 200
    old = api.get(f"/api/v1/spc/baselines/{draft['id']}/").json()
    assert (old["status"], old["superseded_by"], old["superseded_reason"]) == ("superseded", second["id"], "Re-baselined")
    third = api.post("/api/v1/spc/baselines/", {"definition": bore.pk}, format="json").json()
    assert api.post(f"/api/v1/spc/baselines/{third['id']}/discard/", {}, format="json").json()["status"] == "discarded"
    assert api.post(f"/api/v1/spc/baselines/{third['id']}/freeze/", {"password": PASSWORD},
                    format="json").status_code == 409
    history = api.get(f"/api/v1/spc/baselines/?definition={bore.pk}").json()["results"]
    assert {b["status"] for b in history} == {"superseded", "active", "discarded"}


def test_who_sees_and_changes_characteristics(api, tenant, other_tenant):
    _, bore = measured(tenant, stable_values(5))
    operator = make_member(tenant, roles=["operator"])
    api.as_user(operator, tenant)
    assert api.get(f"/api/v1/spc/characteristics/{bore.pk}/chart/").status_code == 200
    assert api.put(f"/api/v1/spc/characteristics/{bore.pk}/", {"rules": ""}, format="json").status_code == 403
    assert api.post("/api/v1/spc/baselines/", {"definition": bore.pk}, format="json").status_code == 403
    customer = make_member(tenant, roles=["customer"], company=make_company(tenant))
    api.as_user(customer, tenant)
    assert api.get("/api/v1/spc/characteristics/").status_code == 403
    assert api.get(f"/api/v1/spc/characteristics/{bore.pk}/chart/").status_code == 403
    stranger = make_member(other_tenant, roles=["qa_manager"])
    api.as_user(stranger, other_tenant)
    assert all(r["definition"] != bore.pk for r in api.get("/api/v1/spc/characteristics/").json())
    assert api.get(f"/api/v1/spc/characteristics/{bore.pk}/chart/").status_code == 404
    assert api.put(f"/api/v1/spc/characteristics/{bore.pk}/", {"rules": ""}, format="json").status_code == 404
    with tenant_context(other_tenant):
        assert not SPCBaseline.objects.exists()
