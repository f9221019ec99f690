"""Corrective and preventive actions (CAPA): the CAPA itself, what it is linked to, its tasks and their
assignees, its root-cause analysis (5 Whys, fishbone causes, root causes) and the verifications of its
effectiveness. Written only by ``traveler.qms.services.capa``."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from traveler.core.models import TenantModel
from traveler.qms.choices import (
    CapaState,
    CapaType,
    CompletionRule,
    FishboneCategory,
    RcaMethod,
    Severity,
    TaskKind,
    VerificationOutcome,
)


class CAPA(TenantModel):
    """A corrective or preventive action (CAPA-2026-0001). Its ``state`` moves only through the
    transition services (``CAPA_TRANSITIONS``); the generic update never touches it. Customers see
    none (no ``customer_company_path``)."""

    number = models.CharField(max_length=30, editable=False)
    title = models.CharField(max_length=200)
    capa_type = models.CharField("type", max_length=30, choices=CapaType.choices, default=CapaType.CORRECTIVE)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    state = models.CharField(max_length=30, choices=CapaState.choices, default=CapaState.OPEN, editable=False)
    problem_statement = models.TextField()
    immediate_action = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cancel_reason = models.TextField(blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    nonconformances = models.ManyToManyField("qms.QuarantineDisposition", through="qms.CapaNonconformance",
                                             blank=True, related_name="capas")
    quality_reports = models.ManyToManyField("qms.QualityReport", through="qms.CapaQualityReport", blank=True,
                                             related_name="+")
    parts = models.ManyToManyField("mes_lite.Part", through="qms.CapaPart", blank=True, related_name="+")
    work_orders = models.ManyToManyField("mes_lite.WorkOrder", through="qms.CapaWorkOrder", blank=True,
                                         related_name="+")
    steps = models.ManyToManyField("mes_lite.Step", through="qms.CapaStep", blank=True, related_name="+")

    class Meta:
        verbose_name = "CAPA"
        verbose_name_plural = "CAPAs"
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "number"], name="qms_capa_number_unique")]
        indexes = [models.Index(fields=["state", "due_date"], name="qms_capa_state_due")]

    def __str__(self) -> str:
        return self.number or f"CAPA {self.pk}"


class CapaNonconformance(TenantModel):
    capa = models.ForeignKey(CAPA, on_delete=models.PROTECT, related_name="nonconformance_links")
    nonconformance = models.ForeignKey("qms.QuarantineDisposition", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["capa", "nonconformance"], name="qms_capa_ncr_unique")]

    def __str__(self) -> str:
        return f"{self.capa_id}: nonconformance {self.nonconformance_id}"


class CapaQualityReport(TenantModel):
    capa = models.ForeignKey(CAPA, on_delete=models.PROTECT, related_name="report_links")
    report = models.ForeignKey("qms.QualityReport", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["capa", "report"], name="qms_capa_report_unique")]

    def __str__(self) -> str:
        return f"{self.capa_id}: report {self.report_id}"


class CapaPart(TenantModel):
    capa = models.ForeignKey(CAPA, on_delete=models.PROTECT, related_name="part_links")
    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["capa", "part"], name="qms_capa_part_unique")]

    def __str__(self) -> str:
        return f"{self.capa_id}: part {self.part_id}"


class CapaWorkOrder(TenantModel):
    capa = models.ForeignKey(CAPA, on_delete=models.PROTECT, related_name="work_order_links")
    work_order = models.ForeignKey("mes_lite.WorkOrder", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["capa", "work_order"], name="qms_capa_work_order_unique")]

    def __str__(self) -> str:
        return f"{self.capa_id}: work order {self.work_order_id}"


class CapaStep(TenantModel):
    capa = models.ForeignKey(CAPA, on_delete=models.PROTECT, related_name="step_links")
    step = models.ForeignKey("mes_lite.Step", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["capa", "step"], name="qms_capa_step_unique")]

    def __str__(self) -> str:
        return f"{self.capa_id}: step {self.step_id}"


class CapaTask(TenantModel):
    """One action of a CAPA (containment, corrective or preventive), owned by one person and done by its
    assignees: any one of them, or all of them (``completion_rule``). Each assignee's completion is a
    signature (meaning *completed*)."""

    capa = models.ForeignKey(CAPA, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=20, choices=TaskKind.choices, default=TaskKind.CORRECTIVE)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, through="qms.CapaTaskAssignee", blank=True,
                                       related_name="+")
    completion_rule = models.CharField(max_length=10, choices=CompletionRule.choices, default=CompletionRule.ANY)
    due_date = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "CAPA task"
        ordering = ["pk"]
        indexes = [models.Index(fields=["capa", "completed_at"], name="qms_capatask_capa_done")]

    def __str__(self) -> str:
        return self.title


class CapaTaskAssignee(TenantModel):
    """Who is to do a task. Completing it sets ``completed_at`` and signs this row (meaning *completed*):
    the signature binds who completed which task, when."""

    task = models.ForeignKey(CapaTask, on_delete=models.PROTECT, related_name="assignee_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "CAPA task assignee"
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="qms_capatask_assignee_unique")]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.user_id}"


class RcaRecord(TenantModel):
    """The root-cause analysis of a CAPA (one per CAPA): its method, a summary, and the structured
    analysis in ``whys``, ``causes`` and ``root_causes``."""

    capa = models.OneToOneField(CAPA, on_delete=models.PROTECT, related_name="rca")
    method = models.CharField(max_length=20, choices=RcaMethod.choices, default=RcaMethod.FIVE_WHYS)
    summary = models.TextField(blank=True)

    class Meta:
        verbose_name = "root-cause analysis"
        verbose_name_plural = "root-cause analyses"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"RCA of {self.capa}" if self.capa_id else "RCA"


class FiveWhy(TenantModel):
    """One row of a 5 Whys: the question asked and its answer, in order (``position`` 1, 2, ...)."""

    rca = models.ForeignKey(RcaRecord, on_delete=models.PROTECT, related_name="whys")
    position = models.PositiveSmallIntegerField()
    question = models.TextField()
    answer = models.TextField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["rca", "position"], name="qms_fivewhy_position_unique")]

    def __str__(self) -> str:
        return f"Why {self.position}"


class FishboneCause(TenantModel):
    """A possible cause on the fishbone, under one of the six Ms."""

    rca = models.ForeignKey(RcaRecord, on_delete=models.PROTECT, related_name="causes")
    category = models.CharField(max_length=20, choices=FishboneCategory.choices)
    description = models.CharField(max_length=300)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.description}"


class RootCause(TenantModel):
    """A root cause found; an analysis with root causes has exactly one primary (the database allows at
    most one, the service requires one)."""

    rca = models.ForeignKey(RcaRecord, on_delete=models.PROTECT, related_name="root_causes")
    description = models.TextField()
    category = models.CharField(max_length=20, choices=FishboneCategory.choices, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "pk"]
        constraints = [models.UniqueConstraint(fields=["rca"], condition=models.Q(is_primary=True),
                                               name="qms_rootcause_one_primary")]

    def __str__(self) -> str:
        return self.description[:80]


class CapaVerification(TenantModel):
    """A verification of a CAPA's effectiveness, signed by its verifier (meaning *verified*). Evidence
    documents are attached to it through core documents."""

    capa = models.ForeignKey(CAPA, on_delete=models.PROTECT, related_name="verifications")
    outcome = models.CharField(max_length=20, choices=VerificationOutcome.choices)
    method = models.CharField(max_length=300)
    notes = models.TextField(blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    editable=False)

    class Meta:
        verbose_name = "CAPA verification"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"Verification {self.pk} of {self.capa}" if self.capa_id else "Verification"
