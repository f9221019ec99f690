"""Calibration records: each one sets the gauge's calibration status the traveler's guard reads; a
failed one lists exactly the parts measured since the last pass, and Quality opens one nonconformance."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import Delivered
from traveler.core.models import OutboxEvent
from traveler.core.queue import run_pending
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.mes_full.models import CalibrationRecord
from traveler.mes_full.services.calibration import (
    calibration_record,
    calibration_schedule,
    calibration_suspects,
    calibration_suspects_report,
)
from traveler.mes_full.tests.factories_training import make_gauge
from traveler.mes_lite.models import Equipment, EquipmentUsage, Part
from traveler.mes_lite.services.equipment import equipment_calibrate
from traveler.mes_lite.services.parts import Blocked, part_advance
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_work_order

TODAY = date.today()


@pytest.fixture
def qa(tenant):
    return make_member(tenant, roles=["qa_manager"], full_name="Quinn Quality")


def _advance(tenant, user, gauge):
    wo = make_work_order(tenant, quantity=1)
    with tenant_context(tenant, actor=user):
        step = route_steps(wo.process)[0]
        part = Part.objects.get(work_order=wo)
        return part_advance(part=part, step=step.pk, measurements=good_readings(step), equipment=[gauge.pk])


def test_a_calibration_record_is_what_the_calibration_guard_reads(tenant, qa):
    gauge = make_gauge(tenant, interval=180, calibrated_on=TODAY - timedelta(days=30))
    assert (gauge.last_calibration, gauge.next_calibration, gauge.last_calibration_result) == (
        TODAY - timedelta(days=30), TODAY + timedelta(days=150), "pass")
    assert _advance(tenant, qa, gauge)["result"] == "advanced"
    with tenant_context(tenant, actor=qa):
        failed = calibration_record(equipment=gauge, calibrated_on=TODAY, result="fail", external_lab="Metrology Lab")
    assert (failed.next_due, failed.performed_by_id) == (TODAY, None)
    with pytest.raises(Blocked) as blocked:
        _advance(tenant, qa, gauge)
    [refusal] = [r for r in blocked.value.refusals if r.kind == "calibration_due"]
    assert f"failed its calibration of {TODAY:%Y-%m-%d}" in refusal.reason
    with tenant_context(tenant, actor=qa):
        adjusted = calibration_record(equipment=gauge, calibrated_on=TODAY, result="adjusted",
                                      adjustment_note="Zero reset by 4 µm", certificate_number="CAL-2207")
        gauge = Equipment.objects.get(pk=gauge.pk)
    assert (adjusted.performed_by_id, adjusted.next_due, adjusted.certificate_number) == (
        qa.pk, TODAY + timedelta(days=180), "CAL-2207")
    assert (gauge.last_calibration_result, gauge.next_calibration, gauge.calibration_certificate) == (
        "pass", TODAY + timedelta(days=180), "CAL-2207")
    assert _advance(tenant, qa, gauge)["result"] == "advanced"


def test_a_calibration_recorded_through_the_equipment_page_becomes_a_record(tenant, qa):
    gauge = make_gauge(tenant, interval=90)
    with tenant_context(tenant, actor=qa):
        equipment_calibrate(equipment=gauge, version=gauge.version, calibrated_on=TODAY - timedelta(days=1),
                            result="fail", certificate="EXT-9")
        rows = list(CalibrationRecord.objects.filter(equipment=gauge).values_list(
            "calibrated_on", "result", "next_due", "certificate_number", "performed_by_id"))
    assert rows == [(TODAY - timedelta(days=1), "fail", TODAY - timedelta(days=1), "EXT-9", qa.pk)]


def test_bad_calibrations_are_refused_naming_the_field_and_write_nothing(tenant, qa):
    gauge = make_gauge(tenant, calibrated_on=TODAY - timedelta(days=3))
    cases = [({"result": "adjusted"}, "adjustment_note"), ({"result": "broken"}, "result"),
             ({"result": "pass", "calibrated_on": TODAY - timedelta(days=4)}, "calibrated_on"),
             ({"result": "pass", "calibrated_on": TODAY + timedelta(days=1)}, "calibrated_on")]
    for given, field in cases:
        with tenant_context(tenant, actor=qa), pytest.raises(InvalidInput) as e:
            calibration_record(equipment=gauge, **{"calibrated_on": TODAY, **given})
        assert list(e.value.fields) == [field], given
    with tenant_context(tenant):
        assert CalibrationRecord.objects.filter(equipment=gauge).count() == 1
        assert Equipment.objects.get(pk=gauge.pk).last_calibration == TODAY - timedelta(days=3)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), timezone.get_current_timezone())


def _used(gauge, part, step, at):
    EquipmentUsage.objects.create(equipment=gauge, part=part, step=step, start_time=at, end_time=at)


def test_the_suspect_report_lists_exactly_the_parts_measured_since_the_last_pass(tenant, qa):
    gauge = make_gauge(tenant, calibrated_on=TODAY - timedelta(days=20))
    other = make_gauge(tenant, calibrated_on=TODAY - timedelta(days=20))
    wo = make_work_order(tenant, quantity=5)
    with tenant_context(tenant, actor=qa):
        calibration_record(equipment=gauge, calibrated_on=TODAY - timedelta(days=10), result="pass",
                           external_lab="Metrology Lab")
        first, second = route_steps(wo.process)[:2]
        before, on_pass_day, twice, elsewhere, after = Part.objects.filter(work_order=wo).order_by("sequence")
        _used(gauge, before, first, _at(TODAY - timedelta(days=11), 15))
        _used(gauge, on_pass_day, first, _at(TODAY - timedelta(days=10), 1))
        _used(gauge, twice, first, _at(TODAY - timedelta(days=3), 9))
        _used(gauge, twice, second, _at(TODAY - timedelta(days=2), 9))
        _used(other, elsewhere, first, _at(TODAY - timedelta(days=2), 9))
        failed = calibration_record(equipment=gauge, calibrated_on=TODAY, result="fail", external_lab="Metrology Lab")
        calibration_record(equipment=gauge, calibrated_on=TODAY, result="pass", external_lab="Metrology Lab")
        _used(gauge, after, first, timezone.now() + timedelta(minutes=5))
        suspects = calibration_suspects(record=failed)
    assert suspects.since == TODAY - timedelta(days=10)
    assert [(p["serial_number"], p["uses"], p["steps"]) for p in suspects.parts] == [
        (on_pass_day.serial_number, 1, [first.name]), (twice.serial_number, 2, sorted([first.name, second.name]))]
    with tenant_context(tenant), pytest.raises(Conflict):
        calibration_suspects(record=CalibrationRecord.objects.filter(equipment=gauge, result="pass").first())


def test_a_gauge_that_never_passed_puts_every_part_it_measured_in_doubt(tenant, qa):
    gauge = make_gauge(tenant)
    wo = make_work_order(tenant, quantity=1)
    with tenant_context(tenant, actor=qa):
        step = route_steps(wo.process)[0]
        part = Part.objects.get(work_order=wo)
        _used(gauge, part, step, _at(TODAY - timedelta(days=400), 9))
        failed = calibration_record(equipment=gauge, calibrated_on=TODAY, result="fail", external_lab="Lab")
        suspects = calibration_suspects(record=failed)
    assert (suspects.since, suspects.part_ids) == (None, [part.pk])


def test_the_schedule_lists_equipment_by_due_date_overdue_first(tenant, qa):
    due_soon = make_gauge(tenant, interval=40, calibrated_on=TODAY - timedelta(days=20))
    overdue = make_gauge(tenant, interval=10, calibrated_on=TODAY - timedelta(days=20))
    never = make_gauge(tenant)
    fine = make_gauge(tenant, interval=365, calibrated_on=TODAY - timedelta(days=1))
    with tenant_context(tenant):
        rows = [(r["equipment"].pk, r["state"]) for r in calibration_schedule(today=TODAY)
                if r["equipment"].pk in {due_soon.pk, overdue.pk, never.pk, fine.pk}]
    assert rows == [(never.pk, "never"), (overdue.pk, "overdue"), (due_soon.pk, "due_soon"), (fine.pk, "ok")]


def test_quality_opens_one_nonconformance_for_the_suspect_parts_exactly_once(tenant, qa):
    # Step control and Quality never import each other: Quality is reached through the registry.
    from django.apps import apps

    from traveler.core.registry import registry

    QuarantineDisposition = apps.get_model("qms", "QuarantineDisposition")  # noqa: N806
    NonconformancePart = apps.get_model("qms", "NonconformancePart")  # noqa: N806
    [answer] = [h for h in registry.handlers_for("mes_full.nonconformance.requested") if h.module == "qms"]

    gauge = make_gauge(tenant, calibrated_on=TODAY - timedelta(days=10))
    wo = make_work_order(tenant, quantity=3)
    with tenant_context(tenant, actor=qa):
        step = route_steps(wo.process)[0]
        parts = list(Part.objects.filter(work_order=wo).order_by("sequence"))
        for p in parts[:2]:
            _used(gauge, p, step, _at(TODAY - timedelta(days=5), 10))
        failed = calibration_record(equipment=gauge, calibrated_on=TODAY, result="fail", external_lab="Lab")
        calibration_suspects_report(record=failed)
        with pytest.raises(Conflict):
            calibration_suspects_report(record=failed)
        run_pending()
        row = OutboxEvent.objects.get(name="mes_full.nonconformance.requested", payload__source="calibration",
                                      payload__source_id=failed.pk)
        answer.func(Delivered(row.pk, row.name, row.payload, row.tenant_id, row.actor_id))  # delivered again
        [ncr] = QuarantineDisposition.objects.filter(title__contains=str(gauge))
        held = sorted(NonconformancePart.objects.filter(nonconformance=ncr).values_list("part_id", flat=True))
        statuses = set(Part.objects.filter(pk__in=held).values_list("status", flat=True))
        assert CalibrationRecord.objects.get(pk=failed.pk).suspects_reported_at is not None
    assert held == [parts[0].pk, parts[1].pk] and statuses == {"on_hold"}
    assert row.payload["part_ids"] == [parts[0].pk, parts[1].pk]
