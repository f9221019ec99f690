"""Step executions and step requirements, through the services: executions written by the advance
(single and bulk, one statement), each requirement kind guarding the advance, inspection sign-off
signed, work instructions acknowledged, the core waiver and recorder extension points, and the part's
position in its work order."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.models import OutboxEvent, Signature
from traveler.core.registry import Refusal, add_waiver, registry
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_document, make_member, make_revision
from traveler.mes_full.choices import BlockKind, ExecutionOutcome, RequirementKind
from traveler.mes_full.models import StepExecution, StepInspection, TrainingType
from traveler.mes_full.services.requirements import (
    document_acknowledge,
    inspection_record,
    requirement_archive,
    requirement_create,
)
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import EquipmentType, MeasurementDefinition, Part, StepTransitionLog
from traveler.mes_lite.services.parts import Blocked, part_advance, parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_equipment, make_work_order


@pytest.fixture
def wo(tenant):
    return make_work_order(tenant, quantity=6)


def parts_of(wo):
    return list(Part.objects.filter(work_order=wo).order_by("sequence"))


def test_parts_are_numbered_in_their_work_order(tenant, wo):
    with tenant_context(tenant):
        assert [p.sequence for p in parts_of(wo)] == [1, 2, 3, 4, 5, 6]
        assert [p.serial_number for p in parts_of(wo)] == sorted(p.serial_number for p in parts_of(wo))


def test_an_advance_records_the_visit_it_ends(tenant, admin, wo):
    with tenant_context(tenant, actor=admin):
        first, second = route_steps(wo.process)[:2]
        part = parts_of(wo)[0]
        gauge = make_equipment(tenant)
        part_advance(part=part, step=first.pk, measurements=good_readings(first), equipment=[gauge.pk])
        arrived = StepTransitionLog.objects.filter(part=part).latest("pk")
        part_advance(part=part, step=second.pk, measurements=good_readings(second))
        visits = list(StepExecution.objects.filter(part=part).order_by("pk"))
        assert [(v.step_id, v.outcome) for v in visits] == [(first.pk, ExecutionOutcome.ADVANCED),
                                                           (second.pk, ExecutionOutcome.ADVANCED)]
        assert visits[0].started_at == part.created_at  # created at the first step
        assert visits[0].equipment_ids == [gauge.pk] and visits[0].operator_id == admin.pk
        assert visits[1].started_at == arrived.transition_time  # came to the second step with that move
        assert visits[1].finished_at == visits[1].transition.transition_time
        assert visits[1].transition.from_step_id == second.pk


def test_a_quarantine_ends_the_visit_and_the_next_advance_is_a_new_one(tenant, wo):
    with tenant_context(tenant):
        first = route_steps(wo.process)[0]
        part = parts_of(wo)[0]
        readings = good_readings(first)
        bore = MeasurementDefinition.objects.get(step=first, label="Bore diameter")
        next(r for r in readings if r["definition"] == bore.pk)["value"] = "7"
        assert part_advance(part=part, step=first.pk, measurements=readings)["result"] == "quarantined"
        visit = StepExecution.objects.get(part=part)
        assert visit.outcome == ExecutionOutcome.QUARANTINED and visit.started_at == part.created_at


def test_a_bulk_advance_records_every_visit_in_one_statement(tenant, wo):
    with tenant_context(tenant):
        first = route_steps(wo.process)[0]
        items = [{"part": p.pk, "measurements": good_readings(first)} for p in parts_of(wo)]
        with CaptureQueriesContext(connection) as queries:
            parts_advance_bulk(work_order=wo, step=first.pk, parts=items)
        inserts = [q["sql"] for q in queries if q["sql"].startswith("\nINSERT INTO mes_full_stepexecution")]
        assert len(inserts) == 1
        assert StepExecution.objects.filter(part__work_order=wo, step=first).count() == 6


def _requirement(step, kind, **target):
    return requirement_create(data={"step": step, "kind": kind, **target})


def test_a_requirement_names_exactly_its_target(tenant, wo):
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        etype = EquipmentType.objects.create(name="Bore gauge")
        with pytest.raises(InvalidInput, match="names its equipment type") as e:
            _requirement(step, RequirementKind.EQUIPMENT)
        assert e.value.fields == {"equipment_type": ["required"]}
        with pytest.raises(InvalidInput, match="names no equipment_type"):
            _requirement(step, RequirementKind.INSPECTION, equipment_type=etype)
        other = MeasurementDefinition.objects.exclude(step=step).filter(step__process=wo.process).first()
        with pytest.raises(InvalidInput, match="measured at another step"):
            _requirement(step, RequirementKind.MEASUREMENT, definition=other)
        _requirement(step, RequirementKind.EQUIPMENT, equipment_type=etype)
        with pytest.raises(Conflict, match="already has this requirement"):
            _requirement(step, RequirementKind.EQUIPMENT, equipment_type=etype)


def test_a_measurement_requirement_needs_that_measurement(tenant, wo):
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        optional = MeasurementDefinition.objects.create(step=step, sequence=9, label="Surface finish", kind="pass_fail",
                                                        required=False)
        _requirement(step, RequirementKind.MEASUREMENT, definition=optional)
        part = parts_of(wo)[0]
        without = [r for r in good_readings(step) if r["definition"] != optional.pk]
        with pytest.raises(Blocked, match=f"Record {optional.label} at '{step.name}'") as e:
            part_advance(part=part, step=step.pk, measurements=without)
        assert e.value.refusals[0].kind == "missing_measurement" and not e.value.refusals[0].overridable
        assert part_advance(part=part, step=step.pk, measurements=good_readings(step))["result"] == "advanced"


def test_an_inspection_requirement_waits_for_a_signed_pass_in_this_visit(tenant, admin, wo):
    inspector = make_member(tenant, roles=["qa_inspector"])
    with tenant_context(tenant, actor=inspector):
        step = route_steps(wo.process)[0]
        _requirement(step, RequirementKind.INSPECTION)
        part, other = parts_of(wo)[:2]
        with pytest.raises(Blocked, match=f"Inspection sign-off missing at '{step.name}' for {part.serial_number}") as e:
            part_advance(part=part, step=step.pk, measurements=good_readings(step))
        assert e.value.refusals[0].kind == BlockKind.MISSING_INSPECTION
        assert e.value.refusals[0].part_ids == (part.pk,)
        with pytest.raises(Exception, match="password"):
            inspection_record(part=part, passed=True, user=inspector, password="wrong")
        assert not StepInspection.objects.exists()
        inspection = inspection_record(part=part, passed=True, user=inspector, password=PASSWORD)
        sig = Signature.objects.get(record_id=str(inspection.pk))
        assert sig.meaning == "inspected" and sig.signer_id == inspector.pk
        assert part_advance(part=part, step=step.pk, measurements=good_readings(step))["result"] == "advanced"
        with pytest.raises(Blocked):  # the other part's inspection is its own
            part_advance(part=other, step=step.pk, measurements=good_readings(step))


def test_an_inspection_of_an_earlier_visit_does_not_count(tenant, wo):
    inspector = make_member(tenant, roles=["qa_inspector"])
    with tenant_context(tenant, actor=inspector):
        step = route_steps(wo.process)[0]
        part = parts_of(wo)[0]
        old = inspection_record(part=part, passed=True, user=inspector, password=PASSWORD)
        StepInspection.objects.filter(pk=old.pk).update(inspected_at=timezone.now() - timedelta(days=1))
        part_advance(part=part, step=step.pk, measurements=good_readings(step))
        from traveler.mes_lite.services.parts import part_rework
        part.refresh_from_db()
        # Back at the first step by rework after a quarantine would be a new visit; here: the old inspection
        # is before the part's arrival at the second step, so it does not count there.
        second = route_steps(wo.process)[1]
        _requirement(second, RequirementKind.INSPECTION)
        StepInspection.objects.create(part=part, step=second, passed=True, inspector=inspector,
                                      inspected_at=timezone.now() - timedelta(days=1))
        with pytest.raises(Blocked, match="Inspection sign-off missing"):
            part_advance(part=part, step=second.pk, measurements=good_readings(second))
        assert part_rework  # imported for the reader: rework is the other way back to a step


def test_a_failed_inspection_asks_quality_for_a_nonconformance(tenant, wo):
    inspector = make_member(tenant, roles=["qa_inspector"])
    with tenant_context(tenant, actor=inspector):
        step = route_steps(wo.process)[0]
        _requirement(step, RequirementKind.INSPECTION)
        part = parts_of(wo)[0]
        with pytest.raises(InvalidInput, match="Say what was found"):
            inspection_record(part=part, passed=False, user=inspector, password=PASSWORD)
        inspection = inspection_record(part=part, passed=False, user=inspector, password=PASSWORD, note="Burr on bore")
        event = OutboxEvent.objects.get(name="mes_full.nonconformance.requested")
        assert event.payload["source"] == "inspection" and event.payload["source_id"] == inspection.pk
        assert event.payload["part_ids"] == [part.pk] and "Burr on bore" in event.payload["title"]
        with pytest.raises(Blocked, match="Inspection sign-off missing"):
            part_advance(part=part, step=step.pk, measurements=good_readings(step))


def test_a_work_instruction_must_be_read_in_its_released_revision(tenant, wo):
    operator = make_member(tenant, roles=["operator"])
    doc = make_document(tenant, code="RPT", title="Deburr bores")
    make_revision(tenant, doc, release=True)
    with tenant_context(tenant, actor=operator):
        step = route_steps(wo.process)[0]
        _requirement(step, RequirementKind.DOCUMENT, document=doc)
        part = parts_of(wo)[0]
        with pytest.raises(Blocked, match="Read and acknowledge the work instruction first: .*Deburr bores"):
            part_advance(part=part, step=step.pk, measurements=good_readings(step))
        document_acknowledge(document=doc, user=operator)
        document_acknowledge(document=doc, user=operator)  # once per revision
        assert part_advance(part=part, step=step.pk, measurements=good_readings(step))["result"] == "advanced"


def test_an_equipment_requirement_needs_equipment_of_that_type(tenant, wo):
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        gauge = make_equipment(tenant)
        _requirement(step, RequirementKind.EQUIPMENT, equipment_type=gauge.equipment_type)
        part = parts_of(wo)[0]
        with pytest.raises(Blocked, match=f"a {gauge.equipment_type.name}") as e:
            part_advance(part=part, step=step.pk, measurements=good_readings(step))
        assert e.value.refusals[0].kind == BlockKind.CALIBRATION_DUE
        assert part_advance(part=part, step=step.pk, measurements=good_readings(step),
                            equipment=[gauge.pk])["result"] == "advanced"


def test_an_archived_requirement_no_longer_guards(tenant, wo):
    with tenant_context(tenant):
        step = route_steps(wo.process)[0]
        req = _requirement(step, RequirementKind.INSPECTION)
        requirement_archive(requirement=req, reason="no longer inspected here")
        assert part_advance(part=parts_of(wo)[0], step=step.pk, measurements=good_readings(step))["result"] == "advanced"


def test_a_waiver_lifts_only_the_refusals_it_answers_for(tenant, wo):
    """Core's extension point for overrides: a waiver sees the refusals and returns what still stands."""
    seen = []

    def lift_missing_inspection(refusals, **context):
        seen.append([r.kind for r in refusals])
        return [r for r in refusals if r.kind != BlockKind.MISSING_INSPECTION]

    add_waiver("mes.part.advance", lift_missing_inspection)
    try:
        with tenant_context(tenant):
            step = route_steps(wo.process)[0]
            _requirement(step, RequirementKind.INSPECTION)
            gauge = make_equipment(tenant)
            _requirement(step, RequirementKind.EQUIPMENT, equipment_type=gauge.equipment_type)
            part = parts_of(wo)[0]
            with pytest.raises(Blocked) as e:
                part_advance(part=part, step=step.pk, measurements=good_readings(step))
            assert [r.kind for r in e.value.refusals] == [BlockKind.CALIBRATION_DUE]
            assert part_advance(part=part, step=step.pk, measurements=good_readings(step),
                                equipment=[gauge.pk])["result"] == "advanced"
            assert [sorted(kinds) for kinds in seen] == [[BlockKind.CALIBRATION_DUE, BlockKind.MISSING_INSPECTION],
                                                         [BlockKind.MISSING_INSPECTION]]
    finally:
        registry.waivers["mes.part.advance"].remove(lift_missing_inspection)


