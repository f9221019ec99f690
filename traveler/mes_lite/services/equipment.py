"""Equipment and its calibration.

A gauge's calibration fields (last calibration, its result and certificate, the due date) change only
by recording a calibration (``equipment_calibrate``, or the first one given to ``equipment_create``);
the due date always follows from the calibration and the type's interval, never typed in. Who
recorded each calibration, and when, is in the equipment's history.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from traveler.core.errors import InvalidInput
from traveler.core.registry import run_recorders
from traveler.core.services.records import record_create, record_update
from traveler.mes_lite.choices import CalibrationResult
from traveler.mes_lite.models import Equipment, EquipmentType

CALIBRATION_FIELDS = ("last_calibration", "next_calibration", "last_calibration_result", "calibration_certificate")


def _calibration(etype: EquipmentType, *, calibrated_on: Any, result: Any, certificate: Any) -> dict:
    """The calibration fields after a calibration on ``calibrated_on``: each problem names its field."""
    if not isinstance(calibrated_on, date):
        raise InvalidInput("Give the date of the calibration.", fields={"calibrated_on": ["required"]})
    if calibrated_on > timezone.localdate():
        raise InvalidInput("A calibration cannot be dated in the future.", fields={"calibrated_on": ["in the future"]})
    if result not in CalibrationResult.values:
        raise InvalidInput("The result of a calibration is pass or fail.", fields={"result": ["pass or fail"]})
    certificate = (certificate or "").strip()
    if len(certificate) > 200:
        raise InvalidInput("A certificate reference has at most 200 characters.", fields={"certificate": ["too long"]})
    interval = etype.calibration_interval_days
    if result == CalibrationResult.FAIL:
        due = calibrated_on  # failed: due again at once (and refused by the calibration guard meanwhile)
    else:
        due = calibrated_on + timedelta(days=interval) if interval else None
    return {"last_calibration": calibrated_on, "last_calibration_result": result,
            "calibration_certificate": certificate, "next_calibration": due}


def equipment_calibrate(*, equipment: Equipment, version: int | None, calibrated_on: date,
                        result: str = CalibrationResult.PASS, certificate: str = "",
                        reason: str | None = None) -> Equipment:
    """Record a calibration: its date, result and certificate; the next due date follows from the type's
    interval (a failed calibration leaves the equipment unusable until it passes one)."""
    data = _calibration(equipment.equipment_type, calibrated_on=calibrated_on, result=result, certificate=certificate)
    if equipment.last_calibration and calibrated_on < equipment.last_calibration:
        raise InvalidInput(f"{equipment} was last calibrated on {equipment.last_calibration:%Y-%m-%d}: a calibration "
                           "cannot be recorded before it.", fields={"calibrated_on": ["before the last calibration"]})
    with transaction.atomic():
        equipment = record_update(equipment, version=version, data=data, reason=reason or "calibrated")
        _calibration_recorded(equipment)
    return equipment


def _calibration_recorded(equipment: Equipment) -> None:
    """Let modules that keep calibrations as records of their own write them (step control's calibration
    records), in this transaction: recorders of ``"mes.equipment.calibrate"`` get ``equipment`` with its new
    calibration fields."""
    run_recorders("mes.equipment.calibrate", equipment=equipment)


def equipment_create(*, data: dict, reason: str | None = None) -> Equipment:
    """New equipment, uncalibrated, or with the calibration it arrives with (``last_calibration``, and
    optionally ``last_calibration_result`` and ``calibration_certificate``)."""
    data = dict(data)
    if data.get("next_calibration"):
        raise InvalidInput("The calibration due date follows from the last calibration and the type's interval; "
                           "it is not given.", fields={"next_calibration": ["computed, not given"]})
    data.pop("next_calibration", None)
    calibrated_on = data.pop("last_calibration", None)
    result = data.pop("last_calibration_result", "")
    certificate = data.pop("calibration_certificate", "")
    etype = data.get("equipment_type")
    if calibrated_on is None:
        if result or certificate:
            raise InvalidInput("A calibration result or certificate needs the calibration's date.",
                               fields={"last_calibration": ["required with a result or certificate"]})
    elif isinstance(etype, EquipmentType):
        data.update(_calibration(etype, calibrated_on=calibrated_on, result=result or CalibrationResult.PASS,
                                 certificate=certificate))
    with transaction.atomic():
        equipment = record_create(Equipment, data=data, reason=reason)
        if equipment.last_calibration:
            _calibration_recorded(equipment)
    return equipment


def equipment_update(*, equipment: Equipment, version: int | None, data: dict, reason: str | None = None) -> Equipment:
    """Change equipment's name, serial number or type; its calibration changes only by recording one."""
    given = [f for f in CALIBRATION_FIELDS if f in data]
    if given:
        raise InvalidInput("Calibration dates, result and certificate change only by recording a calibration "
                           "(calibrate).", fields={f: ["record a calibration instead"] for f in given})
    return record_update(equipment, version=version, data=data, reason=reason)
