"""Quality's pages: defect codes and quality reports, the part's "Quality reports" panel, the
Quality menu, and evidence documents on a report."""

from __future__ import annotations

from decimal import Decimal

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, make_document, make_member, make_revision
from traveler.core.tests.test_ui_shell import nav_labels, signed_in
from traveler.mes_lite.models import MeasurementDefinition, Part
from traveler.qms.choices import ReportStatus
from traveler.qms.models import QualityErrorsList, QualityReport
from traveler.qms.services.reports import quality_report_create
from traveler.qms.tests.factories import make_defect_code, part_at_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector(tenant):
    return make_member(tenant, roles=["qa_inspector"], full_name="Ines Inspector")


def test_defect_code_pages(tenant, inspector):
    client = signed_in(inspector, tenant)
    assert "Defect codes" in nav_labels(client.get("/qms/defect-codes/"))
    r = client.post("/qms/defect-codes/new/", {"code": "SCRATCH", "description": "Scratch on sealing face",
                                               "severity": "critical", "reason": "from FMEA"})
    assert r.status_code == 302, r.content.decode()[:2000]
    with tenant_context(tenant):
        code = QualityErrorsList.objects.get(code="SCRATCH")
    html = client.get(f"/qms/defect-codes/{code.pk}/").content.decode()
    assert "Scratch on sealing face" in html and "Any part type" in html and "Critical" in html
    assert "SCRATCH" in client.get("/qms/defect-codes/").content.decode()
    r = client.post("/qms/defect-codes/new/", {"code": "SCRATCH", "description": "again", "severity": "minor"})
    assert r.status_code == 400 and "already exists" in r.content.decode()


def test_report_pages_and_the_part_panel(tenant, inspector):
    part, route = part_at_start(tenant)
    client = signed_in(inspector, tenant)
    form = client.get(f"/qms/quality-reports/new/?part={part.pk}")
    assert form.status_code == 200
    r = client.post("/qms/quality-reports/new/", {"part": part.pk, "step": route[0].pk, "status": "pending",
                                                  "description": "Awaiting lab", "inspectors": [inspector.pk]})
    assert r.status_code == 302, r.content.decode()[:3000]
    with tenant_context(tenant):
        report = QualityReport.objects.get(part=part)
        assert list(report.inspectors.all()) == [inspector]
    html = client.get(f"/qms/quality-reports/{report.pk}/").content.decode()
    assert "Awaiting lab" in html and "Ines Inspector" in html and "No results recorded" in html
    traveler = client.get(f"/mes/parts/{part.pk}/").content.decode()
    assert "Quality reports" in traveler and f"/qms/quality-reports/{report.pk}/" in traveler
    assert f"/qms/quality-reports/new/?part={part.pk}" in traveler
    r = client.post(f"/qms/quality-reports/{report.pk}/edit/", {"status": "fail", "description": "Lab: cracked",
                                                                "inspectors": [inspector.pk],
                                                                "version": report.version, "reason": "lab result"})
    assert r.status_code == 302, r.content.decode()[:3000]
    with tenant_context(tenant):
        report.refresh_from_db()
    assert (report.status, report.part_id) == ("fail", part.pk)


def test_results_and_defects_show_on_the_report(tenant, inspector):
    part, route = part_at_start(tenant)
    code = make_defect_code(tenant, description="Burr on bore")
    with tenant_context(tenant):
        bore = MeasurementDefinition.objects.get(step=route[0], label="Bore diameter")
        report = quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL,
                                       results=[{"definition": bore, "value": "6.5"}],
                                       defects=[{"code": code, "count": 4}])
    html = signed_in(inspector, tenant).get(f"/qms/quality-reports/{report.pk}/").content.decode()
    assert "Bore diameter" in html and "Out of spec" in html and "Burr on bore" in html and ">4<" in html


def test_customers_and_readers(tenant):
    part, route = part_at_start(tenant)
    with tenant_context(tenant):
        report = quality_report_create(part=part, step=route[0], status=ReportStatus.PENDING)
    auditor = signed_in(make_member(tenant, roles=["auditor"]), tenant)
    assert auditor.get(f"/qms/quality-reports/{report.pk}/").status_code == 200
    assert auditor.get("/qms/quality-reports/new/").status_code == 403
    customer = signed_in(make_member(tenant, roles=["customer"], company=make_company(tenant)), tenant)
    assert customer.get("/qms/quality-reports/").status_code == 403
    assert customer.get(f"/qms/quality-reports/{report.pk}/").status_code in (403, 404)
    assert "Quality reports" not in nav_labels(customer.get("/"))


