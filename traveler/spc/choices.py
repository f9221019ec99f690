from django.db import models


class ChartType(models.TextChoices):
    XBAR_R = "xbar_r", "X̄-R"
    XBAR_S = "xbar_s", "X̄-S"
    IMR = "imr", "I-MR"


class Subgrouping(models.TextChoices):
    CONSECUTIVE = "consecutive", "Consecutive parts"
    WORK_ORDER = "work_order", "Per work order"
    TIME_WINDOW = "time_window", "Per time window"
    SHIFT = "shift", "Per shift"


class BaselineStatus(models.TextChoices):
    DRAFT = "draft", "Draft (under review)"
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"
    DISCARDED = "discarded", "Discarded"


class SignalStatus(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    INVESTIGATED = "investigated", "Investigated"
    CLOSED = "closed", "Closed"


class SignalSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    MAJOR = "major", "Major"
    MINOR = "minor", "Minor"
