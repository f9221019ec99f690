"""How values look on a page: one place, so every module's pages read the same.

Times are shown in UTC and say so: records are compared across plants, shifts and auditors.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.text import capfirst

from traveler.core.models import History, User

EMPTY = "—"


def format_datetime(value: datetime, seconds: bool = False) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def format_value(value) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, list | tuple | set):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def model_field(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def field_label(model, name: str) -> str:
    field = model_field(model, name)
    if field is not None and hasattr(field, "verbose_name"):
        return capfirst(str(field.verbose_name))
    attr = getattr(model, name, None)
    label = getattr(attr, "short_description", None)
    return str(label) if label else capfirst(name.replace("_", " "))


def display_value(obj, name: str) -> str:
    """``obj.<name>`` as text: choice labels, related records by name, UTC times."""
    field = model_field(type(obj), name)
    if field is not None and getattr(field, "choices", None):
        return format_value(getattr(obj, f"get_{name}_display")())
    value = getattr(obj, name, None)
    if callable(value) and not hasattr(value, "_meta"):
        value = value()
    return format_value(value)


# Values shown whole on one line in a table: a date broken after its first hyphen, or a serial
# number over two lines, is misread on the floor. Longer text wraps, inside a minimum width.
_ONE_LINE_FIELDS = (models.DateField, models.TimeField, models.IntegerField, models.DecimalField,
                    models.FloatField, models.BooleanField)
TOKEN_LENGTH = 40


def keeps_together(field, values: list[str]) -> bool:
    """Whether a table column shows on one line: dates, numbers and choices always; otherwise when
    every value is a single token (an id, a serial number, a part number) of at most 40 characters."""
    if field is not None and (isinstance(field, _ONE_LINE_FIELDS) or getattr(field, "choices", None)):
        return True
    shown = [v for v in values if v and v != EMPTY]
    return bool(shown) and all(len(v) <= TOKEN_LENGTH and not any(c.isspace() for c in v) for v in shown)


def _by_column(model) -> dict:
    return {f.column: f for f in model._meta.concrete_fields}


def history_label(model, column: str) -> str:
    """The label of a column in a history row ("company_id" reads "Company")."""
    field = _by_column(model).get(column) if model else None
    return capfirst(str(field.verbose_name)) if field is not None else capfirst(column.replace("_", " "))


def history_value(model, column: str, value, names: dict | None = None) -> str:
    """A value as the audit trigger stored it (JSON), shown like the live record shows it.

    ``names`` holds the related records' names (``related_names``): a foreign key reads as the
    record it points to, not as its id.
    """
    field = _by_column(model).get(column) if model else None
    if field is not None and getattr(field, "choices", None) and value is not None:
        return str(dict(field.flatchoices).get(value, value))
    if field is not None and field.is_relation and value is not None and names is not None:
        found = names.get(field.related_model, {}).get(str(value))
        return found if found is not None else f"#{value} (not found)"
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] in ("T", " "):
        try:
            return format_datetime(datetime.fromisoformat(value), seconds=True)
        except ValueError:
            pass
    return format_value(value)


def related_names(model, rows) -> dict[type, dict[str, str]]:
    """The names of the records that the foreign keys in ``rows`` point to: one query per related model.

    The related model's default manager is scoped to the current tenant, so an id of another
    tenant's record finds nothing and never shows its name.
    """
    fields = {column: f for column, f in _by_column(model).items()
              if f.is_relation and column != "tenant_id"} if model else {}
    wanted: dict[type, set] = {}
    for r in rows:
        for column, pair in r.changes.items():
            field = fields.get(column)
            if field is not None:
                wanted.setdefault(field.related_model, set()).update(v for v in pair if v is not None)
    names: dict[type, dict[str, str]] = {}
    for related, ids in wanted.items():
        pk = related._meta.pk
        values = set()
        for v in ids:
            try:
                values.add(pk.to_python(v))
            except ValidationError:  # a value the key cannot hold: it stays "not found"
                continue
        names[related] = {str(o.pk): str(o) for o in related._default_manager.filter(pk__in=values)}
    return names


def input_display(model, name: str, value) -> str:
    field = model_field(model, name)
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    return format_value(value)


def history_rows(model, rows) -> list[dict]:
    """History rows as a page shows them: when (UTC), who, what, why, and each field old → new."""
    rows = list(rows)
    ids = {r.actor_id for r in rows if r.actor_id}
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "full_name")) if ids else {}
    related = related_names(model, rows)
    out = []
    for r in rows:
        changes = r.changes
        action = r.get_action_display()
        if "archived_at" in changes and r.action == History.Action.UPDATE:
            action = "Archived" if changes["archived_at"][1] else "Restored"
        out.append({
            "id": r.pk, "when": format_datetime(r.occurred_at, seconds=True), "iso": r.occurred_at.isoformat(),
            "who": names.get(r.actor_id, f"User #{r.actor_id}") if r.actor_id else "System",
            "action": action, "action_code": r.action, "reason": r.reason,
            "changes": [{"field": history_label(model, k), "old": history_value(model, k, o, related),
                         "new": history_value(model, k, n, related)}
                        for k, (o, n) in changes.items() if k not in ("id", "tenant_id", "created_at")],
        })
    return out
