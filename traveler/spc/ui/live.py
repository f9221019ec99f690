"""The live chart of a characteristic: its server-sent event stream and the chart's SVG the browser
fetches when the stream says new measurements were recorded (``static/spc/live.js``)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse

from traveler.core.access import check
from traveler.spc.live import measurement_stream
from traveler.spc.services import characteristics as chars
from traveler.spc.services.characteristics import definition_or_404
from traveler.spc.stats import chart_svg
from traveler.spc.ui.characteristic_forms import ChartFilterForm
from traveler.spc.ui.characteristics import VIEW, chart_label, point_url


def _allowed_definition(request, definition: int) -> int:
    """The tenant of the request once the user may view charts and ``definition`` is one of its
    numeric measurement definitions (404 otherwise: another tenant's definition does not exist here)."""
    check(request.access, request.user, VIEW)
    return definition_or_404(definition).tenant_id


def _release_connection() -> None:
    # A stream may stay open for hours; it waits on the process's shared listener, not on a database
    # connection of its own. (Inside a transaction, as in tests, the connection is not ours to close.)
    if not connection.in_atomic_block:
        connection.close()


@login_required
async def characteristic_stream(request, definition: int):
    """Server-sent events: ``measurement`` whenever measurements of this characteristic are committed."""
    tenant = await sync_to_async(_allowed_definition)(request, definition)
    if not isinstance(request, ASGIRequest):
        # A WSGI server (``runserver``, a WSGI test server) would hold a worker thread and an event loop
        # with a listener connection of its own per open chart. 204 tells the browser not to retry:
        # the page stays as served.
        return HttpResponse(status=204)
    await sync_to_async(_release_connection)()

    async def events():
        await sync_to_async(_release_connection)()  # the session or messages may have used it again
        async for chunk in measurement_stream(tenant=tenant, definition=definition):
            yield chunk

    response = StreamingHttpResponse(events(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx and the like must pass each event on at once
    return response


def message_svg(text: str) -> str:
    """What a figure shows instead of a chart (too few points), marked so that live.js knows it."""
    return ('<svg xmlns="http://www.w3.org/2000/svg" data-spc-message="1" width="900" height="60" '
            'viewBox="0 0 900 60" role="img" '
            f'aria-label="{escape(text, {chr(34): "&quot;"})}"><text x="16" y="34" font-family="sans-serif" '
            f'font-size="14" fill="#333333">{escape(text)}</text></svg>\n')


@login_required
def characteristic_chart_svg(request, definition: int):
    """The chart's SVG with the page's filters (the query string), exactly as the chart page
    (``ui.characteristics.CharacteristicChart``) draws it: the same title and point links."""
    check(request.access, request.user, VIEW)
    d = definition_or_404(definition)
    form = ChartFilterForm(request.GET or None, definition=d)
    chart = chars.characteristic_chart(d, form.filters())
    if chart.result is None:
        svg = message_svg(chart.message)
    else:
        query = form.query()
        svg = chart_svg(result=chart.result, title=f"{d.label}: {chart_label(chart)}",
                        point_links=[point_url(d, g.key, query) for g in chart.groups])
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response
