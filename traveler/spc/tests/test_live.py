"""Live charts: the NOTIFY sent by committed measurements (and not by rolled-back ones), the stream
endpoint's checks, and the stream itself driven through the real ASGI application with the shared
listener on the test database."""

from __future__ import annotations

import asyncio
import json
import time

import psycopg
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import AsyncClient, Client

from traveler.core.middleware import SESSION_TENANT
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, make_member
from traveler.mes_lite.models import MeasurementDefinition, Part
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.services.routing import route_steps
from traveler.spc import live
from traveler.spc.tests.factories import measured

pytestmark = pytest.mark.django_db(transaction=True)


def _listening() -> psycopg.Connection:
    conn = psycopg.connect(**live.connection_kwargs(), autocommit=True)
    conn.execute(f"LISTEN {live.CHANNEL}")
    return conn


def _received(conn: psycopg.Connection, tenant, *, expect: int = 0, wait: float = 5.0) -> list[dict]:
    """The notifications about ``tenant``: ``expect`` of them within ``wait`` s, then any more that
    arrive in the next 0.3 s (none expected: 1 s)."""
    got = [json.loads(n.payload) for n in conn.notifies(timeout=wait, stop_after=expect)] if expect else []
    got += [json.loads(n.payload) for n in conn.notifies(timeout=0.3 if expect else 1.0)]
    return [p for p in got if p["tenant"] == tenant.pk]


def _advance_new_part(tenant, bore, value: float) -> None:
    from traveler.mes_lite.tests.factories import make_work_order

    with tenant_context(tenant):
        process = bore.step.process
    wo = make_work_order(tenant, process=process, quantity=1)
    with tenant_context(tenant):
        part = Part.objects.get(work_order=wo)
        part_advance(part=part, step=bore.step_id, measurements=[{"definition": bore.pk, "value": repr(value)}])


def test_committed_measurements_notify_once_per_statement_with_tenant_and_counts(tenant):
    conn = _listening()
    try:
        _, bore = measured(tenant, [6.001, 6.0, 5.999])  # one bulk advance: one statement
        assert _received(conn, tenant, expect=1) == [{"tenant": tenant.pk, "definitions": [bore.pk], "counts": [3]}]
    finally:
        conn.close()


def test_rolled_back_measurements_never_notify(tenant):
    _, bore = measured(tenant, [6.0, 6.0, 6.0])
    conn = _listening()
    try:
        from traveler.mes_lite.tests.factories import make_work_order

        with tenant_context(tenant):
            process = bore.step.process
        wo = make_work_order(tenant, process=process, quantity=1)
        with tenant_context(tenant):
            part = Part.objects.get(work_order=wo)
            with pytest.raises(RuntimeError), transaction.atomic():
                part_advance(part=part, step=bore.step_id, measurements=[{"definition": bore.pk, "value": "6.002"}])
                raise RuntimeError("the operator's session ended before the commit")
        assert _received(conn, tenant) == []
        _advance_new_part(tenant, bore, 6.002)  # the same advance, committed: now it notifies
        assert _received(conn, tenant, expect=1) == [
            {"tenant": tenant.pk, "definitions": [bore.pk], "counts": [1]}]
    finally:
        conn.close()


def test_pass_fail_readings_do_not_notify(tenant):
    wo, bore = measured(tenant, [6.0])
    with tenant_context(tenant):
        leak_step = route_steps(wo.process)[1]
        defs = {d.label: d for d in MeasurementDefinition.objects.filter(step=leak_step)}
        part = Part.objects.get(work_order=wo)
    conn = _listening()
    try:
        with tenant_context(tenant):
            part_advance(part=part, step=leak_step.pk, measurements=[
                {"definition": defs["Leak rate"].pk, "value": "0.1"}, {"definition": defs["Visual"].pk, "value": "pass"}])
        assert _received(conn, tenant, expect=1) == [
            {"tenant": tenant.pk, "definitions": [defs["Leak rate"].pk], "counts": [1]}]
    finally:
        conn.close()


def _client(user, tenant) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_TENANT] = tenant.pk
    session.save()
    return client


def test_the_stream_refuses_anonymous_users_users_without_permission_and_other_tenants(tenant, other_tenant):
    _, bore = measured(tenant, [6.0, 6.0, 6.0])
    _, theirs = measured(other_tenant, [6.0, 6.0, 6.0])
    url = f"/spc/characteristics/{bore.pk}/stream/"
    r = Client().get(url)
    assert r.status_code == 302 and "/signin/" in r["Location"]
    customer = make_member(tenant, roles=["customer"], company=make_company(tenant, "Customer Co"))
    assert _client(customer, tenant).get(url).status_code == 403
    inspector = _client(make_member(tenant, roles=["qa_inspector"]), tenant)
    assert inspector.get(f"/spc/characteristics/{theirs.pk}/stream/").status_code == 404
    assert inspector.get(f"/spc/characteristics/{theirs.pk}/chart.svg").status_code == 404
    # Under a WSGI server the stream is declined (204: the browser does not retry; the page stays as served).
    assert inspector.get(url).status_code == 204
    asgi = AsyncClient()
    asgi.cookies = inspector.cookies
    r = async_to_sync(asgi.get)(url)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/event-stream")
    assert r["Cache-Control"] == "no-cache" and r["X-Accel-Buffering"] == "no"
    assert r.is_async and r.streaming


