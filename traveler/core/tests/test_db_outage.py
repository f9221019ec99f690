"""Reliability: a running server through a database stop and restart, against a throwaway PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def db(state: str, action: str) -> None:
    subprocess.run([sys.executable, "-m", "traveler.server.embedded_db", action], cwd=ROOT, check=True,
                   env={**os.environ, "TRAVELER_STATE_DIR": state}, timeout=90, capture_output=True)


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


@pytest.fixture
def throwaway_server():
    state = tempfile.mkdtemp(prefix="trv-outage-")  # short: the Unix socket lives inside
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TRAVELER_DB_NAME")}
    env.update(TRAVELER_STATE_DIR=state, DJANGO_SETTINGS_MODULE="traveler.server.settings", PYTHONPATH=str(ROOT))
    server = None
    try:
        db(state, "start")
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "traveler.server.asgi:application", "--host", "127.0.0.1",
             "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"{base}/health/live")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)
        yield base, state
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        try:
            db(state, "stop")
        finally:
            shutil.rmtree(state, ignore_errors=True)


def test_database_stop_and_restart_while_the_server_runs(throwaway_server):
    base, state = throwaway_server
    assert get(f"{base}/health/ready")[0] == 200
    db(state, "stop")
    assert get(f"{base}/health/live")[0] == 200
    status, _, body = get(f"{base}/health/ready")
    assert status == 503 and json.loads(body)["database"] == "unreachable"
    status, ctype, body = get(f"{base}/api/v1/core/companies/?page=1")
    assert status == 503 and ctype.startswith("application/json"), (status, body[:300])
    assert json.loads(body)["error"]["code"] == "database_unavailable"
    status, ctype, body = get(f"{base}/signin/")
    assert status == 503 and "Temporarily unavailable" in body, (status, body[:300])
    for text in (body,):
        assert "Traceback" not in text and "OperationalError" not in text
    db(state, "start")
    deadline = time.monotonic() + 30
    while get(f"{base}/health/ready")[0] != 200:
        assert time.monotonic() < deadline, "the server did not reconnect by itself"
        time.sleep(0.5)
