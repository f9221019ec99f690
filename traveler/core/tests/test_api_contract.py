"""Contracts every API endpoint keeps, run against every endpoint the installed modules register."""

import importlib
import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from traveler.core.api.base import TenantRecordViewSet
from traveler.core.modules import installed_modules
from traveler.core.tests.factories import RECORD_FACTORIES, make_member

for _m in installed_modules():  # each module's tests register their record factories
    if importlib.util.find_spec(f"{_m.name}.tests") and importlib.util.find_spec(f"{_m.name}.tests.factories"):
        importlib.import_module(f"{_m.name}.tests.factories")


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def api_endpoints():
    out = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/") or "schema" in route or "docs" in route:
            continue
        cls = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None) or {}
        out.append((route, cls, actions))
    return out


def record_list_routes():
    seen = []
    for route, cls, actions in api_endpoints():
        if cls and issubclass(cls, TenantRecordViewSet) and actions.get("get") == "list":
            seen.append(("/" + route.replace("^", "").replace("$", ""), cls))
    return seen


RECORD_ROUTES = record_list_routes()


def test_every_record_endpoint_has_a_factory():
    missing = [cls.model.__name__ for _, cls in RECORD_ROUTES if cls.model not in RECORD_FACTORIES]
    assert RECORD_ROUTES and not missing, f"register a record factory for: {missing}"


@pytest.mark.parametrize("route,cls", RECORD_ROUTES, ids=[r for r, _ in RECORD_ROUTES])
def test_tenant_isolation(route, cls, api, tenant, other_tenant):
    """A user of one tenant can neither list, read, change nor archive another tenant's records."""
    mine = RECORD_FACTORIES[cls.model](tenant)
    theirs = RECORD_FACTORIES[cls.model](other_tenant)
    api.as_user(make_member(tenant, roles=["system_admin"]), tenant)
    listed = api.get(route, {"limit": 500}).json()
    ids = {row["id"] for row in listed["results"]}
    assert mine.pk in ids and theirs.pk not in ids
    detail = f"{route}{theirs.pk}/"
    for method in ("get", "patch", "delete"):
        r = getattr(api, method)(detail, {"version": 1} if method == "patch" else None, format="json")
        assert r.status_code == 404, (method, r.status_code)
        assert r.json()["error"]["status"] == 404
    assert api.get(f"{detail}history/").status_code == 404


@pytest.mark.parametrize("route,cls", RECORD_ROUTES, ids=[r for r, _ in RECORD_ROUTES])
def test_history_through_api(route, cls, api, tenant):
    obj = RECORD_FACTORIES[cls.model](tenant)
    api.as_user(make_member(tenant, roles=["system_admin"]), tenant)
    r = api.get(f"{route}{obj.pk}/history/")
    assert r.status_code == 200
    assert r.json()["results"][-1]["action"] == "Created"


@pytest.mark.parametrize("route,cls", RECORD_ROUTES, ids=[r for r, _ in RECORD_ROUTES])
def test_list_query_count_does_not_grow_with_rows(route, cls, api, tenant):
    api.as_user(make_member(tenant, roles=["system_admin"]), tenant)
    factory = RECORD_FACTORIES[cls.model]
    factory(tenant)
    api.get(route)  # warm caches (token last-used update, content types)
    with CaptureQueriesContext(connection) as few:
        assert api.get(route).status_code == 200
    for _ in range(5):
        factory(tenant)
    with CaptureQueriesContext(connection) as many:
        assert api.get(route).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_every_endpoint_requires_authentication(client, db):
    for route, _cls, actions in api_endpoints():
        if "auth/token" in route:
            continue
        url = "/" + re.sub(r"<(\w+:)?\w+>", "1", re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)).replace("^", "").replace("$", "")
        method = next(iter(actions), "get") if actions else "get"
        r = getattr(client, method)(url)
        assert r.status_code == 401, (url, r.status_code)
        body = r.json()
        assert body["error"]["status"] == 401 and body["error"]["message"]


def test_all_modules_are_apps():
    assert {m.label for m in installed_modules()} <= {a.label for a in apps.get_app_configs()}
