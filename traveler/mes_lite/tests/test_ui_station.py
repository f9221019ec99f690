"""The operator station: scan, read the traveler, advance, and every outcome (with and without htmx)."""

from __future__ import annotations

import pytest

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import make_company, make_member
from traveler.core.tests.test_ui_shell import signed_in
from traveler.mes_lite.choices import PartStatus
from traveler.mes_lite.models import EquipmentType, MeasurementDefinition, Part, StepTransitionLog
from traveler.mes_lite.services.equipment import equipment_create
from traveler.mes_lite.services.parts import part_advance
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import good_readings, make_equipment, make_order, make_work_order

pytestmark = pytest.mark.django_db

STATION = "/mes/station/"
ADVANCE = "/mes/station/advance/"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "station-result"}


@pytest.fixture
def wo(tenant):
    return make_work_order(tenant, quantity=3)


@pytest.fixture
def operator(tenant):
    return make_member(tenant, roles=["operator"], full_name="Olga Operator")


@pytest.fixture
def client(operator, tenant):
    return signed_in(operator, tenant)


def parts_of(tenant, wo) -> list[Part]:
    with tenant_context(tenant):
        return list(Part.objects.filter(work_order=wo).select_related("current_step").order_by("serial_number"))


def steps_of(tenant, wo):
    with tenant_context(tenant):
        return route_steps(wo.process)


def definition(tenant, step, label) -> MeasurementDefinition:
    with tenant_context(tenant):
        return MeasurementDefinition.objects.get(step=step, label=label)


def form(part, step, values: dict, equipment=None) -> dict:
    data = {"part": part.pk, "step": step.pk, "version": part.version, "serial": part.serial_number}
    data.update({f"m-{d.pk}": v for d, v in values.items()})
    if equipment is not None:
        data["equipment"] = equipment.pk
    return data


def fresh(tenant, part) -> Part:
    with tenant_context(tenant):
        return Part.objects.select_related("current_step").get(pk=part.pk)


def test_the_station_needs_the_advance_permission(tenant, wo):
    company = make_company(tenant)
    for roles, kw in ((["auditor"], {}), (["customer"], {"company": company})):
        client = signed_in(make_member(tenant, roles=roles, **kw), tenant)
        assert client.get(STATION).status_code == 403
        part = parts_of(tenant, wo)[0]
        assert client.post(ADVANCE, {"part": part.pk}).status_code == 403
    r = signed_in(make_member(tenant, roles=["operator"])).get(STATION)  # no tenant chosen: the first one
    assert r.status_code == 200


def test_idle_station_waits_for_a_scan(client):
    r = client.get(STATION)
    html = r.content.decode()
    assert r.status_code == 200 and r.context["state"] == "idle"
    assert 'id="scan"' in html and "autofocus" in html.split('id="scan"')[1].split(">")[0]
    assert "Ready for the next part" in html
    assert "mes_lite/station.js" in html and "mes_lite/mes.css" in html
    assert "F2" in html and "Ctrl" in html


