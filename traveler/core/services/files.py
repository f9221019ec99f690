"""Stored files: checked for size and media type, stored through Django's storage API under their
SHA-256 (storage alias ``documents``, see settings.STORAGES).

The media type is detected from the content, never taken from the client: a small sniff of magic
bytes for PDF, PNG, JPEG, TIFF, DXF (ASCII and binary), STEP and the 3D meshes viewers show (glTF binary
and JSON, STL ASCII and binary), then text (UTF-8 with no NUL byte), else ``application/octet-stream``.
Which types are accepted is ``TRAVELER_UPLOAD_MEDIA_TYPES``.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import storages

from traveler.core.errors import InvalidInput

SNIFF_BYTES = 8192
CHUNK = 1024 * 1024
_DXF_ASCII = re.compile(rb"^\s*0\s*\r?\n\s*SECTION\s*\r?\n", re.ASCII)
MEDIA_TYPE_NAMES = {
    "application/pdf": "PDF", "image/png": "PNG image", "image/jpeg": "JPEG image", "image/tiff": "TIFF image",
    "image/vnd.dxf": "DXF drawing", "model/step": "STEP model", "model/gltf-binary": "glTF binary model (GLB)",
    "model/gltf+json": "glTF model (JSON)", "model/stl": "STL model", "text/plain": "text",
    "application/octet-stream": "unknown binary",
}


_STL_ASCII = re.compile(rb"^\s*solid\b[^\n]*\r?\n\s*(facet\s+normal|endsolid)\b", re.ASCII | re.IGNORECASE)
_GLTF_JSON = re.compile(rb'^\s*\{.*"asset"\s*:\s*\{', re.DOTALL)


def sniff_media_type(head: bytes, size: int | None = None) -> str:
    """The media type of a file, from its first bytes (``size``: the whole file's, when known; a binary
    STL is recognised by its triangle count matching its size, as it has no magic bytes)."""
    size = len(head) if size is None else size
    if head.startswith(b"glTF") and len(head) >= 12 and struct.unpack_from("<I", head, 4)[0] == 2:
        return "model/gltf-binary"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"AutoCAD Binary DXF\r\n\x1a\x00") or _DXF_ASCII.match(head):
        return "image/vnd.dxf"
    if head.lstrip().startswith(b"ISO-10303-21;"):
        return "model/step"
    # A binary STL's 80-byte header is free text (often "solid ..."): its size decides before the ASCII form.
    if len(head) >= 84 and size > 84 and size == 84 + 50 * struct.unpack_from("<I", head, 80)[0]:
        return "model/stl"
    if _STL_ASCII.match(head):
        return "model/stl"
    if _GLTF_JSON.match(head):
        return "model/gltf+json"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "text/plain"
        except UnicodeDecodeError as exc:  # a character cut at the end of the sniffed bytes is still text
            if exc.start >= len(head) - 3 and len(head) == SNIFF_BYTES:
                return "text/plain"
    return "application/octet-stream"


def human_size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}".replace(".0 ", " ")
        n /= 1024
    return f"{n} bytes"


@dataclass(frozen=True)
class StoredFile:
    name: str  # the key in the storage
    sha256: str
    size: int
    media_type: str


def document_storage():
    return storages["documents"]


def file_store(*, content: IO[bytes], field: str = "file") -> StoredFile:
    """Check ``content`` (size limit, media type) and store it under its SHA-256. Errors name ``field``.

    Storage is not transactional: a file stored by a transaction that later rolls back stays, unused
    (the same content uploaded again finds it).
    """
    limit = settings.TRAVELER_UPLOAD_MAX_BYTES
    digest, size, head = hashlib.sha256(), 0, b""
    if hasattr(content, "seek"):
        content.seek(0)
    while chunk := content.read(CHUNK):
        if len(head) < SNIFF_BYTES:
            head += chunk[:SNIFF_BYTES - len(head)]
        size += len(chunk)
        if size > limit:
            raise InvalidInput(f"The file is larger than the upload limit of {human_size(limit)} "
                               f"(TRAVELER_UPLOAD_MAX_BYTES).", fields={field: [f"larger than {human_size(limit)}"]})
        digest.update(chunk)
    if size == 0:
        raise InvalidInput("The file is empty.", fields={field: ["empty"]})
    media_type = sniff_media_type(head, size)
    allowed = settings.TRAVELER_UPLOAD_MEDIA_TYPES
    if media_type not in allowed:
        names = ", ".join(MEDIA_TYPE_NAMES.get(t, t) for t in allowed)
        raise InvalidInput(
            f"This file's content is {MEDIA_TYPE_NAMES.get(media_type, media_type)} ({media_type}), which is not "
            f"accepted here. Accepted: {names}.", fields={field: [f"{media_type} is not accepted"]})
    sha = digest.hexdigest()
    name = f"sha256/{sha[:2]}/{sha}"
    storage = document_storage()
    if not storage.exists(name):
        content.seek(0)
        saved = storage.save(name, File(content, name=sha))
        if saved != name:  # another upload of the same content won the race: keep one copy
            storage.delete(saved)
    return StoredFile(name=name, sha256=sha, size=size, media_type=media_type)


def file_open(name: str):
    return document_storage().open(name, "rb")
