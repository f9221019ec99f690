"""Defect codes and quality reports through the HTTP API."""

from __future__ import annotations

import pytest

from traveler.core.tenancy import tenant_context
from traveler.mes_lite.models import MeasurementDefinition
from traveler.mes_lite.tests.api_helpers import error, signed_in
from traveler.mes_lite.tests.factories import make_part_type
from traveler.qms.models import QualityReport
from traveler.qms.tests.factories import make_defect_code, make_quality_report, part_at_start

API = "/api/v1/qms"


@pytest.fixture
def inspector(api, tenant):
    return signed_in(api, tenant, roles=["qa_inspector"])


def test_defect_codes_with_limits_history_and_unique_code(inspector, tenant):
    part_type = make_part_type(tenant)
    r = inspector.post(f"{API}/defect-codes/", {"code": "BURR", "description": "Burr on the bore edge",
                                                "severity": "minor", "part_types": [part_type.pk],
                                                "reason": "new code"})
    assert r.status_code == 201, r.content
    code = r.json()
    assert (code["part_types"], code["steps"], code["severity"]) == ([part_type.pk], [], "minor")
    dup = inspector.post(f"{API}/defect-codes/", {"code": "BURR", "description": "again", "severity": "minor"})
    assert dup.status_code == 400 and "code" in error(dup)["fields"]
    r = inspector.patch(f"{API}/defect-codes/{code['id']}/", {"severity": "critical", "part_types": [],
                                                              "version": code["version"], "reason": "field returns"})
    assert r.status_code == 200, r.content
    assert (r.json()["severity"], r.json()["part_types"]) == ("critical", [])
    rows = inspector.get(f"{API}/defect-codes/{code['id']}/history/").json()["results"]
    assert [row["reason"] for row in rows] == ["field returns", "new code"]
    bad = inspector.post(f"{API}/defect-codes/", {"code": "X", "description": "x", "severity": "fatal"})
    assert bad.status_code == 400 and "severity" in error(bad)["fields"]


def test_record_a_report_with_results_and_defects(inspector, tenant):
    part, route = part_at_start(tenant)
    code = make_defect_code(tenant)
    with tenant_context(tenant):
        bore = MeasurementDefinition.objects.get(step=route[0], label="Bore diameter")
    body = {"part": part.pk, "step": route[0].pk, "status": "pass", "description": "Bore checked",
            "inspectors": [inspector.user.pk], "results": [{"definition": bore.pk, "value": "6.5"}],
            "defects": [{"code": code.pk, "count": 2}]}
    r = inspector.post(f"{API}/quality-reports/", body)
    assert r.status_code == 400
    e = error(r)
    assert e["status"] == 400 and "status" in e["fields"] and "out of specification" in e["message"]
    with tenant_context(tenant):
        assert not QualityReport.objects.exists()
    r = inspector.post(f"{API}/quality-reports/", {**body, "status": "fail"})
    assert r.status_code == 201, r.content
    report = r.json()
    assert report["results"][0]["in_spec"] is False and report["results"][0]["label"] == "Bore diameter"
    assert report["defects"] == [{"code": code.pk, "code_text": code.code, "severity": "major", "count": 2}]
    assert report["inspectors"] == [{"id": inspector.user.pk, "name": inspector.user.full_name}]
    assert (report["origin"], report["serial_number"]) == ("manual", part.serial_number)
    r = inspector.patch(f"{API}/quality-reports/{report['id']}/",
                        {"results": [{"definition": bore.pk, "value": "6.004"}], "status": "pass",
                         "version": report["version"], "reason": "re-measured after deburring"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "pass" and r.json()["results"][0]["in_spec"] is True
    stale = inspector.patch(f"{API}/quality-reports/{report['id']}/", {"description": "x", "version": 1})
    assert stale.status_code == 409
    listed = inspector.get(f"{API}/quality-reports/", {"part": part.pk}).json()["results"]
    assert [row["id"] for row in listed] == [report["id"]]


def test_ids_of_another_tenant_do_not_exist(inspector, tenant, other_tenant):
    theirs, their_route = part_at_start(other_tenant)
    r = inspector.post(f"{API}/quality-reports/", {"part": theirs.pk, "step": their_route[0].pk, "status": "pending"})
    assert r.status_code == 400
    assert {"part", "step"} <= set(error(r)["fields"])


@pytest.mark.parametrize("role,reads,writes", [
    ("qa_manager", 200, 201), ("qa_inspector", 200, 201), ("auditor", 200, 403), ("operator", 200, 403),
    ("engineering", 200, 403), ("customer", 403, 403),
])
def test_who_reads_and_who_records(api, tenant, role, reads, writes):
    make_quality_report(tenant)
    part, route = part_at_start(tenant)
    client = signed_in(api, tenant, roles=[role])
    r = client.get(f"{API}/quality-reports/")
    assert r.status_code == reads
    if reads == 200:
        assert len(r.json()["results"]) == 1
    assert client.get(f"{API}/defect-codes/").status_code == reads
    r = client.post(f"{API}/quality-reports/", {"part": part.pk, "step": route[0].pk, "status": "pending"})
    assert r.status_code == writes, r.content
