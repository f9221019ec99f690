"""The developer entry point (`./dev`): what `./dev demo` leaves behind, what it reinstalls, and what
a command says on a database that was never migrated."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from importlib.machinery import SourceFileLoader
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]
DEV = ROOT / "dev"


def _load_dev():
    loader = SourceFileLoader("traveler_dev_script", str(DEV))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_sigterm_stops_the_server_and_the_worker(tmp_path):
    """`kill <pid>` on `./dev demo` stops what it started, as Ctrl-C does."""
    child = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)"
    pidfiles = [tmp_path / "worker.pid", tmp_path / "web.pid"]
    driver = (
        "import sys\n"
        "import importlib.util\n"
        "from importlib.machinery import SourceFileLoader\n"
        f"loader = SourceFileLoader('dev', {str(DEV)!r})\n"
        "dev = importlib.util.module_from_spec(importlib.util.spec_from_loader('dev', loader))\n"
        "loader.exec_module(dev)\n"
        f"sys.exit(dev.serve([[sys.executable, '-c', {child!r}, p] for p in {[str(p) for p in pidfiles]!r}]))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", driver], cwd=ROOT)
    try:
        assert _wait_for(lambda: all(p.exists() and p.read_text() for p in pidfiles), 30), "children did not start"
        pids = [int(p.read_text()) for p in pidfiles]
        assert all(_alive(pid) for pid in pids)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert _wait_for(lambda: not any(_alive(pid) for pid in pids), 15), "a child outlived ./dev demo"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_test_requirements_cover_the_demo(tmp_path, monkeypatch):
    """After `./dev test` installed test.txt (which includes base.txt), `./dev demo` installs nothing."""
    dev = _load_dev()
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    monkeypatch.setattr(dev, "VENV", venv)
    monkeypatch.setattr(dev, "PY", venv / "bin" / "python")
    installs = []
    monkeypatch.setattr(dev, "check", lambda cmd, **kw: installs.append(cmd))
    dev.ensure_venv("test.txt")
    assert len(installs) == 1
    dev.ensure_venv("base.txt")
    assert len(installs) == 1, "base.txt was installed again over test.txt"
    dev.ensure_venv("test.txt")
    assert len(installs) == 1


def test_audit_verify_on_a_database_never_migrated_says_what_to_do():
    db = settings.DATABASES["default"]
    name = f"traveler_empty_{uuid.uuid4().hex[:8]}"
    conninfo = dict(host=db["HOST"], port=db["PORT"] or None, user=db["TRAVELER_OWNER"],
                    password=db["TRAVELER_OWNER_PASSWORD"] or None, dbname="postgres", autocommit=True)
    with psycopg.connect(**conninfo) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, "TRAVELER_DB_NAME": name, "TRAVELER_DB_AS_OWNER": "1",
               "DJANGO_SETTINGS_MODULE": "traveler.server.settings", "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-m", "django", "audit_verify"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    finally:
        with psycopg.connect(**conninfo) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    assert out.returncode != 0
    assert "never migrated" in out.stderr and "./dev manage migrate" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


@pytest.mark.parametrize("slug", ["acme", "kestrel"])
def test_the_readme_lists_the_demo_sign_ins(slug):
    from traveler.core.demo import DEMO_PASSWORD
    from traveler.core.roles import SEEDED_ROLES

    readme = (ROOT / "README.md").read_text()
    assert DEMO_PASSWORD in readme
    for spec in SEEDED_ROLES:
        assert f"{spec.code.replace('_', '.')}@{slug}.example.com" in readme
