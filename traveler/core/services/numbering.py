"""Gap-free numbers people read and quote: document numbers, NCR-2026-0001, CAPA-2026-0001.

One counter row per (tenant, key, year). ``number_next`` increments it with a single
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the row stays locked until the caller's
transaction ends, so a concurrent caller waits and then gets the next number, and a transaction that
rolls back takes its increment with it (no gap). The price: callers of one key are serialised until
commit, so take the number late in the transaction.
"""

from __future__ import annotations

from django.db import connection

from traveler.core.errors import InvalidInput
from traveler.core.models import NumberCounter
from traveler.core.tenancy import current_tenant


def number_next(*, key: str, year: int | None = None) -> int:
    """The next number of ``key`` (in ``year``, when numbers restart every year) for the current tenant.

    Must run inside the transaction that stores the number: outside one, a failure after this call
    would leave a gap.
    """
    if not key or len(key) > 100:
        raise InvalidInput("A number key needs 1 to 100 characters.", fields={"key": ["1 to 100 characters"]})
    if year is not None and not 1 <= year <= 9999:
        raise InvalidInput(f"Year {year} is out of range.", fields={"year": ["1 to 9999"]})
    if not connection.in_atomic_block:
        raise RuntimeError("number_next must run inside the transaction that uses the number")
    table = NumberCounter._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (tenant_id, key, year, last) VALUES (%s, %s, %s, 1) "
            f"ON CONFLICT (tenant_id, key, year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [current_tenant().pk, key, year or 0],
        )
        return cur.fetchone()[0]
