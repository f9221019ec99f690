"""Live charts: recorded measurements wake the open chart pages, through PostgreSQL alone.

    advance (mes_lite) ── INSERT StepMeasurement ── trigger: pg_notify('spc_measurements', ...)
        │ commit: PostgreSQL delivers the notification (a rollback discards it)
    Listener (one async connection per server process, LISTEN spc_measurements)
        │ fan-out by (tenant, definition)
    one asyncio queue per open stream ── server-sent event ``measurement`` ── the browser redraws

Why a trigger (installed by spc's migration 0003) and not an event handler: the bus's in-process
handlers run *after* commit, outside the recording transaction, and ``mes.part.advanced`` names the
part, not the definitions measured, so a handler would query the measurements again and notify in a
transaction of its own. The statement-level trigger runs inside the recording transaction (PostgreSQL
delivers the notification on commit, never after a rollback), sees every writer (single and bulk
advance, imports, raw SQL) with one notification per statement and tenant, and mes_lite never learns
that spc exists. Payload: ``{"tenant": 3, "definitions": [12, 14], "counts": [1, 500]}``.

A stream holds no database connection: it waits on its queue. The listener connects lazily on the
first stream, reconnects by itself after a database restart (then tells every stream to redraw, since
notifications sent meanwhile are lost), and disconnects a little while after the last stream closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connections

log = logging.getLogger(__name__)

CHANNEL = "spc_measurements"
HEARTBEAT = 15.0  # seconds between SSE comments on a quiet stream (proxies drop idle connections)
LINGER = 10.0  # seconds the listener stays connected after its last stream closed (page reloads)
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 5.0)
QUEUE_SIZE = 100  # changes waiting for one stream; beyond that they are merged into a redraw


@dataclass(frozen=True)
class Change:
    """New measurements of one definition. ``count`` 0: unknown (the listener reconnected)."""

    tenant: int
    definition: int
    count: int


def connection_kwargs() -> dict[str, Any]:
    """psycopg's connection arguments for the database the app uses (its role, its options)."""
    s = connections["default"].settings_dict
    kwargs = {"dbname": s["NAME"], "user": s["USER"], "password": s["PASSWORD"], "host": s["HOST"] or None,
              "port": s["PORT"] or None, "application_name": "traveler live charts"}
    options = (s.get("OPTIONS") or {}).get("options")
    if options:
        kwargs["options"] = options
    return {k: v for k, v in kwargs.items() if v is not None}


class Listener:
    """The one LISTEN connection of a server process (of its event loop), fanning out to streams."""

    def __init__(self) -> None:
        self._subscribers: dict[tuple[int, int], set[asyncio.Queue[Change]]] = {}
        self._task: asyncio.Task | None = None
        self._stop: asyncio.TimerHandle | None = None
        self.connected = asyncio.Event()
        self.backend_pid: int | None = None
        self.connects = 0  # successful connections so far (more than one: it reconnected)

    @property
    def subscribers(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def subscribe(self, tenant: int, definition: int) -> asyncio.Queue[Change]:
        queue: asyncio.Queue[Change] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers.setdefault((tenant, definition), set()).add(queue)
        if self._stop is not None:
            self._stop.cancel()
            self._stop = None
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="spc live listener")
        return queue

    def unsubscribe(self, tenant: int, definition: int, queue: asyncio.Queue[Change]) -> None:
        subs = self._subscribers.get((tenant, definition))
        if subs is not None:
            subs.discard(queue)
            if not subs:
                del self._subscribers[(tenant, definition)]
        if not self._subscribers and self._task is not None and not self._task.done() and self._stop is None:
            self._stop = asyncio.get_running_loop().call_later(LINGER, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        self._stop = None
        if not self._subscribers and self._task is not None:
            self._task.cancel()

    async def close(self) -> None:
        """Disconnect now (server shutdown, tests)."""
        if self._stop is not None:
            self._stop.cancel()
            self._stop = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def dispatch(self, payload: str) -> None:
        try:
            data = json.loads(payload)
            tenant = int(data["tenant"])
            pairs = list(zip(data["definitions"], data["counts"], strict=True))
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed %s notification: %.200s", CHANNEL, payload)
            return
        for definition, count in pairs:
            for queue in self._subscribers.get((tenant, int(definition)), ()):
                _offer(queue, Change(tenant, int(definition), int(count)))

    def _redraw_all(self) -> None:
        for (tenant, definition), queues in self._subscribers.items():
            for queue in queues:
                _offer(queue, Change(tenant, definition, 0))

    async def _run(self) -> None:
        attempt = 0
        try:
            while True:
                try:
                    conn = await psycopg.AsyncConnection.connect(**connection_kwargs(), autocommit=True)
                    async with conn:
                        await conn.execute(f"LISTEN {CHANNEL}")
                        self.backend_pid = conn.info.backend_pid
                        if self.connects:
                            self._redraw_all()  # what was recorded while disconnected went unnoticed
                        self.connects += 1
                        attempt = 0
                        self.connected.set()
                        async for notify in conn.notifies():
                            self.dispatch(notify.payload)
                except psycopg.Error as exc:
                    log.warning("live charts: listener connection lost or refused (%s); reconnecting", exc)
                except Exception:  # noqa: BLE001 - the streams wait on this task: it must keep running
                    log.exception("live charts: listener failed; reconnecting")
                self.connected.clear()
                self.backend_pid = None
                await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
                attempt += 1
        finally:
            self.connected.clear()
            self.backend_pid = None


def _offer(queue: asyncio.Queue[Change], change: Change) -> None:
    try:
        queue.put_nowait(change)
    except asyncio.QueueFull:
        pass  # the stream is behind; the changes it has waiting redraw the whole chart anyway


_listeners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Listener] = weakref.WeakKeyDictionary()


def listener() -> Listener:
    """This event loop's listener (uvicorn runs one loop per process: one listener per process)."""
    loop = asyncio.get_running_loop()
    found = _listeners.get(loop)
    if found is None:
        found = _listeners[loop] = Listener()
    return found


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def measurement_stream(*, tenant: int, definition: int, heartbeat: float = HEARTBEAT) -> AsyncIterator[str]:
    """Server-sent events for one chart: ``ready`` once the listener is connected, then ``measurement``
    (``{"definition": 12, "count": 3}``; count 0: redraw, the number is unknown) after every commit
    that recorded measurements of ``definition`` in ``tenant``, and a comment every ``heartbeat`` s.
    Ends (unsubscribing) when the client goes away: the server cancels the iteration."""
    hub = listener()
    queue = hub.subscribe(tenant, definition)
    try:
        yield "retry: 3000\n: live chart\n\n"
        while not hub.connected.is_set():
            try:
                await asyncio.wait_for(hub.connected.wait(), heartbeat)
            except TimeoutError:
                yield ": waiting for the database\n\n"
        yield _event("ready", {"definition": definition})
        while True:
            try:
                change = await asyncio.wait_for(queue.get(), heartbeat)
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            count = change.count
            while not queue.empty():  # several commits while the browser was busy: one redraw
                more = queue.get_nowait().count
                count = 0 if 0 in (count, more) else count + more
            yield _event("measurement", {"definition": definition, "count": count})
    finally:
        hub.unsubscribe(tenant, definition, queue)
