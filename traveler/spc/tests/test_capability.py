"""Capability of the traveler's characteristics: the engine's numbers on the chart's values, the
within sigma of the baseline, warnings, intervals, the summary per part type against the tenant's
threshold, the settings; who may see and change them; tenant isolation."""

from datetime import UTC, datetime

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.spc.services.capability import characteristic_capability
from traveler.spc.stats import capability, imr_chart
from traveler.spc.tests.factories import measured, stable_values

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def test_smoke(api, tenant):
    values = stable_values(40)
    _, bore = measured(tenant, values, start=T0)
    with tenant_context(tenant):
        c = characteristic_capability(bore)
        pt = bore.step.process.part_type_id
    expected = capability(values=values, lsl=5.99, usl=6.01, sigma_within=imr_chart(values=values).sigma)
    assert c.indices["cpk"] == pytest.approx(expected["cpk"])
    api.as_user(make_member(tenant, roles=["operator"]), tenant)
    r = api.get(f"/api/v1/spc/characteristics/{bore.pk}/capability/")
    assert r.status_code == 200, r.json()
    print(r.json()["warnings"], r.json()["cpk"], r.json()["cpk_ci"])
    r = api.get(f"/api/v1/spc/capability/?part_type={pt}")
    assert r.status_code == 200, r.json()
    print(r.json())
    print(api.get("/api/v1/spc/settings/").json())
