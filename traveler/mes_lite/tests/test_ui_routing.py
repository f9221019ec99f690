"""Part types and the process editor: draft routes are edited, released ones are read-only."""

from __future__ import annotations

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.core.tests.test_ui_shell import signed_in
from traveler.mes_lite.choices import MeasurementKind, ProcessStatus
from traveler.mes_lite.models import EquipmentType, MeasurementDefinition, PartType, Process, Step
from traveler.mes_lite.services.routing import process_create, route_steps
from traveler.mes_lite.tests.factories import make_part_type, make_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def engineer(tenant):
    return make_member(tenant, roles=["engineering"], full_name="Erik Engineer")


@pytest.fixture
def client(engineer, tenant):
    return signed_in(engineer, tenant)


def fresh(tenant, obj):
    with tenant_context(tenant):
        return type(obj).objects.get(pk=obj.pk)


def steps_of(tenant, process) -> list[Step]:
    with tenant_context(tenant):
        return route_steps(process, strict=False)


def test_part_types_through_the_generic_pages(client, tenant):
    r = client.post("/mes/part-types/new/", {"part_number": "0445120", "revision": "B", "name": "Injector body",
                                             "description": "", "reason": "new product"})
    assert r.status_code == 302
    with tenant_context(tenant):
        pt = PartType.objects.get(part_number="0445120")
    html = client.get(r["Location"]).content.decode()
    assert "Injector body" in html and f"/mes/processes/new/?part_type={pt.pk}" in html and "No route yet" in html
    make_process(tenant, part_type=pt)
    html = client.get(r["Location"]).content.decode()
    assert "Released" in html and "/mes/processes/" in html
    r = client.get("/mes/part-types/", {"q": "0445"})
    assert [row["object"].pk for row in r.context["rows"]] == [pt.pk]


def test_a_route_is_designed_step_by_step_while_draft(client, tenant):
    pt = make_part_type(tenant)
    r = client.get(f"/mes/processes/new/?part_type={pt.pk}")
    assert r.context["form"].initial["part_type"] == pt.pk
    r = client.post("/mes/processes/new/", {"part_type": pt.pk, "name": "Injector route"})
    assert r.status_code == 302
    with tenant_context(tenant):
        process = Process.objects.get(part_type=pt, name="Injector route")
    detail = f"/mes/processes/{process.pk}/"
    html = client.get(detail).content.decode()
    assert "Draft." in html and f"/mes/processes/{process.pk}/steps/new/" in html
    assert f"/mes/processes/{process.pk}/release/" in html and "New version" not in html

    for name in ("Machine body", "Leak test"):
        r = client.post(f"/mes/processes/{process.pk}/steps/new/", {"name": name})
        assert r.status_code == 302 and r["Location"].startswith(detail)
    machine, leak = steps_of(tenant, process)
    assert [machine.name, leak.name] == ["Machine body", "Leak test"]

    r = client.get(f"/mes/steps/{machine.pk}/edit/")
    assert r.status_code == 200 and f'name="version" value="{machine.version}"' in r.content.decode()
    r = client.post(f"/mes/steps/{machine.pk}/edit/", {"name": "Machine body", "description": "Bore to 6 mm",
                                                       "version": machine.version})
    assert r.status_code == 302 and fresh(tenant, machine).description == "Bore to 6 mm"
    r = client.post(f"/mes/steps/{machine.pk}/edit/", {"name": "Stale", "version": machine.version})
    assert r.status_code == 409 and "changed by someone else" in r.content.decode()

    with tenant_context(tenant):
        gauges = EquipmentType.objects.create(name="Bore air gauge", calibration_interval_days=180)
    r = client.post(f"/mes/steps/{machine.pk}/measurements/new/", {
        "label": "Bore diameter", "kind": "numeric", "unit": "mm", "nominal": "6.000", "lower_tol": "0.010",
        "upper_tol": "0.010", "required": "on", "equipment_type": gauges.pk})
    assert r.status_code == 302
    r = client.post(f"/mes/steps/{leak.pk}/measurements/new/", {"label": "Visual", "kind": "pass_fail"})
    assert r.status_code == 302
    with tenant_context(tenant):
        defs = {d.label: d for d in MeasurementDefinition.objects.filter(step__process=process)}
    assert defs["Bore diameter"].upper_limit == defs["Bore diameter"].nominal + defs["Bore diameter"].upper_tol
    assert defs["Visual"].kind == MeasurementKind.PASS_FAIL and defs["Visual"].required is False
    html = client.get(detail).content.decode()
    assert "5.99 – 6.01" in html and "Pass / fail" in html and "Bore to 6 mm" in html
    assert defs["Bore diameter"].equipment_type_id == gauges.pk and defs["Visual"].equipment_type_id is None
    assert "Measured with a Bore air gauge" in html


def test_a_numeric_measurement_needs_its_limits(client, tenant):
    process = make_process(tenant, release=False)
    step = steps_of(tenant, process)[0]
    r = client.post(f"/mes/steps/{step.pk}/measurements/new/", {"label": "Length", "kind": "numeric", "nominal": "5"})
    assert r.status_code == 400
    assert "needs upper_tol" in r.content.decode() and r.context["form"].errors["upper_tol"]
    r = client.post(f"/mes/steps/{step.pk}/measurements/new/", {"label": "Length", "kind": "numeric", "nominal": "5",
                                                               "lower_tol": "-1", "upper_tol": "1"})
    assert r.status_code == 400 and "cannot be negative" in r.content.decode()


