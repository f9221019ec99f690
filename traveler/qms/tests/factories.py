"""Quality test factories: real services, unique codes, no fixed ids."""

from __future__ import annotations

import itertools
import uuid

from traveler.core.tenancy import tenant_context
from traveler.core.tests.factories import record_factory
from traveler.mes_lite.models import Part, Step
from traveler.mes_lite.services.routing import route_steps
from traveler.mes_lite.tests.factories import make_work_order
from traveler.qms.choices import ReportStatus
from traveler.qms.models import QualityErrorsList, QualityReport, QuarantineDisposition
from traveler.qms.services.defects import defect_code_create
from traveler.qms.services.reports import quality_report_create

_n = itertools.count(1)


def make_defect_code(tenant, **kw) -> QualityErrorsList:
    with tenant_context(tenant):
        return defect_code_create(data={"code": f"D-{next(_n)}-{uuid.uuid4().hex[:4]}", "description": "Burr on bore",
                                        "severity": "major", **kw})


def part_at_start(tenant) -> tuple[Part, list[Step]]:
    """A new part of a fresh work order, and its route (first step to last)."""
    wo = make_work_order(tenant, quantity=1)
    with tenant_context(tenant):
        part = Part.objects.get(work_order=wo)
        return part, route_steps(wo.process)


def make_quality_report(tenant, *, status=ReportStatus.PENDING, **kw) -> QualityReport:
    part, route = part_at_start(tenant)
    with tenant_context(tenant):
        return quality_report_create(part=part, step=route[0], status=status, description="Visual check", **kw)


@record_factory(QualityErrorsList)
def _defect_code(tenant):
    return make_defect_code(tenant)


@record_factory(QualityReport)
def _report(tenant):
    return make_quality_report(tenant)


# Nonconformances ----------------------------------------------------------------------------------

def quarantined_parts(tenant, count: int = 1, *, order=None) -> tuple[list[Part], list[Step]]:
    """``count`` parts of a fresh work order, quarantined out of specification at the second step."""
    from traveler.mes_lite.services.parts import part_advance
    from traveler.mes_lite.tests.factories import good_readings

    wo = make_work_order(tenant, quantity=count, order=order)
    with tenant_context(tenant):
        route = route_steps(wo.process)
        parts = list(Part.objects.filter(work_order=wo).order_by("pk"))
        for p in parts:
            part_advance(part=p, step=route[0].pk, measurements=good_readings(route[0]))
            bad = good_readings(route[1])
            bad[0]["value"] = "99"
            part_advance(part=p, step=route[1].pk, measurements=bad)
            p.refresh_from_db()
        return parts, route


def make_nonconformance(tenant, *, by=None, count: int = 1, order=None, severity: str = "major"):
    """An open nonconformance on ``count`` quarantined parts; returns it and its parts."""
    from traveler.qms.services.nonconformances import nonconformance_open

    parts, route = quarantined_parts(tenant, count, order=order)
    with tenant_context(tenant, actor=by):
        ncr = nonconformance_open(title="Leak rate over limit", severity=severity, parts=parts, step_found=route[1],
                                  owner=by)
        return ncr, [Part.objects.get(pk=p.pk) for p in parts]


@record_factory(QuarantineDisposition)
def _nonconformance(tenant):
    return make_nonconformance(tenant)[0]

# CAPA ---------------------------------------------------------------------------------------------

def capa_owner(tenant):
    from traveler.core.tests.factories import make_member

    return make_member(tenant, roles=["qa_manager"])


def make_capa(tenant, *, owner=None, **kw):
    from traveler.qms.services.capa import capa_create

    owner = owner or capa_owner(tenant)
    with tenant_context(tenant, actor=owner):
        return capa_create(data={"title": "Seat leaks after grinding", "capa_type": "corrective", "severity": "minor",
                                 "problem_statement": "Three injectors leaked at the seat in the bench test.",
                                 "owner": owner, **kw})


def make_capa_task(tenant, *, capa=None, **kw):
    from traveler.qms.services.capa import capa_task_create

    capa = capa or make_capa(tenant)
    with tenant_context(tenant):
        return capa_task_create(data={"capa": capa, "kind": "corrective", "title": "Re-dress the grinding wheel",
                                      "owner": capa.owner, **kw})


