"""What the MES Lite API views share. The views themselves are in views_routing, views_orders,
views_parts and views_equipment: each parses with an input serializer, is allowed by its
``permission_map``, calls one service (or selector) and answers with an output serializer.
"""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from traveler.core.api.base import RecordReadOnlyViewSet, RecordWriteViewSet

MES = "mes_lite"


def parsed(serializer_class, request: Request) -> dict:
    """The validated body of ``request`` (400 naming the fields otherwise)."""
    ser = serializer_class(data=request.data)
    if not ser.is_valid():
        raise ValidationError(_field_paths(ser.errors))
    return _plain(ser.validated_data)


def _field_paths(detail, prefix: str = "") -> dict[str, list]:
    """Name nested fields the way the services do (``parts[3].measurements[0].value``)."""
    out: dict[str, list] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int) or str(key).isdigit():
                path = f"{prefix}[{key}]"
            elif key == "non_field_errors" and prefix:
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.update(_field_paths(value, path))
    elif isinstance(detail, list) and any(isinstance(v, (dict, list)) for v in detail):
        for i, value in enumerate(detail):
            if value:
                out.update(_field_paths(value, f"{prefix}[{i}]"))
    else:
        out[prefix or "non_field_errors"] = detail if isinstance(detail, list) else [detail]
    return out


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def version_of(request: Request, data: dict) -> int | None:
    """The version the client read: in the body, or ``If-Match``."""
    if data.get("version") is not None:
        return data["version"]
    header = request.headers.get("If-Match", "").strip('"W/')
    return int(header) if header.isdigit() else None


def reason_of(request: Request, data: dict) -> str | None:
    return data.get("reason") or request.headers.get("X-Reason") or None


class MesRecordViewSet(RecordWriteViewSet):
    """A MES Lite record with the full record API (list, create, change, archive, restore, history)."""

    permission_prefix = MES


class MesReadOnlyViewSet(RecordReadOnlyViewSet):
    """A record written only through other endpoints' actions (parts, transitions, measurements...)."""

    permission_prefix = MES
