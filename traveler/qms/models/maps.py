"""3D defect maps: a part type's 3D model (a core document's file) and the defects inspectors place on
it, aggregated into a heatmap."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from traveler.core.models import TenantModel
from traveler.qms.choices import ModelFormat


class ThreeDModel(TenantModel):
    """A part type's 3D model (seed 001: ThreeDModel). Its file is a revision of a core document (glTF
    binary or JSON, or STL, recognised from the content); ``bounds`` is the mesh's bounding box, read
    from the file, on which annotations are placed and the heatmap grid is laid. Customers see none."""

    part_type = models.ForeignKey("mes_lite.PartType", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    document = models.ForeignKey("core.Document", on_delete=models.PROTECT, related_name="+")
    revision = models.ForeignKey("core.DocumentRevision", on_delete=models.PROTECT, related_name="+",
                                 help_text="The revision whose file the viewer shows.")
    file_format = models.CharField(max_length=10, choices=ModelFormat.choices, editable=False)
    bounds = models.JSONField(editable=False, help_text='The mesh\'s bounding box: {"min": [x, y, z], "max": [x, y, z]}.')

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "3D model"
        verbose_name_plural = "3D models"
        constraints = [models.UniqueConstraint(fields=["tenant", "part_type", "name"], name="qms_3dmodel_unique_name")]

    def __str__(self) -> str:
        return self.name


class HeatmapAnnotation(TenantModel):
    """A defect placed on a 3D model (seed 001: HeatmapAnnotation): a point in the model's coordinates,
    optionally the surface normal there, the defect code, the part it was found on and where."""

    model = models.ForeignKey(ThreeDModel, on_delete=models.PROTECT, related_name="annotations")
    x = models.FloatField()
    y = models.FloatField()
    z = models.FloatField()
    normal_x = models.FloatField(null=True, blank=True)
    normal_y = models.FloatField(null=True, blank=True)
    normal_z = models.FloatField(null=True, blank=True)
    defect_code = models.ForeignKey("qms.QualityErrorsList", on_delete=models.PROTECT, related_name="+")
    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="+")
    step = models.ForeignKey("mes_lite.Step", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quality_report = models.ForeignKey("qms.QualityReport", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
                                   editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "heatmap annotation"
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(normal_x__isnull=True, normal_y__isnull=True, normal_z__isnull=True)
                           | models.Q(normal_x__isnull=False, normal_y__isnull=False, normal_z__isnull=False)),
                name="qms_annotation_normal_whole"),
        ]
        # The heatmap reads every live annotation of one model in a period: the index covers its filter
        # and carries the coordinates, so the aggregation reads the index only.
        indexes = [
            models.Index(fields=["model", "created_at"], name="qms_annotation_heatmap",
                         include=["x", "y", "z", "defect_code", "step"], condition=models.Q(archived_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.defect_code_id} at ({self.x:g}, {self.y:g}, {self.z:g})"
