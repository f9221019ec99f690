"""Bad input to every statistics endpoint: a 400 in the shared error shape naming the field.

Nested objects where lists or numbers are expected, huge numbers, NaN and infinity, empty
lists, wrong types inside the Z1.4 switching state. Nothing may answer 500.
"""

import pytest

from traveler.core.tests.factories import make_member

IMR = {"chart_type": "imr", "data": [10.1, 10.3, 9.8, 10.0, 10.2, 9.9]}
XBAR = {"chart_type": "xbar_r", "data": [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [1.5, 2.5, 2.0]]}
P = {"chart_type": "p", "data": [1, 2, 0, 3], "sample_sizes": 50}
HUGE = 10**400  # a JSON integer no float can hold
LOT = {"lot_size": 1000, "defectives": 0}

ANALYZE_CASES = [
    ({**IMR, "data": {}}, "data"),
    ({**IMR, "data": [{}]}, "data"),
    ({**IMR, "data": [1.0, {"v": 2}, 3.0]}, "data"),
    ({**IMR, "data": [[1.0, 2.0], [3.0, 4.0]]}, "data"),
    ({**IMR, "data": "1 2 3"}, "data"),
    ({**IMR, "data": 5}, "data"),
    ({**IMR, "data": None}, "data"),
    ({**IMR, "data": []}, "data"),
    ({**IMR, "data": [HUGE, 1.0, 2.0]}, "data"),
    ({**IMR, "data": [1e308, -1e308, 1e308, -1e308]}, "data"),
    ({**IMR, "data": [1e300, 2e300, 1e300, 3e300]}, "data"),
    ({**XBAR, "data": [[{}], [1.0, 2.0]]}, "data"),
    ({**XBAR, "data": [[1.0, 2.0], {}]}, "data"),
    ({**XBAR, "data": [[]]}, "data"),
    ({**XBAR, "data": [[], []]}, "data"),
    ({**XBAR, "data": [[1.0, HUGE], [1.0, 2.0]]}, "data"),
    ({**XBAR, "data": [[1e308, -1e308], [1e308, -1e308]]}, "data"),
    ({**P, "sample_sizes": {}}, "sample_sizes"),
    ({**P, "sample_sizes": [[50]] * 4}, "sample_sizes"),
    ({**P, "sample_sizes": []}, "sample_sizes"),
    ({**P, "sample_sizes": 10**30}, "sample_sizes"),
    ({**P, "sample_sizes": HUGE}, "sample_sizes"),
    ({**P, "sample_sizes": [50, 50, 50, 10**30]}, "sample_sizes"),
    ({**P, "data": [1, 2, 0, 10**30], "sample_sizes": 10**30}, "data"),
    ({"chart_type": "c", "data": [1, 2, HUGE]}, "data"),
    ({"chart_type": "c", "data": [1, 2, 10**30]}, "data"),
    ({**IMR, "phase1": {}}, "phase1"),
    ({**IMR, "phase1": [3]}, "phase1"),
    ({**IMR, "phase1": 10**30}, "phase1"),
    ({**IMR, "phase1": 2.5}, "phase1"),
    ({**IMR, "baseline": []}, "baseline"),
    ({**IMR, "baseline": {"center": {}}}, "baseline.center"),
    ({**IMR, "baseline": {"center": [1.0]}}, "baseline.center"),
    ('{"chart_type": "imr", "data": [1, 2, 3, 4], "baseline": {"sigma": 1e400}}', "baseline.sigma"),
    ({**IMR, "baseline": {"sigma": HUGE}}, "baseline.sigma"),
    ({**IMR, "baseline": {"center": 1e308, "sigma": 1e308}}, "baseline.center"),
    ({**IMR, "rules": 5}, "rules"),
    ({**IMR, "rules": [{}]}, "rules"),
    ({**IMR, "rules": [["N1"]]}, "rules"),
    ({**IMR, "rules": {"nelson": {"a": 1}}}, "rules"),
    ({**IMR, "rules": {"nelson": [{}]}}, "rules"),
    ({**IMR, "rules": {"nelson": [10**30]}}, "rules"),
    ({**IMR, "lsl": {}, "usl": 11.0}, "lsl"),
    ({**IMR, "lsl": [9.0], "usl": 11.0}, "lsl"),
    ('{"chart_type": "imr", "data": [1, 2, 3, 4], "usl": 1e400}', "usl"),
    ({**IMR, "usl": HUGE}, "usl"),
    ({**IMR, "lsl": -1e308, "usl": 1e308}, "lsl"),
    ({**IMR, "usl": 11.0, "target": {}}, "target"),
    ({**IMR, "usl": 11.0, "confidence": {}}, "confidence"),
    ('{"chart_type": "imr", "data": [1, 2, 3, 4], "usl": 11, "confidence": -1e400}', "confidence"),
    ({**XBAR, "sigma_method": {}}, "sigma_method"),
    ({**XBAR, "sigma_method": ["rbar"]}, "sigma_method"),
    ({**IMR, "usl": 11.0, "capability_phase": {}}, "capability_phase"),
    ({**IMR, "title": {}}, "title"),
    ({**IMR, "chart_type": {}}, "chart_type"),
    ({**IMR, "chart_type": ["imr"]}, "chart_type"),
    ({"data": [1.0, 2.0]}, "chart_type"),
    ({"chart_type": "imr"}, "data"),
]

