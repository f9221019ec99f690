"""Nonconformances (``QuarantineDisposition``, a *nonconformance* in the UI): parts found not to
conform, held while a disposition is decided, signed, approved where needed and carried out."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from traveler.core.models import TenantModel
from traveler.qms.choices import Disposition, DispositionStatus, NcrState, Severity


class QuarantineDisposition(TenantModel):
    """A nonconformance: one or many parts, the quality reports behind it, a severity, an owner and a
    due date, and a disposition that acts on the parts. Written only by the nonconformance services;
    its state follows ``NCR_TRANSITIONS``."""

    number = models.CharField(max_length=20, editable=False, help_text="NCR-YYYY-NNNN, gap-free per tenant and year.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    state = models.CharField(max_length=20, choices=NcrState.choices, default=NcrState.OPEN, editable=False)
    state_reason = models.TextField(blank=True, editable=False, help_text="Why it was cancelled.")
    step_found = models.ForeignKey("mes_lite.Step", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    due_date = models.DateField(null=True, blank=True)
    parts = models.ManyToManyField("mes_lite.Part", through="qms.NonconformancePart", related_name="+")
    reports = models.ManyToManyField("qms.QualityReport", through="qms.NonconformanceReport", blank=True,
                                     related_name="+")
    # The disposition: decided (and signed), approved where needed, then done.
    disposition = models.CharField(max_length=30, choices=Disposition.choices, blank=True, editable=False)
    disposition_status = models.CharField(max_length=20, choices=DispositionStatus.choices, blank=True,
                                          editable=False)
    disposition_note = models.TextField(blank=True, editable=False)
    rework_step = models.ForeignKey("mes_lite.Step", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    editable=False)
    supplier = models.ForeignKey("core.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 editable=False)
    rma_number = models.CharField(max_length=100, blank=True, editable=False)
    shipment_reference = models.CharField(max_length=100, blank=True, editable=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    acted_at = models.DateTimeField(null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    verification_note = models.TextField(blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "nonconformance"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="qms_ncr_unique_number"),
            models.CheckConstraint(condition=~models.Q(state="closed") | models.Q(verified_at__isnull=False,
                                                                                  disposition_status="done"),
                                   name="qms_ncr_closed_verified"),
        ]
        indexes = [models.Index(fields=["tenant", "state", "created_at"], name="qms_ncr_state")]

    def __str__(self) -> str:
        return self.number or f"Nonconformance {self.pk}"


class NonconformancePart(TenantModel):
    """A part under a nonconformance, and what its disposition did to it. ``resolved_at`` is set when
    the disposition acted on it (or the nonconformance was cancelled): from then on the guard lets it
    move."""

    nonconformance = models.ForeignKey(QuarantineDisposition, on_delete=models.PROTECT, related_name="part_links")
    part = models.ForeignKey("mes_lite.Part", on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(max_length=30, blank=True)
    repaired = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["nonconformance", "part"], name="qms_ncr_part_unique")]
        indexes = [models.Index(fields=["part", "resolved_at"], name="qms_ncr_part_open")]

    def __str__(self) -> str:
        return f"{self.nonconformance_id}: part {self.part_id}"


class NonconformanceReport(TenantModel):
    nonconformance = models.ForeignKey(QuarantineDisposition, on_delete=models.PROTECT, related_name="report_links")
    report = models.ForeignKey("qms.QualityReport", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["nonconformance", "report"], name="qms_ncr_report_unique")]

    def __str__(self) -> str:
        return f"{self.nonconformance_id}: report {self.report_id}"


class Concession(TenantModel):
    """A customer's agreement to accept a nonconforming part as it is (use as is): who at the customer,
    their reference, the date, and the signed document (a core document attached to it)."""

    nonconformance = models.ForeignKey(QuarantineDisposition, on_delete=models.PROTECT, related_name="concessions")
    customer = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+")
    granted_by = models.CharField(max_length=200, help_text="Who at the customer granted it.")
    reference = models.CharField(max_length=100)
    granted_on = models.DateField()
    document = models.ForeignKey("core.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    customer_company_path = "customer"

    class Meta:
        ordering = ["-granted_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["nonconformance", "customer"], name="qms_concession_unique")]

    def __str__(self) -> str:
        return f"Concession {self.reference}"


class NonconformanceSettings(TenantModel):
    """The tenant's rule for approvals of dispositions: a critical nonconformance's disposition is
    always approved before it acts; major and minor ones when set here."""

    approve_major = models.BooleanField(default=False)
    approve_minor = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "nonconformance settings"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="qms_ncr_settings_one")]

    def __str__(self) -> str:
        return "Nonconformance settings"
