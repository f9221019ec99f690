"""The sampling pages: the rule sets, the editor with its preview, a rule set's versions and analytics."""

from __future__ import annotations

import re

from traveler.core.registry import registry
from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import PASSWORD, make_member
from traveler.mes_full.models import SamplingRuleSet
from traveler.mes_full.tests.factories import make_ruleset, make_sampled_work_order
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_process

BASE = "/mes-full/sampling/rule-sets/"


def signed_in(client, tenant, roles):
    user = make_member(tenant, roles=roles)
    assert client.login(email=user.email, password=PASSWORD)
    return user


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def form(process, step, **extra) -> dict:
    data = {"name": "Leak test sampling", "description": "", "part_type": process.part_type_id,
            "process": process.pk, "step": step.pk, "fallback_parts": "10", "fallback_passes": "", "quantity": "50",
            "reason": "", "rules-TOTAL_FORMS": "3", "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "0",
            "rules-MAX_NUM_FORMS": "50",
            "rules-0-mode": "primary", "rules-0-kind": "every_nth", "rules-0-count": "5",
            "rules-1-mode": "fallback", "rules-1-kind": "every_nth", "rules-1-count": "1",
            "rules-2-mode": "primary", "rules-2-kind": ""}
    data.update(extra)
    return data


def test_the_menu_entry_is_under_step_control():
    (item,) = [m for m in registry.menu if m.url_name == "mes_full:samplingruleset-list"]
    assert (item.section, item.permission) == ("Step control", "mes_full.view_samplingruleset")


def test_the_editor_previews_then_saves_and_a_change_is_a_new_version(client, tenant):
    signed_in(client, tenant, ["engineering"])
    process = make_process(tenant)
    with tenant_context(tenant):
        step = route_steps(process)[1]
    r = client.post(f"{BASE}new/", form(process, step, preview="1"))
    assert r.status_code == 200
    assert ("In a work order of 50 parts this selects parts 5, 10, 15, 20, 25, 30, 35, 40, … (10 of 50); after a "
            "defect the next 10 parts.") in text(r)
    with tenant_context(tenant):
        assert not SamplingRuleSet.objects.filter(part_type=process.part_type).exists()
    r = client.post(f"{BASE}new/", form(process, step))
    assert r.status_code == 302, text(r)
    with tenant_context(tenant):
        rs = SamplingRuleSet.objects.get(part_type=process.part_type)
    assert r["Location"] == f"{BASE}{rs.pk}/"
    page = text(client.get(f"{BASE}{rs.pk}/"))
    assert "Rules (version 1)" in page and "every 5th" in page and "for the next 10 parts" in page
    edit = client.get(f"{BASE}{rs.pk}/edit/")
    assert edit.status_code == 200 and 'value="5"' in edit.content.decode()
    changed = form(process, step, **{"version": str(rs.version), "rules-0-count": "4", "reason": "Tighter",
                                     "rules-INITIAL_FORMS": "2"})
    r = client.post(f"{BASE}{rs.pk}/edit/", changed)
    assert r.status_code == 302, text(r)
    page = text(client.get(f"{BASE}{rs.pk}/", {"quantity": "12"}))
    assert "Rules (version 2)" in page and "every 4th" in page
    assert "In a work order of 12 parts this selects parts 4, 8, 12 (3 of 12)" in page
    assert "Tighter" in page and "1 every part (fallback); every 5th (primary) 10 parts" in page  # version 1 stays


def test_the_editor_reports_a_bad_rule(client, tenant):
    signed_in(client, tenant, ["qa_manager"])
    process = make_process(tenant)
    with tenant_context(tenant):
        step = route_steps(process)[0]
    r = client.post(f"{BASE}new/", form(process, step, **{"rules-0-count": "", "fallback_parts": ""}))
    assert r.status_code == 400
    assert "rules[0].count" in text(r)


def test_analytics_per_work_order(client, tenant):
    signed_in(client, tenant, ["auditor"])
    rs, wo = make_sampled_work_order(tenant, quantity=10)
    page = text(client.get(f"{BASE}{rs.pk}/analytics/"))
    assert f"{wo.number} 10 2 0 0 20 % 20 %" in page
    assert "Parts decided 10" in page


def test_readers_do_not_get_the_editor(client, tenant):
    signed_in(client, tenant, ["operator"])
    rs = make_ruleset(tenant)
    assert client.get(BASE).status_code == 200
    assert client.get(f"{BASE}{rs.pk}/").status_code == 200
    assert client.get(f"{BASE}new/").status_code == 403
    assert client.get(f"{BASE}{rs.pk}/edit/").status_code == 403
    assert "/edit/" not in client.get(f"{BASE}{rs.pk}/").content.decode()


def test_a_parts_page_shows_its_sampling_decisions(client, tenant):
    signed_in(client, tenant, ["qa_inspector"])
    rs, wo = make_sampled_work_order(tenant, quantity=10)
    from traveler.mes_lite.models import Part

    with tenant_context(tenant):
        fifth = Part.objects.get(work_order=wo, sequence=5)
    page = text(client.get(f"/mes/parts/{fifth.pk}/"))
    assert f"Sampling Step Decision Rule Rule set Decided Machine body Inspect every 5th {rs.name} v1" in page
    assert "part 5 of 10" in page
