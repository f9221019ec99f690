"""Schema fuzzing: every operation of the OpenAPI schema, called in-process with generated input.

Schemathesis reads the schema the app publishes, generates valid and invalid requests for every
operation and checks each answer: no server error, a documented status code, a body and headers that
match the schema. It runs against the WSGI app (no network) with a real token of a tenant admin, in
a tenant holding a record of every kind (made by the modules' record factories), which the
operations on one record work on.
"""

from __future__ import annotations

import json
import os
import re

import pytest
import schemathesis
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from traveler.core.models import ApiToken
from traveler.core.services.auth import token_issue
from traveler.core.tenancy import tenant_context
from traveler.core.tests.api_routes import record_list_routes
from traveler.core.tests.api_routes import schema as api_schema_of_app
from traveler.core.tests.factories import RECORD_FACTORIES, make_member

# Bounded so the whole run takes a few minutes on a small machine: the coverage phase sends every
# boundary and wrong-type value the schema implies once, the fuzzing phase a few random requests more.
MAX_EXAMPLES = 6
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance", "unsupported_method",
          "allow_header_conformance"]



def fuzz_config(ids: dict[str, list[int]]) -> SchemathesisConfig:
    """Operations on one record get the id of an existing record of their route: generated ids would
    almost always answer 404 before the body is even read (the contract tests cover unknown ids)."""
    return SchemathesisConfig.from_dict({
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True, "generation": {"mode": "positive"}},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "operations": [{"include-path-regex": f"^{re.escape(route)}\\{{id\\}}/", "parameters": {"path.id": pks[0]}}
                       for route, pks in ids.items()],
    })


@pytest.fixture
def fuzz_setup(db, tenant):
    """A tenant with records of every kind, and a tenant admin with a live token."""
    ids: dict[str, list[int]] = {}  # record route -> ids of records there
    for route, cls in record_list_routes():
        ids[route] = [RECORD_FACTORIES[cls.model](tenant).pk]
    user = make_member(tenant, roles=["tenant_admin"])
    tokens: list[tuple[int, str]] = []

    def token() -> str:
        # The fuzz may revoke the token it uses (DELETE tokens/{id}/): then it gets a new one.
        with tenant_context(tenant, actor=user):  # tokens are the tenant's rows
            live = tokens and ApiToken.objects.filter(pk=tokens[-1][0], revoked_at__isnull=True).exists()
            if not live:
                issued, raw = token_issue(user=user, tenant=tenant, replace=True)
                tokens.append((issued.pk, raw))
        return tokens[-1][1]

    # A request through the WSGI handler would close the test's connection (and its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"token": token, "ids": ids}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(fuzz_setup, request):
    from traveler.server.wsgi import application

    # schemathesis names each operation's sub-test after pytest's private ``_nodeid``, which
    # pytest 9 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    raw = json.loads(json.dumps(api_schema_of_app(), cls=DjangoJSONEncoder))
    schema = schemathesis.openapi.from_dict(raw, config=fuzz_config(fuzz_setup["ids"]))
    schema.app = application
    return schema


def _call(case, fuzz_setup):
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_setup['token']()}"})


# Operations that change the fuzzing user's own access (its modules, its role's permissions, its
# membership, its tokens) each run in a test of their own, so that they cannot turn every other
# operation into a 401 or 403.
OWN_ACCESS = {"core_modules_partial_update", "core_roles_permissions_update", "core_users_partial_update",
              "core_tokens_destroy"}
schema = schemathesis.pytest.from_fixture("api_schema")
# The same examples on every run (a suite that passed passes again: main's CI stays green for the code
# it tested); TRAVELER_FUZZ_RANDOM=1 draws new ones, to look for what the fixed ones do not reach.
HYPOTHESIS = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                      derandomize=os.environ.get("TRAVELER_FUZZ_RANDOM", "") != "1")


# The operations in groups, each a test of its own, so that parallel workers share the fuzzing (one test
# of every operation ran about eight minutes in one worker while the other had finished).
GROUPS = {
    "signed_records": r"^/api/v1/core/(approval|signature|document|notification)",
    "platform": r"^/api/v1/(core|auth)/",
    "mes": r"^/api/v1/mes/",
    "quality": r"^/api/v1/qms/",
}


def _group_test(name: str):
    def test(case, fuzz_setup):
        _call(case, fuzz_setup)

    test.__name__ = f"test_api_fuzz_{name}"
    lazy = schema.exclude(operation_id=sorted(OWN_ACCESS))
    earlier = list(GROUPS)[: list(GROUPS).index(name)] if name in GROUPS else list(GROUPS)
    for other in earlier:
        lazy = lazy.exclude(path_regex=GROUPS[other])
    if name in GROUPS:
        lazy = lazy.include(path_regex=GROUPS[name])
    return lazy.parametrize()(HYPOTHESIS(test))


for _group in (*GROUPS, "other"):
    globals()[f"test_api_fuzz_{_group}"] = _group_test(_group)


def _own_access_test(operation_id: str):
    def test(case, fuzz_setup):
        _call(case, fuzz_setup)

    test.__name__ = f"test_api_fuzz_{operation_id}"
    return schema.include(operation_id=operation_id).parametrize()(HYPOTHESIS(test))


for _operation_id in sorted(OWN_ACCESS):
    globals()[f"test_api_fuzz_{_operation_id}"] = _own_access_test(_operation_id)