def test_a_scan_shows_the_traveler_with_what_to_measure(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first, second, _ = steps_of(tenant, wo)
    with tenant_context(tenant):
        part_advance(part=part, step=first.pk, measurements=good_readings(first))
    r = client.get(STATION, {"serial": f"  {part.serial_number} "})  # a scanner may add blanks
    assert r.status_code == 200 and r.context["state"] == "traveler"
    assert [n["state"] for n in r.context["route"]] == ["done", "current", "ahead"]
    assert [f["definition"].label for f in r.context["fields"]] == ["Leak rate", "Visual", "Note length"]
    html = r.content.decode()
    assert 'data-lower="0.0" data-upper="0.5"' in html  # Leak rate: nominal 0, +0.5 / -0
    assert "Step 2 · Leak test" in html
    assert f'name="m-{definition(tenant, second, "Visual").pk}" value="pass"' in html  # a pass/fail toggle
    assert "Olga Operator" in html and "UTC" in html  # history: who and when
    assert r.context["focus"] == f"m-{definition(tenant, second, 'Leak rate').pk}"


def test_a_numeric_spec_is_shown_at_one_precision(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    r = client.get(STATION, {"serial": part.serial_number})
    field = r.context["fields"][0]
    assert field["spec"]["nominal"] == "6.00" and field["spec"]["lower"] == "5.99" and field["spec"]["upper"] == "6.01"
    assert field["spec"]["tolerance"] == "± 0.01" and field["spec"]["unit"] == "mm"


def test_an_unknown_serial_says_so_and_keeps_the_focus_on_the_scan(client, tenant, other_tenant):
    foreign = parts_of(other_tenant, make_work_order(other_tenant, quantity=1))[0]
    for serial in ("NO-SUCH-PART", foreign.serial_number):
        r = client.get(STATION, {"serial": serial})
        assert r.status_code == 404 and r.context["state"] == "unknown"
        html = r.content.decode()
        assert "Unknown serial number" in html and serial in html
        assert r.context["focus"] == "scan" and r.context["scan_value"] == serial


def test_a_serial_on_parts_of_two_part_types_asks_which(client, tenant):
    first = make_work_order(tenant, quantity=1, pattern="TWIN-{seq:03}")
    second = make_work_order(tenant, quantity=1, pattern="TWIN-0{seq:02}")  # another counter, same serial
    r = client.get(STATION, {"serial": "TWIN-001"})
    assert r.status_code == 200 and r.context["state"] == "ambiguous"
    html = r.content.decode()
    assert "Which part?" in html and f"part_type={second.part_type_id}" in html
    r = client.get(STATION, {"serial": "TWIN-001", "part_type": str(second.part_type_id)})
    assert r.context["state"] != "ambiguous" and r.context["part"].pk == parts_of(tenant, second)[0].pk
    assert parts_of(tenant, first)[0].part_type_id != second.part_type_id


def test_with_htmx_a_scan_answers_only_the_result_area(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    r = client.get(STATION, {"serial": part.serial_number}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and html.startswith('<div id="station-result"') and "<html" not in html
    assert 'data-advance-form' in html and r["Vary"].count("HX-Request")


def test_advance_without_javascript_redirects_to_the_outcome(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first, second, _ = steps_of(tenant, wo)
    r = client.post(ADVANCE, form(part, first, {definition(tenant, first, "Bore diameter"): "6.004"}))
    assert r.status_code == 302 and r["Location"] == STATION
    part = fresh(tenant, part)
    assert part.current_step_id == second.pk and part.status == PartStatus.IN_PROCESS
    r = client.get(STATION)
    html = r.content.decode()
    assert r.context["state"] == "outcome" and r.context["result"] == "advanced"
    assert "Advanced to Leak test" in html and 'data-focus="scan"' in html and 'data-scan-value=""' in html
    assert client.get(STATION).context["state"] == "idle"  # shown once


def test_advance_with_htmx_shows_the_outcome_at_once(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first = steps_of(tenant, wo)[0]
    r = client.post(ADVANCE, form(part, first, {definition(tenant, first, "Bore diameter"): "5,995"}), **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and html.startswith('<div id="station-result"')
    assert 'data-outcome="advanced"' in html and "Advanced to Leak test" in html  # the decimal comma is accepted


def test_an_out_of_spec_value_is_asked_again_before_anything_is_recorded(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first = steps_of(tenant, wo)[0]
    bore = definition(tenant, first, "Bore diameter")
    with tenant_context(tenant):
        before = StepTransitionLog.objects.count()
    r = client.post(ADVANCE, form(part, first, {bore: "6.0125"}), **HTMX)
    assert r.status_code == 200 and r.context["state"] == "traveler"
    field = next(f for f in r.context["fields"] if f["definition"].pk == bore.pk)
    assert (field["value"], field["confirm"]) == ("", "6.0125")  # shown empty: typed again, not just Enter
    assert field["errors"] == ["Out of tolerance: re-enter to confirm, or correct it."]
    assert r.context["focus"] == f"m-{bore.pk}"
    assert r.context["message"].startswith("Bore diameter 6.0125 mm: out of tolerance.")
    html = r.content.decode()
    assert f'name="confirm-m-{bore.pk}" value="6.0125"' in html and 'data-confirm="6.0125"' in html
    with tenant_context(tenant):
        assert StepTransitionLog.objects.count() == before
    assert fresh(tenant, part).status == PartStatus.PENDING

    # Advanced again without typing it: still asked for, with the first entry kept.
    r = client.post(ADVANCE, {**form(part, first, {bore: ""}), f"confirm-m-{bore.pk}": "6.0125"}, **HTMX)
    assert r.context["state"] == "traveler" and r.context["fields"][0]["confirm"] == "6.0125"
    assert r.context["fields"][0]["errors"] == ["Out of tolerance: re-enter to confirm, or correct it."]
    # Another out-of-tolerance value: asked again, for that value.
    r = client.post(ADVANCE, {**form(part, first, {bore: "6.0215"}), f"confirm-m-{bore.pk}": "6.0125"}, **HTMX)
    assert r.context["state"] == "traveler" and r.context["fields"][0]["confirm"] == "6.0215"
    # Corrected: advanced, nothing quarantined.
    r = client.post(ADVANCE, {**form(part, first, {bore: "6.0025"}), f"confirm-m-{bore.pk}": "6.0215"}, **HTMX)
    assert r.context["result"] == "advanced"


def test_an_out_of_spec_value_confirmed_quarantines_and_says_which(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first = steps_of(tenant, wo)[0]
    bore = definition(tenant, first, "Bore diameter")
    assert client.post(ADVANCE, form(part, first, {bore: "6.0125"}), **HTMX).context["state"] == "traveler"
    # Re-entered (a decimal comma and a trailing zero are the same value): recorded as measured.
    r = client.post(ADVANCE, {**form(part, first, {bore: "6,01250"}), f"confirm-m-{bore.pk}": "6.0125"}, **HTMX)
    assert r.status_code == 200 and r.context["result"] == "quarantined"
    assert r.context["out_of_spec"] == [{"label": "Bore diameter", "value": "6.0125 mm", "side": "above",
                                         "limits": "5.99 – 6.01 mm"}]
    html = r.content.decode()
    assert "QUARANTINED" in html and 'data-outcome="quarantined"' in html
    assert fresh(tenant, part).status == PartStatus.QUARANTINED


def test_a_failed_check_quarantines(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first, second, _ = steps_of(tenant, wo)
    with tenant_context(tenant):
        part_advance(part=part, step=first.pk, measurements=good_readings(first))
    part = fresh(tenant, part)
    visual = definition(tenant, second, "Visual")
    values = {definition(tenant, second, "Leak rate"): "0.1", visual: "fail"}
    r = client.post(ADVANCE, form(part, second, values), **HTMX)
    assert r.context["state"] == "traveler" and r.context["focus"] == f"m-{visual.pk}-pass"
    assert 'value="fail" checked' not in r.content.decode()  # chosen again, not just confirmed
    r = client.post(ADVANCE, {**form(part, second, values), f"confirm-m-{visual.pk}": "fail"}, **HTMX)
    assert r.context["result"] == "quarantined"
    assert [row["label"] for row in r.context["out_of_spec"]] == ["Visual"]


def test_missing_or_bad_values_are_shown_on_their_fields_and_kept(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first, second, _ = steps_of(tenant, wo)
    with tenant_context(tenant):
        part_advance(part=part, step=first.pk, measurements=good_readings(first))
    part = fresh(tenant, part)
    leak, visual = definition(tenant, second, "Leak rate"), definition(tenant, second, "Visual")
    r = client.post(ADVANCE, form(part, second, {leak: "0.2"}), **HTMX)
    assert r.status_code == 400 and r.context["state"] == "traveler"
    errors = {f["definition"].label: f["errors"] for f in r.context["fields"]}
    assert errors["Visual"] and not errors["Leak rate"]
    assert r.context["focus"] == f"m-{visual.pk}-pass"
    html = r.content.decode()
    assert "Required measurement(s) missing" in html and f'name="m-{leak.pk}" value="0.2"' in html
    r = client.post(ADVANCE, form(part, second, {leak: "six", visual: "pass"}), **HTMX)
    assert r.status_code == 400
    assert "not a number" in " ".join(r.context["fields"][0]["errors"])
    assert 'value="six"' in r.content.decode()
    assert fresh(tenant, part).current_step_id == second.pk


def test_overdue_equipment_blocks_with_the_guards_reason(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first = steps_of(tenant, wo)[0]
    overdue = make_equipment(tenant, overdue=True, name="Air gauge 7")
    r = client.get(STATION, {"serial": part.serial_number})
    assert [i["equipment"].pk for i in r.context["equipment"]["overdue"]] == [overdue.pk]
    assert "⚠ OVERDUE · Air gauge 7" in r.content.decode()
    r = client.post(ADVANCE, form(part, first, {definition(tenant, first, "Bore diameter"): "6.001"}, overdue),
                    **HTMX)
    html = r.content.decode()
    assert r.status_code == 409 and 'data-outcome="blocked"' in html
    assert "Calibration overdue: Air gauge 7" in html
    assert 'value="6.001"' in html and r.context["focus"] == "scan"  # the values are kept
    assert fresh(tenant, part).current_step_id == first.pk
    with tenant_context(tenant):
        assert not StepTransitionLog.objects.filter(part=part).exists()


def test_a_part_moved_meanwhile_is_a_conflict_naming_its_new_state(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first = steps_of(tenant, wo)[0]
    stale = form(part, first, {definition(tenant, first, "Bore diameter"): "6.0"})
    with tenant_context(tenant):  # a colleague advances the same part first
        part_advance(part=Part.objects.get(pk=part.pk), step=first.pk, measurements=good_readings(first))
    r = client.post(ADVANCE, stale, **HTMX)
    html = r.content.decode()
    assert r.status_code == 409 and r.context["result"] == "conflict"
    assert "Not advanced: the part changed" in html
    assert "is at step &#x27;Leak test&#x27; with status in process" in html
    assert "Leak test" in html and "in process" in html
    assert r.context["scan_value"] == part.serial_number
    r = client.post(ADVANCE, stale)  # without JavaScript: the same page
    assert r.status_code == 409 and "Not advanced" in r.content.decode()


def test_the_last_step_completes_the_part(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    steps = steps_of(tenant, wo)
    with tenant_context(tenant):
        for step in steps[:-1]:
            part_advance(part=part, step=step.pk, measurements=good_readings(step))
    part = fresh(tenant, part)
    r = client.get(STATION, {"serial": part.serial_number})
    assert r.context["fields"] == [] and r.context["focus"] == "advance"  # nothing to measure: Advance has focus
    r = client.post(ADVANCE, form(part, steps[-1], {}), **HTMX)
    assert r.context["result"] == "completed" and "Completed" in r.content.decode()
    assert [n["state"] for n in r.context["route"]] == ["done", "done", "done"]
    r = client.get(STATION, {"serial": part.serial_number})
    assert not r.context["advanceable"] and "Already completed" in r.content.decode()


def test_a_quarantined_part_shows_its_traveler_without_the_form(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first = steps_of(tenant, wo)[0]
    with tenant_context(tenant):
        readings = good_readings(first)
        readings[0]["value"] = "7"
        part_advance(part=part, step=first.pk, measurements=readings)
    r = client.get(STATION, {"serial": part.serial_number})
    html = r.content.decode()
    assert r.status_code == 200 and not r.context["advanceable"]
    assert "data-advance-form" not in html and "QUARANTINED" in html and "Out of specification" in html
    assert r.context["focus"] == "scan" and r.context["route"][0]["note"] == "Quarantined here"


def test_equipment_used_at_a_step_is_chosen_again_for_the_next_part(client, tenant, wo):
    first_part, second_part = parts_of(tenant, wo)[:2]
    first = steps_of(tenant, wo)[0]
    gauge = make_equipment(tenant, name="Bore gauge 12")
    client.post(ADVANCE, form(first_part, first, {definition(tenant, first, "Bore diameter"): "6.0"}, gauge))
    with tenant_context(tenant):
        assert first_part.equipment_usages.get().equipment_id == gauge.pk
    r = client.get(STATION, {"serial": second_part.serial_number})
    assert r.context["equipment"]["chosen"]["equipment"].pk == gauge.pk
    assert f'value="{gauge.pk}" data-state="ok"' in r.content.decode()


def test_qa_inspectors_use_the_station_too(tenant):
    """Inspection is a step like any other: QA inspectors hold the advance permission."""
    order = make_order(tenant)
    wo = make_work_order(tenant, order=order, quantity=1)
    part = parts_of(tenant, wo)[0]
    r = signed_in(make_member(tenant, roles=["qa_inspector"]), tenant).get(STATION, {"serial": part.serial_number})
    assert r.status_code == 200 and r.context["part"].pk == part.pk


def test_a_confirmed_value_stays_confirmed_when_the_advance_is_blocked(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first = steps_of(tenant, wo)[0]
    bore = definition(tenant, first, "Bore diameter")
    overdue, ok = make_equipment(tenant, overdue=True), make_equipment(tenant)
    data = {**form(part, first, {bore: "6.0125"}, equipment=overdue), f"confirm-m-{bore.pk}": "6.0125"}
    r = client.post(ADVANCE, data, **HTMX)
    assert r.status_code == 409 and r.context["blocked"]
    assert f'name="confirm-m-{bore.pk}" value="6.0125"' in r.content.decode()
    r = client.post(ADVANCE, {**data, "equipment": ok.pk}, **HTMX)
    assert r.context["result"] == "quarantined"


def test_a_never_calibrated_gauge_is_listed_apart_and_blocks(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first = steps_of(tenant, wo)[0]
    with tenant_context(tenant):
        etype = EquipmentType.objects.create(name="Micrometer", calibration_interval_days=365)
        never = equipment_create(data={"equipment_type": etype, "name": "Micrometer 4", "serial_number": "MM-4"})
    r = client.get(STATION, {"serial": part.serial_number})
    assert [i["equipment"].pk for i in r.context["equipment"]["overdue"]] == [never.pk]
    assert "⚠ NOT CALIBRATED · Micrometer 4" in r.content.decode()
    r = client.post(ADVANCE, form(part, first, {definition(tenant, first, "Bore diameter"): "6.001"}, never), **HTMX)
    assert r.status_code == 409 and "Not calibrated: Micrometer 4 (MM-4) never calibrated" in r.content.decode()
    assert fresh(tenant, part).status == PartStatus.PENDING


def test_an_optional_out_of_spec_value_is_not_dropped_by_leaving_it_empty(client, tenant, wo):
    part = parts_of(tenant, wo)[0]
    first, second, _ = steps_of(tenant, wo)
    with tenant_context(tenant):
        part_advance(part=part, step=first.pk, measurements=good_readings(first))
    part = fresh(tenant, part)
    leak, visual = definition(tenant, second, "Leak rate"), definition(tenant, second, "Visual")
    note = definition(tenant, second, "Note length")  # optional, in spec 0 – 2
    values = {leak: "0.1", visual: "pass", note: "5"}
    r = client.post(ADVANCE, form(part, second, values), **HTMX)
    assert r.context["state"] == "traveler" and r.context["focus"] == f"m-{note.pk}"
    r = client.post(ADVANCE, {**form(part, second, {**values, note: ""}), f"confirm-m-{note.pk}": "5"}, **HTMX)
    assert r.context["state"] == "traveler"  # asked again, not advanced without it
    assert fresh(tenant, part).current_step_id == second.pk
    r = client.post(ADVANCE, {**form(part, second, {**values, note: "1.5"}), f"confirm-m-{note.pk}": "5"}, **HTMX)
    assert r.context["result"] == "advanced"