PLAN_CASES = [
    ({"aql": "1.0"}, "lot_size"),
    ({"lot_size": "abc", "aql": "1.0"}, "lot_size"),
    ({"lot_size": "1e400", "aql": "1.0"}, "lot_size"),
    ({"lot_size": "-5", "aql": "1.0"}, "lot_size"),
    ({"lot_size": "1000", "aql": "nan"}, "aql"),
    ({"lot_size": "1000", "aql": "inf"}, "aql"),
    ({"lot_size": "1000", "aql": "1e400"}, "aql"),
    ({"lot_size": "1000"}, "aql"),
    ({"lot_size": "1000", "aql": "1.0", "level": "[]"}, "level"),
    ({"lot_size": "1000", "aql": "1.0", "severity": "{}"}, "severity"),
]

SWITCH_CASES = [
    ({"lot": {}}, "lot"),
    ({"lot": {}, "aql": "1.0"}, "lot"),
    ({"lot": []}, "lot"),
    ({"lot": None}, "lot"),
    ({"lot": "x"}, "lot"),
    ({}, "lot"),
    ({"lot": LOT}, "aql"),
    ({"lot": {"lot_size": {}, "defectives": 0}, "aql": "1.0"}, "lot.lot_size"),
    ({"lot": {"lot_size": HUGE, "defectives": 0}, "aql": "1.0"}, "lot.lot_size"),
    ('{"lot": {"lot_size": 1e400, "defectives": 0}, "aql": "1.0"}', "lot.lot_size"),
    ({"lot": {"lot_size": 1000, "defectives": []}, "aql": "1.0"}, "lot.defectives"),
    ({"lot": {"lot_size": 1000, "defectives": 10**30}, "aql": "1.0"}, "lot.defectives"),
    ({"lot": {"lot_size": 1000, "defectives": -1}, "aql": "1.0"}, "lot.defectives"),
    ({"lot": {**LOT, "production_steady": {}}, "aql": "1.0"}, "lot.production_steady"),
    ({"lot": {**LOT, "authority_approves_reduced": "yes"}, "aql": "1.0"}, "lot.authority_approves_reduced"),
    ({"lot": {**LOT, "other_conditions_require_normal": 1}, "aql": "1.0"}, "lot.other_conditions_require_normal"),
    ({"lot": {**LOT, "colour": "red"}, "aql": "1.0"}, "lot"),
    ({"lot": LOT, "aql": {}}, "aql"),
    ({"lot": LOT, "aql": "0.3"}, "aql"),
    ({"lot": LOT, "aql": "nan"}, "aql"),
    ({"lot": LOT, "aql": "1.0", "level": {}}, "level"),
    ({"lot": LOT, "aql": "1.0", "level": "IV"}, "level"),
    ({"lot": LOT, "state": []}, "state"),
    ({"lot": LOT, "state": {}}, "state.aql"),
    ({"lot": LOT, "state": {"aql": {}}}, "state.aql"),
    ({"lot": LOT, "state": {"aql": "1.0", "level": 5}}, "state.level"),
    ({"lot": LOT, "state": {"aql": "1.0", "severity": {}}}, "state.severity"),
    ({"lot": LOT, "state": {"aql": "1.0", "severity": "lenient"}}, "state.severity"),
    ({"lot": LOT, "state": {"aql": "1.0", "switching_score": "abc"}}, "state.switching_score"),
    ({"lot": LOT, "state": {"aql": "1.0", "switching_score": -3}}, "state.switching_score"),
    ({"lot": LOT, "state": {"aql": "1.0", "switching_score": 1.5}}, "state.switching_score"),
    ({"lot": LOT, "state": {"aql": "1.0", "switching_score": HUGE}}, "state.switching_score"),
    ({"lot": LOT, "state": {"aql": "1.0", "normal_results": {}}}, "state.normal_results"),
    ({"lot": LOT, "state": {"aql": "1.0", "normal_results": [True, "no"]}}, "state.normal_results"),
    ({"lot": LOT, "state": {"aql": "1.0", "normal_results": [True] * 6}}, "state.normal_results"),
    ({"lot": LOT, "state": {"aql": "1.0", "tightened_accepted_in_row": []}}, "state.tightened_accepted_in_row"),
    ({"lot": LOT, "state": {"aql": "1.0", "tightened_not_accepted": None}}, "state.tightened_not_accepted"),
    ({"lot": LOT, "state": {"aql": "1.0", "lots": True}}, "state.lots"),
    ({"lot": LOT, "state": {"aql": "1.0", "bogus": 1}}, "state"),
]

