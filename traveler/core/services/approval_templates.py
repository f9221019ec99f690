"""Approval templates: who approves a kind of record, how many, in which order, within how many days;
and the default templates every tenant gets."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from traveler.core.errors import InvalidInput
from traveler.core.models import ApprovalTemplate, ApprovalTemplateApprover, Membership, Role, User
from traveler.core.models.approvals import Flow
from traveler.core.registry import registry
from traveler.core.services.records import record_create, record_update
from traveler.core.tenancy import audit_reason, current_tenant


def check_active_member(user: User, field: str) -> None:
    """Refuse a user who is not an active, accepted member of the current tenant."""
    ok = Membership.objects.filter(tenant_id=current_tenant().pk, user=user, is_active=True,
                                   accepted_at__isnull=False, user__is_active=True).exists()
    if not ok:
        raise InvalidInput(f"{user} is not an active member here.", fields={field: ["not an active member"]})


# ---------- templates ----------

def _check_template(data: dict) -> None:
    t = data.get("template_type")
    if t is not None and t not in registry.approval_template_types:
        raise InvalidInput(f"{t!r} is not a template type: choose one of {', '.join(sorted(registry.approval_template_types))}.",
                           fields={"template_type": ["invalid"]})
    if data.get("flow") == Flow.THRESHOLD and not data.get("threshold"):
        raise InvalidInput("A threshold template needs the number of approvals (threshold).",
                           fields={"threshold": ["required for the threshold flow"]})


def approval_template_create(*, data: dict, approvers: list[dict] | None = None,
                             reason: str | None = None) -> ApprovalTemplate:
    """A template and its default approvers (``[{"user": User} | {"role": Role}, "required", "position"]``)."""
    _check_template(data)
    with transaction.atomic():
        template = record_create(ApprovalTemplate, data=data, reason=reason)
        if approvers:
            approval_template_set_approvers(template=template, approvers=approvers, reason=reason)
    return template


def approval_template_update(*, template: ApprovalTemplate, version: int | None, data: dict,
                             reason: str | None = None) -> ApprovalTemplate:
    merged = {"template_type": template.template_type, "flow": template.flow, "threshold": template.threshold, **data}
    _check_template(merged)
    return record_update(template, version=version, data=data, reason=reason)


def approval_template_set_approvers(*, template: ApprovalTemplate, approvers: list[dict],
                                    reason: str | None = None) -> list[ApprovalTemplateApprover]:
    """Replace the template's default approvers (requests already made keep theirs)."""
    rows = []
    for i, a in enumerate(approvers, start=1):
        user, role = a.get("user"), a.get("role")
        if (user is None) == (role is None):
            raise InvalidInput("Each default approver is either a user or a role.", fields={"approvers": [f"item {i}"]})
        if user is not None:
            check_active_member(user, f"approvers[{i}]")
        rows.append(ApprovalTemplateApprover(template=template, user=user, role=role,
                                             required=bool(a.get("required", True)), position=int(a.get("position") or i)))
    with transaction.atomic(), audit_reason(reason):
        now = timezone.now()
        template.approvers.filter(archived_at__isnull=True).update(archived_at=now)
        ApprovalTemplateApprover.objects.bulk_create(rows)
    return rows


# ---------- defaults ----------

DOCUMENT_RELEASE_TEMPLATE = "Document release"


def approval_templates_seed(tenant) -> ApprovalTemplate:
    """The tenant's default document release template, created once (administrators change it
    afterwards): any one Document Controller or QA Manager other than the author approves, within
    5 days. Returns it."""
    from traveler.core.tenancy import tenant_context

    with tenant_context(tenant), transaction.atomic():
        template = ApprovalTemplate.objects.filter(name=DOCUMENT_RELEASE_TEMPLATE).first()
        if template is None:
            template = approval_template_create(
                data={"name": DOCUMENT_RELEASE_TEMPLATE, "template_type": "document_release", "sla_days": 5,
                      "flow": Flow.ANY, "description": "Release of a controlled document revision."},
                approvers=[{"role": Role.objects.get(code=code), "required": True}
                           for code in ("document_controller", "qa_manager")])
    return template
