"""Route design through the HTTP API: part types, processes, steps, measurement definitions."""

import pytest

from traveler.core.tenancy import tenant_context
from traveler.mes_lite.models import EquipmentType, Process, Step
from traveler.mes_lite.tests.api_helpers import API, error, event_names, signed_in
from traveler.mes_lite.tests.factories import make_part_type, make_process


@pytest.fixture
def designer(api, tenant):
    return signed_in(api, tenant, roles=["engineering"])


def history(api, url):
    r = api.get(f"{url}history/")
    assert r.status_code == 200, r.content
    return r.json()["results"]


def test_part_type_crud_with_history(designer, tenant):
    r = designer.post(f"{API}/part-types/", {"part_number": "INJ-100", "revision": "B", "name": "Injector body"})
    assert r.status_code == 201, r.content
    pt = r.json()
    assert (pt["part_number"], pt["revision"], pt["version"]) == ("INJ-100", "B", 1)
    url = f"{API}/part-types/{pt['id']}/"

    again = designer.post(f"{API}/part-types/", {"part_number": "INJ-100", "revision": "B", "name": "Copy"})
    assert again.status_code == 400 and "already exists" in error(again)["message"]

    r = designer.patch(url, {"name": "Injector body, machined", "version": 1, "reason": "drawing rev"})
    assert r.status_code == 200 and r.json()["version"] == 2
    stale = designer.patch(url, {"name": "Other", "version": 1})
    assert stale.status_code == 409 and "version" in error(stale)["fields"]
    rows = history(designer, url)
    assert rows[0]["action"] == "Updated" and rows[0]["reason"] == "drawing rev"
    assert rows[0]["changes"]["name"]["new"] == "Injector body, machined"

    assert designer.get(f"{API}/part-types/", {"part_number": "INJ-100"}).json()["count"] == 1
    assert designer.post(f"{url}archive/", {"reason": "obsolete"}).status_code == 200
    assert designer.get(f"{API}/part-types/", {"part_number": "INJ-100"}).json()["count"] == 0
    assert history(designer, url)[0]["reason"] == "obsolete"


