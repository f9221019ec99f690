"""The nonconformance demo: every state, one reworked, one scrapped, one used as is with a concession."""

from collections import Counter

from traveler.core.demo import DEMO_PASSWORD
from traveler.core.models import History
from traveler.core.services.users import member_add
from traveler.core.tenancy import tenant_context
from traveler.mes_lite import demo as mes_demo
from traveler.mes_lite.tests.test_demo_generate import acme  # noqa: F401  (fixture)
from traveler.qms.demo_ncr import load_ncr_demo
from traveler.qms.models import Concession, NonconformancePart, QuarantineDisposition


def test_demo_ncrs_in_every_state_once(acme):  # noqa: F811
    tenant = acme
    with tenant_context(tenant):
        for role, name in (("qa_manager", "Quinn QA"), ("qa_inspector", "Ian Inspector")):
            member_add(email=f"{role.replace('_', '.')}@acme.example.com", full_name=name, password=DEMO_PASSWORD,
                       roles=[role])
        member_add(email="dana@example.com", full_name="Dana Quality Lead", password=DEMO_PASSWORD, roles=["qa_manager"])
        mes_demo.load_mes_demo(tenant)
        load_ncr_demo(tenant)
        states = Counter(QuarantineDisposition.objects.values_list("state", flat=True))
        assert set(states) == {"open", "in_progress", "dispositioned", "closed", "cancelled"}
        outcomes = set(NonconformancePart.objects.values_list("outcome", flat=True))
        assert {"reworked", "scrapped", "accepted"} <= outcomes
        assert QuarantineDisposition.objects.get(disposition="use_as_is").state == "dispositioned"
        assert Concession.objects.count() >= 1
        before = (QuarantineDisposition.objects.count(), History.objects.count())
        load_ncr_demo(tenant)
        assert (QuarantineDisposition.objects.count(), History.objects.count()) == before
