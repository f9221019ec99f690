"""Demo data for 3D defect maps: a 3D model of the injector body for the demo injector's part type,
generated here as a small GLB (a turned body with its shoulder and nozzle), and defects placed on it
where the line's defects occur (burrs at the thread, porosity on the shoulder, seat damage at the
nozzle tip, scratches on the body), spread over the last weeks.

``injector_body_glb`` is also what the tests and the benchmark use as a real model file.
"""

from __future__ import annotations

import io
import json
import math
import random
import struct
from datetime import timedelta
from itertools import pairwise

from django.utils import timezone

from traveler.core.demo import demo_loader
from traveler.core.models import Tenant, User
from traveler.core.tenancy import current_actor, tenant_context
from traveler.mes_lite.models import Part, PartType, Step
from traveler.qms.models import HeatmapAnnotation, QualityErrorsList, ThreeDModel
from traveler.qms.services.defects import defect_code_create
from traveler.qms.services.maps import heatmap_annotation_create, three_d_model_create

# The body's profile, turned about the y axis (mm): (radius, height) from the bottom up.
PROFILE = ((0.0, 0.0), (9.0, 0.0), (9.0, 34.0), (8.0, 36.0), (8.0, 44.0), (5.0, 48.0), (4.0, 58.0),
           (2.5, 62.0), (0.0, 63.0))
MODEL_NAME = "Injector body"
DEMO_PART_TYPE = "CRI-2200"


def lathe(profile=PROFILE, segments: int = 32) -> tuple[list[float], list[float], list[int]]:
    """Positions, normals and triangle indices of ``profile`` turned about y; each band has its own
    vertices so that its normal is the band's (sharp edges at the profile's corners)."""
    positions: list[float] = []
    normals: list[float] = []
    indices: list[int] = []
    for (r0, y0), (r1, y1) in pairwise(profile):
        dr, dy = r1 - r0, y1 - y0
        length = math.hypot(dr, dy) or 1.0
        nr, ny = dy / length, -dr / length  # outward normal of the band in the (r, y) plane
        base = len(positions) // 3
        for s in range(segments + 1):
            a = 2 * math.pi * s / segments
            c, sn = math.cos(a), math.sin(a)
            for r, y in ((r0, y0), (r1, y1)):
                positions += [r * c, y, r * sn]
                normals += [nr * c, ny, nr * sn]
        for s in range(segments):
            v = base + 2 * s
            indices += [v, v + 3, v + 1, v, v + 2, v + 3]
    return positions, normals, indices