def test_evidence_documents_attach_to_a_report(tenant, inspector):
    from traveler.core.services.documents import document_attach

    controller = make_member(tenant, roles=["document_controller"])
    part, route = part_at_start(tenant)
    with tenant_context(tenant):
        report = quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL)
    sheet = make_document(tenant, by=controller, code="RPT", title="Inspection sheet")
    make_revision(tenant, sheet, by=controller, release=True)
    with tenant_context(tenant, actor=controller):
        document_attach(document=sheet, target=report)
    html = signed_in(inspector, tenant).get(f"/qms/quality-reports/{report.pk}/").content.decode()
    assert "Documents" in html and sheet.number in html


def _definitions(step):
    return list(MeasurementDefinition.objects.filter(step=step).order_by("sequence", "pk"))


def test_an_inspector_records_results_and_defects_in_the_form(tenant, inspector):
    part, route = part_at_start(tenant)
    code = make_defect_code(tenant, description="Burr on bore")
    other_type_code = make_defect_code(tenant, description="Only on nozzles")
    with tenant_context(tenant):
        from traveler.mes_lite.tests.factories import make_part_type
        other_type_code.part_types.add(make_part_type(tenant))  # limited to another part type
        defs = _definitions(route[0])
        bore = next(d for d in defs if d.label == "Bore diameter")
        Part.objects.filter(pk=part.pk).update(current_step=route[0], status="in_process")
    client = signed_in(inspector, tenant)
    panel = client.get(f"/mes/parts/{part.pk}/").content.decode()
    assert f"/qms/quality-reports/new/?part={part.pk}&amp;step={route[0].pk}" in panel  # the panel opens it so
    page = client.get(f"/qms/quality-reports/new/?part={part.pk}&step={route[0].pk}").content.decode()
    assert "Bore diameter" in page and "Burr on bore" in page and "Only on nozzles" not in page
    assert page.index("Bore diameter") < page.index("Reason for change")
    post = {"part": part.pk, "step": route[0].pk, "status": "pass", "description": "Bore gauged",
            f"result_{bore.pk}": "6.5", "defect_0_code": code.pk, "defect_0_count": "3"}
    r = client.post("/qms/quality-reports/new/", post)
    assert r.status_code == 400 and "cannot pass" in r.content.decode()  # the service decides, nothing written
    with tenant_context(tenant):
        assert not QualityReport.objects.filter(part=part).exists()
    r = client.post("/qms/quality-reports/new/", {**post, "status": "fail"})
    assert r.status_code == 302, r.content.decode()[:3000]
    with tenant_context(tenant):
        report = QualityReport.objects.get(part=part)
        assert [(x.definition_id, x.value, x.in_spec) for x in report.results.all()] == [(bore.pk, Decimal("6.5"), False)]
        assert [(d.error_id, d.count) for d in report.defect_links.all()] == [(code.pk, 3)]
    # Editing shows what was recorded; a count without a code is refused; clearing the rows removes defects.
    edit = client.get(f"/qms/quality-reports/{report.pk}/edit/").content.decode()
    assert 'value="6.5"' in edit and f'value="{code.pk}" selected' in edit
    base = {"status": "fail", "description": "Bore gauged", "version": report.version, f"result_{bore.pk}": "6.5",
            "defect_0_code": code.pk, "defect_0_count": "3"}
    r = client.post(f"/qms/quality-reports/{report.pk}/edit/", {**base, "defect_1_count": "2"})
    assert r.status_code == 400 and "Choose the defect code" in r.content.decode()
    in_spec = str((bore.lower_limit + bore.upper_limit) / 2)
    r = client.post(f"/qms/quality-reports/{report.pk}/edit/",
                    {**base, "status": "pass", f"result_{bore.pk}": in_spec, "defect_0_code": "", "defect_0_count": "",
                     "reason": "re-measured"})
    assert r.status_code == 302, r.content.decode()[:3000]
    with tenant_context(tenant):
        report.refresh_from_db()
        assert report.status == "pass" and [x.in_spec for x in report.results.all()] == [True]
        assert not report.defect_links.exists()
