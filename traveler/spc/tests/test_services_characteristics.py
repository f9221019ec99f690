"""Charts from the traveler's own measurements: settings and defaults, subgrouping modes, trial limits,
frozen baselines (signed, superseded with a reason), and equality with the engine on the same numbers."""

from datetime import UTC, datetime, time, timedelta

import pytest

from traveler.core.errors import Conflict, InvalidInput, NotAuthenticated
from traveler.core.models import Signature
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_lite.models import MeasurementDefinition
from traveler.spc.choices import BaselineStatus
from traveler.spc.services.baselines import baseline_compute, baseline_discard, baseline_freeze
from traveler.spc.services.characteristics import (
    Filters,
    characteristic_chart,
    characteristic_for,
    characteristic_save,
    measurements,
    subgroups,
)
from traveler.spc.stats import analyze
from traveler.spc.tests.factories import measured, stable_values

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)



def test_a_definition_with_data_has_a_chart_with_no_setup(tenant):
    values = stable_values(25)
    _, bore = measured(tenant, values)
    with tenant_context(tenant):
        assert characteristic_for(bore).pk is None  # the defaults: I-MR, every part a point
        chart = characteristic_chart(bore)
    assert chart.trial and chart.result is not None
    expected = analyze(chart_type="imr", data=values, rules=["nelson"], lsl=5.99, usl=6.01)
    assert chart.result["primary"]["values"] == expected["primary"]["values"]
    assert chart.result["primary"]["ucl"] == expected["primary"]["ucl"]
    assert chart.result["capability"]["cpk"] == pytest.approx(expected["capability"]["cpk"])


def test_too_few_points_say_so(tenant):
    _, bore = measured(tenant, [6.0, 6.001])
    with tenant_context(tenant):
        chart = characteristic_chart(bore)
    assert chart.result is None and "Not enough data" in chart.message


def test_settings_are_checked(tenant):
    _, bore = measured(tenant, [6.0])
    with tenant_context(tenant):
        visual = MeasurementDefinition.objects.get(step=bore.step, label="Bore diameter")
        with pytest.raises(InvalidInput, match="subgroup size 1"):
            characteristic_save(definition=visual, data={"chart_type": "imr", "subgroup_size": 4})
        with pytest.raises(InvalidInput, match="between 2 and 25"):
            characteristic_save(definition=bore, data={"chart_type": "xbar_r", "subgroup_size": 1})
        with pytest.raises(InvalidInput, match="rules"):
            characteristic_save(definition=bore, data={"rules": "N1,N99"})
        with pytest.raises(InvalidInput, match="below the upper"):
            characteristic_save(definition=bore, data={"spec_lower": 7, "spec_upper": 6})
        leak = MeasurementDefinition.objects.filter(label="Visual", step__process=bore.step.process).first()
        with pytest.raises(InvalidInput, match="pass / fail"):
            characteristic_save(definition=leak, data={})
        saved = characteristic_save(definition=bore, data={"chart_type": "xbar_r", "subgroup_size": 5})
        assert saved.pk and characteristic_for(bore) == saved
        again = characteristic_save(definition=bore, data={"rules": "N1,N2"}, version=saved.version)
        assert (again.chart_type, again.rules) == ("xbar_r", "N1,N2")


def test_consecutive_subgroups_equal_the_engine_on_the_same_numbers(tenant):
    values = stable_values(53)
    _, bore = measured(tenant, values)
    with tenant_context(tenant):
        characteristic_save(definition=bore, data={"chart_type": "xbar_r", "subgroup_size": 5})
        chart = characteristic_chart(bore)
    groups = [values[i:i + 5] for i in range(0, 50, 5)]  # the last 3 parts wait for a complete subgroup
    expected = analyze(chart_type="xbar_r", data=groups, rules=["nelson"], lsl=5.99, usl=6.01)
    assert [g.values for g in chart.groups] == groups
    for key in ("values", "center", "ucl", "lcl"):
        assert chart.result["primary"][key] == expected["primary"][key]
        assert chart.result["secondary"][key] == expected["secondary"][key]


