"""The whole demo, as `./dev demo` loads it: the platform's tenants and users, then every installed
module's loader in each tenant (MES, SPC, quality). Each loader's own test checks its content; this
one checks that they run together, in the order the modules are installed, and a second time change
nothing."""

from collections import Counter

import pytest
from django.core.management import call_command

from traveler.core.models import History, Tenant
from traveler.core.tenancy import tenant_context
from traveler.qms.models import CAPA, HeatmapAnnotation, QuarantineDisposition, ThreeDModel
from traveler.qms.services.analytics import analytics_filters, defect_pareto

pytestmark = pytest.mark.django_db(transaction=False)


def _counts():
    out = {}
    for tenant in Tenant.objects.order_by("slug"):
        with tenant_context(tenant):
            out[tenant.slug] = (Counter(QuarantineDisposition.objects.values_list("state", flat=True)),
                                CAPA.objects.count(), ThreeDModel.objects.count(), HeatmapAnnotation.objects.count(),
                                len(defect_pareto(by="code", filters=analytics_filters({}))["rows"]), History.objects.count())
    return out


def test_the_whole_demo_loads_in_both_tenants_and_again_changes_nothing():
    call_command("load_demo")
    first = _counts()
    assert set(first) == {"acme", "kestrel"}
    for slug, (ncrs, capas, models, annotations, pareto_codes, _history) in first.items():
        assert set(ncrs) == {"open", "in_progress", "dispositioned", "closed", "cancelled"}, slug
        assert capas >= 2 and models == 1 and annotations > 0, slug
        assert pareto_codes == 4, slug  # the dashboard's Pareto of the last 30 days has every demo code
    call_command("load_demo")
    assert _counts() == first
