"""3D defect map pages: upload, the model page with the viewer's module and import map (allowed by its
hash, nothing else inline), the heatmap and annotation tables in the HTML for browsers without WebGL
or JavaScript, the filters, and who sees what."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, make_member
from traveler.core.tests.test_ui_shell import nav_labels, signed_in
from traveler.mes_lite.models import Part
from traveler.qms.demo_maps import injector_body_glb
from traveler.qms.models import HeatmapAnnotation, ThreeDModel
from traveler.qms.tests.factories import make_annotation, make_defect_code, part_at_start
from traveler.qms.ui import maps as map_views

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector(tenant):
    return make_member(tenant, roles=["qa_inspector"], full_name="Ines Inspector")


def test_upload_a_model_through_the_form(tenant, inspector):
    client = signed_in(inspector, tenant)
    assert "3D defect maps" in nav_labels(client.get("/qms/3d-models/"))
    part, _ = part_at_start(tenant)
    with tenant_context(tenant):
        part_type_id = Part.objects.get(pk=part.pk).part_type_id
    r = client.post("/qms/3d-models/new/", {"part_type": part_type_id, "name": "Body",
                                            "file": SimpleUploadedFile("notes.txt", b"just some notes\n")})
    assert r.status_code == 400 and "must be a glTF" in r.content.decode()
    r = client.post("/qms/3d-models/new/", {"part_type": part_type_id, "name": "Injector body",
                                            "file": SimpleUploadedFile("body.glb", injector_body_glb(segments=8))})
    assert r.status_code == 302, r.content.decode()[:1500]
    with tenant_context(tenant):
        model = ThreeDModel.objects.get(name="Injector body")
    assert r["Location"] == f"/qms/3d-models/{model.pk}/"
    assert "Injector body" in client.get("/qms/3d-models/").content.decode()


def test_the_model_page_serves_the_viewer_and_allows_only_its_import_map(tenant, inspector):
    a = make_annotation(tenant, note="burr at the thread")
    client = signed_in(inspector, tenant)
    r = client.get(f"/qms/3d-models/{a.model_id}/")
    assert r.status_code == 200
    html = r.content.decode()
    importmap = re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(importmap.encode()).digest()).decode()
    policy = r["Content-Security-Policy"]
    assert f"script-src 'self' 'sha256-{digest}'" in policy and "unsafe-inline" not in policy
    assert '"three":"/static/qms/vendor/three/build/three.module.js"' in importmap
    assert '<script type="module" src="/static/qms/defect_map.js">' in html
    assert "data-can-place" in html and f'data-model-url="/api/v1/qms/3d-models/{a.model_id}/file/"' in html
    # The tables are in the HTML: the bins of the heatmap and the latest defects.
    assert "<strong data-map-total>1</strong>" in html and "burr at the thread" in html
    for path in ("qms/vendor/three/build/three.module.js", "qms/vendor/three/build/three.core.js",
                 "qms/vendor/three/examples/jsm/loaders/GLTFLoader.js", "qms/vendor/three/LICENSE",
                 "qms/defect_map.js"):
        assert client.get(f"/static/{path}").status_code == 200, path


def test_without_the_vendored_viewer_the_page_says_so_and_keeps_the_tables(tenant, inspector, monkeypatch):
    a = make_annotation(tenant)
    monkeypatch.setattr(map_views, "viewer_importmap", lambda: None)
    r = signed_in(inspector, tenant).get(f"/qms/3d-models/{a.model_id}/")
    html = r.content.decode()
    assert r.status_code == 200 and "importmap" not in html and "./dev npm" in html
    assert "sha256-" not in r["Content-Security-Policy"]
    assert "<strong data-map-total>1</strong>" in html


def test_the_filters_apply_to_the_tables(tenant, inspector):
    a = make_annotation(tenant)
    other = make_defect_code(tenant)
    b = make_annotation(tenant, model=a.model, part=a.part, defect_code=other, point=(0.0, 50.0, 5.0))
    with tenant_context(tenant):
        HeatmapAnnotation.objects.filter(pk=b.pk).update(created_at=timezone.now() - timedelta(days=30))
    client = signed_in(inspector, tenant)
    url = f"/qms/3d-models/{a.model_id}/"
    assert "<strong data-map-total>2</strong>" in client.get(url).content.decode()
    html = client.get(url, {"defect_code": other.pk}).content.decode()
    assert "<strong data-map-total>1</strong>" in html and f'value="{other.pk}" selected' in html
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert "<strong data-map-total>1</strong>" in client.get(url, {"from": since}).content.decode()
    html = client.get(url, {"from": "soon"}).content.decode()
    assert "from: a date" in html and "<strong data-map-total>2</strong>" in html


def test_readers_see_the_map_without_placing_and_customers_not_at_all(tenant):
    a = make_annotation(tenant)
    operator = signed_in(make_member(tenant, roles=["operator"]), tenant)
    html = operator.get(f"/qms/3d-models/{a.model_id}/").content.decode()
    assert "data-can-place" not in html and "Place a defect" not in html
    customer = make_member(tenant, roles=["customer"], company=make_company(tenant))
    client = signed_in(customer, tenant)
    assert client.get(f"/qms/3d-models/{a.model_id}/").status_code == 403
    assert client.get("/qms/3d-models/").status_code == 403
    assert "3D defect maps" not in nav_labels(client.get("/"))
