"""Reading a 3D model file far enough to trust it: its format from the content (core's sniffing) and
its bounding box, in the scene's coordinates (glTF node transforms applied), which the viewer's points
are expressed in. A file that cannot be read this way is refused before anything is stored."""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass

from traveler.core.errors import InvalidInput
from traveler.core.services.files import sniff_media_type
from traveler.qms.choices import ModelFormat

FORMATS = {"model/gltf-binary": ModelFormat.GLB, "model/gltf+json": ModelFormat.GLTF, "model/stl": ModelFormat.STL}
_VERTEX = re.compile(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)")


@dataclass(frozen=True)
class Mesh:
    file_format: str
    bounds: dict  # {"min": [x, y, z], "max": [x, y, z]}


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"The 3D model file cannot be read: {message}.", fields={"file": [message]})


def _box(points) -> dict:
    lo, hi = [math.inf] * 3, [-math.inf] * 3
    for p in points:
        for i in range(3):
            lo[i], hi[i] = min(lo[i], p[i]), max(hi[i], p[i])
    if not all(math.isfinite(v) for v in (*lo, *hi)):
        raise _bad("it has no vertices, or vertices that are not finite numbers")
    return {"min": lo, "max": hi}


def _stl_bounds(data: bytes) -> dict:
    if len(data) >= 84 and len(data) == 84 + 50 * struct.unpack_from("<I", data, 80)[0]:
        return _box(t[i:i + 3] for t in struct.iter_unpack("<12fH", data[84:]) for i in (3, 6, 9))
    try:
        return _box([float(v) for v in m.groups()] for m in _VERTEX.finditer(data))
    except ValueError:
        raise _bad("a vertex of the ASCII STL is not a number") from None


def _matmul(a: list[float], b: list[float]) -> list[float]:  # column-major 4x4, as glTF stores them
    return [sum(a[k * 4 + r] * b[c * 4 + k] for k in range(4)) for c in range(4) for r in range(4)]


def _node_matrix(node: dict) -> list[float]:
    if "matrix" in node:
        return [float(v) for v in node["matrix"]]
    tx, ty, tz = node.get("translation", [0, 0, 0])
    qx, qy, qz, qw = node.get("rotation", [0, 0, 0, 1])
    sx, sy, sz = node.get("scale", [1, 1, 1])
    r = [1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy + qz * qw), 2 * (qx * qz - qy * qw),
         2 * (qx * qy - qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz + qx * qw),
         2 * (qx * qz + qy * qw), 2 * (qy * qz - qx * qw), 1 - 2 * (qx * qx + qy * qy)]
    return [r[0] * sx, r[1] * sx, r[2] * sx, 0, r[3] * sy, r[4] * sy, r[5] * sy, 0,
            r[6] * sz, r[7] * sz, r[8] * sz, 0, tx, ty, tz, 1]


def _gltf_bounds(doc: dict, *, embedded: bool) -> dict:
    if not isinstance(doc, dict) or not str(doc.get("asset", {}).get("version", "")).startswith("2"):
        raise _bad("only glTF 2.0 is supported")
    for i, buffer in enumerate(doc.get("buffers", [])):
        uri = buffer.get("uri")
        if uri is None and not (embedded and i == 0):
            raise _bad("a buffer has no data")
        if uri is not None and not uri.startswith("data:"):
            raise _bad(f"it refers to the external file {uri!r}: upload a GLB, or embed buffers as data: URIs")
    accessors, meshes, nodes = doc.get("accessors", []), doc.get("meshes", []), doc.get("nodes", [])
    corners = []
    identity = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]

    def visit(index: int, parent: list[float], depth: int) -> None:
        if depth > 64 or not 0 <= index < len(nodes):
            raise _bad("its node hierarchy is invalid")
        node = nodes[index]
        world = _matmul(parent, _node_matrix(node))
        if "mesh" in node:
            for prim in meshes[node["mesh"]].get("primitives", []):
                acc = accessors[prim["attributes"]["POSITION"]]
                lo, hi = acc["min"], acc["max"]
                for x in (lo[0], hi[0]):
                    for y in (lo[1], hi[1]):
                        for z in (lo[2], hi[2]):
                            corners.append([sum(world[k * 4 + r] * v for k, v in enumerate((x, y, z, 1)))
                                            for r in range(3)])
        for child in node.get("children", []):
            visit(child, world, depth + 1)

    scenes = doc.get("scenes") or [{"nodes": list(range(len(nodes)))}]
    try:
        for root in scenes[doc.get("scene", 0)].get("nodes", []):
            visit(root, identity, 0)
    except (KeyError, IndexError, TypeError, ValueError):
        raise _bad("a mesh has no POSITION accessor with its min and max") from None
    return _box(corners)


def mesh_read(data: bytes) -> Mesh:
    """The format and bounding box of a glTF (binary or JSON) or STL file; ``InvalidInput`` on ``file``
    for anything else."""
    media_type = sniff_media_type(data[:8192], len(data))
    file_format = FORMATS.get(media_type)
    if file_format is None:
        raise InvalidInput(f"A 3D model must be a glTF (GLB or JSON) or STL file; this file's content is "
                           f"{media_type}.", fields={"file": ["not a glTF or STL model"]})
    if file_format == ModelFormat.STL:
        return Mesh(file_format, _stl_bounds(data))
    if file_format == ModelFormat.GLB:
        if len(data) < 20:
            raise _bad("its GLB header is truncated")
        length, chunk_length, chunk_type = struct.unpack_from("<III", data, 8)
        if length != len(data) or chunk_type != 0x4E4F534A or 20 + chunk_length > len(data):  # "JSON"
            raise _bad("its GLB header does not match its size, or its first chunk is not JSON")
        raw = data[20:20 + chunk_length]
    else:
        raw = data
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _bad("its glTF JSON is invalid") from None
    return Mesh(file_format, _gltf_bounds(doc, embedded=file_format == ModelFormat.GLB))
