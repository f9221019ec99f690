"""Training pages: the matrix, what expires, recording a training."""

from __future__ import annotations

from datetime import date, timedelta

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.core.tests.test_ui_shell import signed_in
from traveler.mes_full.models import TrainingRecord
from traveler.mes_full.tests.factories_training import make_training_record, make_training_type

TODAY = date.today()


def test_the_matrix_highlights_expiring_and_expired_training(tenant):
    manager = make_member(tenant, roles=["production_manager"])
    soon, old = (make_member(tenant, roles=["operator"], full_name=n) for n in ("Ben Soon", "Cid Old"))
    ttype = make_training_type(tenant, name="Torque wrench use")
    make_training_record(tenant, user=soon, training_type=ttype, expires_on=TODAY + timedelta(days=3))
    make_training_record(tenant, user=old, training_type=ttype, completed_on=TODAY - timedelta(days=50),
                         expires_on=TODAY - timedelta(days=1))
    client = signed_in(manager, tenant)
    r = client.get("/mes-full/training/")
    assert r.status_code == 200
    html = r.content.decode()
    cells = {row["user"].full_name: row["cells"][0] for row in r.context["rows"]}
    assert (cells["Ben Soon"]["badge"], cells["Cid Old"]["badge"]) == ("badge-queued", "badge-dead")
    assert f"Expires {TODAY + timedelta(days=3):%Y-%m-%d}" in html and f"Expired {TODAY - timedelta(days=1):%Y-%m-%d}" in html
    r = client.get("/mes-full/training/expiring/")
    assert [rec.user.full_name for rec in r.context["records"]] == ["Ben Soon"]


def test_recording_a_training_through_the_form(tenant):
    manager = make_member(tenant, roles=["qa_manager"])
    olga = make_member(tenant, roles=["operator"], full_name="Olga Operator")
    ttype = make_training_type(tenant, validity_days=30)
    client = signed_in(manager, tenant)
    assert client.get("/mes-full/training/records/new/").status_code == 200
    r = client.post("/mes-full/training/records/new/", {"user": olga.pk, "training_type": ttype.pk,
                                                       "completed_on": TODAY.isoformat()})
    assert r.status_code == 302, r.content.decode()[:2000]
    with tenant_context(tenant):
        record = TrainingRecord.objects.get(user=olga)
    assert record.expires_on == TODAY + timedelta(days=30)
    assert client.get(f"/mes-full/training/records/{record.pk}/").status_code == 200
    operator = signed_in(olga, tenant)
    assert operator.get("/mes-full/training/").status_code == 200
    assert operator.get("/mes-full/training/records/new/").status_code == 403
