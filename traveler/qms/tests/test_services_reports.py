"""Quality reports and defect codes through their services, and the report a quarantine creates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import Delivered
from traveler.core.models import History, OutboxEvent
from traveler.core.queue import run_pending
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.mes_lite.models import MeasurementDefinition, Part
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.tests.factories import make_equipment, make_part_type
from traveler.qms.choices import ReportOrigin, ReportStatus
from traveler.qms.handlers import report_quarantined_part
from traveler.qms.models import MeasurementResult, QualityReport, QualityReportDefect
from traveler.qms.services.defects import defect_code_update
from traveler.qms.services.reports import quality_report_archive, quality_report_create, quality_report_update
from traveler.qms.tests.factories import make_defect_code, make_quality_report, part_at_start


def _bore(step) -> MeasurementDefinition:
    return MeasurementDefinition.objects.get(step=step, label="Bore diameter")


def test_results_are_judged_by_the_definition_and_out_of_spec_cannot_pass(tenant):
    part, route = part_at_start(tenant)
    with tenant_context(tenant):
        bore = _bore(route[0])
        with pytest.raises(InvalidInput, match="cannot pass: Bore diameter") as exc:
            quality_report_create(part=part, step=route[0], status=ReportStatus.PASS,
                                  results=[{"definition": bore, "value": "6.020"}])
        assert "status" in exc.value.fields
        assert not QualityReport.objects.exists() and not MeasurementResult.objects.exists()
        report = quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL,
                                       results=[{"definition": bore, "value": "6.020"}])
        [result] = report.results.all()
        assert (result.value, result.in_spec) == (Decimal("6.020"), False)
        ok = quality_report_create(part=part, step=route[0], status=ReportStatus.PASS,
                                   results=[{"definition": bore, "value": "6.005"}])
        assert ok.results.get().in_spec is True


def test_in_spec_comes_from_the_measurement_definition(tenant, monkeypatch):
    """The report asks the definition (the traveler's rule), it does not judge values itself."""
    part, route = part_at_start(tenant)
    asked = []

    def strict(self, value):
        asked.append((self.label, value))
        return False

    monkeypatch.setattr(MeasurementDefinition, "in_spec", strict)
    with tenant_context(tenant):
        report = quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL,
                                       results=[{"definition": _bore(route[0]), "value": "6.000"}])
        assert report.results.get().in_spec is False
    assert asked == [("Bore diameter", Decimal("6.000"))]


def test_bad_input_names_the_field_and_writes_nothing(tenant):
    part, route = part_at_start(tenant)
    other, other_route = part_at_start(tenant)
    with tenant_context(tenant):
        cases = [
            ({"step": other_route[0]}, "step"),
            ({"results": [{"definition": _bore(route[0]), "value": "abc"}]}, "results[0].value"),
            ({"results": [{"definition": MeasurementDefinition.objects.filter(step=route[1]).first(), "value": 1}]},
             "results[0].definition"),
            ({"status": "maybe"}, "status"),
        ]
        for change, field in cases:
            kwargs = {"part": part, "step": route[0], "status": ReportStatus.FAIL, **change}
            with pytest.raises(InvalidInput) as exc:
                quality_report_create(**kwargs)
            assert field in exc.value.fields, (change, exc.value.fields)
        assert not QualityReport.objects.exists()


def test_defects_respect_the_codes_limits(tenant):
    part, route = part_at_start(tenant)
    with tenant_context(tenant):
        part_type = Part.objects.get(pk=part.pk).part_type
    anywhere = make_defect_code(tenant)
    other_type = make_defect_code(tenant, part_types=[make_part_type(tenant)])
    later_step = make_defect_code(tenant, steps=[route[1]])
    this_type = make_defect_code(tenant, part_types=[part_type], steps=[route[0]])
    with tenant_context(tenant):
        for code, why in ((other_type, "part type"), (later_step, "at step")):
            with pytest.raises(InvalidInput, match=why) as exc:
                quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL,
                                      defects=[{"code": code, "count": 1}])
            assert "defects[0].code" in exc.value.fields
        with pytest.raises(InvalidInput) as exc:
            quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL,
                                  defects=[{"code": anywhere, "count": 0}])
        assert "defects[0].count" in exc.value.fields
        report = quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL,
                                       defects=[{"code": anywhere, "count": 3}, {"code": this_type}])
        assert sorted((d.error_id, d.count) for d in QualityReportDefect.objects.filter(report=report)) == sorted(
            [(anywhere.pk, 3), (this_type.pk, 1)])


def test_inspectors_are_members_of_the_tenant(tenant, other_tenant):
    inspector = make_member(tenant, roles=["qa_inspector"])
    stranger = make_member(other_tenant, roles=["qa_inspector"])
    part, route = part_at_start(tenant)
    with tenant_context(tenant):
        with pytest.raises(InvalidInput) as exc:
            quality_report_create(part=part, step=route[0], status=ReportStatus.PENDING, inspectors=[stranger])
        assert "inspectors" in exc.value.fields
        report = quality_report_create(part=part, step=route[0], status=ReportStatus.PENDING, inspectors=[inspector])
        assert list(report.inspectors.all()) == [inspector]