def test_an_out_of_spec_waiver_lets_the_part_advance_and_says_so(tenant, wo):
    def accept(refusals, *, parts, **context):
        assert all(isinstance(r, Refusal) and r.kind == "out_of_spec" for r in refusals)
        return [r for r in refusals if r.part_ids != (parts[0].pk,)]

    add_waiver("mes.part.out_of_spec", accept)
    try:
        with tenant_context(tenant):
            step = route_steps(wo.process)[0]
            bore = MeasurementDefinition.objects.get(step=step, label="Bore diameter")
            a, b = parts_of(wo)[:2]
            bad = [{"definition": r["definition"], "value": "7" if r["definition"] == bore.pk else r["value"]}
                   for r in good_readings(step)]
            out = parts_advance_bulk(work_order=wo, step=step.pk, parts=[{"part": a.pk, "measurements": bad},
                                                                          {"part": b.pk, "measurements": bad}])
            assert out == {"advanced": 1, "completed": 0, "quarantined": 1}
            a.refresh_from_db()
            b.refresh_from_db()
            assert a.status == PartStatus.IN_PROCESS and b.status == PartStatus.QUARANTINED
            log = StepTransitionLog.objects.filter(part=a).latest("pk")
            assert "Out of specification" in log.note and "Accepted under override" in log.note
    finally:
        registry.waivers["mes.part.out_of_spec"].remove(accept)


def test_training_types_are_per_tenant(tenant, other_tenant):
    with tenant_context(tenant):
        TrainingType.objects.create(name="Torque wrench use", validity_days=365)
    with tenant_context(other_tenant):
        assert not TrainingType.objects.exists()
