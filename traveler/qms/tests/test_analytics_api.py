"""The analytics endpoints: /api/v1/qms/analytics/pareto/ (JSON and SVG) and first-pass-yield/,
who may read them, bad input, tenants."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from traveler.core.tenancy import tenant_context
from traveler.mes_lite.models import StepTransitionLog
from traveler.mes_lite.tests.api_helpers import error, signed_in
from traveler.qms.choices import ReportStatus
from traveler.qms.services.reports import quality_report_create
from traveler.qms.tests.factories import make_defect_code, part_at_start

API = "/api/v1/qms/analytics"
NS = "{http://www.w3.org/2000/svg}"


def _defects(tenant, found: dict[str, int]):
    part, route = part_at_start(tenant)
    codes = {c: make_defect_code(tenant, code=c) for c in found}
    with tenant_context(tenant):
        quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL,
                              defects=[{"code": codes[c], "count": n} for c, n in found.items()])
        StepTransitionLog.objects.create(part=part, action="advance", from_step=route[0], to_step=route[1],
                                         from_status="pending", to_status="in_process", transition_time=timezone.now())
    return codes, part, route


@pytest.mark.django_db
def test_pareto_json_and_svg(api, tenant):
    codes, part, _ = _defects(tenant, {"NICK": 1, "BURR": 6, "PIT": 3})
    client = signed_in(api, tenant, roles=["qa_inspector"])
    r = client.get(f"{API}/pareto/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["by"] == "code" and body["total"] == 10
    assert [(row["label"].split(" ")[0], row["count"], row["cumulative_percent"]) for row in body["rows"]] == [
        ("BURR", 6, 60.0), ("PIT", 3, 90.0), ("NICK", 1, 100.0)]
    assert body["rows"][0]["key"] == str(codes["BURR"].pk)
    assert body["filters"]["to"] == timezone.localdate().isoformat() and body["filters"]["severity"] is None
    r = client.get(f"{API}/pareto/", {"by": "part_type"})
    assert [(row["key"], row["count"]) for row in r.json()["rows"]] == [(str(part.part_type_id), 10)]
    svg = client.get(f"{API}/pareto/chart.svg", {"by": "code"})
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(svg.content)
    assert len([e for e in root.iter(f"{NS}rect") if e.get("class") == "bar"]) == 3


@pytest.mark.django_db
def test_first_pass_yield_endpoint(api, tenant):
    _, _, route = _defects(tenant, {"BURR": 1})
    client = signed_in(api, tenant, roles=["auditor"])
    r = client.get(f"{API}/first-pass-yield/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert [(s["step"], s["parts"], s["first_pass"], s["yield_percent"]) for s in body["steps"]] == [
        (route[0].pk, 1, 1, 100.0)]
    assert body["yield_percent"] == 100.0
    empty = client.get(f"{API}/first-pass-yield/", {"from": "2020-01-01", "to": "2020-01-31"}).json()
    assert (empty["steps"], empty["attempts"], empty["yield_percent"]) == ([], 0, None)


@pytest.mark.django_db
@pytest.mark.parametrize("query,field", [
    ({"by": "colour"}, "by"), ({"from": "2026-02-30"}, "from"), ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ({"severity": "low"}, "severity"), ({"step": "abc"}, "step"), ({"part_type": "99999999"}, "part_type"),
])
def test_bad_queries_answer_400_naming_the_field(api, tenant, query, field):
    client = signed_in(api, tenant, roles=["qa_manager"])
    e = error(client.get(f"{API}/pareto/", query))
    assert e["status"] == 400 and field in e["fields"], e
    if field != "by":
        assert field in error(client.get(f"{API}/first-pass-yield/", query))["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("role,allowed", [
    ("qa_manager", True), ("qa_inspector", True), ("production_manager", True), ("auditor", True),
    ("tenant_admin", True), ("operator", False), ("customer", False), ("document_controller", False),
])
def test_who_may_read_the_analytics(api, tenant, role, allowed):
    client = signed_in(api, tenant, roles=[role])
    for path in ("pareto/", "pareto/chart.svg", "first-pass-yield/"):
        r = client.get(f"{API}/{path}")
        assert r.status_code == (200 if allowed else 403), (role, path, r.status_code)


@pytest.mark.django_db
def test_another_tenants_defects_and_ids_stay_theirs(api, tenant, other_tenant):
    _defects(tenant, {"BURR": 2})
    _, theirs, their_route = _defects(other_tenant, {"BURR": 40})
    client = signed_in(api, tenant, roles=["qa_manager"])
    assert client.get(f"{API}/pareto/").json()["total"] == 2
    assert "step" in error(client.get(f"{API}/pareto/", {"step": their_route[0].pk}))["fields"]
    assert "part_type" in error(client.get(f"{API}/pareto/", {"part_type": theirs.part_type_id}))["fields"]
    steps = client.get(f"{API}/first-pass-yield/").json()["steps"]
    assert their_route[0].pk not in {s["step"] for s in steps} and len(steps) == 1
