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


def test_test_runs_print_a_line_per_file_with_counts_and_the_slowest_tests():
    from types import SimpleNamespace

    from traveler.conftest import FileProgress

    lines = []
    reporter = SimpleNamespace(ensure_newline=lambda: None, write_line=lines.append)
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: reporter))
    progress = FileProgress(config)
    ids = ["a/test_one.py::t1", "a/test_one.py::t2", "a/test_two.py::t3"]
    progress.pytest_collection_modifyitems([SimpleNamespace(nodeid=i) for i in ids])
    outcomes = {"a/test_one.py::t1": "passed", "a/test_one.py::t2": "failed", "a/test_two.py::t3": "passed"}
    for nodeid, outcome in outcomes.items():
        for when in ("setup", "call", "teardown"):
            progress.pytest_runtest_logreport(SimpleNamespace(
                nodeid=nodeid, when=when, outcome=outcome if when == "call" else "passed"))
        if nodeid.endswith("t1"):
            assert lines == []  # the file is not finished yet
    assert len(lines) == 2
    assert lines[0].startswith("a/test_one.py: 1 failed, 1 passed in ") and "[1/2 files" in lines[0]
    assert lines[1].startswith("a/test_two.py: 1 passed in ") and "[2/2 files" in lines[1]
    pyproject = (DEV.parent / "pyproject.toml").read_text()
    assert "--durations=15" in pyproject
