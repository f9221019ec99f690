"""What the API-wide tests run against: the API's endpoints as the URL resolver has them, the record
endpoints among them, the published schema, and every installed module's record factories."""

import functools
import importlib

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from traveler.core.api.base import TenantRecordViewSet
from traveler.core.modules import installed_modules

for _m in installed_modules():  # each module's tests register their record factories
    if importlib.util.find_spec(f"{_m.name}.tests") and importlib.util.find_spec(f"{_m.name}.tests.factories"):
        importlib.import_module(f"{_m.name}.tests.factories")

HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


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


@functools.cache
def schema() -> dict:
    """The published OpenAPI schema (what /api/v1/schema/ answers)."""
    return SchemaGenerator().get_schema(request=None, public=True)


def schema_paths() -> dict[str, dict]:
    return schema()["paths"]


def schema_methods(path: str) -> set[str]:
    return {m.upper() for m in schema_paths()[path] if m.upper() in HTTP_METHODS}


def record_operations(route: str) -> list[tuple[str, str]]:
    """(method, path) of every operation the schema lists on one record of ``route``."""
    prefix = f"{route}{{id}}/"
    return [(m, path) for path in schema_paths() if path.startswith(prefix) for m in sorted(schema_methods(path))]
