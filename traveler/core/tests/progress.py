"""Readable progress for the whole suite: one line per finished test file instead of dots.

Loaded by ``-p traveler.core.tests.progress`` (pyproject.toml). Each line names the file, its counts,
how long its tests took and how far the run is::

    [ 41%  3:12] traveler/core/tests/test_accounts.py  24 passed  (18.2 s)

A failure is also named the moment it is reported, so a long run shows what broke without waiting
for the summary. Works in one process and under pytest-xdist (the controller prints; files finish
in any order). With ``-v`` pytest's own per-test lines are kept and this plugin stays silent.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

import pytest


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


class _Quiet:
    """Stands in for the terminal writer while pytest reports one test: drops its dot."""

    def __init__(self, tw):
        self._tw = tw

    def write(self, *args, **kwargs) -> None:
        pass

    def __getattr__(self, name):
        return getattr(self._tw, name)


class Progress:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tr = config.pluginmanager.getplugin("terminalreporter")
        self.tw = self.tr._tw  # the real writer: the reporter's own is muted while a test reports
        self.expected: dict[str, int] = {}
        self.done: dict[str, Counter] = defaultdict(Counter)
        self.seconds: dict[str, float] = defaultdict(float)
        self.finished = 0
        self.counted: set[str] = set()
        self.total = 0
        self.started = time.monotonic()

    def _count(self, nodeids) -> None:
        if self.expected:
            return
        for nodeid in nodeids:
            self.expected[_file_of(nodeid)] = self.expected.get(_file_of(nodeid), 0) + 1
        self.total = sum(self.expected.values())

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._count(item.nodeid for item in session.items)

    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self._count(ids)

    def _line(self, text: str, **markup) -> None:
        self.tw.line(text, **markup)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        path = _file_of(report.nodeid)
        self.seconds[path] += report.duration
        if report.failed:
            phase = "" if report.when == "call" else f" (in {report.when})"
            self._line(f"FAILED {report.nodeid}{phase}", red=True, bold=True)
        outcome = None
        if report.when == "call":
            outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
        elif report.when == "setup" and not report.passed:
            outcome = "error" if report.failed else "skipped"
        elif report.when == "teardown" and report.failed:
            self.done[path]["teardown error"] += 1
        if outcome is None or report.nodeid in self.counted:
            return  # a subtest's report (schemathesis) repeats its test's id: the test counts once
        self.counted.add(report.nodeid)
        self.done[path][outcome] += 1
        self.finished += 1
        counts = self.done[path]
        total = self.expected.get(path)
        if total is not None and sum(v for k, v in counts.items() if k != "teardown error") >= total:
            self._file_finished(path, counts)

    def _file_finished(self, path: str, counts: Counter) -> None:
        elapsed = int(time.monotonic() - self.started)
        pct = 100 * self.finished // self.total if self.total else 100
        parts = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: kv[0] != "passed"))
        bad = any(k in counts for k in ("failed", "error", "teardown error"))
        self._line(
            f"[{pct:3d}% {elapsed // 60:2d}:{elapsed % 60:02d}] {path}  {parts}  ({self.seconds[path]:.1f} s)",
            red=bad, green=not bad,
        )


class _Silencer:
    """Wraps the terminal reporter's per-test hook so that it keeps its counts but prints no dot."""

    def __init__(self, tr) -> None:
        self.tr = tr

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self, report):
        tw = self.tr._tw
        self.tr._tw = _Quiet(tw)
        try:
            return (yield)
        finally:
            self.tr._tw = tw


@pytest.hookimpl(trylast=True)  # after the terminal reporter is registered
def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the controller prints
        return
    if config.get_verbosity() > 0 or config.getoption("collectonly", False):
        return
    tr = config.pluginmanager.getplugin("terminalreporter")
    if tr is None:
        return
    tr._show_progress_info = False  # no "[ 42%]" after the dots that are no longer printed
    config.pluginmanager.register(_Silencer(tr), "traveler-progress-silencer")
    config.pluginmanager.register(Progress(config), "traveler-progress")
