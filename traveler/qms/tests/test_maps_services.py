"""3D defect maps through the services: a model file read and stored as a core document, defects placed
on it with their checks, and the heatmap counting every annotation on the server."""

from __future__ import annotations

import io
import json
import struct
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.models import DocumentLink, DocumentRevision, OutboxEvent
from traveler.core.services.files import sniff_media_type
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_member
from traveler.mes_lite.models import Part
from traveler.qms.demo_maps import injector_body_glb, lathe
from traveler.qms.models import HeatmapAnnotation, ThreeDModel
from traveler.qms.services.maps import (
    heatmap_aggregate,
    heatmap_annotation_archive,
    heatmap_annotation_create,
    heatmap_annotation_update,
    three_d_model_archive,
    three_d_model_create,
)
from traveler.qms.services.meshes import mesh_read
from traveler.qms.tests.factories import make_annotation, make_defect_code, make_three_d_model, part_at_start


def binary_stl(triangles: list[tuple[float, ...]], header: bytes = b"solid made by a CAD exporter") -> bytes:
    body = b"".join(struct.pack("<12fH", 0, 0, 1, *t, 0) for t in triangles)
    return header.ljust(80, b" ") + struct.pack("<I", len(triangles)) + body


ASCII_STL = b"""solid block
  facet normal 0 0 1
    outer loop
      vertex 0 0 0
      vertex 10 0 0
      vertex 0 20 5
    endloop
  endfacet
endsolid block
"""


@pytest.fixture
def inspector(tenant):
    return make_member(tenant, roles=["qa_inspector"])


# Files ----------------------------------------------------------------------------------------------

def test_3d_formats_are_recognised_from_the_content():
    glb = injector_body_glb(segments=8)
    stl = binary_stl([(0, 0, 0, 1, 0, 0, 0, 1, 0)])
    assert sniff_media_type(glb[:8192], len(glb)) == "model/gltf-binary"
    assert sniff_media_type(stl, len(stl)) == "model/stl"  # its header starts with "solid": the size decides
    assert sniff_media_type(ASCII_STL) == "model/stl"
    assert sniff_media_type(b'{"asset": {"version": "2.0"}, "scenes": []}') == "model/gltf+json"
    assert sniff_media_type(b"solid words in a plain text file\nnothing else") == "text/plain"
    assert sniff_media_type(stl[:-1], len(stl) - 1) == "application/octet-stream"


def test_the_bounding_box_is_read_from_glb_and_stl():
    positions, _, _ = lathe(segments=8)
    mesh = mesh_read(injector_body_glb(segments=8))
    assert mesh.file_format == "glb"
    assert mesh.bounds["min"][1] == 0 and mesh.bounds["max"][1] == max(positions[1::3]) == 63
    assert mesh.bounds["max"][0] == pytest.approx(9)
    assert mesh_read(ASCII_STL).bounds == {"min": [0, 0, 0], "max": [10, 20, 5]}
    assert mesh_read(binary_stl([(0, 0, 0, 4, 0, 0, 0, -2, 3)])).bounds == {"min": [0, -2, 0], "max": [4, 0, 3]}


