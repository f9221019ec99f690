"""3D defect maps: a part type's 3D model (its file a core document's revision), the defects placed
on it, and the heatmap that aggregates every one of them on the server.

``three_d_model_create`` stores the file as a revision of a new document (type *Drawing* unless told
otherwise) attached to the part type, after reading its format and bounding box from the content;
``heatmap_annotation_create`` places a defect; ``heatmap_aggregate`` bins all the annotations of a
model that match the filters on a grid over the model's bounding box, in one SQL query, with no cap.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from django.db import transaction
from django.db.models import Avg, Count, F, FloatField, IntegerField, QuerySet
from django.db.models.functions import Cast, Floor
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import DocumentType
from traveler.core.services.documents import document_attach, document_create, document_revision_upload
from traveler.core.services.records import record_archive, record_create, record_update
from traveler.core.tenancy import audit_reason, current_actor
from traveler.mes_lite.models import Part, PartType, Step
from traveler.qms.events import HeatmapAnnotationCreated, ThreeDModelCreated
from traveler.qms.models import HeatmapAnnotation, QualityErrorsList, QualityReport, ThreeDModel
from traveler.qms.services.meshes import mesh_read

DEFAULT_DOCUMENT_TYPE = "DWG"
# A point may lie this share of the model's diagonal outside its bounding box (picking precision).
BOUNDS_MARGIN = 0.02
DEFAULT_RESOLUTION = 20
MAX_RESOLUTION = 200


def _name(value: Any) -> str:
    name = (value or "").strip() if isinstance(value, str) else ""
    if not name:
        raise InvalidInput("A 3D model needs a name.", fields={"name": ["required"]})
    return name[:200]


def three_d_model_create(*, part_type: PartType, name: str, content: IO[bytes], original_name: str,
                         document_type: str = DEFAULT_DOCUMENT_TYPE, reason: str | None = None) -> ThreeDModel:
    """A 3D model of ``part_type`` from a glTF (GLB or JSON) or STL file. The file becomes revision A
    (a draft) of a new document of ``document_type``, attached to the part type; the model shows that
    revision. Nothing is written when the file cannot be read as a 3D model."""
    if not isinstance(part_type, PartType):
        raise InvalidInput("part_type: required.", fields={"part_type": ["required"]})
    if part_type.archived_at is not None:
        raise InvalidInput(f"Part type {part_type} is archived.", fields={"part_type": ["archived"]})
    name = _name(name)
    data = content.read()
    mesh = mesh_read(data)
    doc_type = DocumentType.objects.filter(code=document_type, archived_at__isnull=True).first()
    if doc_type is None:
        raise InvalidInput(f"No document type {document_type!r} in this tenant.", fields={"document_type": ["unknown"]})
    if ThreeDModel.objects.filter(part_type=part_type, name=name).exists():
        raise InvalidInput(f"Part type {part_type} already has a 3D model named {name!r}.", fields={"name": ["must be unique"]})
    with transaction.atomic(), audit_reason(reason):
        document = document_create(data={"document_type": doc_type, "title": f"3D model: {name} ({part_type})"},
                                   reason=reason)
        revision = document_revision_upload(document=document, content=io.BytesIO(data), original_name=original_name,
                                            change_description="3D model", reason=reason)
        document_attach(document=document, target=part_type, reason=reason or "3D model of the part type")
        model = record_create(ThreeDModel, data={"part_type": part_type, "name": name, "document": document,
                                                 "revision": revision, "file_format": mesh.file_format,
                                                 "bounds": mesh.bounds}, reason=reason)
        publish(ThreeDModelCreated(model_id=model.pk, part_type_id=part_type.pk, document_id=document.pk,
                                   revision_id=revision.pk))
    return model


def three_d_model_update(*, three_d_model: ThreeDModel, version: int | None, data: dict[str, Any],
                         reason: str | None = None) -> ThreeDModel:
    """Rename a 3D model (its part type and file do not change: a new file is a new model)."""
    unknown = sorted(set(data) - {"name"})
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)} cannot be changed.", fields={k: ["read-only"] for k in unknown})
    if "name" in data:
        data = {"name": _name(data["name"])}
    return record_update(three_d_model, version=version, data=data, reason=reason)


def three_d_model_archive(*, three_d_model: ThreeDModel, version: int | None = None,
                          reason: str | None = None) -> ThreeDModel:
    """Archive a 3D model: no new annotations; its annotations and heatmap stay readable."""
    return record_archive(three_d_model, version=version, reason=reason)


# Annotations ----------------------------------------------------------------------------------------

def _coordinate(value: Any, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{field_name}: a finite number is needed.", fields={field_name: ["a finite number is needed"]})
    return float(value)


def _normal(value: Any) -> tuple[float, float, float] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise InvalidInput("normal: three numbers (x, y, z), or nothing.", fields={"normal": ["three numbers"]})
    n = [_coordinate(v, "normal") for v in value]
    length = math.sqrt(sum(v * v for v in n))
    if length < 1e-9:
        raise InvalidInput("normal: a zero vector has no direction.", fields={"normal": ["zero vector"]})
    return n[0] / length, n[1] / length, n[2] / length


def _check_inside(model: ThreeDModel, point: tuple[float, float, float]) -> None:
    lo, hi = model.bounds["min"], model.bounds["max"]
    margin = BOUNDS_MARGIN * math.dist(lo, hi)
    for axis, v, a, b in zip("xyz", point, lo, hi, strict=True):
        if not a - margin <= v <= b + margin:
            raise InvalidInput(f"{axis}: {v:g} is outside the model (from {a:g} to {b:g}).",
                               fields={axis: ["outside the model"]})


def _check_defect_code(code: Any, part: Part, step: Step | None) -> QualityErrorsList:
    if not isinstance(code, QualityErrorsList):
        raise InvalidInput("defect_code: required.", fields={"defect_code": ["required"]})
    if code.archived_at is not None:
        raise InvalidInput(f"Defect code {code} is archived.", fields={"defect_code": ["archived"]})
    types = set(code.part_type_links.values_list("part_type_id", flat=True))
    if types and part.part_type_id not in types:
        raise InvalidInput(f"Defect code {code} does not apply to part type {part.part_type}.",
                           fields={"defect_code": ["not for this part type"]})
    steps = set(code.step_links.values_list("step_id", flat=True))
    if steps and (step is None or step.pk not in steps):
        raise InvalidInput(f"Defect code {code} applies only at some steps: give one of them.",
                           fields={"defect_code" if step else "step": ["not for this step"]})
    return code


def heatmap_annotation_create(*, model: ThreeDModel, x: float, y: float, z: float, defect_code: QualityErrorsList,
                              part: Part, step: Step | None = None, quality_report: QualityReport | None = None,
                              normal: Any = None, note: str = "", reason: str | None = None) -> HeatmapAnnotation:
    """Place a defect on ``model`` at (x, y, z), in the model's coordinates: found on ``part`` (of the
    model's part type), at ``step`` of its route if given, in ``quality_report`` (of that part) if given."""
    if not isinstance(model, ThreeDModel):
        raise InvalidInput("model: required.", fields={"model": ["required"]})
    if model.archived_at is not None:
        raise Conflict(f"The 3D model {model} is archived: restore it to place defects on it.")
    point = (_coordinate(x, "x"), _coordinate(y, "y"), _coordinate(z, "z"))
    _check_inside(model, point)
    n = _normal(normal)
    if not isinstance(part, Part):
        raise InvalidInput("part: required.", fields={"part": ["required"]})
    if part.part_type_id != model.part_type_id:
        raise InvalidInput(f"Part {part} is not a {model.part_type}: this model is of that part type.",
                           fields={"part": ["another part type"]})
    if step is not None and step.process_id != part.process_id:
        raise InvalidInput(f"Step '{step.name}' is not on the route of part {part}.", fields={"step": ["not on the route"]})
    if quality_report is not None:
        if quality_report.part_id != part.pk:
            raise InvalidInput(f"Quality report {quality_report.pk} is about another part.",
                               fields={"quality_report": ["another part"]})
        step = step or quality_report.step
    _check_defect_code(defect_code, part, step)
    data = {"model": model, "x": point[0], "y": point[1], "z": point[2], "defect_code": defect_code, "part": part,
            "step": step, "quality_report": quality_report, "note": (note or "").strip(), "created_by": current_actor()}
    if n is not None:
        data.update(normal_x=n[0], normal_y=n[1], normal_z=n[2])
    with transaction.atomic():
        annotation = record_create(HeatmapAnnotation, data=data, reason=reason)
        publish(HeatmapAnnotationCreated(annotation_id=annotation.pk, model_id=model.pk, part_id=part.pk,
                                         defect_code_id=defect_code.pk, step_id=step.pk if step else None))
    return annotation


