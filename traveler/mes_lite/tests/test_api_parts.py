"""Parts through the HTTP API: advance with measurements and equipment, quarantine, hold, release,
scrap, scanner stations, bulk advance, the traveler, and every bad input refused with nothing written."""

import threading
import time

import pytest
from django.db import connection

from traveler.core.registry import add_guard, remove_guard
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import ApiClient, make_member
from traveler.mes_lite.models import EquipmentUsage, Part, StepMeasurement, StepTransitionLog
from traveler.mes_lite.tests.api_helpers import (
    API,
    error,
    event_names,
    parts_of,
    readings,
    route_of,
    signed_in,
    written,
)
from traveler.mes_lite.tests.factories import make_equipment, make_work_order


@pytest.fixture
def wo(tenant):
    return make_work_order(tenant, quantity=4)


@pytest.fixture
def operator(api, tenant):
    return signed_in(api, tenant, roles=["operator"])


def advance(api, part, step, measurements, **extra):
    return api.post(f"{API}/parts/{part.pk}/advance/", {"step": step.pk, "measurements": measurements, **extra})


def state(tenant, part) -> tuple:
    with tenant_context(tenant):
        p = Part.objects.get(pk=part.pk)
    return p.status, p.current_step_id, p.version


def test_advance_through_the_route_to_completion(operator, tenant, wo):
    part = parts_of(tenant, wo)[0]
    route = route_of(tenant, wo)
    results = []
    for step in route:
        r = advance(operator, part, step, readings(tenant, step), note=f"at {step.name}")
        assert r.status_code == 200, r.content
        results.append(r.json()["result"])
        assert r.json()["part"]["id"] == part.pk
    assert results == ["advanced", "advanced", "completed"]
    body = operator.get(f"{API}/parts/{part.pk}/").json()
    assert (body["status"], body["current_step"], body["current_step_name"]) == ("completed", route[-1].pk, route[-1].name)

    transitions = operator.get(f"{API}/transitions/", {"part": part.pk}).json()["results"]
    assert [t["action"] for t in transitions] == ["advance", "advance", "complete"]
    assert transitions[0]["operator"] == {"id": operator.user.pk, "name": operator.user.full_name}
    assert transitions[0]["note"] == f"at {route[0].name}" and transitions[0]["to_step_name"] == route[1].name
    measurements = operator.get(f"{API}/measurements/", {"part": part.pk}).json()["results"]
    assert len(measurements) == 4 and all(m["in_spec"] for m in measurements)
    assert measurements[0]["label"] == "Bore diameter" and measurements[0]["value"] == "6.00000000"
    assert event_names(tenant, part_id=part.pk) == ["mes.part.advanced", "mes.part.advanced", "mes.part.completed"]
    changes = operator.get(f"{API}/parts/{part.pk}/history/").json()["results"]
    assert [c["action"] for c in changes] == ["Updated", "Updated", "Updated", "Created"]
    assert changes[0]["changes"]["status"] == {"old": "in_process", "new": "completed"}
    assert changes[0]["actor"]["id"] == operator.user.pk


def test_out_of_spec_quarantines_the_part(operator, tenant, wo):
    part = parts_of(tenant, wo)[0]
    step = route_of(tenant, wo)[0]
    values = readings(tenant, step)
    values[0]["value"] = 6.0101  # upper limit 6.010
    r = advance(operator, part, step, values)
    assert r.status_code == 200 and r.json()["result"] == "quarantined"
    assert r.json()["part"]["status"] == "quarantined" and "Bore diameter" in r.json()["part"]["status_reason"]
    m = operator.get(f"{API}/measurements/", {"part": part.pk}).json()["results"]
    assert (m[0]["value"], m[0]["in_spec"]) == ("6.01010000", False)
    assert operator.get(f"{API}/measurements/", {"in_spec": "false"}).json()["count"] == 1
    assert event_names(tenant, part_id=part.pk) == ["mes.part.quarantined"]

    again = advance(operator, part, step, readings(tenant, step))
    assert again.status_code == 409 and "status quarantined" in error(again)["message"]


def test_limits_are_inclusive_and_pass_fail_fails(operator, tenant, wo):
    a, b = parts_of(tenant, wo)[:2]
    first, second = route_of(tenant, wo)[:2]
    values = readings(tenant, first)
    values[0]["value"] = "5.990"
    assert advance(operator, a, first, values).json()["result"] == "advanced"
    at_second = readings(tenant, second)
    assert advance(operator, a, second, [{**v, "value": False} if v["value"] == "pass" else v
                                         for v in at_second]).json()["result"] == "quarantined"
    assert advance(operator, b, first, readings(tenant, first)).json()["result"] == "advanced"