def test_process_design_release_and_new_version(designer, tenant):
    pt = make_part_type(tenant)
    r = designer.post(f"{API}/processes/", {"part_type": pt.pk, "name": "Injector route"})
    assert r.status_code == 201, r.content
    process = r.json()
    assert (process["status"], process["route_version"], process["part_number"]) == ("draft", 1, pt.part_number)
    purl = f"{API}/processes/{process['id']}/"

    steps = []
    for name in ("Machine body", "Leak test"):
        r = designer.post(f"{purl}steps/", {"name": name, "reason": "initial design"})
        assert r.status_code == 201, r.content
        steps.append(r.json())
    assert [s["sequence"] for s in steps] == [10, 20]
    assert history(designer, f"{API}/steps/{steps[0]['id']}/")[-1]["reason"] == "initial design"

    with tenant_context(tenant):
        gauges = EquipmentType.objects.create(name="Bore air gauge", calibration_interval_days=180)
    r = designer.post(f"{API}/steps/{steps[0]['id']}/measurement-definitions/",
                      {"label": "Bore diameter", "unit": "mm", "nominal": "6.000", "upper_tol": "0.010",
                       "lower_tol": "0.020", "equipment_type": gauges.pk, "reason": "from drawing"})
    assert r.status_code == 201, r.content
    bore = r.json()
    assert bore["equipment_type"] == gauges.pk
    assert (bore["lower_limit"], bore["upper_limit"], bore["kind"]) == ("5.98000000", "6.01000000", "numeric")
    r = designer.post(f"{API}/steps/{steps[1]['id']}/measurement-definitions/", {"label": "Visual", "kind": "pass_fail"})
    assert r.status_code == 201 and r.json()["nominal"] is None

    r = designer.patch(f"{API}/steps/{steps[1]['id']}/", {"description": "Helium, 10 bar", "version": 1,
                                                          "reason": "test spec"})
    assert r.status_code == 200 and r.json()["description"] == "Helium, 10 bar"

    route = designer.get(f"{purl}route/").json()
    assert [e["step"]["name"] for e in route["steps"]] == ["Machine body", "Leak test"]
    assert route["steps"][0]["next_step"] == steps[1]["id"] and route["steps"][1]["next_step"] is None
    assert [d["label"] for d in route["steps"][0]["definitions"]] == ["Bore diameter"]
    assert route["ready_to_release"] is True and route["problem"] is None and route["unrouted_steps"] == []

    r = designer.post(f"{purl}release/", {"reason": "PPAP approved"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "released" and r.json()["released_by"] == designer.user.pk
    assert event_names(tenant, process_id=process["id"]) == ["mes.process.released"]
    assert history(designer, purl)[0]["reason"] == "PPAP approved"

    # A released process is never edited in place.
    for method, url, body in [
        ("patch", purl, {"name": "Renamed", "version": 1}),
        ("post", f"{purl}steps/", {"name": "Extra"}),
        ("patch", f"{API}/steps/{steps[0]['id']}/", {"name": "Renamed", "version": 1}),
        ("post", f"{API}/steps/{steps[0]['id']}/measurement-definitions/", {"label": "Extra", "kind": "pass_fail"}),
    ]:
        r = getattr(designer, method)(url, body)
        assert r.status_code == 409, (url, r.content)
        assert "never edited in place" in error(r)["message"]
        assert r.json()["error"]["code"] == "conflict"

    r = designer.post(f"{purl}new-version/", {"reason": "add final inspection"})
    assert r.status_code == 201, r.content
    v2 = r.json()
    assert (v2["status"], v2["route_version"], v2["previous"], v2["name"]) == ("draft", 2, process["id"], "Injector route")
    v2_route = designer.get(f"{API}/processes/{v2['id']}/route/").json()
    assert [e["step"]["name"] for e in v2_route["steps"]] == ["Machine body", "Leak test"]
    assert [(d["label"], d["equipment_type"]) for e in v2_route["steps"] for d in e["definitions"]] == [
        ("Bore diameter", gauges.pk), ("Visual", None)]  # the gauge a measurement needs is copied too
    assert v2_route["steps"][0]["step"]["id"] != steps[0]["id"]
    assert history(designer, f"{API}/processes/{v2['id']}/")[-1]["reason"] == "add final inspection"

    assert designer.post(f"{purl}new-version/").status_code == 409  # one draft at a time
    assert designer.post(f"{API}/processes/{v2['id']}/steps/", {"name": "Final inspection"}).status_code == 201
    assert designer.post(f"{API}/processes/{v2['id']}/release/").status_code == 200
    assert designer.get(purl).json()["status"] == "obsolete"
    listed = designer.get(f"{API}/processes/", {"part_type": pt.pk, "status": "released"}).json()["results"]
    assert [p["id"] for p in listed] == [v2["id"]]


def test_route_shows_what_blocks_release(designer, tenant):
    process = make_process(tenant, release=False)
    purl = f"{API}/processes/{process.pk}/"
    r = designer.post(f"{purl}steps/", {"name": "Stray", "sequence": 15})  # not after the last: not linked
    assert r.status_code == 201
    route = designer.get(f"{purl}route/").json()
    assert route["ready_to_release"] is False and "Stray" in route["problem"]
    assert [s["name"] for s in route["unrouted_steps"]] == ["Stray"]
    r = designer.post(f"{purl}release/")
    assert r.status_code == 400 and "not on it: Stray" in error(r)["message"]
    with tenant_context(tenant):
        assert Process.objects.get(pk=process.pk).status == "draft"

    taken = designer.post(f"{purl}steps/", {"name": "Dup", "sequence": 15})
    assert taken.status_code == 400 and error(taken)["fields"] == {"sequence": ["taken"]}


@pytest.mark.parametrize("body,field,message", [
    ({"label": "Bore", "upper_tol": "0.1", "lower_tol": "0.1"}, "nominal", "needs nominal"),
    ({"label": "Bore", "nominal": "6", "upper_tol": "-0.1", "lower_tol": "0.1"}, "upper_tol", "cannot be negative"),
    ({"label": "Bore", "nominal": "six", "upper_tol": "0.1", "lower_tol": "0.1"}, "nominal", "valid number"),
    ({"label": "Bore", "kind": "colour"}, "kind", "not a valid choice"),
    ({"kind": "pass_fail"}, "label", "required"),
])
def test_bad_measurement_definitions_are_refused(designer, tenant, body, field, message):
    process = make_process(tenant, release=False)
    with tenant_context(tenant):
        step = Step.objects.filter(process=process).order_by("sequence").first()
        before = step.measurement_definitions.count()
    r = designer.post(f"{API}/steps/{step.pk}/measurement-definitions/", body)
    assert r.status_code == 400, r.content
    err = error(r)
    assert field in err["fields"] and message in err["message"]
    with tenant_context(tenant):
        assert step.measurement_definitions.count() == before


def test_process_input_is_checked(designer, tenant, other_tenant):
    theirs = make_part_type(other_tenant)
    r = designer.post(f"{API}/processes/", {"part_type": theirs.pk, "name": "Route"})
    assert r.status_code == 400 and "part_type" in error(r)["fields"]
    process = make_process(tenant, release=False)
    r = designer.patch(f"{API}/processes/{process.pk}/", {"part_type": make_part_type(tenant).pk, "version": 1})
    assert r.status_code == 400 and "cannot change" in error(r)["message"]
    r = designer.post(f"{API}/processes/", {"part_type": process.part_type_id, "name": process.name})
    assert r.status_code == 400 and "new-version" in error(r)["fields"]["name"][0]


def test_steps_and_definitions_are_not_created_or_removed_directly(designer, tenant):
    process = make_process(tenant, release=False)
    with tenant_context(tenant):
        step = Step.objects.filter(process=process).first()
    assert designer.post(f"{API}/steps/", {"name": "x"}).status_code == 405
    assert designer.delete(f"{API}/steps/{step.pk}/").status_code == 405
    defs = designer.get(f"{API}/measurement-definitions/", {"step__process": process.pk}).json()
    assert defs["count"] == 4
    assert designer.patch(f"{API}/measurement-definitions/{defs['results'][0]['id']}/", {"label": "x"}).status_code == 405
    listed = designer.get(f"{API}/steps/", {"process": process.pk}).json()["results"]
    assert [s["name"] for s in listed] == ["Machine body", "Leak test", "Final inspection"]


@pytest.mark.parametrize("roles,method,path,expected", [
    (["operator"], "post", "processes/", 403),
    (["operator"], "get", "processes/", 200),
    (["production_manager"], "post", "processes/{id}/release/", 403),
    (["qa_manager"], "post", "processes/{id}/release/", 200),
    (["auditor"], "get", "processes/{id}/route/", 200),
    (["auditor"], "post", "processes/{id}/new-version/", 403),
    (["customer"], "get", "processes/", 403),
])
def test_process_permissions(api, tenant, roles, method, path, expected):
    process = make_process(tenant, release=False)
    client = signed_in(api, tenant, roles=roles)
    r = getattr(client, method)(f"{API}/{path.format(id=process.pk)}", {} if method == "post" else None)
    assert r.status_code == expected, r.content
    if expected == 403:
        assert "mes_lite." in error(r)["message"]


def test_renaming_a_draft(designer, tenant):
    process = make_process(tenant, release=False)
    r = designer.patch(f"{API}/processes/{process.pk}/", {"name": "Renamed route", "version": 1, "reason": "typo"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed route"
    assert history(designer, f"{API}/processes/{process.pk}/")[0]["reason"] == "typo"


def test_renaming_a_draft_keeps_its_route_version(designer, tenant):
    process = make_process(tenant, release=False)
    r = designer.patch(f"{API}/processes/{process.pk}/", {"name": "Renamed route", "version": 1})
    assert r.status_code == 200
    assert (r.json()["route_version"], r.json()["version"]) == (1, 2)
    with tenant_context(tenant):
        assert Process.objects.get(pk=process.pk).route_version == 1
    stale = designer.patch(f"{API}/processes/{process.pk}/", {"name": "Again", "version": 1})
    assert stale.status_code == 409, stale.content


def test_archiving_an_old_process_version(designer, tenant):
    v1 = make_process(tenant)
    assert designer.post(f"{API}/processes/{v1.pk}/new-version/").status_code == 201
    r = designer.post(f"{API}/processes/{v1.pk}/archive/", {"reason": "superseded"})
    assert r.status_code == 200 and r.json()["route_version"] == 1
    assert r.json()["archived_at"] is not None


def test_integers_beyond_their_column_are_refused(designer, tenant):
    """A sequence the database column cannot hold is a 400 naming it, not a server error."""
    process = make_process(tenant, release=False)
    with tenant_context(tenant):
        step = Step.objects.filter(process=process).first()
    r = designer.post(f"{API}/processes/{process.pk}/steps/", {"name": "x", "sequence": 2147483648})
    assert r.status_code == 400 and "sequence" in error(r)["fields"], r.content
    r = designer.post(f"{API}/steps/{step.pk}/measurement-definitions/",
                      {"label": "Runout", "kind": "pass_fail", "sequence": 2**31})
    assert r.status_code == 400 and "sequence" in error(r)["fields"], r.content
    with tenant_context(tenant):
        assert Step.objects.filter(process=process).count() == 3
    r = designer.post(f"{API}/processes/{process.pk}/steps/", {"name": "x", "sequence": 2147483647})
    assert r.status_code == 201, r.content
