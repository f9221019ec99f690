"""Sampling over HTTP: rule sets with versions, preview, decisions, analytics, permissions."""

from __future__ import annotations

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import ApiClient, make_member
from traveler.mes_full.tests.factories import make_ruleset, make_sampled_work_order
from traveler.mes_lite.models import Part
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_process

API = "/api/v1/mes-full/sampling"


def client(tenant, role: str) -> ApiClient:
    c = ApiClient().as_user(make_member(tenant, roles=[role]), tenant)
    c.default_format = "json"
    return c


@pytest.fixture
def engineer(tenant):
    return client(tenant, "engineering")


def test_create_change_and_read_the_versions_of_a_rule_set(tenant, engineer):
    process = make_process(tenant)
    with tenant_context(tenant):
        step = route_steps(process)[1]
    r = engineer.post(f"{API}/rule-sets/", {
        "name": "Leak test sampling", "part_type": process.part_type_id, "step": step.pk,
        "rules": [{"kind": "every_nth", "count": 5}, {"kind": "every_nth", "count": 1, "mode": "fallback"}],
        "fallback_parts": 10})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["process"], body["step"], body["revision"], body["fallback_parts"], body["describe"]) == (
        process.pk, step.pk, 1, 10, "every 5th")
    assert [(x["mode"], x["kind"], x["count"], x["describe"]) for x in body["rules"]] == [
        ("fallback", "every_nth", 1, "every part"), ("primary", "every_nth", 5, "every 5th")]
    url = f"{API}/rule-sets/{body['id']}/"
    r = engineer.patch(url, {"version": body["version"], "rules": [{"kind": "percentage", "percent": "10"}],
                             "fallback_parts": None, "reason": "Fewer inspections after a good quarter"})
    assert r.status_code == 200, r.json()
    assert (r.json()["revision"], r.json()["describe"], r.json()["fallback_parts"]) == (2, "10 % spread evenly", None)
    stale = engineer.patch(url, {"version": body["version"], "name": "Other"})
    assert stale.status_code == 409
    versions = engineer.get(f"{url}versions/").json()
    assert [(v["number"], [x["kind"] for x in v["rules"]]) for v in versions] == [
        (2, ["percentage"]), (1, ["every_nth", "every_nth"])]
    assert versions[0]["note"] == "Fewer inspections after a good quarter"
    moved = engineer.patch(url, {"version": r.json()["version"], "step": None})
    assert moved.status_code == 400 and "step" in moved.json()["error"]["fields"]


def test_bad_rules_are_400_naming_the_field(tenant, engineer):
    process = make_process(tenant)
    base = {"name": "x", "part_type": process.part_type_id, "process": process.pk}
    for rules, field in [([{"kind": "every_nth"}], "rules[0].count"),
                         ([{"kind": "random", "percent": "0"}], "rules[0].percent"),
                         ([{"kind": "z14_lot", "inspection_level": "II", "aql": "3"}], "rules[0].aql")]:
        r = engineer.post(f"{API}/rule-sets/", {**base, "rules": rules})
        assert r.status_code == 400 and field in r.json()["error"]["fields"], (rules, r.json())
    other = make_process(tenant)
    r = engineer.post(f"{API}/rule-sets/", {**base, "process": other.pk, "rules": [{"kind": "first_n", "count": 1}]})
    assert r.status_code == 400 and "process" in r.json()["error"]["fields"]


def test_preview(tenant, engineer):
    r = engineer.post(f"{API}/preview/", {"quantity": 50, "fallback_parts": 10, "rules": [
        {"kind": "every_nth", "count": 5}, {"kind": "every_nth", "count": 1, "mode": "fallback"}]})
    assert r.status_code == 200, r.json()
    assert r.json()["primary"] == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
    assert r.json()["text"] == ("In a work order of 50 parts this selects parts 5, 10, 15, 20, 25, 30, 35, 40, … "
                                "(10 of 50); after a defect the next 10 parts.")
    assert engineer.post(f"{API}/preview/", {"quantity": 0, "rules": []}).status_code == 400


def test_a_parts_decisions_and_the_analytics(tenant, engineer):
    rs, wo = make_sampled_work_order(tenant, quantity=10)
    with tenant_context(tenant):
        fifth = Part.objects.get(work_order=wo, sequence=5)
    r = engineer.get(f"{API}/decisions/", {"part": fifth.pk})
    (d,) = r.json()["results"]
    assert (d["ruleset"], d["revision"], d["position"], d["quantity"], d["mode"], d["selected"], d["rule_describe"]) == (
        rs.pk, 1, 5, 10, "primary", True, "every 5th")
    assert engineer.get(f"{API}/decisions/", {"work_order": wo.pk, "selected": "true"}).json()["count"] == 2
    (a,) = engineer.get(f"{API}/analytics/", {"ruleset": rs.pk}).json()["results"]
    assert (a["work_order_number"], a["parts_total"], a["parts_sampled"], a["planned_rate"], a["actual_rate"]) == (
        wo.number, 10, 2, 0.2, 0.2)


@pytest.mark.parametrize("role,reads,writes", [
    ("engineering", True, True), ("qa_manager", True, True), ("production_manager", True, True),
    ("operator", True, False), ("auditor", True, False), ("customer", False, False),
])
def test_permissions(tenant, role, reads, writes):
    rs = make_ruleset(tenant)
    c = client(tenant, role) if role != "customer" else _customer(tenant)
    assert (c.get(f"{API}/rule-sets/").status_code == 200) == reads
    assert (c.get(f"{API}/rule-sets/{rs.pk}/versions/").status_code == 200) == reads
    r = c.patch(f"{API}/rule-sets/{rs.pk}/", {"version": rs.version, "name": "Renamed"})
    assert (r.status_code == 200) == writes and (r.status_code == 403) != writes


def _customer(tenant):
    from traveler.core.tests.factories import make_company

    user = make_member(tenant, roles=["customer"], company=make_company(tenant))
    c = ApiClient().as_user(user, tenant)
    c.default_format = "json"
    return c


def test_another_tenants_rule_sets_are_not_found(tenant, other_tenant, engineer):
    theirs = make_ruleset(other_tenant)
    assert engineer.get(f"{API}/rule-sets/{theirs.pk}/").status_code == 404
    assert engineer.get(f"{API}/rule-sets/{theirs.pk}/versions/").status_code == 404
    assert theirs.pk not in {x["id"] for x in engineer.get(f"{API}/rule-sets/").json()["results"]}
