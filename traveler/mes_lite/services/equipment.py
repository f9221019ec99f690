"""Equipment and its calibration."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from traveler.core.errors import InvalidInput
from traveler.core.services.records import record_create, record_update
from traveler.mes_lite.models import Equipment


def equipment_calibrate(*, equipment: Equipment, version: int | None, calibrated_on: date,
                        reason: str | None = None) -> Equipment:
    """Record a calibration: the next due date follows from the type's interval."""
    if calibrated_on > timezone.localdate():
        raise InvalidInput("A calibration cannot be dated in the future.", fields={"calibrated_on": ["in the future"]})
    interval = equipment.equipment_type.calibration_interval_days
    data = {"last_calibration": calibrated_on,
            "next_calibration": calibrated_on + timedelta(days=interval) if interval else None}
    return record_update(equipment, version=version, data=data, reason=reason or "calibrated")


def equipment_create(*, data: dict, reason: str | None = None) -> Equipment:
    data = dict(data)
    etype = data.get("equipment_type")
    if data.get("last_calibration") and not data.get("next_calibration") and etype and etype.calibration_interval_days:
        data["next_calibration"] = data["last_calibration"] + timedelta(days=etype.calibration_interval_days)
    return record_create(Equipment, data=data, reason=reason)