def test_per_work_order_time_window_and_shift_subgroups(tenant):
    first, bore = measured(tenant, [6.0, 6.001, 6.002], start=T0)
    with tenant_context(tenant):
        process = bore.step.process
    measured(tenant, [6.003, 6.004], process=process, start=T0 + timedelta(hours=2))
    measured(tenant, [6.005], process=process, start=T0 + timedelta(hours=3))  # a single value: no subgroup
    with tenant_context(tenant):
        c = characteristic_save(definition=bore, data={"chart_type": "xbar_r", "subgrouping": "work_order"})
        rows = measurements(bore)
        assert [g.values for g in subgroups(rows, c)] == [[6.0, 6.001, 6.002], [6.003, 6.004]]
        c = characteristic_save(definition=bore, data={"subgrouping": "time_window", "window_minutes": 15},
                                version=c.version)
        # 05:00, 05:10 | 05:20 | 07:00, 07:10 | 08:00 -> windows of 15 minutes with two or more values
        assert [g.values for g in subgroups(rows, c)] == [[6.0, 6.001], [6.003, 6.004]]
        c = characteristic_save(definition=bore, data={"subgrouping": "shift", "shift_start": time(6, 0),
                                                       "shift_hours": 8}, version=c.version)
        with timezone_utc():
            # 05:xx belongs to the night shift that started the day before; 07:00 onwards to the day shift
            assert [g.values for g in subgroups(rows, c)] == [[6.0, 6.001, 6.002], [6.003, 6.004, 6.005]]
        assert [r.value for r in measurements(bore, Filters(work_orders=(first.pk,)))] == [6.0, 6.001, 6.002]
        assert [r.value for r in measurements(bore, Filters(date_from=T0 + timedelta(hours=1)))] == [6.003, 6.004, 6.005]


def timezone_utc():
    from django.utils import timezone

    return timezone.override(UTC)


def _frozen(tenant, bore, qa, *, reason=None, **kw):
    with tenant_context(tenant, actor=qa):
        draft = baseline_compute(definition=bore, **kw)
        return baseline_freeze(baseline=draft, user=qa, password=PASSWORD, reason=reason)


def test_a_frozen_baseline_is_signed_and_replaces_trial_limits(tenant):
    qa = make_member(tenant, roles=["qa_manager"])
    phase1 = stable_values(30)
    _, bore = measured(tenant, phase1, start=T0)
    drift = [v + 0.004 for v in stable_values(10, seed=9)]
    with tenant_context(tenant):
        process = bore.step.process
    measured(tenant, drift, process=process, start=T0 + timedelta(days=1))
    with tenant_context(tenant, actor=qa):
        with pytest.raises(InvalidInput, match="at least 20"):
            baseline_compute(definition=bore, range_to=T0 + timedelta(minutes=100))
        draft = baseline_compute(definition=bore, range_to=T0 + timedelta(hours=6))
        assert (draft.status, draft.sample_count, draft.subgroup_count) == ("draft", 30, 30)
        engine = analyze(chart_type="imr", data=phase1, rules=None)
        assert float(draft.center) == pytest.approx(engine["primary"]["center"])
        assert float(draft.ucl) == pytest.approx(engine["primary"]["ucl"])
        assert characteristic_chart(bore).trial  # a draft is not used
        with pytest.raises(NotAuthenticated):
            baseline_freeze(baseline=draft, user=qa, password="wrong")
        frozen = baseline_freeze(baseline=draft, user=qa, password=PASSWORD)
        assert frozen.status == BaselineStatus.ACTIVE and frozen.frozen_by == qa
        sig = Signature.objects.get(record_id=str(frozen.pk), record_type__model="spcbaseline")
        assert (sig.meaning, sig.record_version) == ("approved", frozen.version)
        chart = characteristic_chart(bore)
    assert not chart.trial and chart.baseline == frozen
    assert chart.result["primary"]["ucl"] == pytest.approx(float(frozen.ucl))
    # The drift is judged against the frozen limits, not against limits widened by it.
    assert chart.result["rules"]["violations"]
    with pytest.raises(Conflict, match="only a draft"):
        with tenant_context(tenant, actor=qa):
            baseline_freeze(baseline=frozen, user=qa, password=PASSWORD)


