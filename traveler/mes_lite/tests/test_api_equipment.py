"""Equipment and calibration through the HTTP API."""

from datetime import date, timedelta

import pytest

from traveler.mes_lite.tests.api_helpers import API, error, parts_of, readings, route_of, signed_in, written
from traveler.mes_lite.tests.factories import make_equipment, make_work_order


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