def test_the_chart_svg_is_the_one_the_chart_page_draws_with_its_filters(tenant):
    import re

    wo, bore = measured(tenant, [6.0, 6.001, 5.999, 6.002])
    inspector = _client(make_member(tenant, roles=["qa_inspector"]), tenant)
    for query in ("", f"work_order={wo.pk}"):
        page = inspector.get(f"/spc/characteristics/{bore.pk}/" + (f"?{query}" if query else "")).content.decode()
        figure = re.search(r'<figure class="spc-live chart"[^>]*data-query="([^"]*)"[^>]*>(.*?)</figure>', page, re.S)
        assert figure and figure[1] == query.replace("&", "&amp;")
        svg = inspector.get(f"/spc/characteristics/{bore.pk}/chart.svg" + (f"?{query}" if query else ""))
        assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and svg["Cache-Control"] == "no-store"
        assert svg.content.decode() == figure[2]  # the same drawing, point links included
        assert svg.content.decode().count("data-point=") == 4 + 3  # four individuals, three moving ranges
    few = inspector.get(f"/spc/characteristics/{bore.pk}/chart.svg?date_from=2001-01-01T00:00&date_to=2001-01-02T00:00")
    assert few.status_code == 200 and "Not enough data for a chart yet" in few.content.decode()


class _Stream:
    """One GET of the stream through the ASGI application, as uvicorn would drive it."""

    def __init__(self, app, path: str, cookie: str) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.body = ""
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self._more = asyncio.Event()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode()),
                             (b"accept", b"text/event-stream")],
                 "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
        self.task = asyncio.get_running_loop().create_task(app(scope, self.inbox.get, self._send))
        self.inbox.put_nowait({"type": "http.request", "body": b"", "more_body": False})

    async def _send(self, message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"").decode()
        self._more.set()

    async def wait_for(self, text: str, timeout: float = 10.0) -> float:
        start = time.monotonic()
        while text not in self.body:
            self._more.clear()
            remaining = timeout - (time.monotonic() - start)
            if remaining <= 0:
                raise AssertionError(f"{text!r} not received in {timeout} s; got {self.body!r}")
            try:
                await asyncio.wait_for(self._more.wait(), remaining)
            except TimeoutError:
                pass
        return time.monotonic() - start

    async def disconnect(self) -> None:
        self.inbox.put_nowait({"type": "http.disconnect"})
        await asyncio.wait_for(self.task, 10)


def _other_backends(exclude: set[int]) -> int:
    with psycopg.connect(**live.connection_kwargs(), autocommit=True) as conn:
        me = conn.info.backend_pid
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s",
                            [me]).fetchall()
    return len({r[0] for r in rows} - exclude)


def test_the_stream_relays_its_definitions_events_only_and_holds_no_connection(tenant, monkeypatch):
    from django.core.asgi import get_asgi_application

    # Connections opened by the ASGI application's request threads close at the end of each request.
    monkeypatch.setitem(settings.DATABASES["default"], "CONN_MAX_AGE", 0)
    _, bore = measured(tenant, [6.0, 6.0, 6.0])
    _, other = measured(tenant, [6.0, 6.0, 6.0])  # the same label, another route: another definition
    assert other.pk != bore.pk
    client = _client(make_member(tenant, roles=["qa_inspector"]), tenant)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    mine = {connection.connection.info.backend_pid} if connection.connection else set()
    before = _other_backends(mine)
    app = get_asgi_application()

    def record(definition, value):
        try:
            _advance_new_part(tenant, definition, value)
        finally:
            connections.close_all()

    async def scenario():
        hub = live.listener()
        a = _Stream(app, f"/spc/characteristics/{bore.pk}/stream/", cookie)
        b = _Stream(app, f"/spc/characteristics/{other.pk}/stream/", cookie)
        try:
            await a.wait_for("event: ready")
            await b.wait_for("event: ready")
            assert a.status == 200 and a.headers["content-type"].startswith("text/event-stream")
            assert hub.subscribers == 2 and hub.connects == 1
            # Two open streams hold one database connection between them: the listener's.
            assert _other_backends(mine | {hub.backend_pid}) == before
            await asyncio.to_thread(record, bore, 6.001)
            await a.wait_for("event: measurement")
            assert f'data: {{"definition":{bore.pk},"count":1}}' in a.body
            await asyncio.sleep(0.3)
            assert "event: measurement" not in b.body
            await asyncio.to_thread(record, other, 5.999)
            await b.wait_for("event: measurement")
            assert a.body.count("event: measurement") == 1
        finally:
            await a.disconnect()
            await b.disconnect()
        assert hub.subscribers == 0  # the streams ended and unsubscribed when their clients went away
        await hub.close()
        assert not hub.connected.is_set()

    asyncio.run(scenario())


