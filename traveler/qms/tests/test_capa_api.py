"""CAPA through the HTTP API: the state machine only through its actions, tasks signed complete,
the analysis, verification and closure approval, and who may do what."""

from __future__ import annotations

import pytest

from traveler.core.queue import run_pending
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, ApiClient, make_member
from traveler.mes_lite.tests.api_helpers import error, signed_in
from traveler.qms.models import CAPA, CapaTask
from traveler.qms.tests.factories import make_capa, make_quality_report

API = "/api/v1/qms"


@pytest.fixture
def qa(api, tenant):
    return signed_in(api, tenant, roles=["qa_manager"])


def _open(qa, **kw):
    body = {"title": "Seat leak", "severity": "minor", "problem_statement": "Leaks at the seat",
            "owner": qa.user.pk, **kw}
    r = qa.post(f"{API}/capas/", body)
    assert r.status_code == 201, r.content
    return r.json()


def test_open_a_capa_with_links_and_its_number(qa, tenant):
    report = make_quality_report(tenant)
    capa = _open(qa, quality_reports=[report.pk], parts=[report.part_id], steps=[report.step_id])
    assert capa["number"].startswith("CAPA-") and capa["number"].endswith("-0001")
    assert (capa["state"], capa["progress"], capa["transitions"]) == ("open", 0, ["start", "cancel"])
    assert capa["quality_reports"] == [report.pk] and capa["parts"] == [report.part_id]
    bad = qa.post(f"{API}/capas/", {"title": "x", "problem_statement": "y", "owner": qa.user.pk, "severity": "huge"})
    assert bad.status_code == 400 and "severity" in error(bad)["fields"]


@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_update_with_a_state_is_refused_and_changes_nothing(qa, tenant, method):
    capa = _open(qa)
    body = {"title": "Seat leak", "problem_statement": "Leaks", "owner": qa.user.pk, "state": "closed",
            "version": capa["version"]}
    r = getattr(qa, method)(f"{API}/capas/{capa['id']}/", body)
    assert r.status_code == 400 and "state" in error(r)["fields"], r.content
    with tenant_context(tenant):
        row = CAPA.objects.get(pk=capa["id"])
        assert (row.state, row.version, row.problem_statement) == ("open", 1, "Leaks at the seat")
    r = qa.patch(f"{API}/capas/{capa['id']}/", {"title": "Seat leak on lot 12", "version": capa["version"]})
    assert r.status_code == 200 and r.json()["state"] == "open" and r.json()["title"] == "Seat leak on lot 12"


def test_the_whole_life_of_a_major_capa_through_the_api(qa, tenant):
    approver = make_member(tenant, roles=["qa_manager"])
    capa = _open(qa, severity="major")
    url = f"{API}/capas/{capa['id']}"
    assert qa.post(f"{url}/submit/", {}).status_code == 409  # not started
    r = qa.post(f"{url}/start/", {"version": capa["version"]})
    assert r.status_code == 200 and r.json()["state"] == "in_progress"
    r = qa.post(f"{API}/capa-tasks/", {"capa": capa["id"], "kind": "containment", "title": "Quarantine lot 12",
                                       "owner": qa.user.pk})
    assert r.status_code == 201, r.content
    task = r.json()
    assert task["assignees"] == [{"user": {"id": qa.user.pk, "name": qa.user.full_name}, "completed_at": None}]
    wrong = qa.post(f"{API}/capa-tasks/{task['id']}/complete/", {"password": "not it"})
    assert wrong.status_code == 401 and "password" in error(wrong)["fields"]
    r = qa.post(f"{API}/capa-tasks/{task['id']}/complete/", {"password": PASSWORD, "comment": "lot 12 held"})
    assert r.status_code == 200 and r.json()["completed_at"]
    sigs = qa.get("/api/v1/core/signatures/", {"record_type": "qms.capataskassignee",
                                               "record_id": qa_link_id(tenant, task["id"])}).json()
    assert [s["meaning"] for s in sigs] == ["completed"]
    r = qa.post(f"{API}/capa-rcas/", {"capa": capa["id"], "method": "fishbone", "causes": [
        {"category": "machine", "description": "Spindle runout"}], "root_causes": [
        {"description": "Spindle bearing worn", "category": "machine", "is_primary": True}]})
    assert r.status_code == 201, r.content
    assert qa.get(f"{url}/").json()["progress"] == 50
    assert qa.post(f"{url}/submit/", {}).json()["state"] == "pending_verification"
    r = qa.post(f"{url}/verify/", {"outcome": "confirmed", "method": "Runout measured on 30 parts",
                                   "password": PASSWORD})
    assert r.status_code == 201 and r.json()["outcome"] == "confirmed"
    r = qa.post(f"{url}/close/", {})
    assert r.status_code == 409 and "approval" in error(r)["fields"]
    r = qa.post(f"{url}/request-closure/", {"notes": "please close"})
    assert r.status_code == 201, r.content
    req = r.json()["approval_request"]
    other = ApiClient().as_user(approver, tenant)
    r = other.post(f"/api/v1/core/approval-requests/{req}/respond/",
                   {"decision": "approved", "password": PASSWORD}, format="json")
    assert r.status_code in (200, 201), r.content
    while run_pending():
        pass
    done = qa.get(f"{url}/").json()
    assert (done["state"], done["progress"], done["transitions"]) == ("closed", 100, [])