def test_update_keeps_pass_honest_and_checks_the_version(tenant):
    part, route = part_at_start(tenant)
    gauge = make_equipment(tenant)
    with tenant_context(tenant):
        bore = _bore(route[0])
        report = quality_report_create(part=part, step=route[0], status=ReportStatus.PENDING,
                                       results=[{"definition": bore, "value": "7"}])
        with pytest.raises(InvalidInput, match="cannot pass"):
            quality_report_update(quality_report=report, version=report.version, data={"status": ReportStatus.PASS})
        report = quality_report_update(quality_report=report, version=report.version, reason="re-measured",
                                       data={"status": ReportStatus.PASS, "equipment": [gauge],
                                             "results": [{"definition": bore, "value": "6.001"}]})
        assert (report.status, report.version) == (ReportStatus.PASS, 2)
        assert [r.value for r in report.results.all()] == [Decimal("6.001")]
        assert list(report.equipment.all()) == [gauge]
        with pytest.raises(Conflict):
            quality_report_update(quality_report=report, version=1, data={"description": "late"})
        with pytest.raises(InvalidInput) as exc:
            quality_report_update(quality_report=report, version=report.version, data={"step": route[1]})
        assert "step" in exc.value.fields
        assert History.objects.filter(table_name=report._meta.db_table, record_id=str(report.pk),
                                      reason="re-measured").exists()
        report = quality_report_archive(quality_report=report, version=report.version, reason="duplicate")
        assert report.archived_at is not None
        with pytest.raises(Conflict, match="archived"):
            quality_report_update(quality_report=report, version=report.version, data={"description": "x"})


def test_creating_a_report_publishes_an_event(tenant):
    report = make_quality_report(tenant)
    with tenant_context(tenant):
        event = OutboxEvent.objects.get(name="qms.quality_report.created")
    assert event.payload == {"report_id": report.pk, "part_id": report.part_id, "step_id": report.step_id,
                             "status": "pending", "origin": "manual"}


def test_defect_code_limits_change_and_codes_are_unique(tenant):
    first = make_defect_code(tenant, code="BURR")
    with pytest.raises(InvalidInput) as exc:
        make_defect_code(tenant, code="BURR")
    assert "code" in exc.value.fields
    part_type = make_part_type(tenant)
    with tenant_context(tenant):
        code = defect_code_update(defect_code=first, version=first.version, data={"part_types": [part_type]})
        assert list(code.part_types.all()) == [part_type]
        code = defect_code_update(defect_code=code, version=code.version, data={"part_types": []})
        assert list(code.part_types.all()) == []


def _quarantine(tenant):
    """A part quarantined at its first step for a bore out of tolerance, measured with a gauge."""
    part, route = part_at_start(tenant)
    gauge = make_equipment(tenant)
    with tenant_context(tenant):
        bore = _bore(route[0])
        out = part_advance(part=part, step=route[0].pk, measurements=[{"definition": bore.pk, "value": "6.5"}],
                           equipment=[gauge.pk])
        assert out["result"] == "quarantined"
    return part, route, bore, gauge


def test_a_quarantine_creates_one_failed_report_with_the_out_of_spec_values(tenant):
    part, route, bore, gauge = _quarantine(tenant)
    with tenant_context(tenant):
        run_pending()
        [report] = QualityReport.objects.filter(part=part)
        assert (report.status, report.origin, report.step_id) == (ReportStatus.FAIL, ReportOrigin.QUARANTINE,
                                                                  route[0].pk)
        assert "Bore diameter" in report.description
        assert [(r.definition_id, r.value, r.in_spec) for r in report.results.all()] == [(bore.pk, Decimal("6.5"),
                                                                                           False)]
        assert list(report.equipment.all()) == [gauge]
        event = OutboxEvent.objects.get(name="mes.part.quarantined", payload__part_id=part.pk)
        delivered = Delivered(event.pk, event.name, event.payload, event.tenant_id, event.actor_id, event.occurred_at)
        report_quarantined_part(delivered)  # delivered again (a retry)
        report_quarantined_part(delivered)
        assert QualityReport.objects.filter(part=part).count() == 1


def test_one_report_per_event_even_when_the_check_is_raced(tenant):
    """Two deliveries that both passed the existence check: the unique constraint keeps one report."""
    part, route, bore, _ = _quarantine(tenant)
    with tenant_context(tenant):
        event = OutboxEvent.objects.get(name="mes.part.quarantined", payload__part_id=part.pk)
        quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL, origin=ReportOrigin.QUARANTINE,
                              source_event_id=event.pk)
        with pytest.raises(Conflict, match="already has its quality report"):
            quality_report_create(part=part, step=route[0], status=ReportStatus.FAIL,
                                  origin=ReportOrigin.QUARANTINE, source_event_id=event.pk)
        assert QualityReport.objects.filter(part=part).count() == 1
