"""Equipment: calibration status in the list (overdue red, due soon amber), recording a calibration."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.core.tests.test_ui_shell import signed_in
from traveler.mes_lite.models import Equipment, EquipmentType, Part
from traveler.mes_lite.services.equipment import equipment_create
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_equipment, make_work_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(tenant):
    return signed_in(make_member(tenant, roles=["qa_manager"]), tenant)


def fresh(tenant, obj):
    with tenant_context(tenant):
        return type(obj).objects.get(pk=obj.pk)


def test_the_list_shows_each_calibration_status(client, tenant):
    overdue = make_equipment(tenant, overdue=True, name="Air gauge 7")
    soon = make_equipment(tenant, name="Bore gauge 3", last_calibration=date.today() - timedelta(days=350))
    ok = make_equipment(tenant, name="Caliper 1")
    r = client.get("/mes/equipment/")
    assert r.status_code == 200
    cells = {row["object"].pk: row["cells"][-1] for row in r.context["rows"]}
    assert "badge-dead cal-overdue" in cells[overdue.pk] and "Overdue since" in cells[overdue.pk]
    assert "badge-queued cal-due_soon" in cells[soon.pk] and "Due soon" in cells[soon.pk]
    assert "badge-success cal-ok" in cells[ok.pk]
    html = r.content.decode()
    assert '<span class="badge badge-dead cal-overdue">' in html  # HTML, not escaped text
    assert "/mes/equipment-types/" in html
    r = client.get("/mes/equipment/", {"q": "bore"})
    assert [row["object"].pk for row in r.context["rows"]] == [soon.pk]


def test_equipment_is_created_with_its_next_due_date(client, tenant):
    r = client.post("/mes/equipment-types/new/", {"name": "Air gauge", "calibration_interval_days": 180,
                                                  "description": ""})
    assert r.status_code == 302
    with tenant_context(tenant):
        etype = EquipmentType.objects.get(name="Air gauge")
    r = client.post("/mes/equipment/new/", {"equipment_type": etype.pk, "name": "Air gauge 9",
                                            "serial_number": "AG-0009", "last_calibration": "2026-01-10",
                                            "calibration_certificate": "DAkkS 4471"})
    assert r.status_code == 302
    with tenant_context(tenant):
        eq = Equipment.objects.get(serial_number="AG-0009")
    assert eq.next_calibration == date(2026, 1, 10) + timedelta(days=180)
    assert (eq.last_calibration_result, eq.calibration_certificate) == ("pass", "DAkkS 4471")


def test_record_a_calibration(client, tenant):
    eq = make_equipment(tenant, overdue=True)
    html = client.get(f"/mes/equipment/{eq.pk}/").content.decode()
    assert "Overdue since" in html and "advancing a part with it is blocked" in html
    assert f"/mes/equipment/{eq.pk}/calibrate/" in html
    r = client.post(f"/mes/equipment/{eq.pk}/calibrate/", {"calibrated_on": date.today().isoformat(),
                                                          "reason": "Cert 2024-117"})
    assert r.status_code == 302
    eq = fresh(tenant, eq)
    assert eq.last_calibration == date.today() and eq.next_calibration == date.today() + timedelta(days=365)
    html = client.get(r["Location"]).content.decode()
    assert "Calibration of" in html and "recorded" in html and "Calibrated, due" in html


def test_a_calibration_in_the_future_is_refused(client, tenant):
    eq = make_equipment(tenant)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    r = client.post(f"/mes/equipment/{eq.pk}/calibrate/", {"calibrated_on": tomorrow})
    assert r.status_code == 400
    assert "cannot be dated in the future" in r.content.decode()
    assert r.context["calibration_form"].errors["calibrated_on"]
    assert fresh(tenant, eq).last_calibration == eq.last_calibration


def test_an_operator_sees_equipment_but_cannot_record_calibrations(tenant):
    eq = make_equipment(tenant)
    operator = signed_in(make_member(tenant, roles=["operator"]), tenant)
    html = operator.get(f"/mes/equipment/{eq.pk}/").content.decode()
    assert "Calibrated, due" in html and "/calibrate/" not in html
    r = operator.post(f"/mes/equipment/{eq.pk}/calibrate/", {"calibrated_on": date.today().isoformat()})
    assert r.status_code == 403


def test_editing_equipment_cannot_move_its_due_date(client, tenant):
    eq = make_equipment(tenant, overdue=True, name="Air gauge 7")
    r = client.get(f"/mes/equipment/{eq.pk}/edit/")
    assert "next_calibration" not in r.context["form"].fields and "last_calibration" not in r.context["form"].fields
    future = (date.today() + timedelta(days=300)).isoformat()
    r = client.post(f"/mes/equipment/{eq.pk}/edit/", {"equipment_type": eq.equipment_type_id, "name": "Air gauge 7b",
                                                      "serial_number": eq.serial_number, "version": eq.version,
                                                      "next_calibration": future, "last_calibration": future})
    assert r.status_code == 302
    after = fresh(tenant, eq)
    assert after.name == "Air gauge 7b" and after.next_calibration == eq.next_calibration
    assert after.calibration_overdue()


def test_a_never_calibrated_gauge_shows_as_unusable(client, tenant):
    with tenant_context(tenant):
        etype = EquipmentType.objects.create(name="Micrometer", calibration_interval_days=365)
        eq = equipment_create(data={"equipment_type": etype, "name": "Micrometer 2", "serial_number": "MM-2"})
    html = client.get(f"/mes/equipment/{eq.pk}/").content.decode()
    assert "Never calibrated" in html and "It may not be used" in html


def test_a_failed_calibration_is_recorded_with_its_certificate(client, tenant):
    eq = make_equipment(tenant)
    r = client.post(f"/mes/equipment/{eq.pk}/calibrate/", {"calibrated_on": date.today().isoformat(),
                                                          "result": "fail", "certificate": "CAL-88"})
    assert r.status_code == 302
    eq = fresh(tenant, eq)
    assert (eq.last_calibration_result, eq.calibration_certificate) == ("fail", "CAL-88")
    assert "Failed its calibration" in client.get(f"/mes/equipment/{eq.pk}/").content.decode()


def test_the_equipment_page_lists_the_parts_it_measured(client, tenant):
    gauge = make_equipment(tenant, name="Bore gauge 5")
    wo = make_work_order(tenant, quantity=2)
    with tenant_context(tenant):
        parts = list(Part.objects.filter(work_order=wo).order_by("serial_number"))
        step = route_steps(wo.process)[0]
        part_advance(part=parts[0], step=step.pk, measurements=good_readings(step), equipment=[gauge.pk])
        part_advance(part=parts[1], step=step.pk, measurements=good_readings(step))
    html = client.get(f"/mes/equipment/{gauge.pk}/").content.decode()
    assert parts[0].serial_number in html and parts[1].serial_number not in html
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    html = client.get(f"/mes/equipment/{gauge.pk}/", {"from": yesterday, "to": yesterday}).content.decode()
    assert parts[0].serial_number not in html and "Not used on any part between these days" in html
    # ... and the part's traveler names the gauge used at the step.
    html = client.get(f"/mes/parts/{parts[0].pk}/").content.decode()
    assert "Equipment: Bore gauge 5" in html and gauge.serial_number in html
