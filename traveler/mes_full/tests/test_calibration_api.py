"""Calibration through the HTTP API and its pages: recording, the schedule, the suspect-product report
(JSON, page, CSV) and its report to Quality; who may do what."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import ApiClient, make_member
from traveler.core.tests.test_ui_shell import signed_in
from traveler.mes_full.models import CalibrationRecord
from traveler.mes_full.services.calibration import calibration_record
from traveler.mes_full.tests.factories_training import make_gauge
from traveler.mes_lite.models import EquipmentUsage, Part
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_work_order

API = "/api/v1/mes-full/calibration"
TODAY = date.today()


@pytest.fixture
def failed(tenant):
    """A gauge that passed 10 days ago, measured two parts since, and failed today."""
    gauge = make_gauge(tenant, calibrated_on=TODAY - timedelta(days=10))
    wo = make_work_order(tenant, quantity=2)
    at = datetime.combine(TODAY - timedelta(days=4), time(9), timezone.get_current_timezone())
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        parts = list(Part.objects.filter(work_order=wo).order_by("sequence"))
        for p in parts:
            EquipmentUsage.objects.create(equipment=gauge, part=p, step=step, start_time=at, end_time=at)
        record = calibration_record(equipment=gauge, calibrated_on=TODAY, result="fail", external_lab="Metrology Lab")
    return {"gauge": gauge, "record": record, "parts": parts}


def test_an_inspector_records_a_calibration_and_an_operator_may_not(tenant):
    gauge = make_gauge(tenant, interval=90)
    inspector = ApiClient().as_user(make_member(tenant, roles=["qa_inspector"]), tenant)
    operator = ApiClient().as_user(make_member(tenant, roles=["operator"]), tenant)
    body = {"equipment": gauge.pk, "calibrated_on": TODAY.isoformat(), "result": "adjusted",
            "adjustment_note": "Anvil re-lapped", "external_lab": "Metrology Lab", "certificate_number": "ML-77"}
    assert operator.post(f"{API}/records/", body, format="json").status_code == 403
    r = inspector.post(f"{API}/records/", body, format="json")
    assert r.status_code == 201, r.json()
    assert (r.json()["result"], r.json()["next_due"], r.json()["equipment_serial_number"]) == (
        "adjusted", (TODAY + timedelta(days=90)).isoformat(), gauge.serial_number)
    equipment = inspector.get(f"/api/v1/mes/equipment/{gauge.pk}/").json()
    assert (equipment["last_calibration_result"], equipment["usable"]) == ("pass", True)
    r = inspector.post(f"{API}/records/", {**body, "adjustment_note": ""}, format="json")
    assert r.status_code == 400 and list(r.json()["error"]["fields"]) == ["adjustment_note"]
    assert operator.get(f"{API}/records/", {"equipment": gauge.pk}).json()["count"] == 1


def test_the_suspects_of_a_failed_calibration_and_their_report(tenant, failed):
    qa = ApiClient().as_user(make_member(tenant, roles=["qa_manager"]), tenant)
    auditor = ApiClient().as_user(make_member(tenant, roles=["auditor"]), tenant)
    url = f"{API}/records/{failed['record'].pk}/"
    body = auditor.get(f"{url}suspects/").json()
    assert [p["part"] for p in body["parts"]] == [p.pk for p in failed["parts"]]
    assert (body["since"], body["reported_at"]) == ((TODAY - timedelta(days=10)).isoformat(), None)
    assert auditor.post(f"{url}report-suspects/", {}, format="json").status_code == 403
    r = qa.post(f"{url}report-suspects/", {"reason": "gauge out by 4 µm"}, format="json")
    assert r.status_code == 200 and r.json()["suspects_reported_at"]
    again = qa.post(f"{url}report-suspects/", {}, format="json")
    assert again.status_code == 409 and list(again.json()["error"]["fields"]) == ["suspects_reported_at"]
    with tenant_context(tenant):
        passed = CalibrationRecord.objects.filter(equipment=failed["gauge"], result="pass").get()
    assert qa.get(f"{API}/records/{passed.pk}/suspects/").status_code == 409


def test_the_schedule_lists_equipment_by_due_date(tenant):
    overdue = make_gauge(tenant, interval=5, calibrated_on=TODAY - timedelta(days=6))
    client = ApiClient().as_user(make_member(tenant, roles=["operator"]), tenant)
    rows = client.get(f"{API}/schedule/").json()
    [row] = [r for r in rows if r["equipment"] == overdue.pk]
    assert (row["state"], row["next_calibration"]) == ("overdue", (TODAY - timedelta(days=1)).isoformat())


def test_the_pages(tenant, failed):
    qa = signed_in(make_member(tenant, roles=["qa_manager"]), tenant)
    r = qa.get("/mes-full/calibration/")
    assert r.status_code == 200
    [row] = [row for row in r.context["rows"] if row["equipment"].pk == failed["gauge"].pk]
    assert (row["state"], row["label"]) == ("overdue", "Failed its calibration")
    r = qa.get(f"/mes-full/calibration/records/{failed['record'].pk}/suspects/")
    assert r.status_code == 200 and r.context["can_report"] is True
    assert [p["part_id"] for p in r.context["suspects"].parts] == [p.pk for p in failed["parts"]]
    csv = b"".join(qa.get(f"/mes-full/calibration/records/{failed['record'].pk}/suspects/?format=csv")
                   .streaming_content).decode()
    lines = csv.lstrip("\ufeff").strip().splitlines()
    assert lines[0] == "serial_number,work_order,status,steps,uses,first_used,last_used"
    assert [line.split(",")[0] for line in lines[1:]] == [p.serial_number for p in failed["parts"]]
    r = qa.post(f"/mes-full/calibration/records/{failed['record'].pk}/suspects/", {"reason": "out of tolerance"})
    assert r.status_code == 302
    with tenant_context(tenant):
        assert CalibrationRecord.objects.get(pk=failed["record"].pk).suspects_reported_at is not None
    r = qa.post("/mes-full/calibration/records/new/", {
        "equipment": failed["gauge"].pk, "calibrated_on": TODAY.isoformat(), "result": "pass",
        "external_lab": "Metrology Lab"})
    assert r.status_code == 302
    with tenant_context(tenant):
        assert CalibrationRecord.objects.filter(equipment=failed["gauge"]).count() == 3
    assert qa.get(f"/mes-full/calibration/records/?equipment={failed['gauge'].pk}").status_code == 200
    operator = signed_in(make_member(tenant, roles=["operator"]), tenant)
    assert operator.get("/mes-full/calibration/records/new/").status_code == 403
    assert operator.post(f"/mes-full/calibration/records/{failed['record'].pk}/suspects/").status_code == 403


def test_the_equipment_page_shows_its_calibration_records(tenant, failed):
    qa = signed_in(make_member(tenant, roles=["qa_manager"]), tenant)
    r = qa.get(f"/mes/equipment/{failed['gauge'].pk}/")
    assert r.status_code == 200
    [panel] = [p for p in r.context["panels"] if p["title"] == "Calibration records"]
    assert panel["html"].count("<tr>") == 3  # header, the failed calibration, the passed one
    assert f"/mes-full/calibration/records/{failed['record'].pk}/suspects/" in panel["html"]
    assert "Record a calibration" in panel["html"]
