"""Shared set-up for benchmarks: a fresh, migrated database of their own, dropped afterwards.

Run a benchmark as ``./dev manage shell -c ''`` would: through ``.venv/bin/python benchmarks/<name>.py``
with the embedded PostgreSQL started (``./dev db start``) or DATABASE_URL set.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = os.environ.get("TRAVELER_BENCH_DB", "traveler_bench")
# Before any settings are imported: Django must only ever see the benchmark database.
os.environ["TRAVELER_DB_NAME"] = BENCH_DB
# A throw-away database signs nothing worth keeping: a key of its own for each run.
os.environ.setdefault("TRAVELER_SECRET_KEY", "benchmark-" + os.urandom(24).hex())


def _owner_connect(dbname: str):
    import psycopg

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "traveler.server.settings")
    sys.path.insert(0, str(ROOT))
    from traveler.server.settings import database_settings

    os.environ["TRAVELER_DB_AS_OWNER"] = "1"
    d = database_settings()
    del os.environ["TRAVELER_DB_AS_OWNER"]
    return psycopg.connect(dbname=dbname, user=d["USER"], password=d["PASSWORD"] or None,
                           host=d["HOST"], port=d["PORT"] or None, autocommit=True)


def fresh_database() -> None:
    """Create and migrate BENCH_DB, then point Django at it as the app role."""
    with _owner_connect("postgres") as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    env = {**os.environ, "TRAVELER_DB_NAME": BENCH_DB, "TRAVELER_DB_AS_OWNER": "1", "PYTHONPATH": str(ROOT),
           "DJANGO_SETTINGS_MODULE": "traveler.server.settings"}
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ["TRAVELER_DB_NAME"] = BENCH_DB
    os.environ["TRAVELER_DB_CONN_MAX_AGE"] = "600"
    import django

    django.setup()


def drop_database() -> None:
    from django.db import connections

    connections.close_all()
    with _owner_connect("postgres") as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def owner_sql(sql: str) -> None:
    with _owner_connect(BENCH_DB) as conn:
        conn.execute(sql)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def bulk_load(tables: tuple[str, ...], *statements: str, seed: float, triggers: str = "USER") -> None:
    """Run ``statements`` as the owner in one transaction, ``triggers`` of ``tables`` off meanwhile, then
    ``VACUUM ANALYZE``. ``triggers``: "USER" (every trigger a migration made; foreign keys stay on and are
    checked before the triggers go back on) or "audit" (only the audit trail's, so that other triggers,
    quality's first departures for one, fill what they fill in production). ``seed`` makes ``random()``
    repeatable."""
    names = ([f"traveler_audit_{op}" for op in ("insert", "update", "delete")] if triggers == "audit"
             else [triggers])
    with _owner_connect(BENCH_DB) as conn:
        with conn.transaction():
            for t in tables:
                for name in names:
                    conn.execute(f"ALTER TABLE {t} DISABLE TRIGGER {name}")
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            conn.execute(f"SELECT setseed({float(seed)})")
            for sql in statements:
                conn.execute(sql)
            for t in tables:
                for name in names:
                    conn.execute(f"ALTER TABLE {t} ENABLE TRIGGER {name}")
        conn.execute("VACUUM ANALYZE")
