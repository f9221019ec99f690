"""Equipment and calibration through the HTTP API."""

import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import ApiClient, make_company
from traveler.mes_lite.models import EquipmentType, EquipmentUsage
from traveler.mes_lite.services.equipment import equipment_create
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.tests.api_helpers import API, error, parts_of, readings, route_of, signed_in, written
from traveler.mes_lite.tests.factories import (
    good_readings,
    make_equipment,
    make_order,
    make_process,
    make_work_order,
)


@pytest.fixture
def quality(api, tenant):
    return signed_in(api, tenant, roles=["qa_manager"])


def test_equipment_types_and_equipment(quality, tenant):
    r = quality.post(f"{API}/equipment-types/", {"name": "Air gauge", "calibration_interval_days": 180,
                                                 "reason": "new gauge family"})
    assert r.status_code == 201, r.content
    etype = r.json()
    last = date.today() - timedelta(days=10)
    r = quality.post(f"{API}/equipment/", {"equipment_type": etype["id"], "name": "Air gauge 1", "serial_number": "AG-1",
                                           "last_calibration": last.isoformat()})
    assert r.status_code == 201, r.content
    eq = r.json()
    assert eq["next_calibration"] == (last + timedelta(days=180)).isoformat()
    assert (eq["calibration_overdue"], eq["equipment_type_name"]) == (False, "Air gauge")

    dup = quality.post(f"{API}/equipment/", {"equipment_type": etype["id"], "name": "Copy", "serial_number": "AG-1"})
    assert dup.status_code == 400 and "serial_number" in error(dup)["fields"]
    r = quality.patch(f"{API}/equipment-types/{etype['id']}/", {"calibration_interval_days": 90, "version": 1,
                                                                "reason": "supplier advice"})
    assert r.status_code == 200
    rows = quality.get(f"{API}/equipment-types/{etype['id']}/history/").json()["results"]
    assert [row["reason"] for row in rows] == ["supplier advice", "new gauge family"]


def test_overdue_equipment_is_shown_and_filtered(quality, tenant):
    ok, overdue = make_equipment(tenant), make_equipment(tenant, overdue=True)
    assert quality.get(f"{API}/equipment/{overdue.pk}/").json()["calibration_overdue"] is True
    assert quality.get(f"{API}/equipment/{ok.pk}/").json()["calibration_overdue"] is False
    listed = quality.get(f"{API}/equipment/", {"calibration_overdue": "true"}).json()["results"]
    assert [e["id"] for e in listed] == [overdue.pk]
    listed = quality.get(f"{API}/equipment/", {"calibration_overdue": "false"}).json()["results"]
    assert [e["id"] for e in listed] == [ok.pk]


def test_calibration_unblocks_the_advance(quality, api, tenant):
    overdue = make_equipment(tenant, overdue=True)
    wo = make_work_order(tenant, quantity=1)
    part = parts_of(tenant, wo)[0]
    step = route_of(tenant, wo)[0]
    body = {"step": step.pk, "measurements": readings(tenant, step), "equipment": [overdue.pk]}
    assert quality.post(f"{API}/parts/{part.pk}/advance/", body).status_code == 409

    url = f"{API}/equipment/{overdue.pk}/"
    version = quality.get(url).json()["version"]
    today = date.today()
    r = quality.post(f"{url}calibrate/", {"calibrated_on": today.isoformat(), "version": version,
                                          "reason": "cert 2024-118"})
    assert r.status_code == 200, r.content
    assert r.json()["last_calibration"] == today.isoformat()
    assert r.json()["next_calibration"] == (today + timedelta(days=365)).isoformat()
    assert r.json()["calibration_overdue"] is False
    assert quality.get(f"{url}history/").json()["results"][0]["reason"] == "cert 2024-118"
    assert quality.post(f"{API}/parts/{part.pk}/advance/", body).json()["result"] == "advanced"


@pytest.mark.parametrize("body,status,field,message", [
    ({"calibrated_on": "2999-01-01"}, 400, "calibrated_on", "in the future"),
    ({"calibrated_on": "yesterday"}, 400, "calibrated_on", "Date has wrong format"),
    ({"calibrated_on": date.today().isoformat(), "version": None}, 400, "version", "version is required"),
    ({"calibrated_on": date.today().isoformat(), "version": 99}, 409, "version", "changed by someone else"),
])
def test_bad_calibrations_are_refused(quality, tenant, body, status, field, message):
    eq = make_equipment(tenant, overdue=True)
    body = {"version": 1, **body}
    if body["version"] is None:
        del body["version"]
    before = written(tenant)
    r = quality.post(f"{API}/equipment/{eq.pk}/calibrate/", body)
    assert r.status_code == status, r.content
    assert field in error(r)["fields"] and message in error(r)["message"], error(r)
    assert written(tenant) == before
    assert quality.get(f"{API}/equipment/{eq.pk}/").json()["calibration_overdue"] is True


