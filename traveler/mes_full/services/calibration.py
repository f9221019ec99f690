"""Calibration records: every calibration of a gauge is a record, and each record sets the equipment's
calibration fields in the same transaction (MES Lite's ``equipment_calibrate``), so the traveler's
calibration guard reads exactly what the records say.

``calibration_record`` is the full way in (result pass, fail or adjusted; certificate document; who
performed it; external lab). A calibration recorded through MES Lite's own page or API still becomes a
record here (``calibration_recorded_by_equipment``, a recorder of ``"mes.equipment.calibrate"``), so no
calibration status changes without one. A failed calibration makes every part measured with the gauge
since its last passing calibration suspect (``calibration_suspects``); reporting them publishes
``mes_full.nonconformance.requested`` (source ``calibration``), which Quality answers with one
nonconformance.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import transaction
from django.db.models import Count, F, Max, Min
from django.urls import reverse
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import Document, User
from traveler.core.services.records import record_create, record_update
from traveler.core.tenancy import audit_reason, current_actor
from traveler.mes_full.choices import CalibrationOutcome
from traveler.mes_full.events import NonconformanceRequested
from traveler.mes_full.models import CalibrationRecord
from traveler.mes_lite.choices import CalibrationResult, PartStatus
from traveler.mes_lite.models import Equipment, EquipmentUsage
from traveler.mes_lite.services.equipment import equipment_calibrate

DUE_SOON_DAYS = 30
_RECORDING: ContextVar[bool] = ContextVar("mes_full_calibration_recording", default=False)


def _text(value: Any, field: str, limit: int | None = None) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else value
    if not isinstance(value, str):
        raise InvalidInput(f"{field} is text.", fields={field: ["text"]})
    if limit and len(value) > limit:
        raise InvalidInput(f"{field} has at most {limit} characters.", fields={field: ["too long"]})
    return value


def calibration_record(*, equipment: Equipment, calibrated_on: date, result: str,
                       certificate: Document | None = None, certificate_number: str = "",
                       performed_by: User | None = None, external_lab: str = "", adjustment_note: str = "",
                       note: str = "", reason: str | None = None) -> CalibrationRecord:
    """Record a calibration of ``equipment`` and set its calibration status from it: pass and adjusted
    let it be used until the next due date (the type's interval), fail blocks it until one passes."""
    if result not in CalibrationOutcome.values:
        raise InvalidInput("The result is pass, fail or adjusted.", fields={"result": ["pass, fail or adjusted"]})
    adjustment_note = _text(adjustment_note, "adjustment_note", 4000)
    if result == CalibrationOutcome.ADJUSTED and not adjustment_note:
        raise InvalidInput("Say what was adjusted.", fields={"adjustment_note": ["required when adjusted"]})
    external_lab = _text(external_lab, "external_lab", 200)
    note = _text(note, "note", 4000)
    if performed_by is None and not external_lab:
        performed_by = current_actor()
    if equipment.archived_at is not None:
        raise Conflict(f"{equipment} is archived.", fields={"equipment": ["archived"]})
    with transaction.atomic(), audit_reason(reason or f"calibrated: {CalibrationOutcome(result).label.lower()}"):
        locked = Equipment.objects.select_for_update().select_related("equipment_type").get(pk=equipment.pk)
        token = _RECORDING.set(True)
        try:
            updated = equipment_calibrate(
                equipment=locked, version=locked.version, calibrated_on=calibrated_on,
                result=CalibrationResult.FAIL if result == CalibrationOutcome.FAIL else CalibrationResult.PASS,
                certificate=certificate_number, reason=reason)
        finally:
            _RECORDING.reset(token)
        record = record_create(CalibrationRecord, data={
            "equipment": updated, "calibrated_on": calibrated_on, "result": result, "next_due": updated.next_calibration,
            "certificate": certificate, "certificate_number": updated.calibration_certificate,
            "performed_by": performed_by, "external_lab": external_lab, "adjustment_note": adjustment_note,
            "note": note}, reason=reason)
    for attr in ("last_calibration", "next_calibration", "last_calibration_result", "calibration_certificate",
                 "version", "updated_at"):
        setattr(equipment, attr, getattr(updated, attr))
    return record


def calibration_recorded_by_equipment(*, equipment: Equipment, **_) -> None:
    """The recorder of ``"mes.equipment.calibrate"``: a calibration recorded through MES Lite (its
    equipment page or API, or new equipment arriving calibrated) becomes a calibration record too."""
    if _RECORDING.get():
        return  # calibration_record writes its own, with everything it was given
    record_create(CalibrationRecord, data={
        "equipment": equipment, "calibrated_on": equipment.last_calibration,
        "result": CalibrationOutcome.FAIL if equipment.last_calibration_result == CalibrationResult.FAIL
        else CalibrationOutcome.PASS,
        "next_due": equipment.next_calibration, "certificate_number": equipment.calibration_certificate,
        "performed_by": current_actor()})


# What a failed calibration puts in doubt ---------------------------------------------------------

@dataclass(frozen=True)
class Suspects:
    """The parts measured with a gauge between its last passing calibration (``since``, that day
    included; None: never passed) and the failed one, or after it until it passed again (``until``)."""

    record: CalibrationRecord
    since: date | None
    until: datetime | None
    parts: list[dict]

    @property
    def part_ids(self) -> list[int]:
        return [p["part_id"] for p in self.parts]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, timezone.get_current_timezone())


