"""The characteristic pages: the list, the chart page (filters, limits label, violations, points), a
point's parts, the settings form, the baselines (compute, review, freeze with a password, discard),
who may do what, tenant isolation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_company, make_member
from traveler.mes_lite.models import MeasurementDefinition, Part, StepMeasurement
from traveler.mes_lite.services.parts import parts_advance_bulk
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_equipment, make_work_order
from traveler.spc.models import Characteristic, SPCBaseline
from traveler.spc.services.baselines import baseline_compute, baseline_freeze
from traveler.spc.services.characteristics import characteristic_save
from traveler.spc.tests.factories import measured, stable_values

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def signed_in(client, tenant, roles, **kw):
    user = make_member(tenant, roles=roles, **kw)
    assert client.login(email=user.email, password=PASSWORD)
    return user


def page(client, url, status=200, **params) -> str:
    r = client.get(url, params)
    assert r.status_code == status, (url, r.status_code)
    return r.content.decode()


def keys(html: str) -> list[int]:
    """The subgroup keys of the points table, in order."""
    return [int(k) for k in re.findall(r'<tr data-point="\d+" data-key="(\d+)"', html)]


def ids(wo, bore) -> list[int]:
    """The work order's measurements of ``bore``, oldest first: each is a point's key on an I-MR chart."""
    with tenant_context(wo.tenant):
        return list(StepMeasurement.objects.filter(part__work_order=wo, definition=bore)
                    .order_by("recorded_at", "pk").values_list("pk", flat=True))


def when(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M")


def measured_with(tenant, values, *, process, equipment, operator, start):
    """A work order of parts measured by ``operator`` with ``equipment``, dated from ``start``."""
    wo = make_work_order(tenant, process=process, quantity=len(values))
    with tenant_context(tenant, actor=operator):
        step = route_steps(process)[0]
        bore = MeasurementDefinition.objects.get(step=step, label="Bore diameter")
        parts = list(Part.objects.filter(work_order=wo).order_by("pk"))
        parts_advance_bulk(work_order=wo, step=step.pk, equipment=[equipment.pk], parts=[
            {"part": p.pk, "measurements": [{"definition": bore.pk, "value": repr(v)}]} for p, v in zip(parts, values,
                                                                                                       strict=True)])
        for n, pk in enumerate(ids(wo, bore)):
            StepMeasurement.objects.filter(pk=pk).update(recorded_at=start + n * timedelta(minutes=10))
    return wo, parts


def test_list_and_chart_page_with_filters_and_trial_limits(client, tenant):
    wo1, bore = measured(tenant, stable_values(40), start=T0)
    wo2, _ = measured(tenant, stable_values(20, seed=3), process=wo1.process, start=T0 + timedelta(days=1))
    signed_in(client, tenant, ["qa_inspector"])
    assert "/spc/characteristics/" in page(client, "/")  # the menu item
    html = page(client, "/spc/characteristics/")
    row = html[html.index(f'<tr data-definition="{bore.pk}">'):]
    row = row[:row.index("</tr>")]
    assert "Bore diameter" in row and f'href="/spc/characteristics/{bore.pk}/"' in row
    assert "I-MR" in row and "Defaults" in row and "Trial limits" in row and '<td class="num">60</td>' in row
    assert "Visual" not in html  # pass / fail measurements are not charted
    assert "Leak rate" in page(client, "/spc/characteristics/", part_type=wo1.process.part_type_id)

    url = f"/spc/characteristics/{bore.pk}/"
    html = page(client, url)
    assert "Trial limits: no frozen baseline" in html and 'data-source="trial"' in html
    assert keys(html) == ids(wo1, bore) + ids(wo2, bore)
    # Each point of the chart links to its page (X and MR panels; the first MR point has no value).
    svg = html[html.index('data-testid="live-chart"'):html.index("</figure>")]
    first = ids(wo1, bore)[0]
    assert svg.count("<a href=") == 60 + 59 and f'href="/spc/characteristics/{bore.pk}/points/{first}/"' in svg

    html = page(client, url, work_order=wo2.pk)
    assert keys(html) == ids(wo2, bore)
    assert f'points/{ids(wo2, bore)[0]}/?work_order={wo2.pk}"' in html  # the filters follow the point links
    html = page(client, url, date_from=when(T0 + timedelta(minutes=100)), date_to=when(T0 + timedelta(minutes=200)))
    assert keys(html) == ids(wo1, bore)[10:20]
    html = page(client, url, date_to=when(T0 + timedelta(minutes=15)))
    assert keys(html) == ids(wo1, bore)[:2]
    assert "Not enough data for a chart yet: 2 point(s), 3 needed." in html
    # no chart drawn: the figure waits hidden for the stream, to reload the page once there is one
    figure = html[html.index('data-testid="live-chart"'):html.index("</figure>")]
    assert "data-reload-when-charted hidden" in figure and "data-spc-message" in figure and "<circle" not in figure


def test_chart_against_a_frozen_baseline_says_which_and_lists_violations(client, tenant):
    values = stable_values(40)
    values[35] = 6.02  # far beyond the limits of the first 30
    wo, bore = measured(tenant, values, start=T0)
    qa = make_member(tenant, roles=["qa_manager"], full_name="Quinn Okafor")
    with tenant_context(tenant, actor=qa):
        draft = baseline_compute(definition=bore, range_to=T0 + timedelta(minutes=300))
        baseline_freeze(baseline=draft, user=qa, password=PASSWORD)
        frozen = SPCBaseline.objects.get(pk=draft.pk)
    signed_in(client, tenant, ["auditor"])
    html = page(client, f"/spc/characteristics/{bore.pk}/")
    assert f"Baseline #{frozen.pk}, frozen {frozen.frozen_at:%Y-%m-%d} by Quinn Okafor" in html
    assert "Trial limits" not in html and 'data-source="baseline"' in html
    assert f'data-limit="ucl">{float(frozen.ucl):.6f}' in html
    table = html[html.index('data-testid="violations"'):html.index("</section>", html.index('data-testid="violations"'))]
    point = ids(wo, bore)[35]
    assert '<tr data-point="36">' in table and f"/points/{point}/" in table and "N1" in table
    assert "Baseline #" in page(client, "/spc/characteristics/") and "Trial limits</span>" not in page(
        client, "/spc/characteristics/").split(f'<tr data-definition="{bore.pk}">')[1].split("</tr>")[0]


def test_point_page_lists_the_subgroups_parts_with_equipment_and_operator(client, tenant):
    operator = make_member(tenant, roles=["operator"], full_name="Oscar Lindqvist")
    gauge = make_equipment(tenant, name="Bore gauge BG-03")
    other_gauge = make_equipment(tenant, name="Air gauge AG-07")
    wo1, bore = measured(tenant, stable_values(8), start=T0 - timedelta(days=1))
    values = [6.001, 6.002, 5.999, 6.0, 6.003, 6.015, 5.998, 6.001]  # the sixth is out of spec (6 ± 0.01)
    wo2, parts = measured_with(tenant, values, process=wo1.process, equipment=gauge, operator=operator, start=T0)
    with tenant_context(tenant):
        characteristic_save(definition=bore, data={"chart_type": "xbar_r", "subgroup_size": 4})
    signed_in(client, tenant, ["qa_inspector"])
    html = page(client, f"/spc/characteristics/{bore.pk}/", equipment=gauge.pk)
    assert keys(html) == [ids(wo2, bore)[0], ids(wo2, bore)[4]]  # two subgroups of 4: only the gauge's parts
    assert keys(page(client, f"/spc/characteristics/{bore.pk}/", operator=operator.pk)) == keys(html)
    assert keys(page(client, f"/spc/characteristics/{bore.pk}/", equipment=other_gauge.pk)) == []

    key = ids(wo2, bore)[4]
    html = page(client, f"/spc/characteristics/{bore.pk}/points/{key}/", equipment=gauge.pk)
    assert "Point 2 of 2" in html
    table = html[html.index('data-testid="point-measurements"'):]
    rows = re.findall(r'<tr data-measurement="(\d+)">(.*?)</tr>', table, re.S)
    assert [int(m) for m, _ in rows] == ids(wo2, bore)[4:8]
    for (_, cells), part in zip(rows, parts[4:8], strict=True):
        assert f'href="/mes/parts/{part.pk}/">{part.serial_number}</a>' in cells
        assert wo2.number in cells and "Oscar Lindqvist" in cells and "Bore gauge BG-03" in cells
        assert "Machine body" in cells
    assert [re.search(r'data-spec="(in|out)"', c).group(1) for _, c in rows] == ["in", "out", "in", "in"]
    assert "6.015 mm" in rows[1][1]
    # Without the filter, the same measurement is the third subgroup's first: its page is still found.
    assert "Point 4 of 4" in page(client, f"/spc/characteristics/{bore.pk}/points/{key}/")
    page(client, f"/spc/characteristics/{bore.pk}/points/{ids(wo2, bore)[1]}/", status=404)  # not a subgroup's first


def test_settings_form_saves_and_shows_errors_on_the_fields(client, tenant):
    _, bore = measured(tenant, stable_values(12), start=T0)
    signed_in(client, tenant, ["engineering"])
    url = f"/spc/characteristics/{bore.pk}/settings/"
    html = page(client, url)
    assert "Nothing saved yet" in html and 'value="nelson"' in html
    form = {"chart_type": "xbar_r", "subgroup_size": "1", "subgrouping": "consecutive", "window_minutes": "60",
            "shift_start": "06:00", "shift_hours": "8", "rules": "nelson", "show_capability": "on", "spec_lower": "",
            "spec_upper": "", "target": "", "reason": "", "version": ""}
    r = client.post(url, form)
    assert r.status_code == 400
    html = r.content.decode()
    assert re.search(r'id="id_subgroup_size_error"><li>between 2 and 25 for an X̄ chart</li>', html)
    r = client.post(url, {**form, "subgroup_size": "3", "rules": "N1,N9"})
    assert r.status_code == 400 and 'id="id_rules_error"' in r.content.decode()
    r = client.post(url, {**form, "subgroup_size": "3", "spec_lower": "6.1", "spec_upper": "6.0"})
    assert r.status_code == 400 and "must be below the upper specification" in r.content.decode()
    with tenant_context(tenant):
        assert not Characteristic.objects.filter(definition=bore).exists()
    r = client.post(url, {**form, "subgroup_size": "3", "reason": "Subgroups of three parts per fixture"})
    assert r.status_code == 302 and r["Location"] == f"/spc/characteristics/{bore.pk}/"
    with tenant_context(tenant):
        saved = Characteristic.objects.get(definition=bore)
    assert (saved.chart_type, saved.subgroup_size, saved.version) == ("xbar_r", 3, 1)
    html = page(client, f"/spc/characteristics/{bore.pk}/")
    assert len(keys(html)) == 4 and "X̄-R chart" in html  # 12 parts, subgroups of 3
    assert "Saved settings, version 1" in page(client, url)
    r = client.post(url, {**form, "subgroup_size": "4", "version": "0"})  # someone saved meanwhile
    assert r.status_code == 409 and "changed by someone else" in r.content.decode()
    r = client.post(url, {**form, "subgroup_size": "4", "version": "1"})
    assert r.status_code == 302
    with tenant_context(tenant):
        assert Characteristic.objects.get(definition=bore).subgroup_size == 4


def test_compute_review_freeze_and_discard_through_the_pages(client, tenant):
    wo, bore = measured(tenant, stable_values(50), start=T0)
    engineer = signed_in(client, tenant, ["engineering"])
    url = f"/spc/characteristics/{bore.pk}/baselines/"
    assert "No baseline yet" in page(client, url) and 'data-testid="compute-form"' in page(client, url)
    m = ids(wo, bore)
    r = client.post(url, {"range_from": when(T0), "range_to": when(T0 + timedelta(minutes=300)),
                          "excluded": f"{m[49]}: gauge not zeroed", "notes": ""})
    assert r.status_code == 400 and "Not a subgroup of this range" in r.content.decode()
    r = client.post(url, {"range_to": when(T0 + timedelta(minutes=100))})
    assert r.status_code == 400 and "Phase I has 10 points; a baseline needs at least 20" in r.content.decode()
    r = client.post(url, {"range_to": when(T0 + timedelta(minutes=300)), "excluded": "nonsense"})
    assert r.status_code == 400 and 'id="id_excluded_error"' in r.content.decode()
    r = client.post(url, {"range_from": when(T0), "range_to": when(T0 + timedelta(minutes=300)),
                          "excluded": f"{m[3]}: gauge not zeroed", "notes": "Phase I: first shift", "work_orders": [wo.pk]})
    assert r.status_code == 302
    with tenant_context(tenant):
        draft = SPCBaseline.objects.get(definition=bore)
    assert r["Location"] == f"/spc/baselines/{draft.pk}/"
    assert (draft.status, draft.subgroup_count, draft.computed_by_id) == ("draft", 29, engineer.pk)
    assert draft.excluded == [{"key": m[3], "reason": "gauge not zeroed"}] and draft.work_order_ids == [wo.pk]

    html = page(client, f"/spc/baselines/{draft.pk}/")
    assert 'data-status="draft"' in html and 'data-testid="baseline-chart"' in html
    assert keys(html) == m[:30]  # phase I, excluded point included and marked
    assert f'<tr data-point="4" data-key="{m[3]}"' in html and "gauge not zeroed" in html
    assert 'data-testid="freeze-form"' not in html and 'data-testid="discard-form"' in html  # engineering: no freeze
    assert client.post(f"/spc/baselines/{draft.pk}/freeze/", {"freeze-password": PASSWORD}).status_code == 403
    assert f"/points/{m[3]}/?baseline={draft.pk}" in html
    point = page(client, f"/spc/characteristics/{bore.pk}/points/{m[3]}/", baseline=draft.pk)
    assert "Point 4 of 30" in point and f"Draft baseline #{draft.pk}" in point

    client.logout()
    qa = signed_in(client, tenant, ["qa_manager"], full_name="Quinn Okafor")
    html = page(client, f"/spc/baselines/{draft.pk}/")
    assert 'data-testid="freeze-form"' in html
    r = client.post(f"/spc/baselines/{draft.pk}/freeze/", {"freeze-password": "not my password",
                                                          "freeze-version": draft.version})
    assert r.status_code == 400 and "The password is not correct: nothing was signed." in r.content.decode()
    with tenant_context(tenant):
        assert SPCBaseline.objects.get(pk=draft.pk).status == "draft"
    r = client.post(f"/spc/baselines/{draft.pk}/freeze/", {"freeze-password": PASSWORD, "freeze-version": draft.version})
    assert r.status_code == 302
    with tenant_context(tenant):
        frozen = SPCBaseline.objects.get(pk=draft.pk)
    assert (frozen.status, frozen.frozen_by_id) == ("active", qa.pk)
    html = page(client, f"/spc/baselines/{draft.pk}/")
    assert 'data-status="active"' in html and 'data-testid="freeze-form"' not in html
    assert re.search(r'signature-name">Quinn Okafor</strong> — <span class="badge badge-approved">Approved', html)
    assert f"Baseline #{frozen.pk}, frozen" in page(client, f"/spc/characteristics/{bore.pk}/")

    # A second baseline supersedes the first only with a reason; a third is discarded.
    r = client.post(url, {"range_from": when(T0 + timedelta(minutes=200))})
    with tenant_context(tenant):
        second = SPCBaseline.objects.filter(definition=bore, status="draft").get()
    # Its phase I ended when it was computed: values recorded since are on the chart page, not on its page.
    later, _ = measured(tenant, stable_values(5), process=wo.process, start=timezone.now() + timedelta(hours=1))
    assert keys(page(client, f"/spc/baselines/{second.pk}/")) == m[20:]
    assert keys(page(client, f"/spc/characteristics/{bore.pk}/")) == m + ids(later, bore)
    r = client.post(f"/spc/baselines/{second.pk}/freeze/", {"freeze-password": PASSWORD, "freeze-reason": ""})
    assert r.status_code == 400 and 'id="id_freeze-reason_error"' in r.content.decode()
    r = client.post(f"/spc/baselines/{second.pk}/freeze/", {"freeze-password": PASSWORD,
                                                           "freeze-reason": "Fixture replaced"})
    assert r.status_code == 302
    client.post(url, {"range_from": when(T0)})
    with tenant_context(tenant):
        third = SPCBaseline.objects.filter(definition=bore, status="draft").get()
    r = client.post(f"/spc/baselines/{third.pk}/discard/", {"discard-reason": "Range too wide"})
    assert r.status_code == 302 and r["Location"] == url
    html = page(client, url)
    statuses = re.findall(r'<tr data-baseline="(\d+)" data-status="(\w+)">', html)
    assert statuses == [(str(third.pk), "discarded"), (str(second.pk), "active"), (str(frozen.pk), "superseded")]
    assert "Fixture replaced" in html and "frozen by Quinn Okafor" in html
    assert client.post(f"/spc/baselines/{third.pk}/freeze/", {"freeze-password": PASSWORD}).status_code == 409


def test_who_may_do_what_and_tenant_isolation(client, tenant, other_tenant):
    wo, bore = measured(tenant, stable_values(25), start=T0)
    with tenant_context(tenant):
        draft = baseline_compute(definition=bore)
    key = ids(wo, bore)[0]
    signed_in(client, tenant, ["operator"])
    assert "Defaults" in page(client, "/spc/characteristics/")  # reads
    page(client, f"/spc/characteristics/{bore.pk}/settings/", status=403)
    assert client.post(f"/spc/characteristics/{bore.pk}/settings/", {"chart_type": "imr"}).status_code == 403
    assert client.post(f"/spc/characteristics/{bore.pk}/baselines/", {}).status_code == 403
    assert client.post(f"/spc/baselines/{draft.pk}/freeze/", {"freeze-password": PASSWORD}).status_code == 403
    assert client.post(f"/spc/baselines/{draft.pk}/discard/", {}).status_code == 403
    client.logout()

    signed_in(client, tenant, ["auditor"])
    for url in (f"/spc/characteristics/{bore.pk}/", f"/spc/characteristics/{bore.pk}/points/{key}/",
                f"/spc/characteristics/{bore.pk}/baselines/", f"/spc/baselines/{draft.pk}/"):
        html = page(client, url)
        assert f"/spc/characteristics/{bore.pk}/settings/" not in html and 'data-testid="compute-form"' not in html
        assert 'data-testid="freeze-form"' not in html and 'data-testid="discard-form"' not in html
    assert client.post(f"/spc/baselines/{draft.pk}/freeze/", {"freeze-password": PASSWORD}).status_code == 403
    client.logout()

    signed_in(client, tenant, ["customer"], company=make_company(tenant))
    page(client, "/spc/characteristics/", status=403)
    page(client, f"/spc/characteristics/{bore.pk}/points/{key}/", status=403)
    page(client, f"/spc/baselines/{draft.pk}/", status=403)
    client.logout()

    signed_in(client, other_tenant, ["qa_manager"])
    assert f'data-definition="{bore.pk}"' not in page(client, "/spc/characteristics/")
    for url in (f"/spc/characteristics/{bore.pk}/", f"/spc/characteristics/{bore.pk}/points/{key}/",
                f"/spc/characteristics/{bore.pk}/settings/", f"/spc/characteristics/{bore.pk}/baselines/",
                f"/spc/baselines/{draft.pk}/"):
        page(client, url, status=404)
    assert client.post(f"/spc/baselines/{draft.pk}/freeze/", {"freeze-password": PASSWORD}).status_code == 404
    assert client.post(f"/spc/baselines/{draft.pk}/discard/", {}).status_code == 404
    with tenant_context(tenant):
        assert SPCBaseline.objects.get(pk=draft.pk).status == "draft"


def test_signatures_and_approvals_link_to_a_baselines_page(tenant):
    from traveler.core.access import access_for
    from traveler.core.ui.generic import record_page_url

    _, bore = measured(tenant, stable_values(30), start=T0)
    auditor = make_member(tenant, roles=["auditor"])
    customer = make_member(tenant, roles=["customer"], company=make_company(tenant))
    with tenant_context(tenant):
        draft = baseline_compute(definition=bore)
        assert record_page_url(draft, access_for(auditor, tenant)) == f"/spc/baselines/{draft.pk}/"
        assert record_page_url(draft, access_for(customer, tenant)) is None
