"""CAPA: corrective and preventive actions, their tasks, the verification of their effectiveness and
their closure.

The state machine is ``CAPA_TRANSITIONS`` (choices.py); each transition is one service here
(``capa_start``, ``capa_submit``, ``capa_reopen``, ``capa_close``, ``capa_cancel``) and nothing else
writes ``state``: ``capa_create`` and ``capa_update`` refuse it, whoever calls them (API, pages,
imports). Critical and major CAPAs close only after an approved *CAPA closure* approval.

Progress (``progress_percent``) is the share of done items among the CAPA's tasks plus three stages:
root cause identified (its analysis names a primary root cause), effectiveness confirmed (its latest
verification is *confirmed*) and closed. A new CAPA is at 0 %, a closed one with every task done at 100 %.
The root-cause analysis is in ``services/rca.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import ApprovalRequest, ApprovalTemplate, Role, User
from traveler.core.models.approvals import Flow
from traveler.core.services.approval_templates import approval_template_create, check_active_member
from traveler.core.services.numbering import number_next
from traveler.core.services.records import record_create, record_update
from traveler.core.services.signatures import password_confirm, signature_write
from traveler.core.tenancy import audit_reason, current_tenant
from traveler.mes_lite.models import Part, Step, WorkOrder
from traveler.qms.choices import (
    CAPA_ACTIVE,
    CAPA_TRANSITIONS,
    CapaState,
    CapaType,
    CompletionRule,
    Severity,
    TaskKind,
    VerificationOutcome,
)
from traveler.qms.events import (
    CapaCancelled,
    CapaClosed,
    CapaOpened,
    CapaOverdue,
    CapaStateChanged,
    CapaTaskCompleted,
    CapaTaskOverdue,
    CapaVerified,
)
from traveler.qms.models import (
    CAPA,
    CapaNonconformance,
    CapaPart,
    CapaQualityReport,
    CapaStep,
    CapaTask,
    CapaTaskAssignee,
    CapaVerification,
    CapaWorkOrder,
    QualityReport,
    QuarantineDisposition,
    RootCause,
)

SCALARS = ("title", "capa_type", "severity", "problem_statement", "immediate_action", "due_date", "owner")
LINKS = {  # field -> (link model, its column, the linked model)
    "nonconformances": (CapaNonconformance, "nonconformance", QuarantineDisposition),
    "quality_reports": (CapaQualityReport, "report", QualityReport),
    "parts": (CapaPart, "part", Part),
    "work_orders": (CapaWorkOrder, "work_order", WorkOrder),
    "steps": (CapaStep, "step", Step),
}
NEEDS_CLOSURE_APPROVAL = (Severity.CRITICAL, Severity.MAJOR)
CLOSURE_TEMPLATE_TYPE = "capa_closure"
CLOSURE_TEMPLATE_NAME = "CAPA closure"
STATE_REFUSED = ("A CAPA's state changes only through its transitions (start, submit, close, cancel), "
                 "never by editing it.")


# ---------- checks ----------

def _refuse_fixed(data: dict[str, Any]) -> None:
    if "state" in data:
        raise InvalidInput(STATE_REFUSED, fields={"state": ["changes only through a transition"]})
    for fixed in ("number", "closed_at", "cancel_reason"):
        if fixed in data:
            raise InvalidInput(f"A CAPA's {fixed.replace('_', ' ')} is set by the system.",
                               fields={fixed: ["read only"]})
    unknown = set(data) - set(SCALARS) - set(LINKS)
    if unknown:
        raise InvalidInput(f"Not a field of a CAPA: {', '.join(sorted(unknown))}.",
                           fields={k: ["unknown"] for k in sorted(unknown)})


def _check_scalars(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    out = {k: data[k] for k in SCALARS if k in data}
    for name in ("title", "problem_statement"):
        if name in out or creating:
            text = (out.get(name) or "").strip() if isinstance(out.get(name, ""), str) else ""
            if not text:
                raise InvalidInput(f"{name.replace('_', ' ').capitalize()}: required.", fields={name: ["required"]})
            out[name] = text
    if "immediate_action" in out:
        out["immediate_action"] = (out["immediate_action"] or "").strip()
    if "capa_type" in out and out["capa_type"] not in CapaType.values:
        raise InvalidInput(f"type: one of {', '.join(CapaType.values)}.", fields={"capa_type": ["invalid choice"]})
    if "severity" in out and out["severity"] not in Severity.values:
        raise InvalidInput(f"severity: one of {', '.join(Severity.values)}.", fields={"severity": ["invalid choice"]})
    if "due_date" in out and out["due_date"] is not None and not isinstance(out["due_date"], date):
        raise InvalidInput("due_date: a date.", fields={"due_date": ["a date"]})
    if "owner" in out or creating:
        owner = out.get("owner")
        if not isinstance(owner, User):
            raise InvalidInput("owner: required.", fields={"owner": ["required"]})
        check_active_member(owner, "owner")
    return out


def _check_links(data: dict[str, Any]) -> dict[str, list]:
    out = {}
    for name, (_link, _column, model) in LINKS.items():
        if name not in data:
            continue
        items = list(dict.fromkeys(data[name] or []))
        wrong = [i for i in items if not isinstance(i, model) or i.tenant_id != current_tenant().pk]
        if wrong:
            raise InvalidInput(f"{name.replace('_', ' ')}: give records of this tenant.", fields={name: ["invalid"]})
        out[name] = items
    return out


def _write_links(capa: CAPA, links: dict[str, list]) -> None:
    tenant = current_tenant()
    for name, items in links.items():
        link, column, _model = LINKS[name]
        link.objects.filter(capa=capa).delete()
        link.objects.bulk_create([link(tenant=tenant, capa=capa, **{column: item}) for item in items])


def _active(capa: CAPA, doing: str) -> None:
    if capa.state not in CAPA_ACTIVE:
        raise Conflict(f"{capa} is {capa.get_state_display().lower()}: {doing} is no longer possible.",
                       fields={"state": [capa.state]})


def _check_version(obj, version: int | None) -> None:
    if version is not None and obj.version != version:
        raise Conflict(f"{obj} changed since you read it; reload it.", fields={"version": [f"current {obj.version}"]})


# ---------- create and update ----------

def capa_create(*, data: dict[str, Any], reason: str | None = None) -> CAPA:
    """Open a CAPA: numbered CAPA-<year>-<NNNN> per tenant, gap-free. ``data``: title, capa_type,
    severity, problem_statement, immediate_action, due_date, owner, and the linked nonconformances,
    quality_reports, parts, work_orders and steps. Publishes ``qms.capa.opened``."""
    _refuse_fixed(data)
    scalars = _check_scalars(data, creating=True)
    links = _check_links(data)
    with transaction.atomic(), audit_reason(reason):
        year = timezone.now().year
        number = f"CAPA-{year}-{number_next(key='qms.capa', year=year):04d}"
        capa = record_create(CAPA, data={**scalars, "number": number, "state": CapaState.OPEN}, reason=reason)
        _write_links(capa, links)
        publish(CapaOpened(capa_id=capa.pk, number=capa.number, severity=capa.severity, owner_id=capa.owner_id))
    return capa


def capa_update(*, capa: CAPA, version: int | None, data: dict[str, Any], reason: str | None = None) -> CAPA:
    """Change what a CAPA says (never its state, number or closure) while it is open, in progress or
    pending verification. A list of links given replaces the one recorded."""
    _refuse_fixed(data)
    _active(capa, "changing it")
    scalars = _check_scalars(data, creating=False)
    links = _check_links(data)
    with transaction.atomic(), audit_reason(reason):
        capa = record_update(capa, version=version, data=scalars, reason=reason)
        _write_links(capa, links)
    return capa


# ---------- transitions ----------

def _transition(capa: CAPA, action: str, *, version: int | None = None, reason: str | None = None,
                **extra) -> CAPA:
    """Move ``capa`` by ``action`` of ``CAPA_TRANSITIONS`` (in the caller's transaction, the row locked).
    Returns the CAPA as it is now."""
    _, target = CAPA_TRANSITIONS[action]
    locked = CAPA.objects.select_for_update().get(pk=capa.pk)
    _require_state(locked, action)
    _check_version(locked, version)
    with audit_reason(reason):
        return record_update(locked, version=locked.version, data={"state": target, **extra}, reason=reason)


def _require_state(capa: CAPA, action: str) -> None:
    sources, _ = CAPA_TRANSITIONS[action]
    if capa.state not in sources:
        allowed = ", ".join(CapaState(s).label.lower() for s in sorted(sources))
        raise Conflict(f"{capa} is {capa.get_state_display().lower()}; it can be {_done(action)} only when "
                       f"{allowed}.", fields={"state": [capa.state]})


def _done(action: str) -> str:
    return {"start": "started", "submit": "submitted for verification", "reopen": "reopened", "close": "closed",
            "cancel": "cancelled"}[action]


def _moved(capa: CAPA, action: str, left: str) -> None:
    publish(CapaStateChanged(capa_id=capa.pk, number=capa.number, transition=action, from_state=left,
                             to_state=capa.state))


def capa_start(*, capa: CAPA, version: int | None = None, reason: str | None = None) -> CAPA:
    """open -> in progress: work on the CAPA begins."""
    with transaction.atomic():
        capa = _transition(capa, "start", version=version, reason=reason)
        _moved(capa, "start", CapaState.OPEN)
    return capa


def capa_submit(*, capa: CAPA, version: int | None = None, reason: str | None = None) -> CAPA:
    """in progress -> pending verification: every task is done and the analysis names its primary root
    cause; the effectiveness is verified next."""
    _require_state(capa, "submit")
    with transaction.atomic():
        open_tasks = list(CapaTask.objects.filter(capa=capa, completed_at__isnull=True).values_list("title", flat=True))
        if open_tasks:
            raise Conflict(f"{capa} still has {len(open_tasks)} task(s) to complete: {', '.join(open_tasks)}.",
                           fields={"tasks": [f"{len(open_tasks)} open"]})
        if not RootCause.objects.filter(rca__capa=capa, is_primary=True).exists():
            raise Conflict(f"{capa} has no primary root cause yet: record the root-cause analysis first.",
                           fields={"rca": ["no primary root cause"]})
        capa = _transition(capa, "submit", version=version, reason=reason)
        _moved(capa, "submit", CapaState.IN_PROGRESS)
    return capa


def capa_reopen(*, capa: CAPA, reason: str, version: int | None = None) -> CAPA:
    """pending verification -> in progress: the action was not effective, or its closure was rejected."""
    if not (reason or "").strip():
        raise InvalidInput("Give the reason for reopening.", fields={"reason": ["required"]})
    with transaction.atomic():
        capa = _transition(capa, "reopen", version=version, reason=reason.strip())
        _moved(capa, "reopen", CapaState.PENDING_VERIFICATION)
    return capa


def latest_verification(capa: CAPA) -> CapaVerification | None:
    return CapaVerification.objects.filter(capa=capa).order_by("-pk").first()


def closure_approval(capa: CAPA) -> ApprovalRequest | None:
    """The latest approval request of ``capa``'s closure, if any."""
    return (ApprovalRequest.objects.filter(record_type__app_label="qms", record_type__model="capa",
                                           record_id=str(capa.pk), template_type=CLOSURE_TEMPLATE_TYPE)
            .order_by("-pk").first())


def capa_close(*, capa: CAPA, version: int | None = None, reason: str | None = None) -> CAPA:
    """pending verification -> closed: the latest verification confirmed the action effective and, for a
    critical or major CAPA, its closure approval (requested after that verification) was approved.
    Publishes ``qms.capa.closed``."""
    _require_state(capa, "close")
    with transaction.atomic():
        verification = latest_verification(capa)
        if verification is None or verification.outcome != VerificationOutcome.CONFIRMED:
            raise Conflict(f"{capa} closes only once a verification has confirmed it effective.",
                           fields={"verification": ["not confirmed"]})
        if capa.severity in NEEDS_CLOSURE_APPROVAL:
            approval = closure_approval(capa)
            if approval is None or approval.status != "approved" or approval.created_at < verification.created_at:
                raise Conflict(f"{capa} is {capa.get_severity_display().lower()}: its closure needs an approved "
                               "CAPA closure approval (request it first).", fields={"approval": ["not approved"]})
        capa = _transition(capa, "close", version=version, reason=reason, closed_at=timezone.now())
        publish(CapaClosed(capa_id=capa.pk, number=capa.number))
    return capa


def capa_cancel(*, capa: CAPA, reason: str, version: int | None = None) -> CAPA:
    """open, in progress or pending verification -> cancelled, with the reason (kept on the CAPA)."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput("Give the reason for the cancellation.", fields={"reason": ["required"]})
    with transaction.atomic():
        capa = _transition(capa, "cancel", version=version, reason=reason, cancel_reason=reason)
        publish(CapaCancelled(capa_id=capa.pk, number=capa.number, reason=reason))
    return capa


def transitions_allowed(capa: CAPA) -> list[str]:
    """The transitions ``CAPA_TRANSITIONS`` allows from the CAPA's state (the buttons a page offers);
    ``reopen`` is left to verification and approval outcomes."""
    return [a for a, (sources, _) in CAPA_TRANSITIONS.items() if capa.state in sources and a != "reopen"]


# ---------- closure approval ----------

def capa_closure_template(tenant=None) -> ApprovalTemplate:
    """The tenant's template for CAPA closures: the oldest active one of type ``capa_closure``, seeded on
    first use (any one QA Manager approves, within 5 days; administrators change it afterwards)."""
    template = (ApprovalTemplate.objects.filter(template_type=CLOSURE_TEMPLATE_TYPE, archived_at__isnull=True)
                .order_by("pk").first())
    if template is None:
        with transaction.atomic():
            template = approval_template_create(
                data={"name": CLOSURE_TEMPLATE_NAME, "template_type": CLOSURE_TEMPLATE_TYPE, "sla_days": 5,
                      "flow": Flow.ANY, "description": "Closure of a critical or major CAPA after its verification."},
                approvers=[{"role": Role.objects.get(code="qa_manager"), "required": True}])
    return template


def capa_closure_request(*, capa: CAPA, requested_by: User, notes: str = "") -> ApprovalRequest:
    """Ask for the approval that closes a critical or major CAPA whose latest verification confirmed it
    effective. Approved, the CAPA closes; rejected, it goes back to in progress (handlers.py)."""
    from traveler.core.services.approvals import approval_request_create

    if capa.state != CapaState.PENDING_VERIFICATION:
        raise Conflict(f"{capa} is {capa.get_state_display().lower()}: its closure is approved once it is pending "
                       "verification and verified.", fields={"state": [capa.state]})
    if capa.severity not in NEEDS_CLOSURE_APPROVAL:
        raise Conflict(f"{capa} is minor: close it directly.", fields={"severity": [capa.severity]})
    verification = latest_verification(capa)
    if verification is None or verification.outcome != VerificationOutcome.CONFIRMED:
        raise Conflict(f"{capa}'s effectiveness is not confirmed yet: verify it first.",
                       fields={"verification": ["not confirmed"]})
    with transaction.atomic():
        return approval_request_create(record=capa, template=capa_closure_template(), requested_by=requested_by,
                                       notes=notes or "")


# ---------- tasks ----------

TASK_SCALARS = ("kind", "title", "description", "owner", "completion_rule", "due_date")


def _check_task(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    unknown = set(data) - set(TASK_SCALARS) - {"capa", "assignees"}
    if unknown:
        raise InvalidInput(f"Not a field of a CAPA task: {', '.join(sorted(unknown))}.",
                           fields={k: ["unknown"] for k in sorted(unknown)})
    out = {k: data[k] for k in TASK_SCALARS if k in data}
    if "title" in out or creating:
        title = (out.get("title") or "").strip() if isinstance(out.get("title", ""), str) else ""
        if not title:
            raise InvalidInput("title: required.", fields={"title": ["required"]})
        out["title"] = title
    if "kind" in out and out["kind"] not in TaskKind.values:
        raise InvalidInput(f"kind: one of {', '.join(TaskKind.values)}.", fields={"kind": ["invalid choice"]})
    if "completion_rule" in out and out["completion_rule"] not in CompletionRule.values:
        raise InvalidInput("completion_rule: any or all.", fields={"completion_rule": ["invalid choice"]})
    if "owner" in out or creating:
        if not isinstance(out.get("owner"), User):
            raise InvalidInput("owner: required.", fields={"owner": ["required"]})
        check_active_member(out["owner"], "owner")
    if "description" in out:
        out["description"] = (out["description"] or "").strip()
    return out


def _check_assignees(raw) -> list[User]:
    users = list(dict.fromkeys(raw or []))
    for u in users:
        if not isinstance(u, User):
            raise InvalidInput("assignees: give members of this tenant.", fields={"assignees": ["invalid"]})
        check_active_member(u, "assignees")
    return users


def capa_task_create(*, data: dict[str, Any], reason: str | None = None) -> CapaTask:
    """Add a task to an open or in-progress CAPA: kind, title, description, owner, assignees (none: the
    owner does it), completion_rule (any or all assignees), due_date."""
    capa = data.get("capa")
    if not isinstance(capa, CAPA):
        raise InvalidInput("capa: required.", fields={"capa": ["required"]})
    if capa.state not in (CapaState.OPEN, CapaState.IN_PROGRESS):
        raise Conflict(f"{capa} is {capa.get_state_display().lower()}: tasks are added while it is open or in "
                       "progress.", fields={"capa": [capa.state]})
    scalars = _check_task(data, creating=True)
    assignees = _check_assignees(data.get("assignees")) or [scalars["owner"]]
    with transaction.atomic(), audit_reason(reason):
        task = record_create(CapaTask, data={**scalars, "capa": capa}, reason=reason)
        CapaTaskAssignee.objects.bulk_create(
            [CapaTaskAssignee(tenant=current_tenant(), task=task, user=u) for u in assignees])
    return task


def capa_task_update(*, capa_task: CapaTask, version: int | None, data: dict[str, Any],
                     reason: str | None = None) -> CapaTask:
    """Change a task not yet completed, of a CAPA still active. Its CAPA does not change; assignees who
    already signed their completion stay."""
    task = capa_task
    if "capa" in data and getattr(data["capa"], "pk", data["capa"]) != task.capa_id:
        raise InvalidInput("A task's CAPA does not change.", fields={"capa": ["cannot change"]})
    if task.completed_at is not None:
        raise Conflict(f"Task “{task}” is completed and no longer changes.", fields={"completed_at": ["completed"]})
    _active(task.capa, "changing its tasks")
    scalars = _check_task({k: v for k, v in data.items() if k != "capa"}, creating=False)
    assignees = _check_assignees(data["assignees"]) if "assignees" in data else None
    with transaction.atomic(), audit_reason(reason):
        task = record_update(task, version=version, data=scalars, reason=reason)
        if assignees is not None:
            signed = set(CapaTaskAssignee.objects.filter(task=task, completed_at__isnull=False)
                         .values_list("user_id", flat=True))
            CapaTaskAssignee.objects.filter(task=task, completed_at__isnull=True).exclude(
                user__in=assignees).delete()
            have = set(CapaTaskAssignee.objects.filter(task=task).values_list("user_id", flat=True))
            CapaTaskAssignee.objects.bulk_create([CapaTaskAssignee(tenant=current_tenant(), task=task, user=u)
                                                  for u in assignees if u.pk not in have])
            if not assignees and not signed:
                raise InvalidInput("A task needs at least one assignee.", fields={"assignees": ["required"]})
    return task


def capa_task_complete(*, capa_task: CapaTask, user: User, password: str, comment: str = "",
                       ip: str | None = None) -> CapaTaskAssignee:
    """``user``, an assignee, completes the task: their completion is recorded and signed (meaning
    *completed*, password re-entered). The task is completed when any one assignee has (rule *any*) or
    every assignee has (rule *all*). Publishes ``qms.capa_task.completed`` then."""
    task = capa_task
    if not CapaTaskAssignee.objects.filter(task=task, user=user).exists():
        raise Conflict(f"{user.full_name or user.email} is not an assignee of “{task}”.",
                       fields={"user": ["not an assignee"]})
    confirmation = password_confirm(user=user, password=password, ip=ip)  # before our transaction
    with transaction.atomic():
        locked = CapaTask.objects.select_for_update().get(pk=task.pk)
        _active(locked.capa, "completing its tasks")
        if locked.completed_at is not None:
            raise Conflict(f"Task “{locked}” is already completed.", fields={"completed_at": ["completed"]})
        link = CapaTaskAssignee.objects.get(task=locked, user=user)
        if link.completed_at is not None:
            raise Conflict(f"You already completed “{locked}”.", fields={"user": ["already completed"]})
        now = timezone.now()
        link = record_update(link, version=link.version, data={"completed_at": now}, reason=comment or None)
        signature_write(confirmation=confirmation, record=link, meaning="completed", comment=comment)
        links = list(CapaTaskAssignee.objects.filter(task=locked).values_list("completed_at", flat=True))
        done = any(links) if locked.completion_rule == CompletionRule.ANY else all(links)
        if done:
            record_update(locked, version=locked.version, data={"completed_at": now}, reason=comment or None)
            publish(CapaTaskCompleted(task_id=locked.pk, capa_id=locked.capa_id))
    return link


# ---------- verification ----------

def capa_verify(*, capa: CAPA, user: User, password: str, outcome: str, method: str, notes: str = "",
                ip: str | None = None) -> CapaVerification:
    """Record the verification of a pending CAPA's effectiveness, signed by ``user`` (meaning *verified*).

    *confirmed*: the CAPA may close (critical and major ones after their closure approval);
    *not effective*: it goes back to in progress with a new corrective task for its owner;
    *inconclusive*: it stays pending verification, to verify again. Publishes ``qms.capa.verified``.
    """
    if outcome not in VerificationOutcome.values:
        raise InvalidInput(f"outcome: one of {', '.join(VerificationOutcome.values)}.",
                           fields={"outcome": ["invalid choice"]})
    method = (method or "").strip() if isinstance(method, str) else ""
    if not method:
        raise InvalidInput("method: say how the effectiveness was verified.", fields={"method": ["required"]})
    if capa.state != CapaState.PENDING_VERIFICATION:
        raise Conflict(f"{capa} is {capa.get_state_display().lower()}: it is verified once it is pending "
                       "verification.", fields={"state": [capa.state]})
    confirmation = password_confirm(user=user, password=password, ip=ip)
    with transaction.atomic():
        locked = CAPA.objects.select_for_update().get(pk=capa.pk)
        if locked.state != CapaState.PENDING_VERIFICATION:
            raise Conflict(f"{locked} changed meanwhile; reload it.", fields={"state": [locked.state]})
        verification = record_create(CapaVerification, data={
            "capa": locked, "outcome": outcome, "method": method[:300], "notes": (notes or "").strip(),
            "verified_by": user})
        signature_write(confirmation=confirmation, record=verification, meaning="verified", comment=notes or "")
        publish(CapaVerified(capa_id=locked.pk, verification_id=verification.pk, outcome=outcome))
        if outcome == VerificationOutcome.NOT_EFFECTIVE:
            capa_reopen(capa=locked, reason=f"Verification {verification.pk} found the action not effective: {method}")
            new_task = record_create(CapaTask, data={
                "capa": locked, "kind": TaskKind.CORRECTIVE, "owner": locked.owner,
                "title": f"Act again: verification of {timezone.now():%Y-%m-%d} found the action not effective",
                "description": f"Method: {method}\n{(notes or '').strip()}".strip(), "due_date": locked.due_date})
            CapaTaskAssignee.objects.create(tenant=current_tenant(), task=new_task, user=locked.owner)
    return verification


# ---------- progress and overdue ----------

STAGES = ("root cause identified", "effectiveness confirmed", "closed")


def progress_percent(*, tasks_total: int, tasks_done: int, root_cause: bool, confirmed: bool, closed: bool) -> int:
    """Done items over all items, as a whole percent: each task, and the three ``STAGES``."""
    total = tasks_total + len(STAGES)
    done = tasks_done + int(root_cause) + int(confirmed) + int(closed)
    return round(100 * done / total)


def with_progress(queryset):
    """CAPAs annotated with what their progress is computed from (one query for a list)."""
    latest = CapaVerification.objects.filter(capa=OuterRef("pk")).order_by("-pk").values("outcome")[:1]
    return queryset.annotate(
        tasks_total=Count("tasks", distinct=True),
        tasks_done=Count("tasks", filter=Q(tasks__completed_at__isnull=False), distinct=True),
        has_root_cause=Exists(RootCause.objects.filter(rca__capa=OuterRef("pk"), is_primary=True)),
        latest_outcome=Subquery(latest),
    )


def capa_progress(capa: CAPA) -> int:
    """The CAPA's progress in percent (see the module docstring)."""
    if not hasattr(capa, "tasks_total"):
        capa = with_progress(CAPA.objects.filter(pk=capa.pk)).get()
    return progress_percent(tasks_total=capa.tasks_total, tasks_done=capa.tasks_done,
                            root_cause=capa.has_root_cause,
                            confirmed=capa.latest_outcome == VerificationOutcome.CONFIRMED,
                            closed=capa.state == CapaState.CLOSED)


def capa_is_overdue(capa: CAPA, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return capa.state in CAPA_ACTIVE and capa.due_date is not None and capa.due_date < today


def task_is_overdue(task: CapaTask, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return task.completed_at is None and task.due_date is not None and task.due_date < today


def capas_overdue(today: date | None = None):
    today = today or timezone.localdate()
    return CAPA.objects.filter(state__in=CAPA_ACTIVE, due_date__lt=today, archived_at__isnull=True)


def tasks_overdue(today: date | None = None):
    today = today or timezone.localdate()
    return CapaTask.objects.filter(capa__state__in=CAPA_ACTIVE, completed_at__isnull=True, due_date__lt=today,
                                   archived_at__isnull=True)


def capas_overdue_announce(*, today: date | None = None) -> int:
    """Publish ``qms.capa.overdue`` for each CAPA and ``qms.capa_task.overdue`` for each task of the current
    tenant past its due date, once per record per day however often it runs (``queue.once``). Their
    owners are notified by the handlers. Returns how many were published."""
    from traveler.core.queue import once

    today = today or timezone.localdate()
    tenant = current_tenant()
    published = 0
    with transaction.atomic():
        for pk, number, owner_id, due in capas_overdue(today).order_by("pk").values_list(
                "pk", "number", "owner_id", "due_date"):
            if once(f"qms.capa.overdue:{tenant.pk}:{pk}:{today:%Y-%m-%d}"):
                publish(CapaOverdue(capa_id=pk, number=number, owner_id=owner_id, due_date=due.isoformat(),
                                    day=today.isoformat()))
                published += 1
        for pk, capa_id, number, title, owner_id, due in tasks_overdue(today).order_by("pk").values_list(
                "pk", "capa_id", "capa__number", "title", "owner_id", "due_date"):
            if once(f"qms.capa_task.overdue:{tenant.pk}:{pk}:{today:%Y-%m-%d}"):
                publish(CapaTaskOverdue(task_id=pk, capa_id=capa_id, number=number, title=title, owner_id=owner_id,
                                        due_date=due.isoformat(), day=today.isoformat()))
                published += 1
    return published
