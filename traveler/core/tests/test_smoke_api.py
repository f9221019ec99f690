def test_company_crud_through_api(api, tenant, admin):
    api.as_user(admin, tenant)
    r = api.post("/api/v1/core/companies/", {"name": "Bosch", "kind": "customer"}, format="json")
    assert r.status_code == 201, r.json()
    cid = r.json()["id"]
    r = api.patch(f"/api/v1/core/companies/{cid}/", {"description": "fuel systems", "version": 1}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["version"] == 2
    r = api.patch(f"/api/v1/core/companies/{cid}/", {"description": "stale", "version": 1}, format="json")
    assert r.status_code == 409
    assert "changed by someone else" in r.json()["error"]["message"]
    r = api.get(f"/api/v1/core/companies/{cid}/history/")
    assert r.status_code == 200
    assert [h["action"] for h in r.json()["results"]] == ["Updated", "Created"]