def test_gltf_node_transforms_move_the_bounding_box():
    doc = {"asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}],
           "nodes": [{"translation": [100, 0, 0], "children": [1]}, {"mesh": 0, "scale": [2, 2, 2]}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
           "accessors": [{"min": [-1, -1, -1], "max": [1, 1, 1]}], "buffers": []}
    bounds = mesh_read(json.dumps(doc).encode()).bounds
    assert bounds == {"min": [98, -2, -2], "max": [102, 2, 2]}


@pytest.mark.parametrize("content,message", [
    (b"%PDF-1.7\n1 0 obj\n", "must be a glTF"),
    (b'{"asset": {"version": "2.0"}, "buffers": [{"uri": "body.bin", "byteLength": 4}]}', "external file"),
    (b'{"asset": {"version": "1.0"}}', "only glTF 2.0"),
    (b"solid x\n facet normal 0 0 1\n vertex a b c\nendsolid\n", "not a number"),
    (b"glTF\x02\x00\x00\x00\xff\x00\x00\x00", "GLB header is truncated"),
])
def test_a_file_that_is_not_a_readable_model_is_refused_and_nothing_is_written(tenant, content, message):
    part, _ = part_at_start(tenant)
    by = make_member(tenant, roles=["qa_manager"])
    with tenant_context(tenant, actor=by):
        before = DocumentRevision.objects.count()
        with pytest.raises(InvalidInput, match=message) as err:
            three_d_model_create(part_type=Part.objects.get(pk=part.pk).part_type, name="Body", content=io.BytesIO(content),
                                 original_name="body.glb")
        assert "file" in err.value.fields
        assert DocumentRevision.objects.count() == before and not ThreeDModel.objects.exists()


def test_a_model_is_a_document_revision_attached_to_its_part_type(tenant):
    part, _ = part_at_start(tenant)
    model = make_three_d_model(tenant, part=part, name="Injector body")
    with tenant_context(tenant):
        model.refresh_from_db()
        assert model.file_format == "glb" and model.revision.media_type == "model/gltf-binary"
        assert model.revision.document_id == model.document_id and model.document.document_type.code == "DWG"
        assert DocumentLink.objects.filter(document=model.document, object_id=part.part_type_id,
                                           content_type__model="parttype").exists()
        assert OutboxEvent.objects.filter(name="qms.three_d_model.created", payload__model_id=model.pk).exists()
        with pytest.raises(InvalidInput, match="already has a 3D model named") as err:
            three_d_model_create(part_type=model.part_type, name="Injector body",
                                 content=io.BytesIO(ASCII_STL), original_name="b.stl")
        assert "name" in err.value.fields


def test_stl_models_are_accepted(tenant):
    model = make_three_d_model(tenant, content=binary_stl([(0, 0, 0, 4, 0, 0, 0, 5, 6)]))
    assert model.file_format == "stl" and model.bounds == {"min": [0, 0, 0], "max": [4, 5, 6]}


# Annotations ----------------------------------------------------------------------------------------

def test_an_inspector_places_a_defect_with_its_normal(tenant, inspector):
    part, route = part_at_start(tenant)
    model = make_three_d_model(tenant, part=part)
    code = make_defect_code(tenant)
    with tenant_context(tenant, actor=inspector):
        a = heatmap_annotation_create(model=model, x=0.0, y=40.0, z=8.0, normal=[0, 0, 2], defect_code=code,
                                      part=part, step=route[1], note="  burr at the thread  ")
        assert (a.normal_x, a.normal_y, a.normal_z) == (0, 0, 1)
        assert a.created_by == inspector and a.note == "burr at the thread" and a.step == route[1]
        assert OutboxEvent.objects.filter(name="qms.heatmap_annotation.created",
                                          payload__annotation_id=a.pk).exists()


def test_bad_annotations_name_their_field(tenant, inspector):
    part, route = part_at_start(tenant)
    other_part, other_route = part_at_start(tenant)  # another work order: another part type and process
    model = make_three_d_model(tenant, part=part)
    code = make_defect_code(tenant)
    limited = make_defect_code(tenant, steps=[route[2]])
    ok = {"model": model, "x": 0.0, "y": 10.0, "z": 9.0, "defect_code": code, "part": part}
    cases = [
        ({"x": 500.0}, "x", "outside the model"),
        ({"y": float("nan")}, "y", "finite number"),
        ({"normal": [0, 0, 0]}, "normal", "zero vector"),
        ({"normal": [1, 2]}, "normal", "three numbers"),
        ({"part": other_part}, "part", "is not a"),
        ({"step": other_route[0]}, "step", "not on the route"),
        ({"defect_code": limited, "step": route[0]}, "defect_code", "applies only at some steps"),
    ]
    with tenant_context(tenant, actor=inspector):
        if other_part.part_type_id == part.part_type_id:  # the factory reuses one part type: make the case real
            cases = [c for c in cases if c[1] != "part"]
        for change, field, message in cases:
            with pytest.raises(InvalidInput, match=message) as err:
                heatmap_annotation_create(**{**ok, **change})
            assert field in err.value.fields, (change, err.value.fields)
        assert not HeatmapAnnotation.objects.filter(model=model).exists()
        three_d_model_archive(three_d_model=model)
        model.refresh_from_db()
        with pytest.raises(Conflict, match="archived"):
            heatmap_annotation_create(**{**ok, "model": model})


def test_an_annotation_of_a_part_of_another_type_is_refused(tenant, inspector):
    part, _ = part_at_start(tenant)
    other_type_model = make_three_d_model(tenant)  # of the part type of another fresh work order
    with tenant_context(tenant, actor=inspector):
        if other_type_model.part_type_id == part.part_type_id:
            pytest.skip("the factories share one part type")
        with pytest.raises(InvalidInput, match="is not a") as err:
            heatmap_annotation_create(model=other_type_model, x=0.0, y=10.0, z=9.0,
                                      defect_code=make_defect_code(tenant), part=part)
        assert "part" in err.value.fields


def test_only_the_defect_code_and_note_of_an_annotation_change(tenant, inspector):
    a = make_annotation(tenant)
    other = make_defect_code(tenant)
    with tenant_context(tenant, actor=inspector):
        a = heatmap_annotation_update(heatmap_annotation=a, version=a.version, data={"defect_code": other, "note": "x"})
        assert a.defect_code == other and a.version == 2
        with pytest.raises(InvalidInput, match="cannot be changed") as err:
            heatmap_annotation_update(heatmap_annotation=a, version=a.version, data={"x": 1.0})
        assert "x" in err.value.fields


# Heatmap --------------------------------------------------------------------------------------------

def test_the_heatmap_counts_every_annotation_in_grid_cells(tenant, inspector):
    part, route = part_at_start(tenant)
    model = make_three_d_model(tenant, part=part)
    burr, scratch = make_defect_code(tenant), make_defect_code(tenant)
    with tenant_context(tenant, actor=inspector):
        rows = [HeatmapAnnotation(model=model, x=0.1 * (n % 3), y=40.0, z=8.0, defect_code=burr, part=part,
                                  step=route[1]) for n in range(130)]
        rows += [HeatmapAnnotation(model=model, x=-8.5, y=5.0, z=0.0, defect_code=scratch, part=part)
                 for _ in range(7)]
        HeatmapAnnotation.objects.bulk_create(rows)  # more than the seed system's cap of 50
        heat = heatmap_aggregate(model=model, resolution=21)  # cells of 63 / 21 = 3 mm
        assert heat.cell == pytest.approx(3.0) and heat.origin == model.bounds["min"]
        assert heat.total == 137 and heat.max_count == 130 and len(heat.bins) == 2
        top = heat.bins[0]
        assert (top.count, top.i, top.j, top.k) == (130, 3, 13, 5)  # x: (0.1 + 9) / 3, y: 40 / 3, z: 17 / 3
        assert top.y == pytest.approx(40.0) and top.x == pytest.approx(0.1 * (43 + 2 * 43) / 130)
        assert [(c["id"], c["count"]) for c in heat.defect_codes] == [(burr.pk, 130), (scratch.pk, 7)]
        assert heatmap_aggregate(model=model, defect_code=scratch).total == 7
        assert heatmap_aggregate(model=model, step=route[1]).total == 130


def test_the_heatmap_filters_by_period_and_leaves_archived_annotations_out(tenant, inspector):
    a = make_annotation(tenant)
    b = make_annotation(tenant, model=a.model, part=a.part, defect_code=a.defect_code)
    c = make_annotation(tenant, model=a.model, part=a.part, defect_code=a.defect_code)
    today = timezone.localdate()
    with tenant_context(tenant, actor=inspector):
        HeatmapAnnotation.objects.filter(pk=b.pk).update(created_at=timezone.now() - timedelta(days=40))
        heatmap_annotation_archive(heatmap_annotation=c)
        assert heatmap_aggregate(model=a.model).total == 2
        assert heatmap_aggregate(model=a.model, date_from=today - timedelta(days=7)).total == 1
        assert heatmap_aggregate(model=a.model, date_to=today - timedelta(days=30)).total == 1
        assert heatmap_aggregate(model=a.model, date_from=today, date_to=today).total == 1  # "to" includes the day
        with pytest.raises(InvalidInput) as err:
            heatmap_aggregate(model=a.model, date_from=today, date_to=today - timedelta(days=1))
        assert "to" in err.value.fields
        with pytest.raises(InvalidInput) as err:
            heatmap_aggregate(model=a.model, resolution=0)
        assert "resolution" in err.value.fields


def test_the_heatmap_is_one_grouped_query_whatever_the_number_of_annotations(tenant, inspector):
    a = make_annotation(tenant)
    with tenant_context(tenant, actor=inspector):
        with CaptureQueriesContext(connection) as few:
            heatmap_aggregate(model=a.model)
        HeatmapAnnotation.objects.bulk_create([HeatmapAnnotation(model=a.model, x=-9 + n % 18, y=n % 63, z=0.0,
                                                                 defect_code=a.defect_code, part=a.part)
                                               for n in range(500)])
        with CaptureQueriesContext(connection) as many:
            heat = heatmap_aggregate(model=a.model)
        assert heat.total == 501 and len(many) == len(few)
        assert any("GROUP BY" in q["sql"] for q in many.captured_queries)


def test_the_heatmap_matches_a_count_made_here_on_random_points(tenant, inspector):
    """Cells, their means, the order (count, then i, j, k) and the per-code counts (100 each but one:
    ties by code) of random annotations, against the same grid computed in Python; archived ones left out."""
    import math
    import random

    rng = random.Random(3)
    part, route = part_at_start(tenant)
    model = make_three_d_model(tenant, part=part)
    codes = sorted([make_defect_code(tenant) for _ in range(4)], key=lambda c: c.code, reverse=True)
    with tenant_context(tenant, actor=inspector):
        rows = [HeatmapAnnotation(model=model, x=rng.uniform(-9, 9), y=rng.choice([rng.uniform(0, 63), 41.5]),
                                  z=rng.uniform(-9, 9), defect_code=codes[n % 4],
                                  part=part, step=route[1]) for n in range(400)]
        HeatmapAnnotation.objects.bulk_create(rows)
        gone = HeatmapAnnotation.objects.order_by("pk")[0]
        HeatmapAnnotation.objects.filter(pk=gone.pk).update(archived_at=timezone.now())
        heat = heatmap_aggregate(model=model, resolution=9)
        live = list(HeatmapAnnotation.objects.filter(model=model, archived_at__isnull=True))
    lo = model.bounds["min"]
    cell = max(b - a for a, b in zip(lo, model.bounds["max"], strict=True)) / 9
    cells: dict = {}
    per_code: dict = {}
    for a in live:
        key = tuple(math.floor((v - o) / cell) for v, o in zip((a.x, a.y, a.z), lo, strict=True))
        cells.setdefault(key, []).append((a.x, a.y, a.z))
        per_code[a.defect_code_id] = per_code.get(a.defect_code_id, 0) + 1
    expected = sorted(cells.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    assert heat.total == 399 and len(heat.bins) == len(expected) > 20
    assert [(b.i, b.j, b.k, b.count) for b in heat.bins] == [(*k, len(v)) for k, v in expected]
    for b, (_, points) in zip(heat.bins, expected, strict=True):
        assert (b.x, b.y, b.z) == pytest.approx(tuple(sum(p[n] for p in points) / len(points) for n in range(3)))
    code_of = {c.pk: c.code for c in codes}
    assert [(c["id"], c["count"]) for c in heat.defect_codes] == sorted(
        per_code.items(), key=lambda kv: (-kv[1], code_of[kv[0]]))