def bad_cases(tenant, wo):
    first, second = route_of(tenant, wo)[:2]
    good = readings(tenant, first)
    return {
        "missing": ([], 400, "measurements", "Required measurement(s) missing at 'Machine body': Bore diameter"),
        "not a number": ([{**good[0], "value": "six"}], 400, "measurements[0].value", "'six' is not a number"),
        "no value": ([{"definition": good[0]["definition"]}], 400, "measurements[0].value", "a number is needed"),
        "boolean for a number": ([{**good[0], "value": True}], 400, "measurements[0].value", "a number is needed"),
        "other step's definition": (good + readings(tenant, second)[:1], 400, "measurements[1].definition",
                                    "belongs to step 'Leak test', not to the current step 'Machine body'"),
        "unknown definition": (good + [{"definition": 999999999, "value": 1}], 400, "measurements[1].definition",
                               "belongs to no step of this route"),
        "twice": (good + good, 400, "measurements[1].definition", "given twice"),
        "definition not an id": ([{"definition": "bore", "value": 6}], 400, "measurements[0].definition",
                                 "valid integer"),
    }


@pytest.mark.parametrize("case", ["missing", "not a number", "no value", "boolean for a number",
                                  "other step's definition", "unknown definition", "twice", "definition not an id"])
def test_bad_measurements_are_refused_and_nothing_is_written(operator, tenant, wo, case):
    measurements, code, field, message = bad_cases(tenant, wo)[case]
    part = parts_of(tenant, wo)[0]
    step = route_of(tenant, wo)[0]
    before, part_before = written(tenant), state(tenant, part)
    r = advance(operator, part, step, measurements)
    assert r.status_code == code, r.content
    assert message in error(r)["message"] and field in error(r)["fields"], error(r)
    assert written(tenant) == before and state(tenant, part) == part_before