def injector_body_glb(segments: int = 32) -> bytes:
    """A glTF 2.0 binary (GLB) of the injector body: one mesh, positions, normals, indices, one material."""
    positions, normals, indices = lathe(segments=segments)
    pos = struct.pack(f"<{len(positions)}f", *positions)
    nor = struct.pack(f"<{len(normals)}f", *normals)
    idx = struct.pack(f"<{len(indices)}I", *indices)
    xs, ys, zs = positions[0::3], positions[1::3], positions[2::3]
    count = len(positions) // 3
    doc = {
        "asset": {"version": "2.0", "generator": "Traveler demo"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "name": MODEL_NAME}],
        "meshes": [{"name": MODEL_NAME, "primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2,
                                                         "material": 0}]}],
        "materials": [{"name": "18CrNi8 steel", "pbrMetallicRoughness": {
            "baseColorFactor": [0.72, 0.74, 0.77, 1.0], "metallicFactor": 0.7, "roughnessFactor": 0.35}}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": count, "type": "VEC3",
             "min": [min(xs), min(ys), min(zs)], "max": [max(xs), max(ys), max(zs)]},
            {"bufferView": 1, "componentType": 5126, "count": count, "type": "VEC3"},
            {"bufferView": 2, "componentType": 5125, "count": len(indices), "type": "SCALAR"},
        ],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(pos), "target": 34962},
            {"buffer": 0, "byteOffset": len(pos), "byteLength": len(nor), "target": 34962},
            {"buffer": 0, "byteOffset": len(pos) + len(nor), "byteLength": len(idx), "target": 34963},
        ],
        "buffers": [{"byteLength": len(pos) + len(nor) + len(idx)}],
    }
    js = json.dumps(doc, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    binary = pos + nor + idx
    binary += b"\x00" * (-len(binary) % 4)
    total = 12 + 8 + len(js) + 8 + len(binary)
    return (struct.pack("<4sII", b"glTF", 2, total) + struct.pack("<I4s", len(js), b"JSON") + js
            + struct.pack("<I4s", len(binary), b"BIN\x00") + binary)


def surface_point(rng: random.Random, y_from: float, y_to: float) -> tuple[list[float], list[float]]:
    """A point on the body's side between two heights, and the outward normal there."""
    y = rng.uniform(y_from, y_to)
    for (r0, y0), (r1, y1) in pairwise(PROFILE):
        if y0 <= y <= y1 and y1 > y0:
            r = r0 + (r1 - r0) * (y - y0) / (y1 - y0)
            dr, dy = r1 - r0, y1 - y0
            length = math.hypot(dr, dy)
            nr, ny = dy / length, -dr / length
            break
    a = rng.uniform(0, 2 * math.pi)
    return [r * math.cos(a), y, r * math.sin(a)], [nr * math.cos(a), ny, nr * math.sin(a)]


# (code, description, severity, where on the body (from, to height), the route's step, how many)
DEFECTS = (
    ("BURR", "Burr at the thread or a bore intersection", "major", (36.0, 44.0), "Deburr & wash", 40),
    ("POROSITY", "Porosity or inclusion in the forging", "major", (44.0, 48.0), "CNC machine body", 18),
    ("SEAT-DMG", "Damaged or out-of-round valve seat", "critical", (58.0, 62.5), "Grind seat", 22),
    ("SCRATCH", "Handling scratch on the body", "minor", (2.0, 34.0), "Final inspection & marking", 30),
)


def _user(tenant: Tenant, role: str) -> User | None:
    return User.objects.filter(email=f"{role.replace('_', '.')}@{tenant.slug}.example.com").first()


@demo_loader
def load_maps_demo(tenant: Tenant) -> None:
    """The injector body's 3D model and about a hundred defects on it; nothing when it exists already."""
    part_type = PartType.objects.filter(part_number=DEMO_PART_TYPE, archived_at__isnull=True).order_by("-pk").first()
    if part_type is None or ThreeDModel.objects.filter(part_type=part_type, name=MODEL_NAME).exists():
        return
    parts = list(Part.objects.filter(part_type=part_type).order_by("pk")[:60])
    if not parts:
        return
    rng = random.Random(f"maps-demo-{tenant.slug}")
    with tenant_context(tenant, actor=_user(tenant, "qa_manager") or current_actor()):
        codes = {}
        for code, description, severity, *_ in DEFECTS:
            codes[code] = (QualityErrorsList.objects.filter(code=code).first()
                           or defect_code_create(data={"code": code, "description": description, "severity": severity}))
        model = three_d_model_create(part_type=part_type, name=MODEL_NAME, content=io.BytesIO(injector_body_glb()),
                                     original_name="injector-body.glb", reason="Demo: the injector body's 3D model")
    steps = {s.name: s for s in Step.objects.filter(process_id=parts[0].process_id)}
    now = timezone.now()
    with tenant_context(tenant, actor=_user(tenant, "qa_inspector") or current_actor()):
        for code, _description, _severity, (y_from, y_to), step_name, count in DEFECTS:
            for n in range(count):
                point, normal = surface_point(rng, y_from, y_to)
                part = rng.choice(parts)
                annotation = heatmap_annotation_create(
                    model=model, x=point[0], y=point[1], z=point[2], normal=normal, defect_code=codes[code], part=part,
                    step=steps.get(step_name) if step_name in steps else None,
                    note=f"{codes[code].description} on {part.serial_number}" if n % 5 == 0 else "")
                # Spread over the last 90 days, so that the period filter has something to show.
                HeatmapAnnotation.objects.filter(pk=annotation.pk).update(
                    created_at=now - timedelta(days=rng.uniform(0, 90)))
