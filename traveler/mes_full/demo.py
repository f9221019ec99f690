"""Step control on the demo's injector line: trainings (one expiring soon, one lapsed), every gauge's
calibration history, what the steps require (a training, a work instruction, an inspection sign-off),
a first-piece inspection per work order at "Hone bore", and sampling of every 5th body at "Grind seat"
(all of the next 10 after a defect).

It runs after the other modules' demo data (the manifest lists step control last), so the history
they generated is not held up by these gates; the gates apply from here on, at the station."""

from __future__ import annotations

from datetime import date, timedelta

from traveler.core.demo import demo_loader
from traveler.core.models import Tenant, User
from traveler.core.tenancy import tenant_context
from traveler.mes_full.choices import FPIScope, RequirementKind
from traveler.mes_full.models import CalibrationRecord, TrainingType
from traveler.mes_full.services.calibration import calibration_record
from traveler.mes_full.services.fpi import requirement_set
from traveler.mes_full.services.requirements import requirement_create
from traveler.mes_full.services.sampling import ruleset_create
from traveler.mes_full.services.training import training_record_create, training_type_create
from traveler.mes_lite.demo import injector_line
from traveler.mes_lite.models import Equipment

ASSEMBLY = "Injector assembly"
GRINDING = "Seat grinding"


def _user(tenant: Tenant, role: str) -> User | None:
    return User.objects.filter(email=f"{role.replace('_', '.')}@{tenant.slug}.example.com").first()


@demo_loader
def load_step_control_demo(tenant: Tenant) -> None:
    """Idempotent: nothing is added once the demo's training types exist."""
    manager, operator = _user(tenant, "production_manager"), _user(tenant, "operator")
    qa = _user(tenant, "qa_manager")
    if manager is None or operator is None or qa is None:
        return
    today = date.today()
    with tenant_context(tenant, actor=manager):
        if TrainingType.objects.filter(name=ASSEMBLY).exists():
            return
        line = injector_line()
        by_name = {s.name: s for s in line.steps}
        assembly = training_type_create(data={"name": ASSEMBLY, "validity_days": 365,
                                              "description": "Fitting nozzle, needle, spring and shims; nozzle-nut torque."})
        grinding = training_type_create(data={"name": GRINDING, "validity_days": 730,
                                              "description": "CNC seat grinder set-up and dressing."})
        # The operator's assembly training runs out in 20 days (on the "expiring soon" list); the seat
        # grinding one lapsed last month, so "Grind seat" refuses the operator until it is renewed or
        # a second person approves an override.
        training_record_create(data={"user": operator, "training_type": assembly, "trainer": manager,
                                     "completed_on": today - timedelta(days=345)})
        training_record_create(data={"user": operator, "training_type": grinding, "trainer": manager,
                                     "completed_on": today - timedelta(days=760)})
        training_record_create(data={"user": manager, "training_type": grinding, "trainer": qa,
                                     "completed_on": today - timedelta(days=100)})
        requirement_create(data={"step": by_name["Assemble nozzle & needle"], "kind": RequirementKind.TRAINING,
                                 "training_type": assembly})
        requirement_create(data={"step": by_name["Grind seat"], "kind": RequirementKind.TRAINING,
                                 "training_type": grinding})
        requirement_create(data={"step": by_name["Deburr & wash"], "kind": RequirementKind.INSPECTION,
                                 "note": "Bore intersections burr-free under the stereo microscope."})
        requirement_set(step=by_name["Hone bore"], scope=FPIScope.WORK_ORDER,
                        note="First honed bore of each work order: air gauge and surface finish.")
        # Sampling at "Grind seat": every 5th body is inspected; after a defect, the next 10 are.
        ruleset_create(data={
            "name": "Seat grinding: every 5th", "part_type": line.process.part_type, "process": line.process,
            "step": by_name["Grind seat"], "fallback_parts": 10,
            "rules": [{"kind": "every_nth", "count": 5}, {"kind": "percentage", "percent": "100", "mode": "fallback"}]})
    with tenant_context(tenant, actor=qa):
        # Each gauge's history: the calibration it arrived with becomes a record by the external lab.
        for eq in Equipment.objects.filter(last_calibration__isnull=False).order_by("name"):
            if not CalibrationRecord.objects.filter(equipment=eq).exists():
                calibration_record(equipment=eq, calibrated_on=eq.last_calibration, result="pass",
                                   certificate_number=eq.calibration_certificate or f"CAL-{eq.serial_number}",
                                   external_lab="Metrology Lab Stuttgart", performed_by=qa)