OC_CASES = [
    ({"c": "1"}, "n"),
    ({"n": "abc", "c": "1"}, "n"),
    ({"n": "50", "c": "-1"}, "c"),
    ({"n": "50", "c": "50"}, "c"),
    ({"n": str(10**30), "c": "1"}, "n"),
    ({"n": "1e400", "c": "1"}, "n"),
    ({"n": "50", "c": "1", "lot_size": "10"}, "lot_size"),
    ({"n": "50", "c": "1", "lot_size": str(10**30)}, "lot_size"),
    ({"n": "50", "c": "1", "points": "1"}, "points"),
    ({"n": "50", "c": "1", "points": str(10**9)}, "points"),
    ({"n": "50", "c": "1", "p_max": "nan"}, "p_max"),
    ({"n": "50", "c": "1", "p_max": "inf"}, "p_max"),
    ({"n": "50", "c": "1", "p_max": "2"}, "p_max"),
    ({"n": "50", "c": "1", "p_max": "0"}, "p_max"),
]


@pytest.fixture
def engineer_api(api, tenant):
    return api.as_user(make_member(tenant, roles=["engineering"]), tenant)


def post(api, path, body):
    # A str body is sent as written: 1e400 is valid JSON that decodes to infinity.
    if isinstance(body, str):
        return api.post(path, body, content_type="application/json")
    return api.post(path, body, format="json")


def assert_names_field(r, field: str) -> None:
    assert r.status_code == 400, (r.status_code, r.content[:300])
    error = r.json()["error"]
    assert error["status"] == 400 and error["code"] == "invalid"
    assert field in error["fields"], error
    assert error["message"].startswith(field) or field in error["message"], error


@pytest.mark.parametrize("path", ["/api/v1/spc/analyze/", "/api/v1/spc/analyze/chart.svg",
                                  "/api/v1/spc/analyze/report.pdf"])
@pytest.mark.parametrize(("body", "field"), ANALYZE_CASES)
def test_analyze_endpoints_reject_bad_input(engineer_api, path, body, field):
    assert_names_field(post(engineer_api, path, body), field)


@pytest.mark.parametrize(("query", "field"), PLAN_CASES)
def test_z14_plan_rejects_bad_input(engineer_api, query, field):
    assert_names_field(engineer_api.get("/api/v1/spc/z14/plan/", query), field)


@pytest.mark.parametrize(("body", "field"), SWITCH_CASES)
def test_z14_switch_rejects_bad_input(engineer_api, body, field):
    assert_names_field(post(engineer_api, "/api/v1/spc/z14/switch/", body), field)


@pytest.mark.parametrize(("query", "field"), OC_CASES)
def test_oc_rejects_bad_input(engineer_api, query, field):
    assert_names_field(engineer_api.get("/api/v1/spc/oc/", query), field)


def test_nan_in_a_json_body_is_a_400(engineer_api):
    for path in ("/api/v1/spc/analyze/", "/api/v1/spc/z14/switch/"):
        r = engineer_api.post(path, '{"chart_type": "imr", "data": [1, NaN, 3], "lot": {}}',
                              content_type="application/json")
        assert r.status_code == 400 and r.json()["error"]["status"] == 400


def test_good_input_still_works_at_the_edges(engineer_api):
    """Large but representable inputs are answered, not refused."""
    r = engineer_api.post("/api/v1/spc/analyze/", {**IMR, "data": [1e90, 2e90, 1.5e90, 1.2e90]}, format="json")
    assert r.status_code == 200, r.json()
    r = engineer_api.post("/api/v1/spc/analyze/", {**P, "sample_sizes": 10**9, "data": [10, 20, 0, 30]},
                          format="json")
    assert r.status_code == 200, r.json()
    r = engineer_api.get("/api/v1/spc/z14/plan/", {"lot_size": str(10**12), "aql": "1.0"})
    assert r.status_code == 200 and r.json()["plan_code_letter"] == "Q"
    r = engineer_api.get("/api/v1/spc/oc/", {"n": "3150", "c": "21", "lot_size": str(10**9)})
    assert r.status_code == 200 and 0 < r.json()["aoql"] < 1
    r = engineer_api.post("/api/v1/spc/z14/switch/", {"lot": LOT, "aql": "1.0"}, format="json")
    assert r.status_code == 200 and r.json()["state"]["lots"] == 1