def test_operators_cannot_record_calibrations(api, tenant):
    eq = make_equipment(tenant, overdue=True)
    operator = signed_in(api, tenant, roles=["operator"])
    assert operator.get(f"{API}/equipment/{eq.pk}/").status_code == 200
    r = operator.post(f"{API}/equipment/{eq.pk}/calibrate/", {"calibrated_on": date.today().isoformat(), "version": 1})
    assert r.status_code == 403 and "mes_lite.change_equipment" in error(r)["message"]


def _etype(tenant, interval=365, name=None):
    with tenant_context(tenant):
        return EquipmentType.objects.create(name=name or f"Gauge {uuid.uuid4().hex[:6]}",
                                            calibration_interval_days=interval)


def _advance(client, part, step, tenant, equipment, measurements=None):
    body = {"step": step.pk, "measurements": readings(tenant, step) if measurements is None else measurements,
            "equipment": equipment}
    return client.post(f"{API}/parts/{part.pk}/advance/", body)


def test_a_gauge_never_calibrated_blocks_the_advance(quality, tenant):
    needs = _etype(tenant, 365)
    fixture_type = _etype(tenant, None)
    r = quality.post(f"{API}/equipment/", {"equipment_type": needs.pk, "name": "Bore gauge", "serial_number": "BG-1"})
    assert r.status_code == 201 and (r.json()["usable"], r.json()["unusable_reason"]) == (False, "never calibrated")
    never = r.json()["id"]
    fixture = quality.post(f"{API}/equipment/", {"equipment_type": fixture_type.pk, "name": "Clamp",
                                                 "serial_number": "FX-1"}).json()
    assert fixture["usable"] is True  # its type needs no calibration
    wo = make_work_order(tenant, quantity=2)
    part, other = parts_of(tenant, wo)
    step = route_of(tenant, wo)[0]
    before = written(tenant)
    r = _advance(quality, part, step, tenant, [never])
    assert r.status_code == 409 and error(r)["code"] == "blocked"
    assert "Not calibrated: Bore gauge (BG-1) never calibrated" in error(r)["message"]
    assert written(tenant) == before
    assert _advance(quality, other, step, tenant, [fixture["id"]]).json()["result"] == "advanced"


def test_the_due_date_changes_only_by_recording_a_calibration(quality, tenant):
    eq = make_equipment(tenant, overdue=True)
    url = f"{API}/equipment/{eq.pk}/"
    future = (date.today() + timedelta(days=300)).isoformat()
    before = written(tenant)
    for field, value in [("next_calibration", future), ("last_calibration", date.today().isoformat()),
                         ("last_calibration_result", "pass"), ("calibration_certificate", "forged")]:
        r = quality.patch(url, {field: value, "version": 1})
        assert r.status_code == 400, r.content
        assert list(error(r)["fields"]) == [field] and "recording a calibration" in error(r)["message"]
    r = quality.put(url, {"equipment_type": eq.equipment_type_id, "name": "Renamed", "serial_number": eq.serial_number,
                          "next_calibration": future, "version": 1})
    assert r.status_code == 400 and "next_calibration" in error(r)["fields"]
    assert written(tenant) == before
    assert quality.get(url).json()["calibration_overdue"] is True
    r = quality.patch(url, {"name": "Renamed", "version": 1})
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r.json()["calibration_overdue"] is True
    r = quality.post(f"{API}/equipment/", {"equipment_type": eq.equipment_type_id, "name": "New",
                                           "serial_number": "N-1", "next_calibration": future})
    assert r.status_code == 400 and list(error(r)["fields"]) == ["next_calibration"]


def test_a_failed_calibration_blocks_until_one_passes(quality, tenant):
    eq = make_equipment(tenant)
    wo = make_work_order(tenant, quantity=1)
    part = parts_of(tenant, wo)[0]
    step = route_of(tenant, wo)[0]
    url = f"{API}/equipment/{eq.pk}/"
    today = date.today().isoformat()
    r = quality.post(f"{url}calibrate/", {"calibrated_on": today, "result": "fail", "certificate": "C-17",
                                          "version": 1})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["last_calibration_result"], body["calibration_certificate"], body["usable"]) == ("fail", "C-17", False)
    assert "failed its calibration" in body["unusable_reason"]
    r = _advance(quality, part, step, tenant, [eq.pk])
    assert r.status_code == 409 and "failed its calibration" in error(r)["message"]
    r = quality.post(f"{url}calibrate/", {"calibrated_on": today, "certificate": "C-18", "version": body["version"]})
    assert (r.json()["last_calibration_result"], r.json()["usable"]) == ("pass", True)
    changes = quality.get(f"{url}history/").json()["results"][0]["changes"]
    assert changes["calibration_certificate"] == {"old": "C-17", "new": "C-18"}
    assert _advance(quality, part, step, tenant, [eq.pk]).json()["result"] == "advanced"
    earlier = (date.today() - timedelta(days=3)).isoformat()
    r = quality.post(f"{url}calibrate/", {"calibrated_on": earlier, "version": r.json()["version"] + 0})
    assert r.status_code == 400 and "calibrated_on" in error(r)["fields"]