def calibration_suspects(*, record: CalibrationRecord) -> Suspects:
    """Every part measured with the failed calibration's equipment since its last passing calibration
    (from the start of that day: a gauge that passed in the morning and measured the same day is
    reported rather than missed), until the next passing calibration was recorded, if any. One row per
    part with its first and last use, the steps and how often (one query)."""
    if record.result != CalibrationOutcome.FAIL:
        raise Conflict(f"The calibration of {record.calibrated_on:%Y-%m-%d} passed: it puts no part in doubt.",
                       fields={"result": [record.result]})
    earlier = (CalibrationRecord.objects.filter(equipment_id=record.equipment_id, archived_at__isnull=True,
                                                calibrated_on__lte=record.calibrated_on)
               .exclude(result=CalibrationOutcome.FAIL).exclude(pk=record.pk))
    earlier = earlier.exclude(calibrated_on=record.calibrated_on, pk__gt=record.pk)
    last_pass = earlier.order_by("-calibrated_on", "-pk").values_list("calibrated_on", flat=True).first()
    after = (CalibrationRecord.objects.filter(equipment_id=record.equipment_id, archived_at__isnull=True,
                                              calibrated_on__gte=record.calibrated_on, pk__gt=record.pk)
             .exclude(result=CalibrationOutcome.FAIL).order_by("calibrated_on", "pk").values_list("created_at", flat=True)
             .first())
    usages = EquipmentUsage.objects.filter(equipment_id=record.equipment_id)
    if last_pass is not None:
        usages = usages.filter(start_time__gte=_day_start(last_pass))
    if after is not None:
        usages = usages.filter(start_time__lt=after)
    rows = list(usages.values("part_id").annotate(
        serial_number=Max("part__serial_number"), work_order=Max("part__work_order__number"),
        status=Max("part__status"), first_used=Min("start_time"), last_used=Max("start_time"),
        uses=Count("id"), steps=ArrayAgg("step__name", distinct=True, order_by="step__name"))
        .order_by("first_used", "part_id"))
    labels = dict(PartStatus.choices)
    for row in rows:
        row["status_label"] = labels.get(row["status"], row["status"])
    return Suspects(record=record, since=last_pass, until=after, parts=rows)


def calibration_suspects_report(*, record: CalibrationRecord, reason: str | None = None) -> CalibrationRecord:
    """Report a failed calibration's suspect parts to Quality (``mes_full.nonconformance.requested``, source
    ``calibration``: one nonconformance for them), once per calibration."""
    with transaction.atomic(), audit_reason(reason or "suspect parts reported to Quality"):
        locked = CalibrationRecord.objects.select_for_update().get(pk=record.pk)
        if locked.suspects_reported_at is not None:
            raise Conflict(f"The suspect parts of this calibration were reported on "
                           f"{timezone.localtime(locked.suspects_reported_at):%Y-%m-%d %H:%M}.",
                           fields={"suspects_reported_at": ["already reported"]})
        suspects = calibration_suspects(record=locked)
        if not suspects.parts:
            raise Conflict("No part was measured with this equipment since its last passing calibration: there is "
                           "nothing to report.", fields={"parts": ["none"]})
        updated = record_update(locked, version=locked.version, data={"suspects_reported_at": timezone.now()})
        equipment = locked.equipment
        since = (f"since its passing calibration of {suspects.since:%Y-%m-%d}" if suspects.since
                 else "(it never passed a calibration)")
        url = reverse("mes_full:calibrationrecord-suspects", args=[locked.pk])
        publish(NonconformanceRequested(
            source="calibration", source_id=locked.pk, step_id=None, part_ids=suspects.part_ids,
            title=f"Suspect parts: {equipment} failed its calibration of {locked.calibrated_on:%Y-%m-%d}"[:200],
            description=(f"{len(suspects.parts)} part(s) were measured with {equipment} {since}, which failed its "
                         f"calibration of {locked.calibrated_on:%Y-%m-%d}. Suspect-product report: {url}")))
    return updated


# The schedule ------------------------------------------------------------------------------------

def calibration_state(equipment: Equipment, today: date) -> str:
    """overdue (past due, or failed: may not be used), never (never calibrated), due_soon, ok."""
    if equipment.next_calibration is None:
        return "never" if equipment.last_calibration is None else "ok"
    if equipment.last_calibration_result == CalibrationResult.FAIL or equipment.next_calibration < today:
        return "overdue"
    if equipment.next_calibration <= today + timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return "ok"


def calibration_schedule(*, today: date | None = None) -> list[dict]:
    """Equipment whose type needs calibration, by due date (never calibrated first), each with its state."""
    today = today or timezone.localdate()
    equipment = (Equipment.objects.filter(archived_at__isnull=True, equipment_type__calibration_interval_days__isnull=False)
                 .select_related("equipment_type")
                 .order_by(F("next_calibration").asc(nulls_first=True), "name", "pk"))
    return [{"equipment": e, "state": calibration_state(e, today)} for e in equipment]
