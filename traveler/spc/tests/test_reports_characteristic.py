"""The characteristic report (PDF) and the measurements download (CSV): what they carry, the period,
formula neutralisation, who may fetch them, tenant isolation."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from traveler.core.csvexport import csv_lines, safe_cell
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member
from traveler.mes_lite.models import Part, StepMeasurement
from traveler.mes_lite.services.parts import parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_equipment, make_work_order
from traveler.spc.models import SPCSignal
from traveler.spc.reports_characteristic import SECTIONS
from traveler.spc.services.baselines import baseline_compute, baseline_freeze
from traveler.spc.services.capability import characteristic_capability
from traveler.spc.tests.factories import measured, stable_values

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)  # 40 values every 10 minutes: 05:00 to 11:30 on 2 November


def _sign_in(client, tenant, roles, **kw):
    user = make_member(tenant, roles=roles, **kw)
    assert client.login(email=user.email, password=PASSWORD)
    return user


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def _frozen_with_a_signal(tenant):
    qa = make_member(tenant, roles=["qa_manager"], full_name="Quinn Quality")
    ack = make_member(tenant, roles=["qa_inspector"], full_name="Ada Acknowledger")
    wo, bore = measured(tenant, stable_values(40), start=T0)
    with tenant_context(tenant, actor=qa):
        baseline = baseline_freeze(baseline=baseline_compute(definition=bore, range_to=T0 + timedelta(minutes=300)),
                                   user=qa, password=PASSWORD)
        first = StepMeasurement.objects.filter(definition=bore).order_by("recorded_at", "pk")[35]
        signal = SPCSignal.objects.create(
            definition=bore, baseline=baseline, step=bore.step, rule="N1",
            description="One point beyond 3 sigma from the center line", first_key=first.pk, last_key=first.pk,
            first_at=first.recorded_at, last_at=first.recorded_at, status="investigated", acknowledged_by=ack,
            acknowledged_at=first.recorded_at + timedelta(minutes=5), acknowledged_comment="Seen at the machine",
            investigated_by=qa, investigated_at=first.recorded_at + timedelta(hours=1),
            cause="Worn boring bar replaced")
    return wo, bore, baseline, signal


def test_report_carries_chart_baseline_signals_and_capability(client, tenant):
    _, bore, baseline, _ = _frozen_with_a_signal(tenant)
    _sign_in(client, tenant, ["operator"])
    text = _pdf_text(client.get(f"/spc/characteristics/{bore.pk}/report.pdf",
                                {"date_from": "2026-11-02", "date_to": "2026-11-02"}))
    assert "Characteristic report: Bore diameter" in text and "Machine body" in text
    assert f"Baseline {baseline.pk} (active)" in text and "Quinn Quality" in text
    assert "Signals of the period (1)" in text and "N1: One point beyond 3 sigma" in text
    assert "Ada Acknowledger" in text and "Seen at the machine" in text and "Worn boring bar replaced" in text
    assert "Investigated" in text
    with tenant_context(tenant):
        cpk = characteristic_capability(bore).indices["cpk"]
    assert "Cpk" in text and f"{cpk:.3f}" in text
    assert [s.__name__ for s in SECTIONS] == ["heading_section", "chart_section", "baseline_section",
                                              "signals_section", "capability_section"]
    # Another period: the signal is not in it.
    text = _pdf_text(client.get(f"/spc/characteristics/{bore.pk}/report.pdf", {"date_from": "2026-11-03"}))
    assert "Signals of the period (0)" in text and "N1: One point" not in text


def test_report_says_trial_limits_clearly(client, tenant):
    _, bore = measured(tenant, stable_values(30), start=T0)
    _sign_in(client, tenant, ["qa_inspector"])
    text = _pdf_text(client.get(f"/spc/characteristics/{bore.pk}/report.pdf"))
    assert "TRIAL LIMITS" in text and "No frozen baseline" in text and "No signal in this period." in text
    r = client.get(f"/spc/characteristics/{bore.pk}/report.pdf", {"date_from": "soon"})
    assert r.status_code == 400


def test_safe_cell_neutralises_formulas_and_keeps_numbers():
    assert [safe_cell(v) for v in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "SN-1", "", None)] == \
        ["'=1+2", "'+1", "'-1", "'@SUM(A1)", "'\tx", "SN-1", "", ""]
    assert safe_cell(Decimal("-0.5")) == Decimal("-0.5") and safe_cell(-2) == -2
    assert safe_cell(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02T03:04:00+00:00"
    lines = list(csv_lines(["a", "b"], [["=cmd|' /C calc'!A0", -1.5]]))
    assert lines == ["a,b\r\n", "'=cmd|' /C calc'!A0,-1.5\r\n"]


def _csv(response) -> list[dict]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_measurements_csv(client, tenant):
    values = stable_values(40)
    wo, bore = measured(tenant, values, start=T0)
    operator = _sign_in(client, tenant, ["operator"])
    with tenant_context(tenant):
        first = StepMeasurement.objects.filter(definition=bore).order_by("recorded_at", "pk").select_related("part",
                                                                                                            "step").first()
        Part.objects.filter(pk=first.part_id).update(serial_number='=HYPERLINK("http://example.com")')
        StepMeasurement.objects.filter(pk=first.pk).update(recorded_by=operator)
    rows = _csv(client.get(f"/spc/characteristics/{bore.pk}/measurements.csv"))
    assert len(rows) == 40
    assert list(rows[0]) == ["id", "recorded_at", "value", "subgroup", "part_serial", "work_order", "step", "operator",
                             "equipment"]
    r = rows[0]
    assert int(r["id"]) == first.pk and datetime.fromisoformat(r["recorded_at"]) == T0
    assert Decimal(r["value"]) == Decimal(repr(values[0])) and r["subgroup"] == str(first.pk)  # I-MR: one per part
    assert r["part_serial"] == "'=HYPERLINK(\"http://example.com\")"
    assert (r["work_order"], r["step"], r["operator"]) == (wo.number, "Machine body", operator.full_name)
    assert [Decimal(x["value"]) for x in rows] == [Decimal(repr(v)) for v in values]
    # The period narrows it: 2 November 05:00 + 10 minutes each; nothing on 3 November.
    assert _csv(client.get(f"/spc/characteristics/{bore.pk}/measurements.csv", {"date_from": "2026-11-03"})) == []
    early = _csv(client.get(f"/spc/characteristics/{bore.pk}/measurements.csv",
                            {"date_from": "2026-11-02", "date_to": "2026-11-02", "work_order": wo.pk}))
    assert len(early) == 40 and early[1]["operator"] == ""


def test_measurements_csv_names_the_equipment_used(client, tenant):
    wo, bore = measured(tenant, stable_values(5), start=T0)
    gauge = make_equipment(tenant)
    later = make_work_order(tenant, process=wo.process, quantity=3)
    with tenant_context(tenant):
        step = route_steps(later.process)[0]
        parts_advance_bulk(work_order=later, step=step.pk, equipment=[gauge.pk], parts=[
            {"part": p.pk, "measurements": [{"definition": bore.pk, "value": "6.001"}]}
            for p in Part.objects.filter(work_order=later).order_by("pk")])
    _sign_in(client, tenant, ["engineering"])
    rows = _csv(client.get(f"/spc/characteristics/{bore.pk}/measurements.csv"))
    assert [r["equipment"] for r in rows] == [""] * 5 + [f"{gauge.name} ({gauge.serial_number})"] * 3
    assert [r["work_order"] for r in rows[5:]] == [later.number] * 3
    rows = _csv(client.get(f"/spc/characteristics/{bore.pk}/measurements.csv", {"equipment": gauge.pk}))
    assert len(rows) == 3


def test_who_may_fetch_the_report_and_the_measurements(client, tenant, other_tenant):
    _, bore = measured(tenant, stable_values(10), start=T0)
    urls = [f"/spc/characteristics/{bore.pk}/report.pdf", f"/spc/characteristics/{bore.pk}/measurements.csv"]
    _sign_in(client, tenant, ["customer"], company=make_company(tenant))
    assert [client.get(u).status_code for u in urls] == [403, 403]
    client.logout()
    _sign_in(client, tenant, ["auditor"])
    assert [client.get(u).status_code for u in urls] == [200, 200]
    client.logout()
    _sign_in(client, other_tenant, ["qa_manager"])
    assert [client.get(u).status_code for u in urls] == [404, 404]
    assert client.get("/spc/characteristics/999999/report.pdf").status_code == 404
