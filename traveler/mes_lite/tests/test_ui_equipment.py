"""Equipment: calibration status in the list (overdue red, due soon amber), recording a calibration."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.core.tests.test_ui_shell import signed_in
from traveler.mes_lite.models import Equipment, EquipmentType
from traveler.mes_lite.tests.factories import make_equipment

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
