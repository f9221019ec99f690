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
from traveler.qms.models import QualityErrorsList, QualityReport
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
