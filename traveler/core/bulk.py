"""Many rows in one INSERT, with the rows sent as one JSON document.

``bulk_create`` spends tens of microseconds of Python per row on model instances, field preparation
and psycopg's quoting of a text array; for the hot bulk writes (a bulk advance's transition logs and
measurements, the outbox events of a bulk operation) that is more than the database takes to write
the row. ``insert_rows`` sends the rows as one JSON document read by ``json_to_recordset``. It is an
ordinary INSERT: row-level security, constraints, defaults in the database and the audit trail apply
as to any other. Model-level defaults, ``auto_now`` and ``save()`` do not: give every column the
table needs.

    rows = insert_rows(OutboxEvent, {"name": names, "payload": payloads},
                       same={"tenant_id": 3, "occurred_at": now}, returning=("id", "name"))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def insert_rows(model: type[models.Model], columns: dict[str, Sequence[Any]], *, same: dict[str, Any] | None = None,
                returning: Sequence[str] = ("pk",)) -> list[tuple]:
    """Insert one row per position of ``columns`` (field name -> one value per row), with the values of
    ``same`` in every row; answer the ``returning`` fields (names; ``pk`` is the primary key) of each row, as the ORM would
    read them.

    The answer's rows come in no promised order: return a column that tells them apart (a part, a key)
    when they must be matched to what was inserted. Values go through JSON: numbers, strings, booleans,
    None, lists and dicts (for JSON fields) as they are; anything else (Decimal, dates) as ``str()``,
    which PostgreSQL reads for its column type.
    """
    same = same or {}
    meta, qn = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in columns]
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"insert_rows: columns of different lengths {sorted(lengths)}")
    if not fields or 0 in lengths:
        return []
    shared = [meta.get_field(name) for name in same]
    back = [meta.pk if name == "pk" else meta.get_field(name) for name in returning]
    names = ", ".join(qn(f.column) for f in (*shared, *fields))
    record = ", ".join(f"{qn(f.column)} {f.db_type(connection)}" for f in fields)
    placeholders = "".join(f"%s::{f.db_type(connection)}, " for f in shared)
    sql = (f"INSERT INTO {qn(meta.db_table)} ({names}) SELECT {placeholders}r.* "
           f"FROM json_to_recordset(%s) AS r({record}) RETURNING {', '.join(qn(f.column) for f in back)}")
    keys = [f.column for f in fields]
    document = json.dumps([dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)],
                          default=str)
    params = [json.dumps(v, default=str) if isinstance(f, models.JSONField) else v
              for f, v in zip(shared, same.values(), strict=True)]
    # Returned values read as the ORM reads them (a JSON field's text decoded by the field).
    convert = [(i, f.from_db_value) for i, f in enumerate(back) if hasattr(f, "from_db_value")]
    with connection.cursor() as cur:
        cur.execute(sql, [*params, document])
        rows = [list(row) for row in cur.fetchall()]
    for row in rows:
        for i, from_db in convert:
            row[i] = from_db(row[i], None, connection)
    return [tuple(row) for row in rows]
