"""The characteristic pages: the list, the chart page (filters, limits label, violations, points), a
point's parts, the settings form, the baselines (compute, review, freeze with a password, discard),
who may do what, tenant isolation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta  # noqa: F401

import pytest

from traveler.core.tenancy import tenant_context  # noqa: F401
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.spc.tests.factories import measured, stable_values

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def signed_in(client, tenant, roles, **kw):
    user = make_member(tenant, roles=roles, **kw)
    assert client.login(email=user.email, password=PASSWORD)
    return user


def test_smoke(client, tenant):
    wo, bore = measured(tenant, stable_values(30), start=T0)
    signed_in(client, tenant, ["qa_manager"])
    for url in ("/spc/characteristics/", f"/spc/characteristics/{bore.pk}/", f"/spc/characteristics/{bore.pk}/settings/",
                f"/spc/characteristics/{bore.pk}/baselines/"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.content.decode()[:3000])
    html = client.get(f"/spc/characteristics/{bore.pk}/").content.decode()
    key = re.search(r'data-key="(\d+)"', html).group(1)
    r = client.get(f"/spc/characteristics/{bore.pk}/points/{key}/")
    assert r.status_code == 200, r.content.decode()[:3000]
