"""3D defect maps API: /api/v1/qms/3d-models/ (with each model's file and heatmap) and
/api/v1/qms/annotations/. Inputs parse, the services in ``qms.services.maps`` decide."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from traveler.core.api.base import ChangeInput, InputSerializer, RecordSerializer, RecordServices, RecordWriteViewSet
from traveler.core.errors import InvalidInput
from traveler.core.files_http import revision_file_response
from traveler.core.selectors import document_revision_get_for_user
from traveler.mes_lite.models import Part, PartType, Step
from traveler.qms.models import HeatmapAnnotation, QualityErrorsList, QualityReport, ThreeDModel
from traveler.qms.services.maps import (
    DEFAULT_RESOLUTION,
    MAX_RESOLUTION,
    heatmap_aggregate,
    heatmap_annotation_archive,
    heatmap_annotation_create,
    heatmap_annotation_update,
    three_d_model_archive,
    three_d_model_create,
    three_d_model_update,
)

MODEL_MEDIA_TYPES = ("model/gltf-binary", "model/gltf+json", "model/stl")


def _active(model):
    return model.objects.filter(archived_at__isnull=True)


# 3D models ----------------------------------------------------------------------------------------

class ThreeDModelSerializer(RecordSerializer):
    part_type_label = serializers.CharField(source="part_type.__str__", read_only=True)
    document_number = serializers.CharField(source="document.number", read_only=True)
    file_size = serializers.IntegerField(source="revision.size", read_only=True)
    file_sha256 = serializers.CharField(source="revision.sha256", read_only=True)
    annotation_count = serializers.SerializerMethodField(help_text="Live annotations on the model.")

    class Meta:
        model = ThreeDModel
        fields = ["id", "part_type", "part_type_label", "name", "file_format", "bounds", "document",
                  "document_number", "revision", "file_size", "file_sha256", "annotation_count", "version",
                  "created_at", "updated_at", "archived_at"]

    def get_annotation_count(self, obj) -> int:
        counted = getattr(obj, "annotation_count", None)  # annotated by the viewset's queryset
        return counted if counted is not None else obj.annotations.filter(archived_at__isnull=True).count()


class ThreeDModelCreateInput(ChangeInput):
    part_type = serializers.PrimaryKeyRelatedField(queryset=_active(PartType))
    name = serializers.CharField(max_length=200)
    file = serializers.FileField(help_text="glTF binary (.glb), glTF JSON with embedded buffers, or STL (ASCII or "
                                           "binary); the type is read from the content.")
    document_type = serializers.CharField(required=False, default="DWG",
                                          help_text="The code of the document type the file is filed under.")


class ThreeDModelUpdateInput(ChangeInput):
    name = serializers.CharField(max_length=200, required=False)

    class Meta:
        model = ThreeDModel


class HeatmapQuery(InputSerializer):
    # from and to are parsed by heatmap_query (a date or a time; "from" is a Python keyword).
    defect_code = serializers.PrimaryKeyRelatedField(queryset=QualityErrorsList.objects.all(), required=False)
    step = serializers.PrimaryKeyRelatedField(queryset=Step.objects.all(), required=False)
    resolution = serializers.IntegerField(required=False, min_value=1, max_value=MAX_RESOLUTION,
                                          default=DEFAULT_RESOLUTION)


def heatmap_query(params) -> dict:
    """Parse ?from=&to=&defect_code=&step=&resolution= (dates or date-times); errors name the parameter."""
    out: dict = {}
    for name in ("from", "to"):
        raw = (params.get(name) or "").strip()
        if not raw:
            continue
        try:
            out[f"date_{name}"] = date.fromisoformat(raw) if len(raw) == 10 else serializers.DateTimeField().to_internal_value(raw)
        except (ValueError, serializers.ValidationError):
            raise InvalidInput(f"{name}: a date (2026-05-31) or an ISO 8601 time, not {raw!r}.",
                               fields={name: ["invalid date"]}) from None
    ser = HeatmapQuery(data={k: params.get(k) for k in ("defect_code", "step", "resolution") if params.get(k)})
    ser.is_valid(raise_exception=True)
    return {**out, **ser.validated_data}


class HeatmapBinSerializer(serializers.Serializer):
    i = serializers.IntegerField(help_text="The cell's index along x (from the bounds' minimum).")
    j = serializers.IntegerField()
    k = serializers.IntegerField()
    count = serializers.IntegerField()
    x = serializers.FloatField(help_text="The mean point of the cell's annotations (on the surface).")
    y = serializers.FloatField()
    z = serializers.FloatField()


class HeatmapDefectCodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    count = serializers.IntegerField()


class HeatmapSerializer(serializers.Serializer):
    model_id = serializers.IntegerField()
    cell = serializers.FloatField(help_text="The grid's cell size, in the model's units.")
    origin = serializers.ListField(child=serializers.FloatField(), help_text="Where cell (0, 0, 0) starts.")
    total = serializers.IntegerField(help_text="Every annotation matching the filters (the sum of the bins).")
    max_count = serializers.IntegerField()
    bins = HeatmapBinSerializer(many=True)
    defect_codes = HeatmapDefectCodeSerializer(many=True)


def _model_create(*, data: dict, reason: str | None = None) -> ThreeDModel:
    upload = data["file"]
    return three_d_model_create(part_type=data["part_type"], name=data["name"], content=upload,
                                original_name=upload.name, document_type=data.get("document_type") or "DWG",
                                reason=reason)


@extend_schema(tags=["qms: 3D defect maps"])
class ThreeDModelViewSet(RecordWriteViewSet):
    """A part type's 3D model: its file is a core document's revision (glTF or STL, read from the
    content). ``heatmap`` aggregates every defect placed on it; ``file`` serves the model file."""

    model = ThreeDModel
    queryset = ThreeDModel.objects.all()
    permission_prefix = "qms"
    serializer_class = ThreeDModelSerializer
    input_serializer_class = ThreeDModelUpdateInput
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    services = RecordServices(create=_model_create, update=three_d_model_update, archive=three_d_model_archive)
    service_kwarg = "three_d_model"
    filterset_fields = ["part_type", "file_format"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    extra_permissions = {"heatmap": "qms.view_heatmapannotation", "file": "qms.view_threedmodel"}

    def get_serializer_class(self):
        if self.action == "create":
            return ThreeDModelCreateInput
        return super().get_serializer_class()

    @extend_schema(request={"multipart/form-data": ThreeDModelCreateInput}, responses={201: ThreeDModelSerializer})
    def create(self, request, *args, **kwargs):
        """Upload a 3D model (multipart): part type, name and file; the file becomes a document revision."""
        self.input_serializer_class = ThreeDModelCreateInput
        return super().create(request, *args, **kwargs)

    def get_queryset(self):
        return super().get_queryset().select_related("part_type", "document", "revision").annotate(
            annotation_count=Count("annotations", filter=Q(annotations__archived_at__isnull=True)))

    @extend_schema(parameters=[
        OpenApiParameter("from", OpenApiTypes.STR, description="From this date (2026-05-01) or ISO 8601 time."),
        OpenApiParameter("to", OpenApiTypes.STR, description="Until this date (the whole day) or time."),
        OpenApiParameter("defect_code", int, description="Only this defect code."),
        OpenApiParameter("step", int, description="Only defects found at this step."),
        OpenApiParameter("resolution", int, description=f"Cells along the model's longest side (1 to "
                                                        f"{MAX_RESOLUTION}, default {DEFAULT_RESOLUTION})."),
    ], responses=HeatmapSerializer)
    @action(detail=True, methods=["get"])
    def heatmap(self, request: Request, *args, **kwargs) -> Response:
        """Every live annotation of the model matching the filters, counted per cell of a grid over the
        model's bounding box (no cap on their number): the bins with their counts, the total, and the
        count per defect code."""
        model = self.get_object()
        result = heatmap_aggregate(model=model, **heatmap_query(request.query_params))
        return Response(HeatmapSerializer(result).data)

    @extend_schema(responses={(200, t): OpenApiResponse(OpenApiTypes.BINARY, description="The model file.")
                              for t in MODEL_MEDIA_TYPES})
    @action(detail=True, methods=["get"])
    def file(self, request: Request, *args, **kwargs):
        """The model's file (the document revision it shows), for the viewer. Recorded as a download;
        answers 404 to who may not see the document."""
        model = self.get_object()
        revision = document_revision_get_for_user(access=request._request.access, pk=model.revision_id)
        return revision_file_response(request._request, revision)


# Annotations --------------------------------------------------------------------------------------

class HeatmapAnnotationSerializer(RecordSerializer):
    normal = serializers.SerializerMethodField()
    defect_code_text = serializers.CharField(source="defect_code.code", read_only=True)
    serial_number = serializers.CharField(source="part.serial_number", read_only=True)
    step_name = serializers.CharField(source="step.name", read_only=True, default=None)
    created_by_name = serializers.CharField(source="created_by.full_name", read_only=True, default=None)

    class Meta:
        model = HeatmapAnnotation
        fields = ["id", "model", "x", "y", "z", "normal", "defect_code", "defect_code_text", "part", "serial_number",
                  "step", "step_name", "quality_report", "note", "created_by", "created_by_name", "version",
                  "created_at", "updated_at", "archived_at"]

    def get_normal(self, obj) -> list[float] | None:
        return None if obj.normal_x is None else [obj.normal_x, obj.normal_y, obj.normal_z]


class HeatmapAnnotationInput(ChangeInput):
    model = serializers.PrimaryKeyRelatedField(queryset=ThreeDModel.objects.all(), help_text="Set on create.")
    x = serializers.FloatField(help_text="The point, in the model's coordinates.")
    y = serializers.FloatField()
    z = serializers.FloatField()
    normal = serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3, required=False,
                                   allow_null=True, help_text="The surface normal at the point (x, y, z).")
    defect_code = serializers.PrimaryKeyRelatedField(queryset=_active(QualityErrorsList))
    part = serializers.PrimaryKeyRelatedField(queryset=_active(Part))
    step = serializers.PrimaryKeyRelatedField(queryset=_active(Step), required=False, allow_null=True)
    quality_report = serializers.PrimaryKeyRelatedField(queryset=_active(QualityReport), required=False,
                                                        allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)

    class Meta:
        model = HeatmapAnnotation


class HeatmapAnnotationUpdateInput(ChangeInput):
    defect_code = serializers.PrimaryKeyRelatedField(queryset=_active(QualityErrorsList), required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)

    class Meta:
        model = HeatmapAnnotation


def _annotation_create(*, data: dict, reason: str | None = None) -> HeatmapAnnotation:
    return heatmap_annotation_create(**data, reason=reason)


@extend_schema(tags=["qms: 3D defect maps"])
class HeatmapAnnotationViewSet(RecordWriteViewSet):
    """Defects placed on a 3D model: the point, its normal, the defect code, the part, the step and the
    quality report. Filter by ``model``, ``defect_code``, ``part``, ``step``."""

    model = HeatmapAnnotation
    queryset = HeatmapAnnotation.objects.all()
    permission_prefix = "qms"
    serializer_class = HeatmapAnnotationSerializer
    input_serializer_class = HeatmapAnnotationInput
    services = RecordServices(create=_annotation_create, update=heatmap_annotation_update,
                              archive=heatmap_annotation_archive)
    service_kwarg = "heatmap_annotation"
    filterset_fields = ["model", "defect_code", "part", "step", "quality_report"]
    search_fields = ["note", "part__serial_number"]
    ordering_fields = ["created_at"]

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return HeatmapAnnotationUpdateInput
        return super().get_serializer_class()

    def update(self, request, *args, partial: bool = False, **kwargs):
        self.input_serializer_class = HeatmapAnnotationUpdateInput
        return super().update(request, *args, partial=partial, **kwargs)

    def get_queryset(self):
        return super().get_queryset().select_related("defect_code", "part", "step", "created_by")
