"""The approval workflow (seed 001 section 4.11): templates, requests on any registered record,
approvers, and responses made through the signature service."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models

from traveler.core.models.base import TenantModel


class Flow(models.TextChoices):
    ALL_REQUIRED = "all_required", "All required approvers"
    THRESHOLD = "threshold", "A number of approvals"
    ANY = "any", "Any one approver"


class Order(models.TextChoices):
    PARALLEL = "parallel", "In parallel"
    SEQUENTIAL = "sequential", "One after another"


class ApprovalTemplate(TenantModel):
    """How a kind of record is approved: who, how many, in which order, within how many days."""

    name = models.CharField(max_length=200)
    template_type = models.CharField(max_length=50, help_text="A registered template type, e.g. document_release.")
    description = models.TextField(blank=True)
    flow = models.CharField(max_length=20, choices=Flow.choices, default=Flow.ALL_REQUIRED)
    order = models.CharField(max_length=20, choices=Order.choices, default=Order.PARALLEL)
    threshold = models.PositiveIntegerField(null=True, blank=True, help_text="Approvals needed (threshold flow).")
    sla_days = models.PositiveIntegerField(default=5, help_text="Days an approver has before the request is overdue.")
    allow_self_approval = models.BooleanField(
        default=False, help_text="Whether the requester may approve their own request (then only with a written justification).")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="core_approvaltemplate_unique_name"),
            models.CheckConstraint(condition=~models.Q(flow="threshold") | models.Q(threshold__gte=1),
                                   name="core_approvaltemplate_threshold"),
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalTemplateApprover(TenantModel):
    """A default approver of a template: a user, or every member holding a role."""

    template = models.ForeignKey(ApprovalTemplate, on_delete=models.PROTECT, related_name="approvers")
    user = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    role = models.ForeignKey("core.Role", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    required = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=1, help_text="Order of turns in a sequential template.")

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.CheckConstraint(
            condition=models.Q(user__isnull=False, role__isnull=True) | models.Q(user__isnull=True, role__isnull=False),
            name="core_approvaltemplateapprover_user_or_role")]

    def __str__(self) -> str:
        return str(self.user or self.role)


class ApprovalRequest(TenantModel):
    """One record put through one template's approval. The template's rules are copied at creation,
    so a later change of the template does not change a request under way."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (approvers can be edited)"
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    template = models.ForeignKey(ApprovalTemplate, on_delete=models.PROTECT, related_name="requests")
    template_type = models.CharField(max_length=50)
    flow = models.CharField(max_length=20, choices=Flow.choices)
    order = models.CharField(max_length=20, choices=Order.choices)
    threshold = models.PositiveIntegerField(null=True, blank=True)
    sla_days = models.PositiveIntegerField()
    allow_self_approval = models.BooleanField(default=False)
    record_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    record_id = models.CharField(max_length=64)
    record_label = models.CharField(max_length=300)
    record_version = models.PositiveIntegerField(help_text="The record's version when approval was requested.")
    requested_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    notes = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome_reason = models.TextField(blank=True, help_text="Why it was rejected or cancelled.")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["record_type", "record_id"], name="core_approvalrequest_record"),
            models.Index(fields=["status", "due_at"], name="core_approvalrequest_due"),
        ]

    def __str__(self) -> str:
        return f"Approval of {self.record_label}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.PENDING)


class ApprovalApprover(TenantModel):
    """One approver's place in one request. Never changed once the request has started: a delegation
    adds the delegate's place (``delegated_from``) beside the one handed over."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.PROTECT, related_name="approvers")
    user = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    required = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=1)
    delegated_from = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.user} ({'required' if self.required else 'optional'})"


class ApprovalResponse(models.Model):
    """An approver's decision, made through the signature service. Append-only."""

    audited = True
    append_only = True

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        DELEGATED = "delegated", "Delegated"

    tenant = models.ForeignKey("core.Tenant", on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(ApprovalRequest, on_delete=models.PROTECT, related_name="responses")
    approver = models.ForeignKey(ApprovalApprover, on_delete=models.PROTECT, related_name="responses")
    user = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    self_approval = models.BooleanField(default=False)
    self_approval_justification = models.TextField(blank=True)
    delegated_to = models.ForeignKey("core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    signature = models.ForeignKey("core.Signature", on_delete=models.PROTECT, related_name="+")
    responded_at = models.DateTimeField()

    class Meta:
        ordering = ["responded_at", "id"]
        constraints = [models.UniqueConstraint(fields=["approver"], name="core_approvalresponse_one_per_place")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.user_id}"
