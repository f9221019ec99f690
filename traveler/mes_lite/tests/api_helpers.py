"""Helpers for the MES Lite API tests: signed-in clients, error bodies, what a request wrote."""

from __future__ import annotations

from traveler.core.models import History, OutboxEvent
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, make_member
from traveler.mes_lite.models import Part, Process, Step, StepMeasurement, StepTransitionLog
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings

API = "/api/v1/mes"


def signed_in(api, tenant, roles=("tenant_admin",), company=None):
    """``api`` signed in as a new member of ``tenant`` with ``roles``; JSON bodies by default."""
    if "customer" in roles and company is None:
        company = make_company(tenant)
    user = make_member(tenant, roles=list(roles), company=company)
    api.as_user(user, tenant)
    api.default_format = "json"
    api.user = user
    return api


def error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def parts_of(tenant, wo) -> list[Part]:
    with tenant_context(tenant):
        return list(Part.objects.filter(work_order=wo).order_by("serial_number").select_related("current_step"))


def route_of(tenant, wo) -> list[Step]:
    """The route of work order ``wo``, first step to last."""
    with tenant_context(tenant):
        return route_steps(Process.objects.get(pk=wo.process_id))


def readings(tenant, step) -> list[dict]:
    with tenant_context(tenant):
        return good_readings(step)


def written(tenant) -> tuple[int, ...]:
    """What a refused request must leave unchanged: transitions, measurements, events, history rows."""
    with tenant_context(tenant):
        return (StepTransitionLog.objects.count(), StepMeasurement.objects.count(),
                OutboxEvent.objects.filter(tenant_id=tenant.pk).count(),
                History.objects.filter(table_name__startswith="mes_lite_").count())


def event_names(tenant, **payload) -> list[str]:
    with tenant_context(tenant):
        qs = OutboxEvent.objects.filter(tenant_id=tenant.pk)
        if payload:
            qs = qs.filter(**{f"payload__{k}": v for k, v in payload.items()})
        return list(qs.order_by("pk").values_list("name", flat=True))
