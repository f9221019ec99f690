"""The ``dev`` script: ``./dev demo`` stops its children on SIGTERM, requirements are not reinstalled."""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

DEV = Path(__file__).resolve().parents[3] / "dev"


def load_dev():
    loader = importlib.machinery.SourceFileLoader("traveler_dev_script", str(DEV))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_base_requirements_are_not_reinstalled_after_the_test_superset(tmp_path, monkeypatch):
    dev = load_dev()
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    digest = hashlib.sha256()
    for f in sorted((dev.ROOT / "requirements").glob("*.txt")):
        digest.update(f.read_bytes())
    (venv / ".installed-test.txt").write_text(digest.hexdigest())
    monkeypatch.setattr(dev, "VENV", venv)
    monkeypatch.setattr(dev, "PY", venv / "bin" / "python")
    installs = []
    monkeypatch.setattr(dev, "check", lambda cmd, **kw: installs.append(cmd))
    dev.ensure_venv("base.txt")
    assert installs == []
    (venv / ".installed-test.txt").write_text("stale")
    dev.ensure_venv("base.txt")
    assert installs and "pip" in installs[0]


def test_demo_stopped_with_sigterm_stops_the_web_server_and_the_worker(tmp_path):
    pids = tmp_path / "pids"
    script = textwrap.dedent(f"""
        import importlib.machinery, importlib.util, subprocess, sys
        loader = importlib.machinery.SourceFileLoader("dev", {str(DEV)!r})
        spec = importlib.util.spec_from_loader("dev", loader)
        dev = importlib.util.module_from_spec(spec); loader.exec_module(dev)
        dev.ensure_venv = dev.db_start = lambda *a, **k: None
        dev.manage = lambda *a, **k: 0
        dev.check = lambda *a, **k: None
        real = subprocess.Popen
        def popen(cmd, **kw):
            p = real([sys.executable, "-c", "import time; time.sleep(60)"])
            with open({str(pids)!r}, "a") as f:
                f.write(f"{{p.pid}}\\n")
            return p
        dev.subprocess.Popen = popen
        dev.cmd_demo([])
    """)
    demo = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not pids.exists() or len(pids.read_text().split()) < 2):
            time.sleep(0.1)
        children = [int(p) for p in pids.read_text().split()]
        assert len(children) == 2
        demo.send_signal(signal.SIGTERM)
        demo.wait(20)
    finally:
        if demo.poll() is None:
            demo.kill()
    for pid in children:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"child {pid} still runs after the demo was stopped with SIGTERM")
