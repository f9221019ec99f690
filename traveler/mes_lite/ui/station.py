"""The operator station: scan a serial, read the traveler, enter the measurements, advance.

Built for a shop-floor tablet and a keyboard-wedge scanner (it types the serial and presses
Enter). One page, one scan field; the part's traveler and the advance's outcome replace the area
below it (htmx, or a plain page load without JavaScript). The browser only hints whether a value
is in spec; ``part_advance`` decides.

Keys (station.js): Enter in the scan field shows the part; Enter in a measurement moves to the
next one and advances from the last; F2 or Ctrl+Enter advances from anywhere; Esc returns to the
scan field.

An out-of-tolerance value (or a Fail) would quarantine the part, so one typo must not do it: the
station records nothing the first time, shows the field again, empty, with "out of tolerance:
re-enter to confirm, or correct it", and carries the first entry in a hidden ``confirm-m-<id>``.
Typing the same value again accepts it as measured; another value replaces it. The API takes values
as given (``part_advance`` decides in or out of spec at once).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from traveler.core.access import visible
from traveler.core.errors import Conflict, InvalidInput
from traveler.core.ui.generic import ShellView, panels_for
from traveler.mes_lite.choices import PART_TRANSITIONS, MeasurementKind, TransitionAction
from traveler.mes_lite.models import Equipment, MeasurementDefinition, Part, StepMeasurement
from traveler.mes_lite.selectors import AmbiguousSerial, part_get_by_serial, part_traveler
from traveler.mes_lite.services.parts import Blocked, part_advance
from traveler.mes_lite.ui.common import (
    calibration,
    decimals,
    fmt,
    route_nodes,
    spec,
    status_badge,
    transition_rows,
)

PERMISSION = "mes_lite.advance_part"
OUTCOME = "mes_lite_station_outcome"  # session: the last advance's outcome, shown after the redirect
EQUIPMENT = "mes_lite_station_equipment"  # session: equipment last used per step, preselected next time
ADVANCEABLE = PART_TRANSITIONS[TransitionAction.ADVANCE]
FIELD_INDEX = re.compile(r"^measurements\[(\d+)\]")


def _parts():
    return Part.objects.select_related("part_type", "current_step", "work_order", "order", "process")


def _equipment_choices(selected: list[int]) -> dict:
    today = timezone.localdate()
    usable, overdue = [], []
    for e in Equipment.objects.filter(archived_at__isnull=True).select_related("equipment_type").order_by("name"):
        status = calibration(e, today)
        item = {"equipment": e, "status": status, "selected": e.pk in selected}
        (overdue if status["state"] == "overdue" else usable).append(item)
    return {"usable": usable, "overdue": overdue,
            "chosen": next((i for i in usable + overdue if i["selected"]), None)}


CONFIRM = "Out of tolerance: re-enter to confirm, or correct it."


def _fields(definitions, values: dict, errors: dict, confirm: dict) -> list[dict]:
    out = []
    for d in definitions:
        name = f"m-{d.pk}"
        pass_fail = d.kind == MeasurementKind.PASS_FAIL
        out.append({"definition": d, "name": name, "spec": spec(d), "value": values.get(name, ""),
                    "errors": errors.get(d.pk, []), "pass_fail": pass_fail, "confirm": confirm.get(name, ""),
                    "focus_id": f"{name}-pass" if pass_fail else name})
    return out


def traveler_context(request, part: Part, *, values=None, errors=None, message=None, blocked=None,
                     confirm=None) -> dict:
    """The part's traveler, and the form to advance it when it is waiting at a step. ``confirm``: the
    out-of-tolerance entries (by field name) already made once, carried to the next post."""
    t = part_traveler(part=part)
    values, errors, confirm = values or {}, errors or {}, confirm or {}
    advanceable = part.status in ADVANCEABLE and part.current_step_id is not None
    if "equipment" in values:
        chosen = values["equipment"]
    else:
        chosen = request.session.get(EQUIPMENT, {}).get(str(part.current_step_id), [])
    fields = _fields(t["required_here"], values, errors, confirm) if advanceable else []
    first_error = next((f["focus_id"] for f in fields if f["errors"]), None)
    focus = "scan" if blocked or not advanceable else (first_error or (fields[0]["focus_id"] if fields else "advance"))
    return {
        "state": "traveler", "part": part, "part_badge": status_badge(part), "route": route_nodes(t["route"], part),
        "history": transition_rows(t["transitions"], t["equipment_usages"]),
        "fields": fields, "advanceable": advanceable, "equipment": _equipment_choices(chosen),
        "message": message, "blocked": blocked, "focus": focus, "scan_value": part.serial_number,
        "step": part.current_step, "step_number": _position(t["route"], part.current_step_id),
        # What other modules say about this part at the station (Quality: it is under a nonconformance).
        "panels": panels_for(request, "mes_lite.station.part", part),
    }


def _position(route: list[dict], step_id: int | None) -> int | None:
    """A step's place on the route, from 1 (sequence numbers go 10, 20, ...; operators count 1, 2, ...)."""
    return next((i for i, r in enumerate(route, 1) if r["step"].pk == step_id), None)