def test_a_part_not_at_the_claimed_step_is_a_conflict_naming_where_it_is(operator, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first, second = route_of(tenant, wo)[:2]
    assert advance(operator, part, first, readings(tenant, first)).status_code == 200
    before, part_before = written(tenant), state(tenant, part)
    # What the slower of two operators at the same station sees.
    r = advance(operator, part, first, readings(tenant, first))
    assert r.status_code == 409
    err = error(r)
    assert err["code"] == "conflict"
    assert f"Part {part.serial_number} is at step 'Leak test' with status in process" in err["message"]
    assert written(tenant) == before and state(tenant, part) == part_before
    stale = advance(operator, part, second, readings(tenant, second), version=1)
    assert stale.status_code == 409 and "changed since you read it" in error(stale)["message"]


def test_overdue_calibration_blocks_the_advance(operator, tenant, other_tenant, wo):
    ok, overdue = make_equipment(tenant), make_equipment(tenant, overdue=True)
    part = parts_of(tenant, wo)[0]
    step = route_of(tenant, wo)[0]
    before, part_before = written(tenant), state(tenant, part)
    r = advance(operator, part, step, readings(tenant, step), equipment=[ok.pk, overdue.pk])
    assert r.status_code == 409, r.content
    err = error(r)
    assert err["code"] == "blocked" and "Calibration overdue" in err["message"] and overdue.serial_number in err["message"]
    assert err["fields"]["guards"]
    assert written(tenant) == before and state(tenant, part) == part_before

    theirs = make_equipment(other_tenant)
    r = advance(operator, part, step, readings(tenant, step), equipment=[theirs.pk])
    assert r.status_code == 400 and f"Unknown equipment: {theirs.pk}" in error(r)["message"]

    r = advance(operator, part, step, readings(tenant, step), equipment=[ok.pk])
    assert r.status_code == 200 and r.json()["result"] == "advanced"
    with tenant_context(tenant):
        assert list(EquipmentUsage.objects.filter(part_id=part.pk).values_list("equipment_id", flat=True)) == [ok.pk]


def test_hold_release_and_scrap(api, tenant, wo):
    quality = signed_in(api, tenant, roles=["qa_manager"])
    part = parts_of(tenant, wo)[0]
    url = f"{API}/parts/{part.pk}/"
    r = quality.post(f"{url}hold/", {})
    assert r.status_code == 400 and "reason" in error(r)["fields"]
    r = quality.post(f"{url}hold/", {"reason": "suspect material lot 7"})
    assert r.status_code == 200 and (r.json()["status"], r.json()["held_from_status"]) == ("on_hold", "pending")
    step = route_of(tenant, wo)[0]
    held = advance(quality, part, step, readings(tenant, step))
    assert held.status_code == 409 and "status on hold" in error(held)["message"]
    r = quality.post(f"{url}release/", {"reason": "lot cleared"})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    r = quality.post(f"{url}scrap/", {"reason": "cracked casting"})
    assert r.status_code == 200 and r.json()["status"] == "scrapped"
    assert quality.post(f"{url}release/", {"reason": "again"}).status_code == 409
    assert quality.post(f"{url}hold/", {"reason": "again"}).status_code == 409

    reasons = [c["reason"] for c in quality.get(f"{url}history/").json()["results"][:3]]
    assert reasons == ["cracked casting", "lot cleared", "suspect material lot 7"]
    transitions = quality.get(f"{API}/transitions/", {"part": part.pk}).json()["results"]
    assert [(t["action"], t["note"]) for t in transitions] == [
        ("hold", "suspect material lot 7"), ("release", "lot cleared"), ("scrap", "cracked casting")]
    assert event_names(tenant, part_id=part.pk) == ["mes.part.held", "mes.part.released", "mes.part.scrapped"]


def test_release_needs_a_reason_and_gives_back_the_quarantine_reason(api, tenant, wo):
    quality = signed_in(api, tenant, roles=["qa_manager"])
    part = parts_of(tenant, wo)[0]
    step = route_of(tenant, wo)[0]
    bad = readings(tenant, step)
    bad[0]["value"] = "6.5"
    assert advance(quality, part, step, bad).json()["result"] == "quarantined"
    url = f"{API}/parts/{part.pk}/"
    why = quality.get(url).json()["status_reason"]
    assert "Out of specification" in why
    r = quality.post(f"{url}hold/", {"reason": "MRB review"})
    assert (r.json()["status"], r.json()["status_reason"]) == ("on_hold", "MRB review")
    assert (r.json()["held_from_status"], r.json()["held_from_reason"]) == ("quarantined", why)
    r = quality.post(f"{url}release/", {})
    assert r.status_code == 400 and error(r)["fields"] == {"reason": ["required"]}
    assert state(tenant, part)[0] == "on_hold"
    r = quality.post(f"{url}release/", {}, headers={"X-Reason": "MRB: keep in quarantine"})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["status_reason"], r.json()["held_from_status"]) == ("quarantined", why, "")


def test_operators_advance_but_do_not_hold_or_scrap(operator, tenant, wo):
    part = parts_of(tenant, wo)[0]
    for action, body in [("hold", {"reason": "x"}), ("scrap", {"reason": "x"}), ("release", {})]:
        r = operator.post(f"{API}/parts/{part.pk}/{action}/", body)
        assert r.status_code == 403 and "mes_lite." in error(r)["message"]
    assert state(tenant, part)[0] == "pending"


def test_parts_are_read_only_records(operator, tenant, wo):
    part = parts_of(tenant, wo)[0]
    assert operator.patch(f"{API}/parts/{part.pk}/", {"status": "completed", "version": 1}).status_code == 405
    assert operator.delete(f"{API}/parts/{part.pk}/").status_code == 405
    assert operator.post(f"{API}/parts/", {"serial_number": "X"}).status_code == 405
    assert operator.post(f"{API}/parts/{part.pk}/restore/").status_code == 404  # no such route
    assert state(tenant, part)[0] == "pending"


def test_part_filters(operator, tenant, wo):
    other = make_work_order(tenant, quantity=2)
    part = parts_of(tenant, wo)[0]
    step = route_of(tenant, wo)[0]
    advance(operator, part, step, readings(tenant, step))

    def ids(**query):
        return {p["id"] for p in operator.get(f"{API}/parts/", query).json()["results"]}

    assert ids(serial_number=part.serial_number) == {part.pk}
    assert ids(work_order=other.pk) == {p.pk for p in parts_of(tenant, other)}
    assert ids(status="in_process") == {part.pk}
    assert ids(current_step=step.pk, work_order=wo.pk) == {p.pk for p in parts_of(tenant, wo)[1:]}
    assert ids(serial_number="NO-SUCH-SERIAL") == set()
    assert operator.get(f"{API}/parts/", {"status": "melted"}).status_code == 400


