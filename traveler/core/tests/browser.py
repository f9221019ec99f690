"""What the browser tests of every module share: Debian's chromium driven by Playwright (never
downloaded), a live server on 127.0.0.1, and the ORM used next to Playwright's event loop.

pytest-django's ``live_server`` cannot be used: its teardown empties tables with TRUNCATE, which the
app role may not do and the append-only history refuses. So a browser test module commits its data
once, with unique names, and never asserts global counts. Screenshots go to ``test-artifacts/``
(git-ignored) for a human to look at the design.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are plain sync code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        pytest.fail("No chromium for the browser tests: install Debian's chromium (./dev test does when it "
                    "may) or set CHROMIUM_PATH.")
    return path


@contextmanager
def live_server() -> Iterator[str]:
    """The site on a free port of 127.0.0.1, with the UI's error handlers; yields its URL.

    Call it inside ``django_db_blocker.unblock()``: the blocker guards every thread's connections,
    so it stays open while the server runs.
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test import override_settings
    from django.test.testcases import LiveServerThread

    urls = override_settings(ROOT_URLCONF="traveler.core.tests.test_ui_shell")
    urls.enable()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override={}, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        urls.disable()
        raise server.error
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        httpd = server.httpd
        server.terminate()
        # Request threads close their database connections when their keep-alive socket ends;
        # wait for them, or the test database cannot be dropped at the end of the session.
        for thread in threading.enumerate():
            if getattr(getattr(thread, "_target", None), "__self__", None) is httpd:
                thread.join(timeout=10)
        urls.disable()


@contextmanager
def asgi_live_server(urlconf: str = "traveler.core.tests.test_ui_shell") -> Iterator[str]:
    """``live_server`` under uvicorn, as in production: for pages that stream (server-sent events
    need the ASGI server; the WSGI test server would hold a thread per stream). Yields its URL.

    Its request threads close their database connections at the end of each request
    (``CONN_MAX_AGE`` 0 while it runs), so that the test database can be dropped afterwards; a request
    the browser abandons (a page left while a panel loads) ends without that, so whatever connections
    the server's threads still hold are closed when it stops.
    """
    import socket

    import uvicorn
    from django.conf import settings
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application
    from django.db.backends.signals import connection_created
    from django.test import override_settings

    here = threading.current_thread()
    opened = []

    def track(sender, connection, **kwargs):
        if threading.current_thread() is not here:
            opened.append(connection.connection)

    connection_created.connect(track, weak=False, dispatch_uid="asgi-live-server")
    urls = override_settings(ROOT_URLCONF=urlconf)
    urls.enable()
    db = settings.DATABASES["default"]
    max_age, db["CONN_MAX_AGE"] = db.get("CONN_MAX_AGE"), 0
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(ASGIStaticFilesHandler(get_asgi_application()), lifespan="off", log_level="warning",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="asgi live server")
    thread.start()
    try:
        for _ in range(200):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.05)
        if not server.started:
            raise RuntimeError("the ASGI test server did not start")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        connection_created.disconnect(dispatch_uid="asgi-live-server")
        for raw in opened:
            if not raw.closed:
                raw.close()
        db["CONN_MAX_AGE"] = max_age
        urls.disable()


@contextmanager
def chromium():
    """A headless chromium for one test module."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@contextmanager
def orm():
    """ORM work next to Playwright. Its event loop gives this block a connection of its own, which
    no later teardown would see: close it here, or the test database cannot be dropped."""
    from django.db import connections

    try:
        yield
    finally:
        connections.close_all()