def test_a_measurement_that_needs_a_gauge_cannot_be_recorded_without_one(quality, tenant):
    bore_gauges, other_type = _etype(tenant, 365, "Bore gauge"), _etype(tenant, 365, "Air gauge")
    route = [("Machine body", [{"label": "Bore diameter", "unit": "mm", "nominal": "6.000", "upper_tol": "0.010",
                                "lower_tol": "0.010", "equipment_type": bore_gauges}]),
             ("Final inspection", [])]
    wo = make_work_order(tenant, process=make_process(tenant, route=route), quantity=1)
    part = parts_of(tenant, wo)[0]
    step = route_of(tenant, wo)[0]
    definition = quality.get(f"{API}/measurement-definitions/", {"step": step.pk}).json()["results"][0]
    assert definition["equipment_type"] == bore_gauges.pk
    with tenant_context(tenant):
        air = equipment_create(data={"equipment_type": other_type, "name": "Air gauge", "serial_number": "AG-3",
                                     "last_calibration": date.today()})
        bore = equipment_create(data={"equipment_type": bore_gauges, "name": "Bore gauge", "serial_number": "BG-3",
                                      "last_calibration": date.today()})
    before = written(tenant)
    for equipment in ([], [air.pk]):
        r = _advance(quality, part, step, tenant, equipment)
        assert r.status_code == 409 and error(r)["code"] == "blocked", r.content
        assert "Bore diameter is measured with a Bore gauge" in error(r)["message"]
    assert written(tenant) == before
    assert _advance(quality, part, step, tenant, [air.pk, bore.pk]).json()["result"] == "advanced"


def test_usage_per_gauge_and_on_the_traveler(quality, tenant):
    gauge, spare = make_equipment(tenant), make_equipment(tenant)
    wo = make_work_order(tenant, quantity=3)
    first, second, third = parts_of(tenant, wo)
    step = route_of(tenant, wo)[0]
    for part, used in ((first, [gauge.pk]), (second, [gauge.pk, spare.pk]), (third, [spare.pk])):
        assert _advance(quality, part, step, tenant, used).status_code == 200
    with tenant_context(tenant):  # the first part was measured a week ago
        EquipmentUsage.objects.filter(part_id=first.pk).update(start_time=timezone.now() - timedelta(days=7))
    url = f"{API}/equipment/{gauge.pk}/usage/"
    week_ago, today = date.today() - timedelta(days=7), date.today()
    rows = quality.get(url, {"from": week_ago.isoformat(), "to": today.isoformat()}).json()["results"]
    assert [(r["serial_number"], r["step_name"]) for r in rows] == [(first.serial_number, step.name),
                                                                   (second.serial_number, step.name)]
    assert rows[1]["operator"]["id"] == quality.user.pk
    rows = quality.get(url, {"from": today.isoformat(), "to": today.isoformat()}).json()["results"]
    assert [r["serial_number"] for r in rows] == [second.serial_number]
    r = quality.get(url, {"from": today.isoformat(), "to": week_ago.isoformat()})
    assert r.status_code == 400 and "from" in error(r)["fields"]
    r = quality.get(url, {"from": "last week"})
    assert r.status_code == 400 and "from" in error(r)["fields"]
    traveler = quality.get(f"{API}/parts/{second.pk}/traveler/").json()
    used = [(u["equipment"], u["equipment_serial_number"], u["step"]) for u in traveler["equipment_usages"]]
    assert sorted(used) == sorted([(gauge.pk, gauge.serial_number, step.pk), (spare.pk, spare.serial_number, step.pk)])


def test_a_customer_traveler_does_not_show_the_equipment(api, tenant):
    gauge = make_equipment(tenant)
    company = make_company(tenant)
    wo = make_work_order(tenant, order=make_order(tenant, company=company), quantity=1)
    part = parts_of(tenant, wo)[0]
    step = route_of(tenant, wo)[0]
    with tenant_context(tenant):
        part_advance(part=part, step=step.pk, measurements=good_readings(step), equipment=[gauge.pk])
    staff = signed_in(ApiClient(), tenant, roles=["qa_manager"])
    assert len(staff.get(f"{API}/parts/{part.pk}/traveler/").json()["equipment_usages"]) == 1
    customer = signed_in(api, tenant, roles=["customer"], company=company)
    traveler = customer.get(f"{API}/parts/{part.pk}/traveler/").json()
    assert "equipment_usages" not in traveler and traveler["transitions"]


def test_a_calibration_certificate_needs_its_date(quality, tenant):
    etype = _etype(tenant)
    r = quality.post(f"{API}/equipment/", {"equipment_type": etype.pk, "name": "Gauge", "serial_number": "G-9",
                                           "calibration_certificate": "C-1"})
    assert r.status_code == 400 and list(error(r)["fields"]) == ["last_calibration"]