def test_scanner_station_advances_by_serial_number(operator, tenant, other_tenant, wo):
    part = parts_of(tenant, wo)[1]
    step = route_of(tenant, wo)[0]
    r = operator.post(f"{API}/parts/advance-by-serial/", {"serial_number": f" {part.serial_number} ", "step": step.pk,
                                                          "measurements": readings(tenant, step)})
    assert r.status_code == 200 and r.json()["result"] == "advanced" and r.json()["part"]["id"] == part.pk

    theirs = parts_of(other_tenant, make_work_order(other_tenant, quantity=1))[0]
    before = written(tenant)
    for serial in ("NO-SUCH-SERIAL", theirs.serial_number):
        r = operator.post(f"{API}/parts/advance-by-serial/", {"serial_number": serial, "step": step.pk,
                                                              "measurements": readings(tenant, step)})
        assert r.status_code == 400, r.content
        assert error(r)["message"] == f"No part with serial number {serial!r}."
        assert error(r)["fields"] == {"serial_number": [f"unknown: {serial}"]}
    assert written(tenant) == before
    assert operator.post(f"{API}/parts/advance-by-serial/", {"step": step.pk}).status_code == 400


def test_a_serial_on_parts_of_two_part_types_needs_the_part_type(operator, tenant):
    injector = make_work_order(tenant, quantity=1, pattern="DUP-{seq:03}")
    nozzle = make_work_order(tenant, quantity=1, pattern="DUP-0{seq:02}")  # another counter, same serial
    step = route_of(tenant, nozzle)[0]
    body = {"serial_number": "DUP-001", "step": step.pk, "measurements": readings(tenant, step)}
    before = written(tenant)
    r = operator.post(f"{API}/parts/advance-by-serial/", body)
    assert r.status_code == 400, r.content
    assert "several part types" in error(r)["message"] and set(error(r)["fields"]) == {"part_type"}
    assert written(tenant) == before
    r = operator.post(f"{API}/parts/advance-by-serial/", {**body, "part_type": nozzle.part_type_id})
    assert r.status_code == 200, r.content
    assert r.json()["part"]["id"] == parts_of(tenant, nozzle)[0].pk
    assert parts_of(tenant, injector)[0].status == "pending"


def test_bulk_advance_is_all_or_nothing(operator, tenant, wo):
    parts = parts_of(tenant, wo)
    step = route_of(tenant, wo)[0]
    url = f"{API}/work-orders/{wo.pk}/advance-parts/"
    items = [{"part": p.pk, "measurements": readings(tenant, step)} for p in parts]
    items[3] = {"serial_number": parts[3].serial_number, "measurements": []}  # one bad entry: nothing moves
    before = written(tenant)
    r = operator.post(url, {"step": step.pk, "parts": items})
    assert r.status_code == 400 and "parts[3].measurements" in error(r)["fields"]
    assert "Required measurement(s) missing" in error(r)["message"]
    assert written(tenant) == before

    items[3]["measurements"] = readings(tenant, step)
    items[0]["measurements"][0]["value"] = "7"  # out of spec: quarantined, not an error
    r = operator.post(url, {"step": step.pk, "parts": items, "note": "lot 1"})
    assert r.status_code == 200, r.content
    assert r.json() == {"advanced": 3, "completed": 0, "quarantined": 1}
    assert sorted(event_names(tenant, work_order_id=wo.pk)[-4:]) == ["mes.part.advanced"] * 3 + ["mes.part.quarantined"]

    again = operator.post(url, {"step": step.pk, "parts": items})
    assert again.status_code == 409 and "are not waiting at 'Machine body'" in error(again)["message"]


@pytest.mark.parametrize("body,status,field,message", [
    ({"parts": [{"serial_number": "NO-SUCH"}]}, 400, "parts[0]", "Part NO-SUCH is not a part of work order"),
    ({"parts": [{"measurements": []}]}, 400, "parts[0]", "Name the part"),
    ({"parts": []}, 400, "parts", "may not be empty"),
    ({"step": 999999999}, 400, "step", "is not a step of work order"),
    ({"equipment": ["gauge"]}, 400, "equipment[0]", "valid integer"),
])
def test_bad_bulk_input_is_refused(operator, tenant, wo, body, status, field, message):
    step = route_of(tenant, wo)[0]
    parts = parts_of(tenant, wo)
    full = {"step": step.pk, "parts": [{"part": parts[0].pk, "measurements": readings(tenant, step)}], **body}
    before = written(tenant)
    r = operator.post(f"{API}/work-orders/{wo.pk}/advance-parts/", full)
    assert r.status_code == status, r.content
    assert field in error(r)["fields"] and message in error(r)["message"], error(r)
    assert written(tenant) == before