def test_a_new_baseline_supersedes_the_old_with_a_reason_and_history_stays(tenant):
    qa = make_member(tenant, roles=["qa_manager"])
    _, bore = measured(tenant, stable_values(60), start=T0)
    first = _frozen(tenant, bore, qa, range_to=T0 + timedelta(hours=5))
    with tenant_context(tenant, actor=qa):
        draft = baseline_compute(definition=bore, range_from=T0 + timedelta(hours=5))
        with pytest.raises(InvalidInput, match="Say why"):
            baseline_freeze(baseline=draft, user=qa, password=PASSWORD)
        second = baseline_freeze(baseline=draft, user=qa, password=PASSWORD, reason="New spindle fitted")
        first.refresh_from_db()
    assert (first.status, first.superseded_by_id, first.superseded_reason) == ("superseded", second.pk,
                                                                                 "New spindle fitted")
    assert second.status == "active"


def test_excluded_subgroups_need_a_reason_and_leave_phase_one(tenant):
    qa = make_member(tenant, roles=["qa_manager"])
    values = stable_values(25)
    values[3] = 6.009  # a known special cause
    _, bore = measured(tenant, values)
    with tenant_context(tenant, actor=qa):
        key = measurements(bore)[3].id
        with pytest.raises(InvalidInput, match="Say why"):
            baseline_compute(definition=bore, excluded=[{"key": key}])
        with pytest.raises(InvalidInput, match="Not a subgroup"):
            baseline_compute(definition=bore, excluded=[{"key": 10**9, "reason": "x"}])
        draft = baseline_compute(definition=bore, excluded=[{"key": key, "reason": "Gauge dropped"}])
        kept = values[:3] + values[4:]
        assert draft.sample_count == 24
        assert float(draft.center) == pytest.approx(analyze(chart_type="imr", data=kept, rules=None)["primary"]["center"])
        discarded = baseline_discard(baseline=draft)
        assert discarded.status == "discarded"


def test_a_baseline_is_signed_only_by_freezing_it(tenant):
    from traveler.core.services.signatures import signature_sign

    qa = make_member(tenant, roles=["qa_manager"])
    _, bore = measured(tenant, stable_values(30), start=T0)
    with tenant_context(tenant, actor=qa):
        draft = baseline_compute(definition=bore)
        with pytest.raises(InvalidInput, match="signed by the action"):
            signature_sign(user=qa, password=PASSWORD, record=draft, meaning="approved")
        assert not Signature.objects.filter(record_id=str(draft.pk)).exists()


def test_subgroups_of_unequal_size_are_drawn_against_a_frozen_baseline(tenant):
    """Per work order, subgroups differ in size: each gets its own limits from the frozen center and
    sigma, as the engine draws them."""
    import random

    qa = make_member(tenant, roles=["qa_manager"])
    rng = random.Random(3)
    sizes = [3 + i % 4 for i in range(24)]
    wo, bore = measured(tenant, [round(rng.gauss(6.0, 0.0015), 5) for _ in range(sizes[0])], start=T0)
    with tenant_context(tenant):
        process = bore.step.process
    for i, n in enumerate(sizes[1:], start=1):
        measured(tenant, [round(rng.gauss(6.0, 0.0015), 5) for _ in range(n)], process=process,
                 start=T0 + timedelta(hours=i))
    with tenant_context(tenant):
        characteristic_save(definition=bore, data={"chart_type": "xbar_r", "subgrouping": "work_order"})
    frozen = _frozen(tenant, bore, qa)
    with tenant_context(tenant):
        chart = characteristic_chart(bore)
    assert chart.baseline == frozen and chart.result is not None, chart.message
    ucl = chart.result["primary"]["ucl"]
    center, sigma = float(frozen.center), float(frozen.sigma)
    assert ucl == [pytest.approx(center + 3 * sigma / n ** 0.5) for n in sizes]
