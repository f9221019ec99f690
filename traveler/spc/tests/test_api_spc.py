"""The statistics calculators through the HTTP API."""

import io

import pytest
from pypdf import PdfReader

from traveler.core.services.tenants import tenant_module_set
from traveler.core.tests.factories import make_member

# Montgomery, Introduction to Statistical Quality Control (6th ed.), Table 6.3: inside diameter of
# piston rings (mm), 25 subgroups of 5. X-bar/R: CL 74.001, UCL 74.0150, LCL 73.9870; R-bar 0.023.
PISTON_RINGS = [
    [74.030, 74.002, 74.019, 73.992, 74.008], [73.995, 73.992, 74.001, 74.011, 74.004],
    [73.988, 74.024, 74.021, 74.005, 74.002], [74.002, 73.996, 73.993, 74.015, 74.009],
    [73.992, 74.007, 74.015, 73.989, 74.014], [74.009, 73.994, 73.997, 73.985, 73.993],
    [73.995, 74.006, 73.994, 74.000, 74.005], [73.985, 74.003, 73.993, 74.015, 73.988],
    [74.008, 73.995, 74.009, 74.005, 74.004], [73.998, 74.000, 73.990, 74.007, 73.995],
    [73.994, 73.998, 73.994, 73.995, 73.990], [74.004, 74.000, 74.007, 74.000, 73.996],
    [73.983, 74.002, 73.998, 73.997, 74.012], [74.006, 73.967, 73.994, 74.000, 73.984],
    [74.012, 74.014, 73.998, 73.999, 74.007], [74.000, 73.984, 74.005, 73.998, 73.996],
    [73.994, 74.012, 73.986, 74.005, 74.007], [74.006, 74.010, 74.018, 74.003, 74.000],
    [73.984, 74.002, 74.003, 74.005, 73.997], [74.000, 74.010, 74.013, 74.020, 74.003],
    [73.982, 74.001, 74.015, 74.005, 73.996], [74.004, 73.999, 73.990, 74.006, 74.009],
    [74.010, 73.989, 73.990, 74.009, 74.014], [74.015, 74.008, 73.993, 74.000, 74.010],
    [73.982, 73.984, 73.995, 74.017, 74.013],
]


@pytest.fixture
def engineer(tenant):
    return make_member(tenant, roles=["engineering"])