def test_bulk_advance_is_blocked_by_overdue_equipment(operator, tenant, wo):
    overdue = make_equipment(tenant, overdue=True)
    step = route_of(tenant, wo)[0]
    items = [{"part": p.pk, "measurements": readings(tenant, step)} for p in parts_of(tenant, wo)]
    before = written(tenant)
    r = operator.post(f"{API}/work-orders/{wo.pk}/advance-parts/", {"step": step.pk, "parts": items,
                                                                    "equipment": [overdue.pk]})
    assert r.status_code == 409 and error(r)["code"] == "blocked"
    assert written(tenant) == before


def test_the_traveler(operator, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first, second, last = route_of(tenant, wo)
    advance(operator, part, first, readings(tenant, first))
    t = operator.get(f"{API}/parts/{part.pk}/traveler/").json()
    assert t["part"]["serial_number"] == part.serial_number and t["part"]["current_step"] == second.pk
    assert [(e["step"]["name"], e["state"]) for e in t["route"]] == [
        (first.name, "done"), (second.name, "current"), (last.name, "ahead")]
    assert [d["label"] for d in t["route"][0]["definitions"]] == ["Bore diameter"]
    assert [(d["label"], d["required"]) for d in t["required_here"]] == [
        ("Leak rate", True), ("Visual", True), ("Note length", False)]
    assert [(x["action"], x["from_step"], x["to_step"]) for x in t["transitions"]] == [("advance", first.pk, second.pk)]
    assert t["transitions"][0]["operator"]["name"] == operator.user.full_name
    assert [(m["label"], m["in_spec"], m["recorded_by"]) for m in t["measurements"]] == [
        ("Bore diameter", True, operator.user.pk)]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_advances_of_one_part_exactly_one_wins(tenant):
    """Two operators post the same advance at once, on two connections, with committed data: one is
    advanced; the other waits on the part's row lock and then answers 409 naming the part's new state.

    The request that takes the lock first holds it (in a guard, inside its transaction) until
    PostgreSQL shows the other one blocked by it, so the two are truly in flight together."""
    wo = make_work_order(tenant, quantity=1)
    part = parts_of(tenant, wo)[0]
    first, second = route_of(tenant, wo)[:2]
    body = {"step": first.pk, "measurements": readings(tenant, first)}
    clients = []
    for _ in range(2):
        client = ApiClient().as_user(make_member(tenant, roles=["operator"]), tenant)
        client.default_format = "json"
        clients.append(client)
    barrier = threading.Barrier(2, timeout=10)
    holder = threading.Lock()
    seen_waiting: list[bool] = []

    def hold_until_the_other_waits(**context):
        if not holder.acquire(blocking=False):
            return None  # the second request, after the first committed (it never gets here: 409 first)
        deadline = time.monotonic() + 10
        with connection.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT pg_stat_clear_snapshot()")
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
                if cur.fetchone()[0]:
                    seen_waiting.append(True)
                    break
                time.sleep(0.02)
        return None

    results: list = []

    def operator(client):
        try:
            barrier.wait()
            r = client.post(f"{API}/parts/{part.pk}/advance/", body)
            results.append((r.status_code, r.json()))
        finally:
            connection.close()

    add_guard("mes.part.advance", hold_until_the_other_waits)
    try:
        threads = [threading.Thread(target=operator, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads), "an advance did not finish within 30 s"
    finally:
        remove_guard("mes.part.advance", hold_until_the_other_waits)
    assert seen_waiting == [True], "the second advance was never seen waiting on the first"
    assert sorted(status for status, _ in results) == [200, 409], results
    won = next(body for status, body in results if status == 200)
    lost = next(body for status, body in results if status == 409)["error"]
    assert won["result"] == "advanced" and won["part"]["current_step"] == second.pk
    assert lost["code"] == "conflict"
    assert f"Part {part.serial_number} is at step '{second.name}' with status in process" in lost["message"]
    with tenant_context(tenant):
        assert StepTransitionLog.objects.filter(part_id=part.pk).count() == 1
        assert StepMeasurement.objects.filter(part_id=part.pk).count() == len(body["measurements"])
        assert Part.objects.get(pk=part.pk).version == part.version + 1
