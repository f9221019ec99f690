"""The approval workflow: a record a module registers as approvable goes through a template's
approvers; each response is an electronic signature of the record.

States of a request: draft (approvers editable) -> pending -> approved | rejected | cancelled.
Rules, decided here and nowhere else:

* **All required**: approved when every required approver approved.
* **Threshold N**: approved as soon as N approvers approved.
* **Any one**: approved at the first approval.
* A rejection, by any approver, ends the request at once (the requester is told why).
* **Sequential**: approvers take turns by position (optional approvers may respond any time); only
  the approver whose turn it is can respond, and the next one is notified when it is theirs.
* **Delegation** hands one approver's turn to another member who may approve: the delegation is a
  signed response of its own, and the delegate gets a new place beside the one handed over; no row
  is ever changed.
* **Self-approval** (the requester approving their own request) only where the template allows it,
  and then only with a written justification.

The owning module learns the outcome from ``core.approval.approved`` / ``core.approval.rejected``
and acts on its record; core names no module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from traveler.core.access import access_for
from traveler.core.errors import Conflict, InvalidInput, NotFound
from traveler.core.eventbus import publish
from traveler.core.events import ApprovalApproved, ApprovalCancelled, ApprovalRejected, ApprovalRequested
from traveler.core.models import (
    ApprovalApprover,
    ApprovalRequest,
    ApprovalResponse,
    ApprovalTemplate,
    User,
)
from traveler.core.models.approvals import Flow, Order
from traveler.core.registry import Approvable, registry
from traveler.core.services.approval_templates import check_active_member
from traveler.core.services.notifications import notify
from traveler.core.services.records import record_create, record_update
from traveler.core.services.signatures import password_confirm, signature_write
from traveler.core.tenancy import current_tenant

RESPOND_PERMISSION = "core.respond_approvals"
Status = ApprovalRequest.Status
Decision = ApprovalResponse.Decision


# ---------- requests ----------

def approval_requests_visible(queryset, access):
    """``queryset`` without the requests whose record this user may not see (an export-controlled
    document's revision for a member who is not export-cleared): such a request does not exist for them."""
    from django.db.models import CharField
    from django.db.models.functions import Cast

    for spec in registry.approvables.values():
        if spec.visible is None:
            continue
        ct = ContentType.objects.get_for_model(spec.model)
        ids = spec.visible(access=access).annotate(_key=Cast("pk", CharField())).values("_key")
        queryset = queryset.exclude(Q(record_type=ct) & ~Q(record_id__in=ids))
    return queryset


def _sees_record(user: User, record) -> bool:
    from traveler.core.services.signatures import records_visible

    return records_visible(type(record), access_for(user, current_tenant())).filter(pk=record.pk).exists()

def approvable_for(record) -> Approvable:
    approvable = registry.approvables.get(type(record)._meta.label_lower)
    if approvable is None:
        raise InvalidInput(f"{type(record)._meta.verbose_name} records cannot be put through an approval.",
                           fields={"record_type": ["not approvable"]})
    return approvable


def _may_respond(user: User) -> bool:
    return access_for(user, current_tenant()).has(RESPOND_PERMISSION)


def _template_approvers(template: ApprovalTemplate, requester: User | None = None, record=None) -> list[dict]:
    """The template's default approvers as users; a role stands for its active members other than
    the requester (who approves their own request only when named, and the template allows it)."""
    out: list[dict] = []
    seen: set[int] = {requester.pk} if requester is not None else set()
    named = {a.user_id for a in template.approvers.filter(archived_at__isnull=True, user__isnull=False)}
    seen -= named
    for a in template.approvers.filter(archived_at__isnull=True).select_related("user", "role"):
        if a.user_id:
            users = [a.user]
        else:
            users = list(User.objects.filter(
                memberships__tenant_id=current_tenant().pk, memberships__is_active=True,
                memberships__accepted_at__isnull=False, is_active=True,
                memberships__role_links__role=a.role).order_by("full_name"))
        for u in users:
            if a.role_id and record is not None and not _sees_record(u, record):
                continue  # a role's member who may not see this record (not export-cleared) is left out
            if u.pk not in seen:
                seen.add(u.pk)
                out.append({"user": u, "required": a.required, "position": a.position})
    return out


def _record_of(req: ApprovalRequest):
    model = req.record_type.model_class()
    return model.objects.get(pk=req.record_id)


def approval_request_create(*, record, template: ApprovalTemplate, requested_by: User, notes: str = "",
                            approvers: list[dict] | None = None, start: bool = True) -> ApprovalRequest:
    """Put ``record`` through ``template``. Approvers are the template's defaults (roles resolved to
    their members now) unless ``approvers`` is given; with ``start=False`` the request stays a draft
    whose approvers can be edited until ``approval_request_start``."""
    approvable = approvable_for(record)
    if template.is_archived:
        raise InvalidInput("This approval template is archived.", fields={"template": ["archived"]})
    if approvable.template_types and template.template_type not in approvable.template_types:
        raise InvalidInput(
            f"A {template.get_template_type_display() if hasattr(template, 'get_template_type_display') else template.template_type} "
            f"template does not apply to {type(record)._meta.verbose_name} records.", fields={"template": ["wrong type"]})
    ct = ContentType.objects.get_for_model(type(record))
    with transaction.atomic():
        if ApprovalRequest.objects.filter(record_type=ct, record_id=str(record.pk),
                                          status__in=[Status.DRAFT, Status.PENDING]).select_for_update().exists():
            raise Conflict(f"{record} already has an approval under way: finish or cancel it first.")
        req = record_create(ApprovalRequest, data={
            "template": template, "template_type": template.template_type, "flow": template.flow,
            "order": template.order, "threshold": template.threshold, "sla_days": template.sla_days,
            "allow_self_approval": template.allow_self_approval, "record_type": ct, "record_id": str(record.pk),
            "record_label": str(record)[:300], "record_version": getattr(record, "version", 1) or 1,
            "requested_by": requested_by, "notes": notes or "",
        })
        _set_approvers(req, approvers if approvers is not None else _template_approvers(template, requested_by, record))
        if start:
            req = approval_request_start(request=req)
    return req


def _set_approvers(req: ApprovalRequest, approvers: list[dict]) -> None:
    rows, seen = [], set()
    for i, a in enumerate(approvers, start=1):
        user = a.get("user")
        if user is None:
            raise InvalidInput("Each approver needs a user.", fields={"approvers": [f"item {i}: user required"]})
        if user.pk in seen:
            raise InvalidInput(f"{user} is listed twice.", fields={"approvers": [f"item {i}: duplicate"]})
        seen.add(user.pk)
        check_active_member(user, "approvers")
        if not _may_respond(user):
            raise InvalidInput(f"{user} may not approve ({RESPOND_PERMISSION}).", fields={"approvers": [f"item {i}"]})
        if not _sees_record(user, _record_of(req)):
            raise InvalidInput(f"{user} may not see {req.record_label} (export clearance), so cannot approve it.",
                               fields={"approvers": [f"item {i}: cannot see the record"]})
        rows.append(ApprovalApprover(request=req, user=user, required=bool(a.get("required", True)),
                                     position=int(a.get("position") or i)))
    req.approvers.filter(archived_at__isnull=True).update(archived_at=timezone.now())
    ApprovalApprover.objects.bulk_create(rows)


def approval_request_set_approvers(*, request: ApprovalRequest, approvers: list[dict]) -> ApprovalRequest:
    with transaction.atomic():
        req = _locked(request)
        if req.status != Status.DRAFT:
            raise Conflict("The approvers can only be changed before the request starts.")
        _set_approvers(req, approvers)
    return req


def _locked(request: ApprovalRequest) -> ApprovalRequest:
    return ApprovalRequest.objects.select_for_update().select_related("record_type").get(pk=request.pk)


def approval_request_start(*, request: ApprovalRequest) -> ApprovalRequest:
    with transaction.atomic():
        req = _locked(request)
        if req.status != Status.DRAFT:
            raise Conflict(f"This request is {req.get_status_display().lower()}: it has already started.")
        places = _places(req)
        if not places:
            raise InvalidInput(
                f"Nobody can approve this request: the template “{req.template.name}” names no active approver "
                "other than the requester. Name an approver, or add one to the template.",
                fields={"approvers": ["required"]})
        if req.flow == Flow.THRESHOLD and (req.threshold or 0) > len(places):
            raise InvalidInput(f"The template needs {req.threshold} approvals but only {len(places)} approver(s) are named.",
                               fields={"approvers": ["fewer than the threshold"]})
        if req.flow == Flow.ALL_REQUIRED and not any(p.required for p in places):
            raise InvalidInput("Name at least one required approver.", fields={"approvers": ["none required"]})
        now = timezone.now()
        req = record_update(req, version=req.version, data={
            "status": Status.PENDING, "started_at": now, "due_at": now + timedelta(days=req.sla_days)})
        publish(ApprovalRequested(request_id=req.pk, record_type=req.record_type.app_label + "." + req.record_type.model,
                                  record_id=req.record_id, template_type=req.template_type))
        _notify_turn(req, _state(req))
    return req


# ---------- the state of a request ----------

def _places(req: ApprovalRequest) -> list[ApprovalApprover]:
    return list(req.approvers.filter(archived_at__isnull=True).select_related("user").order_by("position", "id"))


@dataclass
class State:
    places: list[ApprovalApprover]
    responses: dict[int, ApprovalResponse]  # by place id
    open_places: list[ApprovalApprover]  # not yet responded
    turn: list[ApprovalApprover]  # the places that may respond now
    approvals: int
    rejection: ApprovalResponse | None
    outcome: str | None  # approved | rejected | None


def _state(req: ApprovalRequest, places: list[ApprovalApprover] | None = None,
           responses: list[ApprovalResponse] | None = None) -> State:
    """Where ``req`` stands; ``places`` and ``responses`` may be given already loaded (lists)."""
    places = _places(req) if places is None else places
    if responses is None:
        responses = list(ApprovalResponse.objects.filter(request=req).select_related(
            "user", "delegated_to", "signature__signer"))
    by_place = {r.approver_id: r for r in responses}
    open_places = [p for p in places if p.pk not in by_place]
    approvals = sum(1 for r in by_place.values() if r.decision == Decision.APPROVED)
    rejection = next((r for r in by_place.values() if r.decision == Decision.REJECTED), None)
    required_open = [p for p in open_places if p.required]
    needed = req.threshold or 1
    if rejection is not None:
        outcome = "rejected"
    elif req.flow == Flow.ALL_REQUIRED:
        outcome = "approved" if not required_open and approvals else None
    elif req.flow == Flow.THRESHOLD:
        outcome = "approved" if approvals >= needed else "rejected" if approvals + len(open_places) < needed else None
    else:
        outcome = "approved" if approvals >= 1 else None
    if req.order != Order.SEQUENTIAL:
        turn = open_places
    elif req.flow == Flow.ALL_REQUIRED:  # required approvers in line; optional ones whenever they like
        turn = required_open[:1] + [p for p in open_places if not p.required]
    else:
        turn = open_places[:1]
    return State(places, by_place, open_places, turn, approvals, rejection, outcome)


def approval_state(request: ApprovalRequest, *, prefetched: bool = False) -> State:
    """Where ``request`` stands. ``prefetched``: its ``approvers`` and ``responses`` were loaded with
    ``approval_prefetch`` (a list of requests then costs no query per request)."""
    if prefetched:
        places = sorted((p for p in request.approvers.all() if p.archived_at is None), key=lambda p: (p.position, p.pk))
        return _state(request, places, list(request.responses.all()))
    return _state(request)


def approval_prefetch(queryset):
    from django.db.models import Prefetch

    return queryset.prefetch_related(
        Prefetch("approvers", queryset=ApprovalApprover.objects.select_related("user")),
        Prefetch("responses", queryset=ApprovalResponse.objects.select_related("user", "signature__signer")))


# ---------- responding ----------

def approval_respond(*, request: ApprovalRequest, user: User, password: str, decision: str, comment: str = "",
                     self_approval_justification: str = "", ip: str | None = None) -> ApprovalResponse:
    """``user`` approves or rejects: a signature of the record (meaning approved / rejected)."""
    if decision not in (Decision.APPROVED, Decision.REJECTED):
        raise InvalidInput("Decide approved or rejected (or delegate).", fields={"decision": ["invalid"]})
    if decision == Decision.REJECTED and not (comment or "").strip():
        raise InvalidInput("Say why you reject: the requester is told.", fields={"comment": ["required to reject"]})
    _precheck(request, user)
    confirmation = password_confirm(user=user, password=password, ip=ip)  # before our transaction: see signatures
    with transaction.atomic():
        req = _locked(request)
        place = _my_turn(req, user)
        self_approval = decision == Decision.APPROVED and user.pk == req.requested_by_id
        justification = (self_approval_justification or "").strip()
        if self_approval:
            if not req.allow_self_approval:
                raise Conflict("You requested this approval: you cannot approve it yourself.")
            if not justification:
                raise InvalidInput("Approving your own request needs a written justification.",
                                   fields={"self_approval_justification": ["required"]})
        record = _record_of(req)
        sig = signature_write(confirmation=confirmation, record=record, meaning=str(decision), comment=comment)
        response = ApprovalResponse.objects.create(
            tenant_id=req.tenant_id, request=req, approver=place, user=user, decision=decision,
            comment=(comment or "").strip(), self_approval=self_approval,
            self_approval_justification=justification if self_approval else "", signature=sig,
            responded_at=sig.signed_at)
        _after_response(req)
    return response


def approval_delegate(*, request: ApprovalRequest, user: User, password: str, to_user: User, reason: str,
                      ip: str | None = None) -> ApprovalResponse:
    """Hand ``user``'s turn to ``to_user`` (who must be allowed to approve); signed and recorded."""
    if not (reason or "").strip():
        raise InvalidInput("Say why you delegate.", fields={"reason": ["required"]})
    if to_user is None or to_user.pk == user.pk:
        raise InvalidInput("Delegate to someone else.", fields={"to_user": ["must be another user"]})
    check_active_member(to_user, "to_user")
    if not _may_respond(to_user):
        raise InvalidInput(f"{to_user} may not approve ({RESPOND_PERMISSION}).", fields={"to_user": ["may not approve"]})
    _precheck(request, user)
    if not _sees_record(to_user, _record_of(request)):
        raise InvalidInput(f"{to_user} may not see {request.record_label} (export clearance), so cannot approve it.",
                           fields={"to_user": ["cannot see the record"]})
    confirmation = password_confirm(user=user, password=password, ip=ip)
    with transaction.atomic():
        req = _locked(request)
        place = _my_turn(req, user)
        if any(p.user_id == to_user.pk and p.pk not in _state(req).responses for p in _places(req)):
            raise Conflict(f"{to_user} already has a place in this approval.")
        sig = signature_write(confirmation=confirmation, record=_record_of(req), meaning="delegated",
                              comment=f"Delegated to {to_user}: {reason.strip()}")
        response = ApprovalResponse.objects.create(
            tenant_id=req.tenant_id, request=req, approver=place, user=user, decision=Decision.DELEGATED,
            comment=reason.strip(), delegated_to=to_user, signature=sig, responded_at=sig.signed_at)
        ApprovalApprover.objects.create(request=req, user=to_user, required=place.required, position=place.position,
                                        delegated_from=place)
        _after_response(req)
    return response


def _precheck(request: ApprovalRequest, user: User) -> None:
    """Refuse what is certain to fail before the password is tried (and counted)."""
    if request.status != Status.PENDING:
        raise Conflict(f"This request is {request.get_status_display().lower()}: it takes no more responses.")
    _my_turn(request, user)


def _my_turn(req: ApprovalRequest, user: User) -> ApprovalApprover:
    if req.status != Status.PENDING:
        raise Conflict(f"This request is {req.get_status_display().lower()}: it takes no more responses.")
    state = _state(req)
    mine = [p for p in state.open_places if p.user_id == user.pk]
    if not mine:
        raise NotFound("You are not an approver of this request, or you have already responded.")
    turn = [p for p in state.turn if p.user_id == user.pk]
    if not turn:
        current = ", ".join(str(p.user) for p in state.turn) or "nobody"
        raise Conflict(f"It is not your turn yet: this approval goes in order and waits for {current}.")
    return turn[0]


def _after_response(req: ApprovalRequest) -> None:
    state = _state(req)
    if state.outcome is None:
        _notify_turn(req, state)
        return
    reason = ""
    if state.outcome == "rejected":
        r = state.rejection
        reason = f"Rejected by {r.user}: {r.comment}" if r else "Not enough approvers left to reach the threshold."
    req = record_update(req, version=req.version, data={
        "status": Status.APPROVED if state.outcome == "approved" else Status.REJECTED,
        "completed_at": timezone.now(), "outcome_reason": reason})
    kind = ApprovalApproved if state.outcome == "approved" else ApprovalRejected
    fields = dict(request_id=req.pk, record_type=f"{req.record_type.app_label}.{req.record_type.model}",
                  record_id=req.record_id, template_type=req.template_type)
    publish(kind(**fields) if kind is ApprovalApproved else kind(**fields, reason=reason))
    notify(recipients=[req.requested_by], kind="core.approval.completed",
           title=f"{req.record_label}: {req.get_status_display().lower()}",
           body=reason or "Every approval needed was given.", url=request_url(req))


def _notify_turn(req: ApprovalRequest, state: State) -> None:
    waiting = [p.user for p in state.turn]
    if waiting:
        notify(recipients=waiting, kind="core.approval.requested", title=f"Your approval: {req.record_label}",
               body=req.notes, url=request_url(req), dedupe_key=f"approval:{req.pk}:turn")


def request_url(req: ApprovalRequest) -> str:
    from django.urls import reverse

    return reverse("core:approval-detail", args=[req.pk])


# ---------- cancelling and escalating ----------

def approval_request_cancel(*, request: ApprovalRequest, user: User, reason: str) -> ApprovalRequest:
    if not (reason or "").strip():
        raise InvalidInput("Say why you cancel the request.", fields={"reason": ["required"]})
    with transaction.atomic():
        req = _locked(request)
        if not req.is_open:
            raise Conflict(f"This request is already {req.get_status_display().lower()}.")
        req = record_update(req, version=req.version, reason=reason.strip(), data={
            "status": Status.CANCELLED, "completed_at": timezone.now(), "outcome_reason": reason.strip()})
        publish(ApprovalCancelled(request_id=req.pk, record_type=f"{req.record_type.app_label}.{req.record_type.model}",
                                  record_id=req.record_id, template_type=req.template_type, reason=reason.strip()))
    return req


def approvals_escalate(*, now=None) -> int:
    """Remind the approvers of every overdue request whose turn it is and tell its requester: once
    per request, person and day (the notices' ``dedupe_key`` carries the date), however often it runs."""
    now = now or timezone.now()
    day = now.date().isoformat()
    sent = 0
    for req in ApprovalRequest.objects.filter(status=Status.PENDING, due_at__lt=now).select_related("requested_by"):
        state = _state(req)
        late = (now - req.due_at).days + 1
        for p in state.turn:
            sent += len(notify(recipients=[p.user], kind="core.approval.overdue",
                               title=f"Overdue: your approval of {req.record_label}",
                               body=f"Due {req.due_at:%Y-%m-%d}, {late} day(s) late.", url=request_url(req),
                               dedupe_key=f"approval:{req.pk}:overdue:{day}"))
        waiting = ", ".join(str(p.user) for p in state.turn) or "nobody"
        sent += len(notify(recipients=[req.requested_by], kind="core.approval.overdue",
                           title=f"Overdue: approval of {req.record_label}",
                           body=f"Waiting for {waiting} since {req.due_at:%Y-%m-%d}.", url=request_url(req),
                           dedupe_key=f"approval:{req.pk}:overdue-requester:{day}"))
    return sent


# ---------- reading ----------

def approvals_for_user(*, user: User, access=None) -> dict[str, list[ApprovalRequest]]:
    """"My approvals": what waits for ``user`` now (overdue first), and what they requested (only
    requests whose record they may see)."""
    access = access or access_for(user, current_tenant())
    waiting_ids = list(ApprovalApprover.objects.filter(
        user=user, archived_at__isnull=True, request__status=Status.PENDING, responses__isnull=True,
    ).values_list("request_id", flat=True))
    candidates = list(approval_requests_visible(ApprovalRequest.objects.filter(pk__in=waiting_ids), access)
                      .select_related("requested_by", "record_type"))
    places: dict[int, list[ApprovalApprover]] = {r.pk: [] for r in candidates}
    for p in ApprovalApprover.objects.filter(request_id__in=places, archived_at__isnull=True).select_related("user") \
            .order_by("position", "id"):
        places[p.request_id].append(p)
    responses: dict[int, list[ApprovalResponse]] = {r.pk: [] for r in candidates}
    for r in ApprovalResponse.objects.filter(request_id__in=responses):
        responses[r.request_id].append(r)
    waiting = [r for r in candidates
               if any(p.user_id == user.pk for p in _state(r, places[r.pk], responses[r.pk]).turn)]
    waiting.sort(key=lambda r: (r.due_at or timezone.now(), r.pk))
    mine = list(approval_requests_visible(ApprovalRequest.objects.filter(requested_by=user), access).filter(
        Q(status__in=[Status.DRAFT, Status.PENDING]) | Q(completed_at__gte=timezone.now() - timedelta(days=30)))
        .select_related("record_type").order_by("-id")[:200])
    return {"waiting": waiting, "requested": mine}