def heatmap_annotation_update(*, heatmap_annotation: HeatmapAnnotation, version: int | None, data: dict[str, Any],
                              reason: str | None = None) -> HeatmapAnnotation:
    """Correct an annotation's defect code or note (its point, model and part do not change)."""
    unknown = sorted(set(data) - {"defect_code", "note"})
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)} cannot be changed: archive the annotation and place a new one.",
                           fields={k: ["read-only"] for k in unknown})
    data = dict(data)
    if "defect_code" in data:
        _check_defect_code(data["defect_code"], heatmap_annotation.part, heatmap_annotation.step)
    if "note" in data:
        data["note"] = (data["note"] or "").strip()
    return record_update(heatmap_annotation, version=version, data=data, reason=reason)


def heatmap_annotation_archive(*, heatmap_annotation: HeatmapAnnotation, version: int | None = None,
                               reason: str | None = None) -> HeatmapAnnotation:
    """Withdraw an annotation placed by mistake: it leaves the heatmap, its history stays."""
    return record_archive(heatmap_annotation, version=version, reason=reason)


# Heatmap --------------------------------------------------------------------------------------------

@dataclass
class HeatmapBin:
    i: int
    j: int
    k: int
    count: int
    x: float  # the mean of the annotations in the cell: on the surface, where they are
    y: float
    z: float


