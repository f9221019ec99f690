"""Quality enums."""

from django.db import models


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"


class ReportOrigin(models.TextChoices):
    MANUAL = "manual", "Recorded by hand"
    QUARANTINE = "quarantine", "Created when the part was quarantined"


class ModelFormat(models.TextChoices):
    GLB = "glb", "glTF binary (GLB)"
    GLTF = "gltf", "glTF (JSON)"
    STL = "stl", "STL"
