"""SPC's demo: the capability study gives the injector line frozen baselines, a drifting
characteristic with signals, and one characteristic below the Cpk threshold."""

import pytest
from django.core.management import call_command

from traveler.core.models import Tenant
from traveler.core.tenancy import tenant_context
from traveler.mes_lite.models import Part
from traveler.spc.choices import BaselineStatus
from traveler.spc.demo import DRIFTING, PARTS, load_spc_demo
from traveler.spc.models import SPCBaseline, SPCSignal
from traveler.spc.services.characteristics import characteristic_chart

pytestmark = pytest.mark.django_db


def test_the_demo_has_baselines_a_drift_with_signals_and_a_characteristic_below_the_threshold():
    call_command("load_demo")
    for tenant in Tenant.objects.order_by("slug"):
        with tenant_context(tenant):
            assert Part.objects.filter(work_order__number="WO-SPC-01").count() == PARTS
            active = list(SPCBaseline.objects.filter(status=BaselineStatus.ACTIVE).select_related("definition"))
            assert len(active) == 4, tenant.slug
            signals = SPCSignal.objects.filter(definition__label=DRIFTING)
            assert signals.exists() and not SPCSignal.objects.exclude(definition__label=DRIFTING).exists(), tenant.slug
            cpk = {b.definition.label: characteristic_chart(b.definition).result["capability"]["cpk"] for b in active}
            assert sorted(label for label, v in cpk.items() if v < 1.33) == ["Shank Ø"], (tenant.slug, cpk)
    acme = Tenant.objects.get(slug="acme")
    load_spc_demo(acme)  # again (the whole demo twice: qms's test_demo_all): nothing more
    with tenant_context(acme):
        assert SPCBaseline.objects.filter(status=BaselineStatus.ACTIVE).count() == 4
        assert Part.objects.filter(work_order__number="WO-SPC-01").count() == PARTS
