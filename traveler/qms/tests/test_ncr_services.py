"""Nonconformances through the services: numbering, containment, the guard, every transition and
what each disposition does to the parts."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from traveler.core.errors import Conflict, InvalidInput, NotAuthenticated
from traveler.core.models import ApprovalRequest, OutboxEvent, Signature
from traveler.core.queue import run_pending
from traveler.core.services.approvals import approval_respond
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member
from traveler.mes_lite.choices import PartStatus, TransitionAction
from traveler.mes_lite.models import Part, StepTransitionLog
from traveler.mes_lite.services.parts import Blocked, part_advance, part_release, part_rework_attempts
from traveler.mes_lite.services.routing import part_type_update, route_steps
from traveler.mes_lite.tests.factories import good_readings, make_order, make_work_order
from traveler.qms.choices import DispositionStatus, NcrState
from traveler.qms.models import NonconformancePart, NonconformanceSettings, QuarantineDisposition
from traveler.qms.services.dispositions import (
    concession_record,
    disposition_options,
    disposition_plan,
    nonconformance_disposition,
)
from traveler.qms.services.nonconformances import (
    nonconformance_cancel,
    nonconformance_close,
    nonconformance_open,
    nonconformance_start,
    nonconformance_verify,
)
from traveler.qms.tests.factories import make_nonconformance, quarantined_parts


@pytest.fixture
def qa(tenant):
    return make_member(tenant, roles=["qa_manager"], full_name="Quinn Quality")


def _decide(tenant, qa, ncr, disposition, **kw):
    with tenant_context(tenant, actor=qa):
        return nonconformance_disposition(nonconformance=QuarantineDisposition.objects.get(pk=ncr.pk),
                                          disposition=disposition, user=qa, password=PASSWORD, **kw)


def test_opening_numbers_holds_the_parts_and_publishes(tenant, qa):
    parts, route = quarantined_parts(tenant, 2)
    with tenant_context(tenant, actor=qa):
        ncr = nonconformance_open(title="Bore oversize", severity="major", parts=parts, owner=qa,
                                  step_found=route[1], due_date=date(2027, 1, 15))
        assert ncr.number == f"NCR-{date.today().year}-0001" and ncr.state == NcrState.OPEN
        assert {p.status for p in Part.objects.filter(pk__in=[p.pk for p in parts])} == {PartStatus.ON_HOLD}
        event = OutboxEvent.objects.get(name="qms.nonconformance.opened")
        assert event.payload["number"] == ncr.number and event.payload["part_ids"] == sorted(p.pk for p in parts)
        second = nonconformance_open(title="Burr", parts=[parts[0]])
        assert second.number.endswith("-0002")


def test_opening_on_all_open_parts_of_a_work_order(tenant, qa):
    wo = make_work_order(tenant, quantity=3)
    with tenant_context(tenant, actor=qa):
        ncr = nonconformance_open(title="Wrong bar stock", work_order=wo)
        assert ncr.part_links.count() == 3


def test_bad_input_names_the_field_and_writes_nothing(tenant, qa):
    parts, route = quarantined_parts(tenant, 1)
    with tenant_context(tenant, actor=qa):
        for kwargs, fld in (({"title": "", "parts": parts}, "title"), ({"title": "x", "parts": []}, "parts"),
                            ({"title": "x", "parts": parts, "severity": "huge"}, "severity")):
            with pytest.raises(InvalidInput) as e:
                nonconformance_open(**kwargs)
            assert fld in e.value.fields
        assert not QuarantineDisposition.objects.exists()
        assert Part.objects.get(pk=parts[0].pk).status == PartStatus.QUARANTINED


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_opens_get_twenty_numbers_without_gap_or_duplicate(tenant):
    parts, _ = quarantined_parts(tenant, 20)
    numbers, errors = [], []

    def open_one(part):
        try:
            with tenant_context(tenant):
                numbers.append(nonconformance_open(title="Concurrent", parts=[part]).number)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_one, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    year = date.today().year
    assert sorted(numbers) == [f"NCR-{year}-{i:04d}" for i in range(1, 21)]


def test_the_guard_blocks_advance_and_release_of_a_part_under_an_open_ncr(tenant, qa):
    wo = make_work_order(tenant, quantity=1)
    with tenant_context(tenant, actor=qa):
        part = Part.objects.get(work_order=wo)
        step = route_steps(wo.process)[0]
        ncr = nonconformance_open(title="Suspect material", parts=[part])
        with pytest.raises(Blocked, match=ncr.number):
            part_release(part=part, reason="let it go")
        # Even a part not on hold (held before, released by someone else) cannot advance while contained.
        Part.objects.filter(pk=part.pk).update(status=PartStatus.IN_PROCESS, current_step=step)
        with pytest.raises(Blocked, match="Under nonconformance"):
            part_advance(part=part, step=step.pk, measurements=good_readings(step))
        nonconformance_cancel(nonconformance=ncr, reason="Opened on the wrong lot")
        part.refresh_from_db()
        part_advance(part=part, step=step.pk, measurements=good_readings(step))


def test_cancel_needs_a_reason_and_releases_the_parts(tenant, qa):
    ncr, parts = make_nonconformance(tenant, by=qa)
    with tenant_context(tenant, actor=qa):
        with pytest.raises(InvalidInput) as e:
            nonconformance_cancel(nonconformance=ncr, reason=" ")
        assert "reason" in e.value.fields
        ncr = nonconformance_cancel(nonconformance=ncr, reason="Duplicate of another NCR")
        assert ncr.state == NcrState.CANCELLED and ncr.state_reason == "Duplicate of another NCR"
        assert Part.objects.get(pk=parts[0].pk).status == PartStatus.QUARANTINED  # back to what it was
        with pytest.raises(Conflict):
            nonconformance_start(nonconformance=ncr)


def test_rework_sends_back_counts_and_at_the_limit_only_scrap_or_use_as_is_remain(tenant, qa):
    ncr, [part] = make_nonconformance(tenant, by=qa, count=1)
    with tenant_context(tenant, actor=qa):
        route = route_steps(part.process)
        part_type_update(part_type=part.part_type, version=part.part_type.version, data={"max_rework_attempts": 1})
        nonconformance_start(nonconformance=ncr)
        plan = disposition_plan(nonconformance=ncr, disposition="rework", to_step=route[0])
        assert plan.consequences == [f"part {part.serial_number} will return to step {route[0].sequence} "
                                     f"'{route[0].name}'; rework attempt 1 of 1"]
    ncr = _decide(tenant, qa, ncr, "rework", to_step=route[0], note="Regrind the bore")
    with tenant_context(tenant, actor=qa):
        assert ncr.state == NcrState.DISPOSITIONED and ncr.disposition_status == DispositionStatus.DONE
        part.refresh_from_db()
        assert (part.status, part.current_step_id) == (PartStatus.IN_PROCESS, route[0].pk)
        assert part_rework_attempts(part=part) == 1
        log = StepTransitionLog.objects.filter(part=part, action=TransitionAction.REWORK).get()
        assert ncr.number in log.note and "Regrind" in log.note
        assert Signature.objects.filter(record_id=str(ncr.pk), meaning="dispositioned", signer=qa).count() == 1
        assert OutboxEvent.objects.filter(name="qms.nonconformance.dispositioned", payload__nonconformance_id=ncr.pk)
        # Same part again out of spec: a second NCR can no longer rework it.
        part_advance(part=part, step=route[0].pk, measurements=good_readings(route[0]))
        bad = good_readings(route[1])
        bad[0]["value"] = "99"
        part_advance(part=Part.objects.get(pk=part.pk), step=route[1].pk, measurements=bad)
        again = nonconformance_open(title="Leak again", parts=[Part.objects.get(pk=part.pk)])
        options = disposition_options(nonconformance=again)
        assert options["rework"] and options["repair"] and options["scrap"] is None and options["use_as_is"] is None
    with pytest.raises(InvalidInput, match="only scrap or use as is"):
        _decide(tenant, qa, again, "rework", to_step=route[0])
    ncr = _decide(tenant, qa, again, "scrap", note="Beyond rework")
    with tenant_context(tenant):
        assert Part.objects.get(pk=part.pk).status == PartStatus.SCRAPPED


def test_scrap_posts_through_mes_lite_with_the_ncr_number(tenant, qa):
    ncr, parts = make_nonconformance(tenant, by=qa, count=2)
    ncr = _decide(tenant, qa, ncr, "scrap")
    with tenant_context(tenant):
        for p in parts:
            log = StepTransitionLog.objects.filter(part=p).order_by("pk").last()
            assert log.action == TransitionAction.SCRAP and ncr.number in log.note
            assert Part.objects.get(pk=p.pk).status == PartStatus.SCRAPPED
        assert OutboxEvent.objects.filter(name="mes.part.scrapped").count() == 2


def test_repair_marks_the_part_repaired_and_writes_the_deviation_on_its_traveler(tenant, qa):
    ncr, [part] = make_nonconformance(tenant, by=qa, count=1)
    with tenant_context(tenant):
        route = route_steps(part.process)
    _decide(tenant, qa, ncr, "repair", to_step=route[1], note="Sleeve fitted to the bore")
    with tenant_context(tenant):
        link = NonconformancePart.objects.get(nonconformance=ncr)
        assert link.repaired and link.outcome == "repaired"
        log = StepTransitionLog.objects.filter(part=part, action=TransitionAction.REWORK).get()
        assert "deviation" in log.note and "Sleeve fitted" in log.note


def test_return_to_supplier_needs_supplier_rma_and_shipment(tenant, qa):
    ncr, [part] = make_nonconformance(tenant, by=qa, count=1)
    with pytest.raises(InvalidInput) as e:
        _decide(tenant, qa, ncr, "return_to_supplier")
    assert {"supplier", "rma_number", "shipment_reference"} <= set(e.value.fields)
    supplier = make_company(tenant)
    ncr = _decide(tenant, qa, ncr, "return_to_supplier", supplier=supplier, rma_number="RMA-77",
                  shipment_reference="DHL 123")
    with tenant_context(tenant):
        assert Part.objects.get(pk=part.pk).status == PartStatus.RETURNED
        assert ncr.rma_number == "RMA-77" and ncr.supplier_id == supplier.pk


def test_a_wrong_password_signs_and_changes_nothing(tenant, qa):
    ncr, [part] = make_nonconformance(tenant, by=qa, count=1)
    with tenant_context(tenant, actor=qa), pytest.raises(NotAuthenticated):
        nonconformance_disposition(nonconformance=ncr, disposition="scrap", user=qa, password="wrong")
    with tenant_context(tenant):
        assert QuarantineDisposition.objects.get(pk=ncr.pk).disposition == ""
        assert Part.objects.get(pk=part.pk).status == PartStatus.ON_HOLD


def _approve(tenant, req, user):
    with tenant_context(tenant, actor=user):
        approval_respond(request=ApprovalRequest.objects.get(pk=req.pk), user=user, password=PASSWORD,
                         decision="approved")
    with tenant_context(tenant):
        run_pending()


def test_use_as_is_needs_the_concession_and_two_review_board_signatures(tenant, qa):
    customer = make_company(tenant)
    order = make_order(tenant, company=customer)
    ncr, [part] = make_nonconformance(tenant, by=qa, count=1, order=order)
    board = [make_member(tenant, roles=["qa_manager"], full_name=f"Board {i}") for i in (1, 2)]
    with pytest.raises(InvalidInput) as e:
        _decide(tenant, qa, ncr, "use_as_is")
    assert "concession" in e.value.fields
    with tenant_context(tenant, actor=qa):
        concession_record(nonconformance=ncr, customer=customer, granted_by="Carla Customer", reference="CC-9",
                          granted_on=date.today())
    ncr = _decide(tenant, qa, ncr, "use_as_is", note="Within the customer's functional limits")
    assert ncr.state == NcrState.IN_PROGRESS and ncr.disposition_status == DispositionStatus.AWAITING_APPROVAL
    with tenant_context(tenant):
        req = ApprovalRequest.objects.get(record_id=str(ncr.pk), status="pending")
        assert req.template_type == "material_review" and req.threshold == 2
    _approve(tenant, req, board[0])
    with tenant_context(tenant):
        assert QuarantineDisposition.objects.get(pk=ncr.pk).disposition_status == DispositionStatus.AWAITING_APPROVAL
        assert Part.objects.get(pk=part.pk).status == PartStatus.ON_HOLD  # one signature is not enough
    _approve(tenant, req, board[1])
    with tenant_context(tenant):
        ncr = QuarantineDisposition.objects.get(pk=ncr.pk)
        assert ncr.state == NcrState.DISPOSITIONED
        part = Part.objects.get(pk=part.pk)
        assert part.status == PartStatus.IN_PROCESS  # quarantined at step 2, accepted: goes on to step 3
        assert part.current_step_id == route_steps(part.process)[2].pk


def test_critical_needs_approval_and_a_rejection_returns_it_to_in_progress(tenant, qa):
    approver = make_member(tenant, roles=["qa_manager"], full_name="Ann Approver")
    ncr, [part] = make_nonconformance(tenant, by=qa, count=1, severity="critical")
    ncr = _decide(tenant, qa, ncr, "scrap")
    assert ncr.disposition_status == DispositionStatus.AWAITING_APPROVAL
    with tenant_context(tenant, actor=approver):
        req = ApprovalRequest.objects.get(record_id=str(ncr.pk), status="pending")
        assert req.template_type == "nonconformance_disposition"
        approval_respond(request=req, user=approver, password=PASSWORD, decision="rejected", comment="Rework it")
    with tenant_context(tenant):
        run_pending()
        ncr = QuarantineDisposition.objects.get(pk=ncr.pk)
        assert (ncr.state, ncr.disposition, ncr.disposition_status) == (NcrState.IN_PROGRESS, "", "")
        assert Part.objects.get(pk=part.pk).status == PartStatus.ON_HOLD
    ncr = _decide(tenant, qa, ncr, "scrap")
    with tenant_context(tenant):
        req = ApprovalRequest.objects.get(record_id=str(ncr.pk), status="pending")
    _approve(tenant, req, approver)
    with tenant_context(tenant):
        assert Part.objects.get(pk=part.pk).status == PartStatus.SCRAPPED


def test_the_tenant_setting_asks_approval_for_major_ones(tenant, qa):
    make_member(tenant, roles=["qa_manager"])
    with tenant_context(tenant):
        NonconformanceSettings.objects.create(approve_major=True)
    ncr, _ = make_nonconformance(tenant, by=qa, count=1, severity="major")
    assert _decide(tenant, qa, ncr, "scrap").disposition_status == DispositionStatus.AWAITING_APPROVAL
    minor, _ = make_nonconformance(tenant, by=qa, count=1, severity="minor")
    assert _decide(tenant, qa, minor, "scrap").disposition_status == DispositionStatus.DONE


def test_closing_needs_the_disposition_done_and_verified(tenant, qa):
    ncr, _ = make_nonconformance(tenant, by=qa, count=1)
    with tenant_context(tenant, actor=qa):
        with pytest.raises(Conflict):
            nonconformance_close(nonconformance=ncr)
    ncr = _decide(tenant, qa, ncr, "scrap")
    with tenant_context(tenant, actor=qa):
        with pytest.raises(Conflict, match="verification"):
            nonconformance_close(nonconformance=ncr)
        with pytest.raises(InvalidInput):
            nonconformance_verify(nonconformance=ncr, note="")
        ncr = nonconformance_verify(nonconformance=ncr, note="Scrap tag seen in the red bin")
        assert ncr.verified_by_id == qa.pk and ncr.verified_at
        ncr = nonconformance_close(nonconformance=ncr)
        assert ncr.state == NcrState.CLOSED
        assert OutboxEvent.objects.filter(name="qms.nonconformance.closed", payload__nonconformance_id=ncr.pk).exists()
        with pytest.raises(Conflict):
            nonconformance_cancel(nonconformance=ncr, reason="too late")
