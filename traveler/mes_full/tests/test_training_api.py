"""Training through the HTTP API: types, records, the matrix and what expires; who may do what."""

from __future__ import annotations

from datetime import date, timedelta

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import ApiClient, make_member
from traveler.mes_full.tests.factories_training import make_training_record, make_training_type, require_training
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_process

API = "/api/v1/mes-full/training"
TODAY = date.today()


def _client(tenant, role, **kw):
    user = make_member(tenant, roles=[role], **kw)
    return ApiClient().as_user(user, tenant), user


def test_a_manager_records_training_and_the_expiry_follows_from_the_type(tenant):
    manager, _ = _client(tenant, "production_manager")
    operator, olga = _client(tenant, "operator", full_name="Olga Operator")
    r = manager.post(f"{API}/types/", {"name": "Torque wrench use", "validity_days": 365}, format="json")
    assert r.status_code == 201, r.json()
    ttype = r.json()["id"]
    completed = TODAY - timedelta(days=5)
    body = {"user": olga.pk, "training_type": ttype, "completed_on": completed.isoformat(), "trainer_name": "ACME Tools"}
    assert operator.post(f"{API}/records/", body, format="json").status_code == 403
    r = manager.post(f"{API}/records/", body, format="json")
    assert r.status_code == 201, r.json()
    record = r.json()
    assert (record["expires_on"], record["status"], record["user_name"], record["training_type_name"]) == (
        (completed + timedelta(days=365)).isoformat(), "active", "Olga Operator", "Torque wrench use")
    listed = operator.get(f"{API}/records/", {"user": olga.pk}).json()["results"]
    assert [row["id"] for row in listed] == [record["id"]]
    r = manager.patch(f"{API}/records/{record['id']}/", {"expires_on": (TODAY + timedelta(days=10)).isoformat(),
                                                         "version": record["version"], "reason": "renewal due"},
                      format="json")
    assert r.status_code == 200 and r.json()["expires_on"] == (TODAY + timedelta(days=10)).isoformat()
    expiring = operator.get(f"{API}/records/expiring/").json()["results"]
    assert [row["id"] for row in expiring] == [record["id"]]


def test_a_record_names_people_of_this_tenant_only(tenant, other_tenant):
    manager, _ = _client(tenant, "qa_manager")
    stranger = make_member(other_tenant, roles=["operator"], full_name="Secret Stranger")
    ttype = make_training_type(tenant)
    r = manager.post(f"{API}/records/", {"user": stranger.pk, "training_type": ttype.pk,
                                         "completed_on": TODAY.isoformat()}, format="json")
    assert r.status_code == 400 and list(r.json()["error"]["fields"]) == ["user"]
    assert "Secret" not in r.content.decode()


def test_the_matrix_shows_each_persons_standing(tenant):
    manager, _ = _client(tenant, "production_manager")
    ann = make_member(tenant, roles=["operator"], full_name="Ann Able")
    ttype = make_training_type(tenant, name="Visual inspection")
    record = make_training_record(tenant, user=ann, training_type=ttype, expires_on=TODAY + timedelta(days=12))
    r = manager.get(f"{API}/matrix/")
    assert r.status_code == 200
    body = r.json()
    [row] = [row for row in body["rows"] if row["user"] == ann.pk]
    [cell] = [c for c in row["cells"] if c["training_type"] == ttype.pk]
    assert cell == {"training_type": ttype.pk, "state": "expiring", "expires_on": record.expires_on.isoformat(),
                    "record": record.pk}
    assert body["today"] == TODAY.isoformat()


def test_a_training_type_still_required_by_a_step_is_not_archived(tenant):
    manager, _ = _client(tenant, "tenant_admin")
    ttype = make_training_type(tenant)
    process = make_process(tenant)
    with tenant_context(tenant):
        step = route_steps(process)[0]
    require_training(tenant, step, ttype)
    r = manager.post(f"{API}/types/{ttype.pk}/archive/", {"version": ttype.version, "reason": "old"}, format="json")
    assert r.status_code == 409 and list(r.json()["error"]["fields"]) == ["requirements"]


def test_who_may_see_and_change_training(tenant):
    ttype = make_training_type(tenant)
    record = make_training_record(tenant, training_type=ttype)
    for role, read, write in [("operator", 200, 403), ("auditor", 200, 403), ("qa_manager", 200, 200),
                              ("customer", 403, 403)]:
        if role == "customer":
            from traveler.core.tests.factories import make_company

            user = make_member(tenant, roles=[role], company=make_company(tenant))
            client = ApiClient().as_user(user, tenant)
        else:
            client, _ = _client(tenant, role)
        assert client.get(f"{API}/records/{record.pk}/").status_code == read, role
        assert client.get(f"{API}/matrix/").status_code == read, role
        r = client.patch(f"{API}/records/{record.pk}/", {"note": f"seen by {role}", "version": record.version},
                         format="json")
        assert r.status_code == write, (role, r.json())
        if r.status_code == 200:
            record.version = r.json()["version"]
