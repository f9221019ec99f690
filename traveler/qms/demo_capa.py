"""CAPA demo data: in every demo tenant, two CAPAs with their root-cause analysis, written through the
services with the demo users' signatures (the demo password):

- a major CAPA on seat leaks, closed: tasks completed, 5 Whys and fishbone, verified effective, its
  closure approved by the QA Manager;
- a minor preventive CAPA on gauge drift, in progress: analysis recorded, one task done, one open.

Idempotent: a tenant that already has the first CAPA's title gets nothing new.
"""

from __future__ import annotations

from datetime import date, timedelta

from traveler.core.demo import DEMO_PASSWORD, demo_loader
from traveler.core.models import Tenant, User
from traveler.core.services.approvals import approval_respond
from traveler.core.tenancy import tenant_context
from traveler.mes_lite.models import Part, Step
from traveler.qms.models import CAPA, QualityReport
from traveler.qms.services import capa as svc
from traveler.qms.services.rca import rca_create

CLOSED_TITLE = "Seat leaks after seat grinding"
OPEN_TITLE = "Bore gauge drifts between calibrations"


def _user(tenant: Tenant, role: str) -> User | None:
    return User.objects.filter(email=f"{role.replace('_', '.')}@{tenant.slug}.example.com").first()


def _step(name: str) -> list[Step]:
    step = Step.objects.filter(name__icontains=name, archived_at__isnull=True).order_by("pk").first()
    return [step] if step else []


def _closed_capa(tenant: Tenant, manager: User, inspector: User, today: date) -> None:
    reports = list(QualityReport.objects.filter(status="fail").order_by("pk")[:2])
    parts = list(Part.objects.filter(pk__in=[r.part_id for r in reports]))
    with tenant_context(tenant, actor=inspector):
        capa = svc.capa_create(data={
            "title": CLOSED_TITLE, "capa_type": "internal_audit", "severity": "major", "owner": inspector,
            "problem_statement": "Injectors from lot 12 leaked at the seat in the bench test (3 of 40).",
            "immediate_action": "Lot 12 held; bench test extended to every injector of lots 11 to 13.",
            "due_date": today - timedelta(days=3), "quality_reports": reports, "parts": parts,
            "steps": _step("grind")})
        capa = svc.capa_start(capa=capa)
        tasks = [svc.capa_task_create(data={"capa": capa, "kind": kind, "title": title, "owner": inspector})
                 for kind, title in (("containment", "Hold and re-test lots 11 to 13"),
                                     ("corrective", "Dress the grinding wheel every 50 parts"),
                                     ("preventive", "Add a wheel-wear check to the setup sheet"))]
        rca_create(data={"capa": capa, "method": "fishbone", "summary": "The wheel wore faster than its dressing interval.",
                         "whys": [{"question": "Why did the seat leak?", "answer": "The seat was out of round."},
                                  {"question": "Why was it out of round?", "answer": "The grinding wheel was loaded."},
                                  {"question": "Why was the wheel loaded?", "answer": "It was dressed every 200 parts."},
                                  {"question": "Why every 200 parts?", "answer": "The interval predates the new alloy."}],
                         "causes": [{"category": "machine", "description": "Loaded grinding wheel"},
                                    {"category": "method", "description": "Dressing interval of 200 parts"},
                                    {"category": "material", "description": "Harder seat alloy since March"},
                                    {"category": "measurement", "description": "Roundness checked 1 in 20"},
                                    {"category": "man", "description": "New setter on the night shift"},
                                    {"category": "environment", "description": "Coolant at 31 °C"}],
                         "root_causes": [{"description": "Dressing interval not revised for the harder alloy",
                                          "category": "method", "is_primary": True},
                                         {"description": "Roundness sampled too rarely", "category": "measurement"}]})
        for task in tasks:
            svc.capa_task_complete(capa_task=task, user=inspector, password=DEMO_PASSWORD, comment="Done as planned")
        capa = svc.capa_submit(capa=capa)
        svc.capa_verify(capa=capa, user=inspector, password=DEMO_PASSWORD, outcome="confirmed",
                        method="Bench test of 200 injectors after the change", notes="0 of 200 leaked.")
        request = svc.capa_closure_request(capa=CAPA.objects.get(pk=capa.pk), requested_by=inspector,
                                           notes="Verified on 200 parts.")
    with tenant_context(tenant, actor=manager):  # the closure template's approvers: QA Managers
        approval_respond(request=request, user=manager, password=DEMO_PASSWORD, decision="approved",
                         comment="Effective; close it.")
        svc.capa_close(capa=CAPA.objects.get(pk=capa.pk), reason=f"Closure approved: approval request #{request.pk}")


def _open_capa(tenant: Tenant, manager: User, inspector: User, today: date) -> None:
    with tenant_context(tenant, actor=manager):
        capa = svc.capa_create(data={
            "title": OPEN_TITLE, "capa_type": "preventive", "severity": "minor", "owner": manager,
            "problem_statement": "The bore gauge read 4 µm high at its last calibration, near the tolerance.",
            "due_date": today + timedelta(days=21), "steps": _step("bore")})
        capa = svc.capa_start(capa=capa)
        done = svc.capa_task_create(data={"capa": capa, "kind": "containment", "owner": manager,
                                          "title": "Check the bore gauge against the master ring every shift",
                                          "assignees": [manager, inspector], "completion_rule": "any"})
        svc.capa_task_create(data={"capa": capa, "kind": "preventive", "owner": manager,
                                   "title": "Halve the gauge's calibration interval", "due_date": today + timedelta(days=10)})
        rca_create(data={"capa": capa, "method": "five_whys",
                         "whys": [{"question": "Why did the gauge drift?", "answer": "Its anvil is worn."},
                                  {"question": "Why is it worn?", "answer": "It measures 900 bores a day."},
                                  {"question": "Why was that not seen?", "answer": "Calibration is yearly."}],
                         "causes": [{"category": "measurement", "description": "Worn anvil"},
                                    {"category": "method", "description": "Yearly calibration interval"}],
                         "root_causes": [{"description": "Calibration interval ignores the gauge's usage",
                                          "category": "method", "is_primary": True}]})
        svc.capa_task_complete(capa_task=done, user=manager, password=DEMO_PASSWORD, comment="First week: in limits")


@demo_loader
def load_capa_demo(tenant: Tenant) -> None:
    """Two CAPAs with their analysis: one closed after verification and approval, one in progress."""
    manager, inspector = _user(tenant, "qa_manager"), _user(tenant, "qa_inspector")
    if manager is None or inspector is None:
        return
    today = date.today()
    with tenant_context(tenant):
        if not CAPA.objects.filter(title=CLOSED_TITLE).exists():
            _closed_capa(tenant, manager, inspector, today)
        if not CAPA.objects.filter(title=OPEN_TITLE).exists():
            _open_capa(tenant, manager, inspector, today)