def qa_link_id(tenant, task_id) -> str:
    with tenant_context(tenant):
        return str(CapaTask.objects.get(pk=task_id).assignee_links.get().pk)


def test_cancel_needs_a_reason(qa):
    capa = _open(qa)
    r = qa.post(f"{API}/capas/{capa['id']}/cancel/", {})
    assert r.status_code == 400 and "reason" in error(r)["fields"]
    r = qa.post(f"{API}/capas/{capa['id']}/cancel/", {"reason": "duplicate of another CAPA"})
    assert r.status_code == 200 and (r.json()["state"], r.json()["cancel_reason"]) == (
        "cancelled", "duplicate of another CAPA")
    assert qa.post(f"{API}/capas/{capa['id']}/start/", {}).status_code == 409


def test_not_effective_through_the_api_reopens_with_a_new_task(qa, tenant):
    from traveler.qms.tests.factories import capa_pending_verification

    capa = capa_pending_verification(tenant)
    with tenant_context(tenant):
        qa.as_user(capa.owner, tenant)
        qa.user = capa.owner
    r = qa.post(f"{API}/capas/{capa.pk}/verify/", {"outcome": "not_effective", "method": "Leak test",
                                                   "password": PASSWORD})
    assert r.status_code == 201
    after = qa.get(f"{API}/capas/{capa.pk}/").json()
    assert after["state"] == "in_progress"
    tasks = qa.get(f"{API}/capa-tasks/", {"capa": capa.pk}).json()["results"]
    assert len(tasks) == 2 and sum(1 for t in tasks if t["completed_at"] is None) == 1


@pytest.mark.parametrize("role,reads,writes", [
    ("qa_manager", True, True), ("qa_inspector", True, True), ("auditor", True, False),
    ("production_manager", True, False), ("operator", True, False), ("customer", False, False)])
def test_who_reads_and_who_writes(api, tenant, role, reads, writes):
    make_capa(tenant)
    client = signed_in(api, tenant, roles=[role])
    r = client.get(f"{API}/capas/")
    assert r.status_code == (200 if reads else 403)
    r = client.post(f"{API}/capas/", {"title": "t", "problem_statement": "p", "owner": client.user.pk})
    assert (r.status_code == 201) == writes, r.content


def test_a_capa_links_the_nonconformances_it_answers_of_its_own_tenant_only(qa, tenant, other_tenant):
    from traveler.qms.tests.factories import make_nonconformance

    ncr, _parts = make_nonconformance(tenant)
    foreign, _ = make_nonconformance(other_tenant)
    capa = _open(qa, nonconformances=[ncr.pk])
    assert capa["nonconformances"] == [ncr.pk]
    bad = qa.post(f"{API}/capas/", {"title": "x", "problem_statement": "y", "owner": qa.user.pk,
                                    "nonconformances": [foreign.pk]})
    assert bad.status_code == 400 and "nonconformances" in error(bad)["fields"]
    with tenant_context(tenant):
        assert CAPA.objects.count() == 1
        assert list(CAPA.objects.get(pk=capa["id"]).nonconformances.all()) == [ncr]
