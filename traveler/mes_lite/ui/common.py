"""What MES Lite's pages share: number and calibration formatting, and the POST action view."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst

from traveler.core.errors import TravelerError
from traveler.core.ui.display import format_datetime
from traveler.core.ui.generic import RecordView

DUE_SOON_DAYS = 30  # calibrations due within this many days are flagged amber


def decimals(*values: Decimal | None) -> int:
    """How many decimal places show every value exactly (6.01000000 and 0.5 -> 2)."""
    places = 0
    for v in values:
        if v is not None:
            exponent = v.normalize().as_tuple().exponent
            places = max(places, -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return places


def fmt(value: Decimal | None, places: int) -> str:
    return "" if value is None else f"{value:.{places}f}"


def spec(definition) -> dict[str, Any]:
    """A numeric definition's specification as an operator reads it, all at one precision."""
    d = definition
    if d.kind != "numeric":
        return {"numeric": False}
    places = decimals(d.nominal, d.lower_tol, d.upper_tol)
    same = d.lower_tol == d.upper_tol

    def tol(v: Decimal) -> str:
        return "0" if v == 0 else fmt(v, places)

    return {
        "numeric": True, "places": places,
        "nominal": fmt(d.nominal, places), "lower": fmt(d.lower_limit, places), "upper": fmt(d.upper_limit, places),
        "tolerance": f"± {tol(d.upper_tol)}" if same else f"+{tol(d.upper_tol)} / −{tol(d.lower_tol)}",
        "unit": d.unit,
    }


def calibration(equipment, today: date | None = None) -> dict[str, Any]:
    """Calibration status: overdue, never calibrated or failed (red: may not be used), due soon (amber),
    ok, or not needed."""
    today = today or timezone.localdate()
    due = equipment.next_calibration
    refusal = equipment.calibration_refusal(today)
    if refusal and not equipment.calibration_overdue(today):
        return {"state": "overdue", "label": capfirst(refusal), "badge": "badge-dead", "due": due,
                "flag": "NOT CALIBRATED"}
    if due is None:
        return {"state": "none", "label": "No calibration due", "badge": "badge-archived", "due": None}
    if due < today:
        return {"state": "overdue", "label": f"Overdue since {due:%Y-%m-%d}", "badge": "badge-dead", "due": due,
                "flag": "OVERDUE"}
    if due <= today + timedelta(days=DUE_SOON_DAYS):
        return {"state": "due_soon", "label": f"Due soon: {due:%Y-%m-%d}", "badge": "badge-queued", "due": due}
    return {"state": "ok", "label": f"Calibrated, due {due:%Y-%m-%d}", "badge": "badge-success", "due": due}


def calibration_badge(equipment, today: date | None = None):
    status = calibration(equipment, today)
    return format_html('<span class="badge {} cal-{}">{}</span>', status["badge"], status["state"], status["label"])


STATUS_BADGES = {
    "draft": "badge-archived", "released": "badge-updated", "in_progress": "badge-running",
    "completed": "badge-success", "cancelled": "badge-archived", "obsolete": "badge-archived",
    "pending": "badge-archived", "in_process": "badge-updated", "quarantined": "badge-dead",
    "on_hold": "badge-queued", "scrapped": "badge-archived", "returned": "badge-archived",
}


def status_badge(obj):
    return format_html('<span class="badge {} status-{}">{}</span>', STATUS_BADGES.get(obj.status, ""), obj.status,
                       obj.get_status_display())


def badge_cells(context: dict, column: str, render: Callable[[Any], str]) -> None:
    """Replace one column's text in a generic list's rows with HTML (a badge)."""
    names = [h["name"] for h in context.get("headers", [])]
    if column not in names:
        return
    i = names.index(column)
    for row in context.get("rows", []):
        row["cells"][i] = render(row["object"])


class ActionView(RecordView):
    """POST: one state change of a record through its service, then back to the record's page.

    Errors a service raises (a transition not allowed now, a conflict) are shown as the message.
    """

    http_method_names = ["post"]
    action = "change"
    done = ""

    def apply(self, obj, reason: str | None):
        raise NotImplementedError

    def success(self, obj) -> str:
        return f"{capfirst(str(self.opts.verbose_name))} “{obj}” {self.done}."

    def next_url(self, obj) -> str:
        return self.url("detail", obj)

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        reason = request.POST.get("reason", "").strip() or None
        try:
            obj = self.apply(obj, reason)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, self.success(obj))
        return HttpResponseRedirect(self.next_url(obj))


STOPPED_NOTES = {"quarantined": "Quarantined here", "on_hold": "On hold here", "scrapped": "Scrapped here",
                 "returned": "Returned to supplier from here"}


def route_nodes(route: list[dict], part) -> list[dict]:
    """A traveler's route for the track: done, current (with what the part is doing there), ahead."""
    finished = part.status == "completed"
    nodes = []
    for r in route:
        state = "done" if finished else r["state"]
        note = "Done" if state == "done" else ""
        if state == "current":
            note = STOPPED_NOTES.get(part.status, "Now" if part.status == "in_process" else "Waiting here")
        nodes.append({**r, "state": state, "note": note,
                      "stopped": state == "current" and part.status in STOPPED_NOTES})
    return nodes


def transition_rows(transitions, usages=()) -> list[dict]:
    """A part's moves, newest first, with who and when (UTC), and the equipment used in each."""
    used: dict[int, list] = {}
    for u in usages:
        used.setdefault(u.transition_id, []).append(u.equipment)
    return [{"t": t, "who": t.operator.full_name if t.operator else "System", "when": format_datetime(t.transition_time),
             "equipment": used.get(t.pk, [])} for t in reversed(transitions)]