def _out_of_spec(part: Part, transition) -> list[dict]:
    rows = []
    for m in StepMeasurement.objects.filter(part=part, transition=transition, in_spec=False).select_related("definition"):
        d, s = m.definition, spec(m.definition)
        if d.kind == MeasurementKind.PASS_FAIL:
            rows.append({"label": d.label, "value": "Fail", "limits": "Pass required", "side": ""})
            continue
        places = max(s["places"], decimals(m.value))
        side = "above" if m.value > d.upper_limit else "below"
        rows.append({"label": d.label, "value": f"{fmt(m.value, places)} {d.unit}".strip(), "side": side,
                     "limits": f"{s['lower']} – {s['upper']} {d.unit}".strip()})
    return rows


def outcome_context(request, part: Part, result: str, message: str | None = None) -> dict:
    """What the operator sees after pressing Advance, big: where the part went, or why it did not."""
    t = part_traveler(part=part)
    last = t["transitions"][-1] if t["transitions"] else None
    return {
        "state": "outcome", "result": result, "part": part, "part_badge": status_badge(part),
        "route": route_nodes(t["route"], part), "message": message,
        "to_step": part.current_step, "step_number": _position(t["route"], part.current_step_id),
        "out_of_spec": _out_of_spec(part, last) if result == "quarantined" else [],
        "focus": "scan", "scan_value": "" if result in ("advanced", "completed", "quarantined") else part.serial_number,
    }


def respond(request, context: dict, status: int = 200):
    """The whole station page, or (for htmx) only the area under the scan field."""
    partial = getattr(request, "htmx", False) and request.htmx.target == "station-result"
    template = "mes_lite/_station_result.html" if partial else "mes_lite/station.html"
    context.setdefault("scan_value", "")
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


class Station(ShellView):
    """GET: the scan field; with ``?serial=`` the part's traveler; after an advance, its outcome."""

    permission = PERMISSION

    def get(self, request):
        outcome = request.session.pop(OUTCOME, None)
        serial = request.GET.get("serial", "").strip()
        if outcome and not serial:  # a new scan wins over the last outcome
            part = visible(_parts(), request.access).filter(pk=outcome["part"]).first()
            if part is not None:
                return respond(request, outcome_context(request, part, outcome["result"]))
        if not serial:
            return respond(request, {"state": "idle", "focus": "scan"})
        part_type = request.GET.get("part_type", "")
        try:
            part = part_get_by_serial(serial_number=serial, access=request.access,
                                      part_type=int(part_type) if part_type.isdigit() else None)
        except AmbiguousSerial as exc:
            return respond(request, {"state": "ambiguous", "serial": serial, "choices": exc.parts, "focus": "scan",
                                     "scan_value": serial})
        if part is None:
            return respond(request, {"state": "unknown", "serial": serial, "focus": "scan", "scan_value": serial},
                           status=404)
        return respond(request, traveler_context(request, part))


def _readings(definitions, post) -> tuple[list[dict], list[int], dict]:
    """The measurements as the service takes them; which definition each index is; what was typed."""
    readings, order, values = [], [], {}
    for d in definitions:
        raw = post.get(f"m-{d.pk}", "").strip()
        values[f"m-{d.pk}"] = raw
        if not raw:
            continue  # the service names every missing required value
        if d.kind == MeasurementKind.NUMERIC:
            raw = raw.replace(",", ".")  # a decimal comma from a European keypad
        readings.append({"definition": d.pk, "value": raw})
        order.append(d.pk)
    return readings, order, values


def _same(d: MeasurementDefinition, a: str, b: str) -> bool:
    if d.kind == MeasurementKind.PASS_FAIL:
        return a == b
    try:
        return Decimal(a.replace(",", ".")) == Decimal(b.replace(",", "."))  # 6.50 confirms 6.5
    except InvalidOperation:
        return False


def _out_of_tolerance(d: MeasurementDefinition, raw: str) -> bool:
    """Whether ``raw`` would quarantine the part (False for what is not a value: the service says why)."""
    if d.kind == MeasurementKind.PASS_FAIL:
        return raw == "fail"
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return False
    return value.is_finite() and not d.in_spec(value)