def test_analyze_xbar_r_matches_montgomery(api, tenant, engineer):
    api.as_user(engineer, tenant)
    r = api.post("/api/v1/spc/analyze/", {"chart_type": "xbar_r", "data": PISTON_RINGS, "rules": "nelson",
                                          "lsl": 73.95, "usl": 74.05}, format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["primary"]["center"] == pytest.approx(74.00118, abs=1e-5)
    assert body["primary"]["ucl"] == pytest.approx(74.01444, abs=2e-4)
    assert body["primary"]["lcl"] == pytest.approx(73.98792, abs=2e-4)
    assert body["secondary"]["center"] == pytest.approx(0.02324, abs=1e-5)
    # Montgomery section 6.2: sigma = R-bar/d2 = 0.0099 (rounded), Cp = 0.10 / (6 x 0.0099) = 1.68;
    # unrounded R-bar/d2 = 0.023240/2.32593 gives 1.6681.
    assert body["capability"]["cp"] == pytest.approx(1.6681, abs=1e-4)
    # Montgomery's phase I conclusion: the process is in statistical control.
    assert body["rules"]["violations"] == [] and sum(body["rules"]["counts"].values()) == 0


def test_analyze_capability_says_which_phase_it_covers(api, tenant, engineer):
    api.as_user(engineer, tenant)
    shifted = PISTON_RINGS[:20] + [[v + 0.02 for v in row] for row in PISTON_RINGS[20:]]
    body = {"chart_type": "xbar_r", "data": shifted, "phase1": 20, "lsl": 73.95, "usl": 74.05, "rules": "nelson"}
    r = api.post("/api/v1/spc/analyze/", body, format="json")
    assert r.status_code == 200, r.json()
    cap = r.json()["capability"]
    assert (cap["phase"], cap["first_point"], cap["last_point"], cap["n"]) == ("phase1", 1, 20, 100)
    phase_one = [v for row in PISTON_RINGS[:20] for v in row]
    assert cap["mean"] == pytest.approx(sum(phase_one) / 100, abs=1e-9)
    r = api.post("/api/v1/spc/analyze/", {**body, "capability_phase": "phase2"}, format="json")
    cap = r.json()["capability"]
    assert (cap["phase"], cap["first_point"], cap["last_point"], cap["n"]) == ("phase2", 21, 25, 25)
    phase_two = [v + 0.02 for row in PISTON_RINGS[20:] for v in row]
    assert cap["mean"] == pytest.approx(sum(phase_two) / 25, abs=1e-9)
    r = api.post("/api/v1/spc/analyze/", {**body, "capability_phase": "both"}, format="json")
    assert r.status_code == 400 and "capability_phase" in r.json()["error"]["fields"]
    r = api.post("/api/v1/spc/analyze/", {**body, "phase1": None, "capability_phase": "phase2"}, format="json")
    assert r.status_code == 400 and "capability_phase" in r.json()["error"]["fields"]


def test_analyze_bad_input_is_a_400_naming_the_field(api, tenant, engineer):
    api.as_user(engineer, tenant)
    cases = [
        ({"chart_type": "xbar_r", "data": [[1.0]] * 10}, "data"),
        ({"chart_type": "imr", "data": []}, "data"),
        ({"chart_type": "imr", "data": [1, 2, 3, 4, 5], "lsl": 5, "usl": 1}, "lsl"),
        ({"chart_type": "c", "data": [1, -2, 3, 4]}, "data"),
        ({"chart_type": "pareto", "data": [1, 2]}, "chart_type"),
    ]
    for body, field in cases:
        r = api.post("/api/v1/spc/analyze/", body, format="json")
        assert r.status_code == 400, (body, r.json())
        err = r.json()["error"]
        assert err["message"] and any(k.startswith(field) or field in k for k in err["fields"]), (field, err)


def test_chart_svg_and_pdf_carry_the_same_chart(api, tenant, engineer):
    api.as_user(engineer, tenant)
    body = {"chart_type": "xbar_r", "data": PISTON_RINGS, "title": "Piston ring bore"}
    svg = api.post("/api/v1/spc/analyze/chart.svg", body, format="json")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    text = svg.content.decode()
    assert text.startswith("<svg") and "Piston ring bore" in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    pdf = api.post("/api/v1/spc/analyze/report.pdf", body, format="json")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    page_text = reader.pages[0].extract_text()
    assert "Piston ring bore" in page_text and "UCL" in page_text


def test_z14_plan(api, tenant, engineer):
    api.as_user(engineer, tenant)
    r = api.get("/api/v1/spc/z14/plan/", {"lot_size": 1000, "level": "II", "aql": "1.0"})
    assert r.status_code == 200, r.json()
    plan = r.json()
    assert (plan["code_letter"], plan["sample_size"], plan["acceptance_number"], plan["rejection_number"]) == ("J", 80, 2, 3)
    r = api.get("/api/v1/spc/z14/plan/", {"lot_size": 1000, "level": "II", "aql": "1.0", "severity": "tightened"})
    assert (r.json()["sample_size"], r.json()["acceptance_number"], r.json()["rejection_number"]) == (80, 1, 2)
    bad = api.get("/api/v1/spc/z14/plan/", {"lot_size": 1000, "level": "II", "aql": "0.7"})
    assert bad.status_code == 400 and "aql" in bad.json()["error"]["fields"]
    bad = api.get("/api/v1/spc/z14/plan/", {"lot_size": 1, "level": "II", "aql": "1.0"})
    assert bad.status_code == 400 and "lot_size" in bad.json()["error"]["fields"]


def test_z14_switching_through_api(api, tenant, engineer):
    api.as_user(engineer, tenant)
    state = None
    for defectives in (5, 5):  # two rejected lots out of two: tighten
        r = api.post("/api/v1/spc/z14/switch/", {"state": state, "aql": "1.0", "level": "II",
                                                 "lot": {"lot_size": 1000, "defectives": defectives}}, format="json")
        assert r.status_code == 200, r.json()
        state = r.json()["state"]
    assert r.json()["severity"] == "tightened"


def test_oc_curve(api, tenant, engineer):
    api.as_user(engineer, tenant)
    r = api.get("/api/v1/spc/oc/", {"n": 80, "c": 2, "points": 11})
    assert r.status_code == 200
    pts = r.json()["points"]
    assert pts[0]["pa"] == pytest.approx(1.0) and pts[-1]["pa"] < pts[0]["pa"]


def test_module_switched_off_answers_403_and_leaves_the_menu(api, client, tenant, engineer):
    api.as_user(engineer, tenant)
    tenant_module_set(tenant=tenant, module="spc", enabled=False)
    r = api.get("/api/v1/spc/z14/plan/", {"lot_size": 1000, "aql": "1.0"})
    assert r.status_code == 403 and "switched off" in r.json()["error"]["message"]
    tenant_module_set(tenant=tenant, module="spc", enabled=True)
    assert api.get("/api/v1/spc/z14/plan/", {"lot_size": 1000, "aql": "1.0"}).status_code == 200


def test_customer_cannot_use_calculators(api, tenant):
    from traveler.core.tests.factories import make_company

    customer = make_member(tenant, roles=["customer"], company=make_company(tenant))
    api.as_user(customer, tenant)
    assert api.get("/api/v1/spc/z14/plan/", {"lot_size": 1000, "aql": "1.0"}).status_code == 403


@pytest.mark.parametrize("state,field", [
    ({}, "state.aql"),
    ({"aql": "1.0", "switching_score": "many"}, "state.switching_score"),
    ({"aql": "1.0", "severity": "lenient"}, "state.severity"),
])
def test_z14_switching_state_is_checked(api, tenant, engineer, state, field):
    api.as_user(engineer, tenant)
    r = api.post("/api/v1/spc/z14/switch/", {"state": state, "lot": {"lot_size": 1000, "defectives": 0}},
                 format="json")
    assert r.status_code == 400 and field in r.json()["error"]["fields"], r.content
