"""Live charts: how long from a committed NOTIFY until 50 open chart streams have the event.

    ./dev db start && PYTHONPATH=. .venv/bin/python benchmarks/bench_spc_live.py [--streams 50] [--rounds 30]

The app runs under uvicorn (in a thread of this process, as ``./dev demo`` runs it), with one listener
connection; ``--streams`` HTTP clients (asyncio sockets, signed in as a QA inspector) hold the stream
of one characteristic open. Each round commits the notification that recording a measurement sends
(``pg_notify`` on ``spc_measurements``, autocommit: committed when the statement returns), then waits
until every stream has received its ``measurement`` event. Prints p50 / p95 over the rounds of the
time until the last stream had it, and of each stream's own delay; then the same for a real advance of
a part with its measurement (from the service's return, i.e. the commit). Uses a database of its own
(traveler_bench), dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import drop_database, fresh_database, pct  # noqa: E402


class Stream:
    def __init__(self) -> None:
        self.received: list[float] = []  # perf_counter() of each measurement event
        self.ready = asyncio.Event()

    async def run(self, port: int, path: str, cookie: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nCookie: {cookie}\r\n\r\n"
                     .encode())
        await writer.drain()
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.startswith(b"event: ready"):
                    self.ready.set()
                elif line.startswith(b"event: measurement"):
                    self.received.append(time.perf_counter())
        finally:
            writer.close()


def serve(port_sock: socket.socket):
    import uvicorn
    from django.core.asgi import get_asgi_application

    server = uvicorn.Server(uvicorn.Config(get_asgi_application(), lifespan="off", log_level="warning",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [port_sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread


def setup():
    from django.conf import settings
    from django.test import Client

    from traveler.core.middleware import SESSION_TENANT
    from traveler.core.services.tenants import tenant_create
    from traveler.core.services.users import member_add
    from traveler.core.tenancy import tenant_context
    from traveler.spc.tests.factories import measured, stable_values

    tenant = tenant_create(name="Live Bench Works", slug="live-bench")
    with tenant_context(tenant):
        user = member_add(email="ines@live-bench.example.com", full_name="Ines Inspector",
                          password="live bench password 2026", roles=["qa_inspector"]).user
    _, bore = measured(tenant, stable_values(30))
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_TENANT] = tenant.pk
    session.save()
    return tenant, bore, f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def advance_one(tenant, bore, value: float) -> None:
    from traveler.core.tenancy import tenant_context
    from traveler.mes_lite.models import Part
    from traveler.mes_lite.services.parts import part_advance
    from traveler.mes_lite.tests.factories import make_work_order

    with tenant_context(tenant):
        process = bore.step.process
    wo = make_work_order(tenant, process=process, quantity=1)
    with tenant_context(tenant):
        part_advance(part=Part.objects.get(work_order=wo), step=bore.step_id,
                     measurements=[{"definition": bore.pk, "value": repr(value)}])


async def rounds(streams: list[Stream], n: int, fire) -> tuple[list[float], list[float]]:
    """``fire()`` commits one notification and returns the perf_counter() of its commit."""
    last, each = [], []
    for r in range(1, n + 1):
        t0 = await asyncio.to_thread(fire)
        deadline = time.monotonic() + 10
        while any(len(s.received) < r for s in streams):
            if time.monotonic() > deadline:
                raise SystemExit(f"round {r}: only {sum(len(s.received) >= r for s in streams)} streams got the event")
            await asyncio.sleep(0.0005)
        delays = [s.received[r - 1] - t0 for s in streams]
        last.append(max(delays))
        each += delays
        await asyncio.sleep(0.05)
    return last, each


def report(label: str, last: list[float], each: list[float]) -> None:
    ms = [x * 1000 for x in last]
    per = [x * 1000 for x in each]
    print(f"{label}: all streams had it after p50 {statistics.median(ms):.1f} ms, p95 {pct(ms, 95):.1f} ms "
          f"(max {max(ms):.1f}); each stream p50 {statistics.median(per):.1f} ms, p95 {pct(per, 95):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    fresh_database()
    try:
        import psycopg

        from traveler.spc import live

        tenant, bore, cookie = setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server, thread = serve(sock)
        port = sock.getsockname()[1]
        payload = json.dumps({"tenant": tenant.pk, "definitions": [bore.pk], "counts": [1]})
        notifier = psycopg.connect(**live.connection_kwargs(), autocommit=True)

        def notify() -> float:
            notifier.execute("SELECT pg_notify(%s, %s)", [live.CHANNEL, payload])
            return time.perf_counter()  # committed: autocommit

        values = iter([6.0 + 0.0001 * (i % 7) for i in range(10_000)])

        def advance() -> float:
            advance_one(tenant, bore, next(values))
            return time.perf_counter()

        async def scenario():
            streams = [Stream() for _ in range(args.streams)]
            tasks = [asyncio.create_task(s.run(port, f"/spc/characteristics/{bore.pk}/stream/", cookie))
                     for s in streams]
            await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), 30)
            print(f"{args.streams} streams open on one listener connection; {args.rounds} rounds each")
            report(f"NOTIFY committed -> {args.streams} streams", *await rounds(streams, args.rounds, notify))
            for s in streams:
                s.received.clear()
            report(f"part advanced with a measurement (commit) -> {args.streams} streams",
                   *await rounds(streams, max(5, args.rounds // 3), advance))
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run(scenario())
        notifier.close()
        server.should_exit = True
        thread.join(10)
    finally:
        drop_database()


if __name__ == "__main__":
    main()
