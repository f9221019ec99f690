"""Documents attached to MES Lite's part types, steps and parts: registered as attachable, shown in a
"Documents" panel on their pages, with export-controlled documents left out for users not cleared."""

import pytest

from traveler.core.models import DocumentLink, Membership
from traveler.core.registry import registry
from traveler.core.services.users import member_set_export_clearance
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import ApiClient, make_company, make_document, make_member, make_revision
from traveler.core.tests.test_ui_shell import signed_in
from traveler.mes_lite.tests.factories import _part, _step, make_part_type

API = "/api/v1/core"
pytestmark = pytest.mark.django_db


@pytest.fixture
def controller(tenant):
    return make_member(tenant, roles=["document_controller"])


def test_mes_lite_registers_its_attachable_models():
    assert {"mes_lite.parttype", "mes_lite.step", "mes_lite.part"} <= set(registry.attachables)
    assert registry.attachables["mes_lite.part"].panel_target == "mes_lite.part.detail"
    assert any(p.title == "Documents" for p in registry.panels["mes_lite.parttype.detail"])


def test_attach_and_detach_through_the_api(tenant, controller):
    pt = make_part_type(tenant)
    doc = make_document(tenant, by=controller, code="DWG", title="Injector body drawing")
    api = ApiClient().as_user(controller, tenant)
    r = api.post(f"{API}/documents/{doc.pk}/attach/", {"target": "mes_lite.parttype", "object_id": pt.pk,
                                                       "reason": "current drawing"}, format="json")
    assert r.status_code == 201, r.json()
    link = r.json()
    assert (link["target"], link["object_id"], link["reason"]) == ("mes_lite.parttype", pt.pk, "current drawing")
    r = api.post(f"{API}/documents/{doc.pk}/attach/", {"target": "mes_lite.parttype", "object_id": pt.pk},
                 format="json")
    assert r.status_code == 409
    assert [x["id"] for x in api.get(f"{API}/documents/{doc.pk}/links/").json()] == [link["id"]]
    r = api.post(f"{API}/documents/{doc.pk}/detach/", {"link": link["id"], "reason": "superseded drawing"},
                 format="json")
    assert r.status_code == 200 and r.json()["archived_at"]
    assert api.get(f"{API}/documents/{doc.pk}/links/").json() == []
    with tenant_context(tenant):
        assert DocumentLink.objects.get(pk=link["id"]).archived_at is not None  # archived, not deleted


def test_attach_refuses_unregistered_models_and_other_tenants_records(tenant, other_tenant, controller):
    doc = make_document(tenant, by=controller)
    api = ApiClient().as_user(controller, tenant)
    company = make_company(tenant)
    r = api.post(f"{API}/documents/{doc.pk}/attach/", {"target": "core.company", "object_id": company.pk},
                 format="json")
    assert r.status_code == 400 and r.json()["error"]["fields"] == {"target": ["not attachable"]}
    theirs = make_part_type(other_tenant)
    r = api.post(f"{API}/documents/{doc.pk}/attach/", {"target": "mes_lite.parttype", "object_id": theirs.pk},
                 format="json")
    assert r.status_code == 404
    operator = ApiClient().as_user(make_member(tenant, roles=["operator"]), tenant)
    pt = make_part_type(tenant)
    r = operator.post(f"{API}/documents/{doc.pk}/attach/", {"target": "mes_lite.parttype", "object_id": pt.pk},
                      format="json")
    assert r.status_code == 403
    with tenant_context(tenant):
        assert not DocumentLink.objects.exists()


def test_the_panel_lists_attached_documents_and_hides_export_controlled_ones(tenant, controller, admin):
    pt = make_part_type(tenant)
    drawing = make_document(tenant, by=controller, code="DWG", title="Body drawing")
    make_revision(tenant, drawing, by=controller, release=True)
    secret = make_document(tenant, by=controller, code="SPEC", title="Coating spec", classification="itar")
    from traveler.core.services.documents import document_attach

    with tenant_context(tenant, actor=controller):
        document_attach(document=drawing, target=pt)
        document_attach(document=secret, target=pt)
    viewer = make_member(tenant, roles=["engineering"])
    client = signed_in(viewer, tenant)
    html = client.get(f"/mes/part-types/{pt.pk}/").content.decode()
    assert "Documents" in html and drawing.number in html and "rev. A" in html
    assert secret.number not in html and "Coating spec" not in html
    with tenant_context(tenant, actor=admin):
        member_set_export_clearance(membership=Membership.objects.get(tenant=tenant, user=viewer), cleared=True,
                                    reason="checked")
    html = client.get(f"/mes/part-types/{pt.pk}/").content.decode()
    assert secret.number in html
    customer = signed_in(make_member(tenant, roles=["customer"], company=make_company(tenant)), tenant)
    part = _part(tenant)
    with tenant_context(tenant, actor=controller):
        document_attach(document=drawing, target=part)
    r = customer.get(f"/mes/parts/{part.pk}/")
    assert drawing.number not in r.content.decode()  # customers see no documents


def test_attach_from_the_panel_form(tenant, controller):
    part = _part(tenant)
    doc = make_document(tenant, by=controller, code="CERT", title="Material certificate")
    client = signed_in(controller, tenant)
    html = client.get(f"/mes/parts/{part.pk}/").content.decode()
    assert 'name="target" value="mes_lite.part"' in html
    r = client.post("/documents/attach/", {"target": "mes_lite.part", "object_id": part.pk, "number": doc.number,
                                           "next": f"/mes/parts/{part.pk}/"})
    assert r.status_code == 302 and r["Location"] == f"/mes/parts/{part.pk}/"
    assert doc.number in client.get(f"/mes/parts/{part.pk}/").content.decode()
    page = client.get(f"/documents/{doc.pk}/").content.decode()
    assert f'href="/mes/parts/{part.pk}/"' in page  # the document's page links to the record


def test_documents_attach_to_steps(tenant, controller):
    step = _step(tenant)
    doc = make_document(tenant, by=controller, code="WI", title="Crimp the sleeve")
    api = ApiClient().as_user(controller, tenant)
    r = api.post(f"{API}/documents/{doc.pk}/attach/", {"target": "mes_lite.step", "object_id": step.pk},
                 format="json")
    assert r.status_code == 201
    # A step has no page of its own: its Documents panel shows under the step on its process's page.
    html = signed_in(controller, tenant).get(f"/mes/processes/{step.process_id}/").content.decode()
    section = html.split(f'id="step-{step.pk}"')[1].split('class="step-item"')[0]
    assert doc.number in section and 'name="target" value="mes_lite.step"' in section