def test_release_asks_for_confirmation_then_makes_the_process_read_only(client, tenant):
    old = make_process(tenant)
    client.post(f"/mes/processes/{old.pk}/new-version/")
    with tenant_context(tenant):
        draft = Process.objects.get(part_type=old.part_type, name=old.name, status=ProcessStatus.DRAFT)
    r = client.get(f"/mes/processes/{draft.pk}/release/")
    html = r.content.decode()
    assert r.status_code == 200 and f"Release version {draft.route_version}" in html
    assert "3 steps and 4 measurements" in html and "becomes obsolete" in html
    assert fresh(tenant, draft).status == ProcessStatus.DRAFT  # nothing happens on GET
    r = client.post(f"/mes/processes/{draft.pk}/release/", {"reason": "ECN-118"}, follow=True)
    assert "is released" in r.content.decode()
    assert fresh(tenant, draft).status == ProcessStatus.RELEASED
    assert fresh(tenant, old).status == ProcessStatus.OBSOLETE


def test_a_released_process_is_read_only(client, tenant):
    process = make_process(tenant)
    step = steps_of(tenant, process)[0]
    html = client.get(f"/mes/processes/{process.pk}/").content.decode()
    assert "Read-only." in html
    for link in ("/steps/new/", f"/mes/steps/{step.pk}/edit/", "/measurements/new/", "/release/"):
        assert link not in html
    assert "New version" in html
    assert client.get(f"/mes/processes/{process.pk}/steps/new/").status_code == 409
    assert client.get(f"/mes/steps/{step.pk}/edit/").status_code == 409
    assert client.get(f"/mes/steps/{step.pk}/measurements/new/").status_code == 409
    r = client.post(f"/mes/processes/{process.pk}/steps/new/", {"name": "Sneaky step"})
    assert r.status_code == 409 and "never edited in place" in r.content.decode()
    r = client.post(f"/mes/steps/{step.pk}/edit/", {"name": "Renamed", "version": step.version})
    assert r.status_code == 409
    r = client.post(f"/mes/steps/{step.pk}/measurements/new/", {"label": "Extra", "kind": "pass_fail"})
    assert r.status_code == 409
    assert client.get(f"/mes/processes/{process.pk}/release/").status_code == 409
    r = client.post(f"/mes/processes/{process.pk}/release/", follow=True)
    assert "never edited in place" in r.content.decode()
    with tenant_context(tenant):
        assert [s.name for s in Step.objects.filter(process=process).order_by("sequence")] == \
               ["Machine body", "Leak test", "Final inspection"]
        assert not MeasurementDefinition.objects.filter(step=step, label="Extra").exists()


def test_new_version_copies_the_route_into_a_draft(client, tenant):
    process = make_process(tenant)
    r = client.post(f"/mes/processes/{process.pk}/new-version/")
    with tenant_context(tenant):
        new = Process.objects.get(part_type=process.part_type, name=process.name, route_version=process.route_version + 1)
    assert r["Location"] == f"/mes/processes/{new.pk}/" and new.status == ProcessStatus.DRAFT
    assert [s.name for s in steps_of(tenant, new)] == ["Machine body", "Leak test", "Final inspection"]
    html = client.get(r["Location"]).content.decode()
    assert "Draft." in html and f"Version {process.route_version}" in html  # the versions list links the old one
    r = client.post(f"/mes/processes/{process.pk}/new-version/", follow=True)
    assert "A draft version of" in r.content.decode()


def test_an_empty_route_cannot_be_released(client, tenant):
    with tenant_context(tenant):
        process = process_create(data={"part_type": make_part_type(tenant), "name": "Empty route"})
    r = client.post(f"/mes/processes/{process.pk}/release/")
    assert r.status_code == 400 and "has no steps" in r.content.decode()
    assert fresh(tenant, process).status == ProcessStatus.DRAFT


def test_an_operator_cannot_release_or_edit_processes(tenant):
    process = make_process(tenant, release=False)
    step = steps_of(tenant, process)[0]
    operator = signed_in(make_member(tenant, roles=["operator"]), tenant)
    html = operator.get(f"/mes/processes/{process.pk}/").content.decode()
    assert "/release/" not in html and "/steps/new/" not in html and "Edit step" not in html
    assert operator.get(f"/mes/processes/{process.pk}/release/").status_code == 403
    r = operator.post(f"/mes/processes/{process.pk}/release/")
    assert r.status_code == 403 and "mes_lite.release_process" in r.content.decode()
    assert operator.post(f"/mes/processes/{process.pk}/steps/new/", {"name": "X"}).status_code == 403
    assert operator.post(f"/mes/steps/{step.pk}/measurements/new/", {"label": "X"}).status_code == 403
    assert operator.post(f"/mes/processes/{process.pk}/new-version/").status_code == 403
    assert operator.get("/mes/processes/new/").status_code == 403
    assert fresh(tenant, process).status == ProcessStatus.DRAFT


def test_an_engineer_may_design_but_a_qa_manager_releases(tenant):
    """Release is its own permission: engineering and QA managers hold it by default."""
    process = make_process(tenant, release=False)
    qa = signed_in(make_member(tenant, roles=["qa_manager"]), tenant)
    assert qa.post(f"/mes/processes/{process.pk}/release/").status_code == 302
    assert fresh(tenant, process).status == ProcessStatus.RELEASED


def test_processes_of_another_tenant_are_not_found(client, other_tenant):
    process = make_process(other_tenant, release=False)
    step = steps_of(other_tenant, process)[0]
    assert client.get(f"/mes/processes/{process.pk}/").status_code == 404
    assert client.post(f"/mes/processes/{process.pk}/release/").status_code == 404
    assert client.post(f"/mes/steps/{step.pk}/measurements/new/", {"label": "X"}).status_code == 404