def _unconfirmed(definitions, post, values: dict) -> tuple[dict[str, str], set[int]]:
    """Each out-of-tolerance entry (field name -> entry), and the definitions whose entry was not yet
    confirmed by typing it twice."""
    entries, pending = {}, set()
    for d in definitions:
        name = f"m-{d.pk}"
        raw = values.get(name, "")
        if not raw and post.get(f"confirm-{name}", "").strip():
            # Left empty: still to be re-entered or corrected (an optional value is not dropped silently).
            entries[name] = post[f"confirm-{name}"].strip()
            pending.add(d.pk)
            continue
        if not raw or not _out_of_tolerance(d, raw):
            continue
        entries[name] = raw
        if not _same(d, raw, post.get(f"confirm-{name}", "").strip()):
            pending.add(d.pk)
    return entries, pending


def _field_errors(exc: InvalidInput, order: list[int], definitions) -> dict[int, list[str]]:
    """The service's field errors (``measurements[2].value``, ``missing: Bore``) on their definitions."""
    errors: dict[int, list[str]] = {}
    by_label = {d.label: d.pk for d in definitions}
    for key, messages in exc.fields.items():
        m = FIELD_INDEX.match(key)
        if m and int(m.group(1)) < len(order):
            errors.setdefault(order[int(m.group(1))], []).extend(messages)
        elif key == "measurements":
            for text in messages:
                label = text.removeprefix("missing: ")
                if label in by_label:
                    errors.setdefault(by_label[label], []).append("Required: enter a value.")
    return errors


def _int(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


class StationAdvance(ShellView):
    """POST: advance the part from the step the operator saw it at, with what was measured."""

    permission = PERMISSION
    http_method_names = ["post"]

    def post(self, request):
        post = request.POST
        part = visible(_parts(), request.access).filter(pk=_int(post.get("part"))).first()
        if part is None:
            return respond(request, {"state": "unknown", "serial": post.get("serial", ""), "focus": "scan",
                                     "scan_value": post.get("serial", "")}, status=404)
        step_id = _int(post.get("step"))
        definitions = list(MeasurementDefinition.objects.filter(step_id=step_id, archived_at__isnull=True)
                           .order_by("sequence", "pk"))
        readings, order, values = _readings(definitions, post)
        equipment = [i for i in (_int(v) for v in post.getlist("equipment")) if i is not None]
        values["equipment"] = equipment
        confirm, pending = _unconfirmed(definitions, post, values)
        if pending:
            # Nothing recorded yet: the field again, empty, to be typed once more (or corrected).
            shown = {k: ("" if k in {f"m-{pk}" for pk in pending} else v) for k, v in values.items()}
            entered = ", ".join(f"{d.label} {confirm[f'm-{d.pk}']} {d.unit}".strip() for d in definitions
                                if d.pk in pending)
            return respond(request, traveler_context(
                request, part, values=shown, errors={pk: [CONFIRM] for pk in pending}, confirm=confirm,
                message=f"{entered}: out of tolerance. Re-enter to confirm (the part is then quarantined), "
                        "or correct it."))
        try:
            out = part_advance(part=part, step=step_id, measurements=readings, equipment=equipment or None,
                               version=_int(post.get("version")))
        except Blocked as exc:
            # Nothing moved: keep what was typed, say why, let the operator choose other equipment.
            part.refresh_from_db()
            return respond(request, traveler_context(request, part, values=values, blocked=exc.fields.get("guards")
                                                     or [exc.message], confirm=confirm), status=409)
        except Conflict as exc:
            part = _parts().get(pk=part.pk)
            return respond(request, outcome_context(request, part, "conflict", exc.message), status=409)
        except InvalidInput as exc:
            errors = _field_errors(exc, order, definitions)
            return respond(request, traveler_context(request, part, values=values, errors=errors,
                                                     message=exc.message, confirm=confirm), status=400)
        if step_id is not None:
            remembered = request.session.get(EQUIPMENT, {})
            remembered[str(step_id)] = equipment
            request.session[EQUIPMENT] = remembered
        part = _parts().get(pk=out["part"].pk)
        if getattr(request, "htmx", False):
            return respond(request, outcome_context(request, part, out["result"]))
        # Without JavaScript: redirect, so that reloading the page does not post the values again.
        request.session[OUTCOME] = {"part": part.pk, "result": out["result"]}
        return HttpResponseRedirect(reverse("mes_lite:station"))


urlpatterns = [
    path("station/", Station.as_view(), name="station"),
    path("station/advance/", StationAdvance.as_view(), name="station-advance"),
]