@dataclass
class Heatmap:
    model_id: int
    cell: float
    origin: list[float]
    total: int
    max_count: int
    bins: list[HeatmapBin] = field(default_factory=list)
    defect_codes: list[dict] = field(default_factory=list)


def _day_start(value: date | datetime | None, *, next_day: bool = False) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, timezone.get_current_timezone())
    day = value + timedelta(days=1) if next_day else value
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def annotations_matching(*, model: ThreeDModel, date_from: date | datetime | None = None,
                         date_to: date | datetime | None = None, defect_code: QualityErrorsList | None = None,
                         step: Step | None = None) -> QuerySet[HeatmapAnnotation]:
    """The live annotations of ``model`` in the period (``date_to`` as a date includes that whole day),
    of ``defect_code`` and found at ``step`` when given: what a heatmap counts."""
    start, end = _day_start(date_from), _day_start(date_to, next_day=not isinstance(date_to, datetime))
    if start and end and end <= start:
        raise InvalidInput("to: the period ends before it starts.", fields={"to": ["before from"]})
    qs = HeatmapAnnotation.objects.filter(model=model, archived_at__isnull=True)
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lt=end)
    if defect_code is not None:
        qs = qs.filter(defect_code=defect_code)
    if step is not None:
        qs = qs.filter(step=step)
    return qs


def heatmap_aggregate(*, model: ThreeDModel, date_from: date | datetime | None = None,
                      date_to: date | datetime | None = None, defect_code: QualityErrorsList | None = None,
                      step: Step | None = None, resolution: int = DEFAULT_RESOLUTION) -> Heatmap:
    """Every annotation ``annotations_matching`` the filters, counted per cell of a grid of
    ``resolution`` cells along the longest side of the model's bounding box: one grouped query over
    the annotations however many there are (and one for the count per defect code)."""
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 1 <= resolution <= MAX_RESOLUTION:
        raise InvalidInput(f"resolution: a whole number from 1 to {MAX_RESOLUTION}.", fields={"resolution": ["out of range"]})
    qs = annotations_matching(model=model, date_from=date_from, date_to=date_to, defect_code=defect_code, step=step)
    lo, hi = model.bounds["min"], model.bounds["max"]
    cell = max(max(b - a for a, b in zip(lo, hi, strict=True)) / resolution, 1e-9)

    def index(axis: str, origin: float):
        return Cast(Floor((F(axis) - origin) / cell, output_field=FloatField()), IntegerField())

    rows = (qs.annotate(i=index("x", lo[0]), j=index("y", lo[1]), k=index("z", lo[2]))
            .values("i", "j", "k").annotate(count=Count("*"), mx=Avg("x"), my=Avg("y"), mz=Avg("z"))
            .order_by("-count", "i", "j", "k"))
    bins = [HeatmapBin(r["i"], r["j"], r["k"], r["count"], r["mx"], r["my"], r["mz"]) for r in rows]
    codes = list(qs.values("defect_code").annotate(count=Count("*"), code=F("defect_code__code"))
                 .order_by("-count", "code").values("defect_code", "code", "count"))
    return Heatmap(model_id=model.pk, cell=cell, origin=list(lo), total=sum(b.count for b in bins),
                   max_count=max((b.count for b in bins), default=0), bins=bins,
                   defect_codes=[{"id": c["defect_code"], "code": c["code"], "count": c["count"]} for c in codes])
