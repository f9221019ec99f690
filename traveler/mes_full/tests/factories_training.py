"""Factories for training and calibration: real services, unique names, no fixed ids."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member, record_factory
from traveler.mes_full.models import CalibrationRecord, TrainingRecord, TrainingType
from traveler.mes_full.services.calibration import calibration_record
from traveler.mes_full.services.requirements import requirement_create
from traveler.mes_full.services.training import training_record_create, training_type_create
from traveler.mes_lite.models import Equipment, EquipmentType, Step
from traveler.mes_lite.services.equipment import equipment_create

_n = itertools.count(1)


def make_training_type(tenant, *, validity_days: int | None = 365, name: str | None = None) -> TrainingType:
    with tenant_context(tenant):
        return training_type_create(data={"name": name or f"Torque wrench use {next(_n)}-{uuid.uuid4().hex[:4]}",
                                          "validity_days": validity_days})


def make_training_record(tenant, *, user=None, training_type=None, completed_on: date | None = None,
                         expires_on: date | None = None, **kw) -> TrainingRecord:
    user = user or make_member(tenant, roles=["operator"])
    training_type = training_type or make_training_type(tenant)
    with tenant_context(tenant):
        return training_record_create(data={"user": user, "training_type": training_type,
                                            "completed_on": completed_on or date.today() - timedelta(days=10),
                                            "expires_on": expires_on, **kw})


def require_training(tenant, step: Step, training_type: TrainingType):
    with tenant_context(tenant):
        return requirement_create(data={"step": step, "kind": "training", "training_type": training_type})


def make_gauge(tenant, *, interval: int = 365, calibrated_on: date | None = None) -> Equipment:
    """A gauge of a type calibrated every ``interval`` days; with ``calibrated_on``, a passed calibration
    record of that day."""
    with tenant_context(tenant):
        etype = EquipmentType.objects.create(name=f"Bore gauge type {next(_n)}-{uuid.uuid4().hex[:4]}",
                                             calibration_interval_days=interval)
        gauge = equipment_create(data={"equipment_type": etype, "name": f"Bore gauge {next(_n)}",
                                       "serial_number": f"BG-{uuid.uuid4().hex[:8]}"})
        if calibrated_on is not None:
            calibration_record(equipment=gauge, calibrated_on=calibrated_on, result="pass",
                               external_lab="Metrology Lab Ltd")
        return Equipment.objects.get(pk=gauge.pk)


@record_factory(TrainingType)
def _training_type(tenant):
    return make_training_type(tenant)


@record_factory(TrainingRecord)
def _training_record(tenant):
    return make_training_record(tenant)


@record_factory(CalibrationRecord)
def _calibration_record(tenant):
    """A failed calibration after a passed one (so that every action on a record applies to it)."""
    gauge = make_gauge(tenant, calibrated_on=date.today() - timedelta(days=5))
    with tenant_context(tenant):
        return calibration_record(equipment=gauge, calibrated_on=date.today(), result="fail",
                                  external_lab="Metrology Lab Ltd", note="Out of tolerance by 4 µm")
