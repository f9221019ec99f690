"""Step control's demo data: trainings (one expiring soon, one lapsed), calibration records of every
calibrated gauge, requirements on the injector line, a first-piece inspection; the operator is refused
at "Grind seat" for the lapsed training; a second load changes nothing."""

from datetime import date

import pytest

from traveler.core.demo import load_demo
from traveler.core.models import Tenant, User
from traveler.core.tenancy import tenant_context
from traveler.mes_full.models import CalibrationRecord, FPIRequirement, SamplingRuleSet, StepRequirement, TrainingRecord
from traveler.mes_full.services.requirements import requirements_guard
from traveler.mes_full.services.training import training_expiring
from traveler.mes_lite.models import Equipment, Part, Step

pytestmark = pytest.mark.django_db


def test_the_demo_shows_step_control_and_loads_once():
    load_demo()
    tenant = Tenant.objects.get(slug="acme")
    operator = User.objects.get(email="operator@acme.example.com")
    with tenant_context(tenant):
        counts = (TrainingRecord.objects.count(), StepRequirement.objects.count(), CalibrationRecord.objects.count())
        assert counts[0] == 3 and counts[1] == 3
        assert FPIRequirement.objects.get().step.name == "Hone bore"
        assert SamplingRuleSet.objects.get().step.name == "Grind seat"
        calibrated = Equipment.objects.filter(last_calibration__isnull=False)
        assert set(CalibrationRecord.objects.values_list("equipment_id", flat=True)) == {e.pk for e in calibrated}
        expiring = [r for r in training_expiring() if r.user_id == operator.pk]
        assert [r.training_type.name for r in expiring] == ["Injector assembly"]
        grind = Step.objects.filter(name="Grind seat").first()
        part = Part.objects.filter(current_step=grind).first() or Part.objects.first()
        [refusal] = requirements_guard(parts=[part], step=grind, operator=operator, equipment=[], measured=[],
                                       today=date.today())
        assert refusal.kind == "training_expired" and "Seat grinding expired on" in refusal.reason
    load_demo()
    with tenant_context(tenant):
        assert (TrainingRecord.objects.count(), StepRequirement.objects.count(),
                CalibrationRecord.objects.count()) == counts