def test_the_listener_reconnects_after_the_database_drops_it(tenant, monkeypatch):
    monkeypatch.setattr(live, "RECONNECT_DELAYS", (0.1,))
    _, bore = measured(tenant, [6.0, 6.0, 6.0])

    def kill(pid):  # what a database restart does to the listener's connection
        db = settings.DATABASES["default"]
        owner = {**live.connection_kwargs(), "user": db["TRAVELER_OWNER"], "password": db["TRAVELER_OWNER_PASSWORD"],
                 "options": ""}
        with psycopg.connect(**owner, autocommit=True) as conn:
            assert conn.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0] is True

    def record():
        try:
            _advance_new_part(tenant, bore, 6.003)
        finally:
            connections.close_all()

    async def scenario():
        hub = live.Listener()
        queue = hub.subscribe(tenant.pk, bore.pk)
        try:
            await asyncio.wait_for(hub.connected.wait(), 10)
            first = hub.backend_pid
            await asyncio.to_thread(kill, first)
            redraw = await asyncio.wait_for(queue.get(), 10)  # reconnected: "redraw, something may be missed"
            assert redraw == live.Change(tenant.pk, bore.pk, 0)
            assert hub.connects == 2 and hub.backend_pid not in (None, first)
            await asyncio.to_thread(record)
            assert await asyncio.wait_for(queue.get(), 10) == live.Change(tenant.pk, bore.pk, 1)
        finally:
            hub.unsubscribe(tenant.pk, bore.pk, queue)
            await hub.close()

    asyncio.run(scenario())


def test_the_stream_answers_403_when_spc_is_switched_off_for_the_tenant(tenant):
    from traveler.core.services.tenants import tenant_module_set

    _, bore = measured(tenant, [6.0, 6.0, 6.0])
    inspector = _client(make_member(tenant, roles=["qa_inspector"]), tenant)
    tenant_module_set(tenant=tenant, module="spc", enabled=False)
    assert inspector.get(f"/spc/characteristics/{bore.pk}/stream/").status_code == 403


def test_the_listener_fans_out_by_tenant_and_definition_and_merges_a_backlog():
    async def scenario():
        hub = live.Listener()
        hub._task = asyncio.get_running_loop().create_future()  # no connection: dispatch is driven by hand
        a, b, c = hub.subscribe(1, 10), hub.subscribe(1, 11), hub.subscribe(2, 10)
        hub.dispatch(json.dumps({"tenant": 1, "definitions": [10, 12], "counts": [3, 1]}))
        hub.dispatch("not json")
        hub.dispatch(json.dumps({"tenant": 1, "definitions": [10], "counts": []}))
        assert a.get_nowait() == live.Change(1, 10, 3) and a.empty()
        assert b.empty() and c.empty()  # another definition; the same definition id in another tenant
        for _ in range(live.QUEUE_SIZE + 5):  # a stream that fell behind keeps what fits; it redraws anyway
            hub.dispatch(json.dumps({"tenant": 2, "definitions": [10], "counts": [1]}))
        assert c.qsize() == live.QUEUE_SIZE
        hub.unsubscribe(1, 10, a)
        assert hub.subscribers == 2
        hub._task.cancel()

    asyncio.run(scenario())


def test_the_stream_says_ready_beats_while_quiet_and_merges_what_piled_up(tenant):
    _, bore = measured(tenant, [6.0, 6.0, 6.0])

    async def scenario():
        hub = live.listener()
        stream = live.measurement_stream(tenant=tenant.pk, definition=bore.pk, heartbeat=0.05)
        assert (await anext(stream)).startswith("retry: 3000")
        assert await asyncio.wait_for(anext(stream), 10) == f'event: ready\ndata: {{"definition":{bore.pk}}}\n\n'
        assert await anext(stream) == ": heartbeat\n\n"
        for n in (2, 3):
            hub.dispatch(json.dumps({"tenant": tenant.pk, "definitions": [bore.pk], "counts": [n]}))
        assert await anext(stream) == f'event: measurement\ndata: {{"definition":{bore.pk},"count":5}}\n\n'
        await stream.aclose()  # the client went away
        assert hub.subscribers == 0
        await hub.close()

    asyncio.run(scenario())
