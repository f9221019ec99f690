"""The control-chart and sampling pages."""

from traveler.core.services.tenants import tenant_module_set
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.spc.tests.test_api_spc import PISTON_RINGS


def signed_in(client, tenant, roles):
    user = make_member(tenant, roles=roles)
    assert client.login(email=user.email, password=PASSWORD)
    return user


def test_chart_page_renders_the_server_svg_and_capability(client, tenant):
    signed_in(client, tenant, ["qa_inspector"])
    data = "\n".join(" ".join(str(v) for v in row) for row in PISTON_RINGS)
    r = client.post("/spc/charts/", {"chart_type": "xbar_r", "data": data, "rules": "nelson",
                                     "lsl": "73.95", "usl": "74.05", "title": "Ring bore", "format": "html"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "<svg" in html and "Ring bore" in html and "Capability" in html and "1.668" in html
    assert "No point breaks the selected rules" in html


def test_chart_page_says_which_phase_capability_covers(client, tenant):
    signed_in(client, tenant, ["qa_inspector"])
    data = "\n".join(" ".join(str(v) for v in row) for row in PISTON_RINGS)
    form = {"chart_type": "xbar_r", "data": data, "rules": "nelson", "lsl": "73.95", "usl": "74.05",
            "phase1": "20", "format": "html"}
    html = client.post("/spc/charts/", form).content.decode()
    assert "Computed over phase I:\n    points 1 to 20 (100 values)." in html
    html = client.post("/spc/charts/", {**form, "capability_phase": "phase2"}).content.decode()
    assert "Computed over phase II:\n    points 21 to 25 (25 values)." in html
    html = client.post("/spc/charts/", {**form, "phase1": "", "capability_phase": "phase2"}).content.decode()
    assert "needs phase1" in html and "Computed over" not in html


def test_chart_page_reports_bad_data_on_the_field(client, tenant):
    signed_in(client, tenant, ["qa_inspector"])
    r = client.post("/spc/charts/", {"chart_type": "xbar_r", "data": "1 2 3\nfour 5 6", "rules": "nelson"})
    assert r.status_code == 200 and "Line 2 is not a list of numbers" in r.content.decode()
    r = client.post("/spc/charts/", {"chart_type": "xbar_r", "data": "1\n2\n3", "rules": "nelson"})
    assert "each subgroup needs 2 to 25" in r.content.decode()


def test_chart_pdf_download(client, tenant):
    signed_in(client, tenant, ["qa_manager"])
    r = client.post("/spc/charts/", {"chart_type": "imr", "data": "\n".join(str(10 + (i % 7) / 10) for i in range(30)),
                                     "rules": "we", "format": "pdf"})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")


def test_sampling_page(client, tenant):
    signed_in(client, tenant, ["qa_inspector"])
    r = client.get("/spc/sampling/", {"lot_size": 1000, "level": "II", "aql": "1.0", "severity": "normal"})
    html = r.content.decode()
    plan = html[html.index('data-testid="plan"'):html.index("Operating characteristic")]
    assert r.status_code == 200 and "<dd>J</dd>" in plan
    assert '<dd class="num">80</dd>' in plan and "2 nonconforming" in plan and "3 or more" in plan
    assert "AOQL" in html
    r = client.get("/spc/sampling/", {"lot_size": 1000, "level": "II", "aql": "0.7", "severity": "normal"})
    assert "AOQL" not in r.content.decode()


def test_pages_follow_permission_and_module_switch(client, tenant):
    from traveler.core.tests.factories import make_company

    customer = make_member(tenant, roles=["customer"], company=make_company(tenant))
    client.login(email=customer.email, password=PASSWORD)
    assert client.get("/spc/charts/").status_code == 403
    client.logout()
    signed_in(client, tenant, ["qa_inspector"])
    assert "/spc/charts/" in client.get("/").content.decode()
    tenant_module_set(tenant=tenant, module="spc", enabled=False)
    assert client.get("/spc/charts/").status_code == 403
    assert "/spc/charts/" not in client.get("/").content.decode()
