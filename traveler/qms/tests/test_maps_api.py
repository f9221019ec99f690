"""3D defect maps through the HTTP API: upload a model, fetch its file, place defects, read the heatmap;
who may do what (QA writes, other staff read, customers nothing)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from traveler.core.models import DocumentDownload
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import ApiClient
from traveler.mes_lite.models import Part
from traveler.mes_lite.tests.api_helpers import error, signed_in
from traveler.qms.demo_maps import injector_body_glb
from traveler.qms.models import HeatmapAnnotation, ThreeDModel
from traveler.qms.tests.factories import make_annotation, make_defect_code, make_three_d_model, part_at_start

API = "/api/v1/qms"


@pytest.fixture
def inspector(api, tenant):
    return signed_in(api, tenant, roles=["qa_inspector"])


def _client(tenant, role: str) -> ApiClient:
    return signed_in(ApiClient(), tenant, roles=[role])


def test_upload_a_model_and_fetch_its_file(inspector, tenant):
    part, _ = part_at_start(tenant)
    with tenant_context(tenant):
        part_type_id = Part.objects.get(pk=part.pk).part_type_id
    glb = injector_body_glb(segments=10)
    r = inspector.post(f"{API}/3d-models/", {"part_type": part_type_id, "name": "Injector body",
                                             "file": SimpleUploadedFile("body.glb", glb), "reason": "new model"},
                       format="multipart")
    assert r.status_code == 201, r.content
    model = r.json()
    assert model["file_format"] == "glb" and model["annotation_count"] == 0 and model["file_size"] == len(glb)
    assert model["bounds"]["max"][1] == 63 and model["document_number"].startswith("DWG-")
    f = inspector.get(f"{API}/3d-models/{model['id']}/file/")
    assert f.status_code == 200 and f["Content-Type"] == "model/gltf-binary"
    assert b"".join(f.streaming_content) == glb
    with tenant_context(tenant):
        assert DocumentDownload.objects.filter(revision_id=model["revision"], user=inspector.user).count() == 1
    r = inspector.patch(f"{API}/3d-models/{model['id']}/", {"name": "Injector body, rev D", "version": 1})
    assert r.status_code == 200 and r.json()["name"] == "Injector body, rev D"
    r = inspector.patch(f"{API}/3d-models/{model['id']}/", {"part_type": 1, "version": 2})
    assert r.status_code == 200  # the part type is not an input of a change: it stays
    assert inspector.get(f"{API}/3d-models/{model['id']}/").json()["part_type"] == part_type_id


def test_a_file_that_is_not_a_model_is_refused_naming_the_file(inspector, tenant):
    part, _ = part_at_start(tenant)
    with tenant_context(tenant):
        part_type_id = Part.objects.get(pk=part.pk).part_type_id
    r = inspector.post(f"{API}/3d-models/", {"part_type": part_type_id, "name": "Body",
                                             "file": SimpleUploadedFile("body.glb", b"%PDF-1.7\nnot a model\n")},
                       format="multipart")
    assert r.status_code == 400 and "file" in error(r)["fields"]
    r = inspector.post(f"{API}/3d-models/", {"part_type": part_type_id, "name": "Body"}, format="multipart")
    assert r.status_code == 400 and "file" in error(r)["fields"]
    with tenant_context(tenant):
        assert not ThreeDModel.objects.exists()


def test_place_a_defect_and_read_the_heatmap(inspector, tenant):
    part, route = part_at_start(tenant)
    model = make_three_d_model(tenant, part=part)
    code = make_defect_code(tenant)
    body = {"model": model.pk, "x": 0.5, "y": 40.0, "z": 8.0, "normal": [0, 0, 1], "defect_code": code.pk,
            "part": part.pk, "step": route[1].pk, "note": "burr"}
    r = inspector.post(f"{API}/annotations/", body)
    assert r.status_code == 201, r.content
    a = r.json()
    assert (a["defect_code_text"], a["serial_number"], a["normal"], a["created_by"]) == (
        code.code, part.serial_number, [0, 0, 1], inspector.user.pk)
    bad = inspector.post(f"{API}/annotations/", {**body, "x": 1000})
    assert bad.status_code == 400 and "x" in error(bad)["fields"]
    bad = inspector.post(f"{API}/annotations/", {**body, "normal": [1, 2]})
    assert bad.status_code == 400 and "normal" in error(bad)["fields"]
    for _ in range(3):
        assert inspector.post(f"{API}/annotations/", {**body, "step": None}).status_code == 201
    heat = inspector.get(f"{API}/3d-models/{model.pk}/heatmap/")
    assert heat.status_code == 200, heat.content
    h = heat.json()
    assert h["total"] == 4 and h["max_count"] == 4 and len(h["bins"]) == 1
    assert h["defect_codes"] == [{"id": code.pk, "code": code.code, "count": 4}]
    assert inspector.get(f"{API}/3d-models/{model.pk}/heatmap/", {"step": route[1].pk}).json()["total"] == 1
    assert inspector.get(f"{API}/3d-models/{model.pk}/heatmap/", {"from": "2000-01-01", "to": "2000-12-31"}
                         ).json()["total"] == 0
    for params, field in (({"from": "yesterday"}, "from"), ({"resolution": 0}, "resolution"),
                          ({"defect_code": 10**9}, "defect_code"), ({"from": "2030-01-02", "to": "2030-01-01"}, "to")):
        r = inspector.get(f"{API}/3d-models/{model.pk}/heatmap/", params)
        assert r.status_code == 400 and field in error(r)["fields"], (params, r.content)
    assert inspector.get(f"{API}/3d-models/{model.pk}/").json()["annotation_count"] == 4
    listed = inspector.get(f"{API}/annotations/", {"model": model.pk, "step": route[1].pk}).json()
    assert listed["count"] == 1


def test_the_heatmap_counts_past_any_page_size(inspector, tenant):
    a = make_annotation(tenant)
    with tenant_context(tenant):
        HeatmapAnnotation.objects.bulk_create([
            HeatmapAnnotation(model=a.model, x=0.0, y=float(n % 60), z=9.0, defect_code=a.defect_code, part=a.part)
            for n in range(1200)])
    h = inspector.get(f"{API}/3d-models/{a.model_id}/heatmap/").json()
    assert h["total"] == 1201 and sum(b["count"] for b in h["bins"]) == 1201


def test_correct_and_archive_an_annotation(inspector, tenant):
    a = make_annotation(tenant)
    other = make_defect_code(tenant)
    r = inspector.patch(f"{API}/annotations/{a.pk}/", {"defect_code": other.pk, "note": "it was porosity",
                                                       "version": a.version, "reason": "wrong code"})
    assert r.status_code == 200 and r.json()["defect_code"] == other.pk, r.content
    r = inspector.post(f"{API}/annotations/{a.pk}/archive/", {"version": r.json()["version"], "reason": "misplaced"})
    assert r.status_code == 200
    assert inspector.get(f"{API}/3d-models/{a.model_id}/heatmap/").json()["total"] == 0


@pytest.mark.parametrize("role,reads,writes", [
    ("qa_manager", True, True), ("qa_inspector", True, True), ("tenant_admin", True, True),
    ("operator", True, False), ("production_manager", True, False), ("engineering", True, False),
    ("auditor", True, False), ("customer", False, False),
])
def test_permissions_qa_writes_staff_read_customers_nothing(tenant, role, reads, writes):
    a = make_annotation(tenant)
    client = _client(tenant, role)
    for url in (f"{API}/3d-models/", f"{API}/3d-models/{a.model_id}/", f"{API}/3d-models/{a.model_id}/heatmap/",
                f"{API}/3d-models/{a.model_id}/file/", f"{API}/annotations/", f"{API}/annotations/{a.pk}/"):
        assert client.get(url).status_code == (200 if reads else 403), (role, url)
    body = {"model": a.model_id, "x": 0.0, "y": 20.0, "z": 9.0, "defect_code": a.defect_code_id, "part": a.part_id}
    r = client.post(f"{API}/annotations/", body)
    assert r.status_code == (201 if writes else 403), (role, r.content)