def make_rca(tenant, *, capa=None, **kw):
    from traveler.qms.services.rca import rca_create

    capa = capa or make_capa(tenant)
    with tenant_context(tenant):
        return rca_create(data={"capa": capa, "method": "five_whys", "whys": [
            {"question": "Why did the seat leak?", "answer": "The seat was out of round."}],
            "root_causes": [{"description": "Wheel dressed too rarely", "category": "method", "is_primary": True}],
            **kw})


def capa_pending_verification(tenant, **kw):
    """A CAPA with one completed task and its analysis, submitted for verification."""
    from traveler.core.tests.factories import PASSWORD
    from traveler.qms.services.capa import capa_start, capa_submit, capa_task_complete

    capa = make_capa(tenant, **kw)
    task = make_capa_task(tenant, capa=capa)
    make_rca(tenant, capa=capa)
    with tenant_context(tenant, actor=capa.owner):
        capa = capa_start(capa=capa)
        capa_task_complete(capa_task=task, user=capa.owner, password=PASSWORD)
        return capa_submit(capa=capa)


def make_capa_verification(tenant, *, outcome="inconclusive", **kw):
    from traveler.core.tests.factories import PASSWORD
    from traveler.qms.services.capa import capa_verify

    capa = capa_pending_verification(tenant, **kw)
    with tenant_context(tenant, actor=capa.owner):
        return capa_verify(capa=capa, user=capa.owner, password=PASSWORD, outcome=outcome,
                           method="Bench test of 50 injectors")


def _register_capa_factories():
    from traveler.qms.models import CAPA, CapaTask, CapaVerification, RcaRecord

    record_factory(CAPA)(lambda tenant: make_capa(tenant))
    record_factory(CapaTask)(lambda tenant: make_capa_task(tenant))
    record_factory(RcaRecord)(lambda tenant: make_rca(tenant))
    record_factory(CapaVerification)(lambda tenant: make_capa_verification(tenant))


_register_capa_factories()


# 3D defect maps -------------------------------------------------------------------------------------
import io  # noqa: E402

from traveler.core.tests.factories import make_member  # noqa: E402
from traveler.qms.demo_maps import injector_body_glb  # noqa: E402
from traveler.qms.models import HeatmapAnnotation, ThreeDModel  # noqa: E402
from traveler.qms.services.maps import heatmap_annotation_create, three_d_model_create  # noqa: E402


def make_three_d_model(tenant, *, part=None, part_type=None, name: str | None = None, content: bytes | None = None,
                       by=None) -> ThreeDModel:
    """A 3D model (the demo's injector body GLB unless ``content``) of ``part_type``, else of ``part``'s
    type, else of the part type of a fresh work order's parts; uploaded by a QA manager."""
    if part_type is None and part is None:
        part, _ = part_at_start(tenant)
    by = by or make_member(tenant, roles=["qa_manager"])
    with tenant_context(tenant, actor=by):
        part_type = part_type or part.part_type
        return three_d_model_create(part_type=part_type, name=name or f"Model {next(_n)}",
                                    content=io.BytesIO(content or injector_body_glb(segments=12)),
                                    original_name="model.glb")


def make_annotation(tenant, *, model=None, part=None, defect_code=None, point=(0.0, 10.0, 9.0),
                    **kw) -> HeatmapAnnotation:
    """A defect placed on ``model`` (a new one of ``part``'s type by default) at ``point``."""
    if part is None:
        part, _ = part_at_start(tenant)
    model = model or make_three_d_model(tenant, part=part)
    defect_code = defect_code or make_defect_code(tenant)
    with tenant_context(tenant):
        return heatmap_annotation_create(model=model, x=point[0], y=point[1], z=point[2], defect_code=defect_code,
                                         part=part, **kw)


@record_factory(ThreeDModel)
def _three_d_model(tenant):
    return make_three_d_model(tenant)


@record_factory(HeatmapAnnotation)
def _annotation(tenant):
    return make_annotation(tenant)
