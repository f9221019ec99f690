"""Orders (with the customer's progress page) and work orders (with their board and parts creation).

Customers reach only two pages here: the list of their company's orders and each order's
progress page; ``visible()`` filters every query, so another company's order answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Case, F, IntegerField, Max, Value, When, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst

from traveler.core.access import visible
from traveler.core.errors import Conflict, TravelerError
from traveler.core.ui.generic import (
    RecordDetailView,
    RecordFormView,
    RecordListView,
    RecordView,
    ShellView,
    record_urls,
)
from traveler.mes_lite.choices import ORDER_TRANSITIONS, WORK_ORDER_TRANSITIONS, PartStatus, WorkOrderStatus
from traveler.mes_lite.models import Order, Part, WorkOrder
from traveler.mes_lite.selectors import order_progress, work_order_board
from traveler.mes_lite.services.orders import (
    UNFINISHED_PARTS,
    order_cancel,
    order_complete,
    order_create,
    order_release,
    order_update,
    unfinished_parts_of,
    work_order_cancel,
    work_order_complete,
    work_order_create,
    work_order_create_parts,
    work_order_release,
    work_order_update,
)
from traveler.mes_lite.ui.common import STATUS_BADGES, ActionView, badge_cells, status_badge
from traveler.mes_lite.ui.forms import CreatePartsForm, OrderForm, WorkOrderForm

BOARD_PARTS_PER_STEP = 60
ATTENTION = [PartStatus.QUARANTINED, PartStatus.ON_HOLD, PartStatus.IN_PROCESS, PartStatus.PENDING,
             PartStatus.COMPLETED, PartStatus.SCRAPPED, PartStatus.RETURNED]


def track(board: dict) -> dict:
    """A selector's per-step counts as a horizontal track: what is done, where parts are now, what is ahead."""
    steps = board["steps"]
    by_status = board["by_status"]
    completed = by_status.get(PartStatus.COMPLETED, 0)
    active = board["total"] - by_status.get(PartStatus.SCRAPPED, 0) - by_status.get(PartStatus.RETURNED, 0)
    later = completed
    nodes = []
    for s in reversed(steps):
        here = s["in_work"]
        # active: parts are here; done: every part still to deliver is past it; passed: some are past
        # it, none here; ahead: no part has reached it yet.
        if here:
            state = "active"
        elif active and later >= active:
            state = "done"
        else:
            state = "passed" if later else "ahead"
        nodes.append({**s, "here": here, "passed": later, "state": state,
                      "attention": s["counts"].get(PartStatus.QUARANTINED, 0) + s["counts"].get(PartStatus.ON_HOLD, 0)})
        later += here
    nodes.reverse()
    return {"nodes": nodes, "completed": completed, "active": active, "in_work": active - completed, "total": board["total"],
            "scrapped": by_status.get(PartStatus.SCRAPPED, 0), "percent": board["percent_complete"],
            "finished": bool(active) and completed >= active}


# Orders ----------------------------------------------------------------------------------------


class OrderList(RecordListView):
    model = Order
    columns = ["number", "company", "name", "status", "estimated_completion", "updated_at"]
    search_fields = ["number", "name"]
    filter_fields = ["status"]

    def url(self, kind, obj=None):
        # A customer's rows open the progress page: it is the one order page customers get.
        if kind == "detail" and obj is not None and self.request.access.is_customer:
            return reverse("mes_lite:order-progress", args=[obj.pk])
        return super().url(kind, obj)

    def render(self, context, status=200, template=None):
        badge_cells(context, "status", status_badge)
        return super().render(context, status, template)


class OrderDetail(RecordDetailView):
    model = Order
    template_name = "mes_lite/order_detail.html"
    fields = ["number", "company", "name", "status", "estimated_completion", "completed_at"]

    def get(self, request, *args, **kwargs):
        if request.access.is_customer:
            order = self.get_object()
            return HttpResponseRedirect(reverse("mes_lite:order-progress", args=[order.pk]))
        return super().get(request, *args, **kwargs)

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            can = self.can("change") and obj.archived_at is None
            context.update({
                "status": status_badge(obj),
                "work_orders": obj.work_orders.filter(archived_at__isnull=True).select_related("part_type", "process"),
                "track": track(order_progress(order=obj)),
                "can_release": can and obj.status == "draft",
                "can_complete": can and obj.status in ("released", "in_progress"),
                "can_cancel": can and obj.status in ORDER_TRANSITIONS["cancel"],
                "new_work_order_url": (f"{reverse('mes_lite:workorder-create')}?order={obj.pk}"
                                       if self.request.access.has("mes_lite.add_workorder") else None),
            })
        return context


class OrderEdit(RecordFormView):
    model = Order
    form_class = OrderForm
    create_service = order_create
    update_service = order_update

    def get_form(self, data=None, instance=None):
        form = super().get_form(data, instance)
        wanted = self.request.GET.get("company", "")
        if data is None and instance is None and wanted.isdigit():
            form.initial["company"] = int(wanted)  # "New order" from a company's page
        return form


class OrderRelease(ActionView):
    model = Order
    done = "released"

    def apply(self, obj, reason):
        return order_release(order=obj, reason=reason)


class OrderComplete(ActionView):
    model = Order
    done = "completed"

    def apply(self, obj, reason):
        return order_complete(order=obj, reason=reason)


class CancelView(RecordView):
    """GET: what cancelling means (how many parts are unfinished) and a confirmation with the reason
    and the choice for the unfinished parts. POST: cancel."""

    action = "change"

    def unfinished(self, obj) -> int:
        raise NotImplementedError

    def apply(self, obj, reason: str, unfinished_parts: str):
        raise NotImplementedError

    def page(self, obj, *, error=None, status=200, reason="", choice=""):
        return render(self.request, "mes_lite/cancel_confirm.html", {
            "object": obj, "kind": self.opts.verbose_name, "unfinished": self.unfinished(obj), "error": error,
            "reason": reason, "choice": choice, "choices": UNFINISHED_PARTS.items(),
            "list_url": self.url("list"), "detail_url": self.url("detail", obj),
            "plural": self.opts.verbose_name_plural,
        }, status=status)

    def get(self, request, *args, **kwargs):
        return self.page(self.get_object())

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        reason, choice = request.POST.get("reason", "").strip(), request.POST.get("unfinished_parts", "")
        try:
            obj = self.apply(obj, reason, choice)
        except Conflict as exc:
            messages.error(request, exc.message)
        except TravelerError as exc:
            return self.page(obj, error=exc.message, status=exc.status, reason=reason, choice=choice)
        else:
            messages.success(request, f"{capfirst(str(self.opts.verbose_name))} “{obj}” cancelled.")
        return HttpResponseRedirect(self.url("detail", obj))


class OrderCancel(CancelView):
    model = Order

    def unfinished(self, obj) -> int:
        return unfinished_parts_of(WorkOrder.objects.filter(order=obj).exclude(
            status__in=[WorkOrderStatus.COMPLETED, WorkOrderStatus.CANCELLED])).count()

    def apply(self, obj, reason, unfinished_parts):
        return order_cancel(order=obj, reason=reason, unfinished_parts=unfinished_parts)


class OrderProgress(ShellView):
    """The order's "pizza tracker": where its parts are, percent complete, estimated completion.

    Also the page a Customer user gets for its own orders, so it shows nothing internal to them.
    """

    permission = "mes_lite.view_order"

    def get(self, request, pk):
        access = request.access
        order = get_object_or_404(visible(Order.objects.select_related("company"), access), pk=pk)
        staff = not access.is_customer
        tracks = []
        for wo in order.work_orders.filter(archived_at__isnull=True).select_related("part_type", "process") \
                .order_by("created_at", "pk"):
            tracks.append({"work_order": wo, "track": track(work_order_board(work_order=wo))})
        progress = order_progress(order=order)
        estimate = order.estimated_completion or order.work_orders.filter(archived_at__isnull=True) \
            .aggregate(d=Max("expected_completion"))["d"]
        days = (estimate - timezone.localdate()).days if estimate and not order.completed_at else None
        note = (None if days is None else "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
                if days > 0 else f"{-days} day{'s' if days != -1 else ''} late")
        return render(request, "mes_lite/order_progress.html", {
            "estimate_note": note, "estimate_late": days is not None and days < 0,
            "order": order, "progress": progress, "overall": track(progress), "tracks": tracks,
            "estimate": estimate, "staff": staff, "order_badge": status_badge(order),
            "percent_css": f"{progress['percent_complete']:.1f}",
            "show_work_orders": staff and access.has("mes_lite.view_workorder"),
            "list_url": reverse("mes_lite:order-list"),
            "detail_url": reverse("mes_lite:order-detail", args=[order.pk]) if staff else None,
        })


# Work orders -----------------------------------------------------------------------------------


class WorkOrderList(RecordListView):
    model = WorkOrder
    columns = ["number", "order", "part_type", "process", "quantity", "status", "expected_completion"]
    search_fields = ["number", "erp_id"]
    filter_fields = ["status"]

    def render(self, context, status=200, template=None):
        badge_cells(context, "status", status_badge)
        return super().render(context, status, template)


class WorkOrderDetail(RecordDetailView):
    model = WorkOrder
    template_name = "mes_lite/workorder_detail.html"
    fields = ["number", "order", "part_type", "process", "quantity", "status", "erp_id", "expected_completion",
              "completed_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("order", "part_type", "process")

    parts_form: CreatePartsForm | None = None

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            can = self.can("change") and obj.archived_at is None
            made = Part.objects.filter(work_order=obj).count()
            context.update({
                "track": track(work_order_board(work_order=obj)), "parts_made": made,
                "parts_remaining": obj.quantity - made,
                "can_release": can and obj.status == WorkOrderStatus.DRAFT,
                "can_complete": can and obj.status in (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS),
                "can_cancel": can and obj.status in WORK_ORDER_TRANSITIONS["cancel"],
                "can_create_parts": can and obj.status in (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)
                and made < obj.quantity,
                "parts_form": self.parts_form or CreatePartsForm(),
            })
        return context


class WorkOrderEdit(RecordFormView):
    model = WorkOrder
    form_class = WorkOrderForm
    create_service = work_order_create
    update_service = work_order_update

    def get_form(self, data=None, instance=None):
        form = super().get_form(data, instance)
        wanted = self.request.GET.get("order", "")
        if data is None and instance is None and wanted.isdigit():
            form.initial["order"] = int(wanted)
        return form

    def changed_data(self, form):
        data = super().changed_data(form)
        if "process" in data and data["process"] is not None:
            data["part_type"] = data["process"].part_type  # the route decides what is made
        return data


class WorkOrderRelease(ActionView):
    model = WorkOrder
    done = "released: create its parts next"

    def apply(self, obj, reason):
        return work_order_release(work_order=obj, reason=reason)


class WorkOrderComplete(ActionView):
    model = WorkOrder
    done = "completed"

    def apply(self, obj, reason):
        return work_order_complete(work_order=obj, reason=reason)


class WorkOrderCancel(CancelView):
    model = WorkOrder

    def unfinished(self, obj) -> int:
        return unfinished_parts_of(obj).count()

    def apply(self, obj, reason, unfinished_parts):
        return work_order_cancel(work_order=obj, reason=reason, unfinished_parts=unfinished_parts)


class WorkOrderCreateParts(WorkOrderDetail):
    """POST the serial-number pattern: the parts are created at the first step of the route."""

    action = "change"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        wo = self.get_object()
        form = CreatePartsForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                parts = work_order_create_parts(work_order=wo, pattern=form.cleaned_data["pattern"],
                                                quantity=form.cleaned_data["quantity"])
            except TravelerError as exc:
                field = next((f for f in ("pattern", "quantity") if f in exc.fields), None)
                form.add_error(field, exc.message)
                status = exc.status
            else:
                messages.success(request, f"{len(parts)} parts created: {parts[0].serial_number} to "
                                          f"{parts[-1].serial_number}.")
                return HttpResponseRedirect(self.url("detail", wo))
        self.parts_form = form  # the work order's page again, with the form's errors
        response = super().get(request, *args, **kwargs)
        response.status_code = status
        return response


class WorkOrderBoard(ShellView):
    """Parts of a work order per step and status; each part links to its traveler."""

    permission = "mes_lite.view_workorder"

    def get(self, request, pk):
        access = request.access
        wo = get_object_or_404(visible(WorkOrder.objects.select_related("part_type", "process", "order"), access),
                               pk=pk)
        board = work_order_board(work_order=wo)
        rank = Case(*[When(status=s, then=Value(i)) for i, s in enumerate(ATTENTION)], output_field=IntegerField())
        parts = (Part.objects.filter(work_order=wo, archived_at__isnull=True)
                 .annotate(rank=rank, row=Window(RowNumber(), partition_by=[F("current_step_id")],
                                                 order_by=[rank.asc(), F("serial_number").asc()]))
                 .filter(row__lte=BOARD_PARTS_PER_STEP).order_by("current_step_id", "rank", "serial_number"))
        by_step: dict[int | None, list] = {}
        for p in parts:
            p.badge = STATUS_BADGES.get(p.status, "")
            by_step.setdefault(p.current_step_id, []).append(p)
        nodes = track(board)["nodes"]
        columns = []
        for node in nodes:
            total = sum(node["counts"].values())
            columns.append({**node, "parts": by_step.get(node["step"]["id"], []), "total": total,
                            "more": max(0, total - BOARD_PARTS_PER_STEP)})
        return render(request, "mes_lite/workorder_board.html", {
            "wo": wo, "board": board, "columns": columns, "wo_badge": status_badge(wo),
            "summary": [{"label": label, "count": board["by_status"].get(value, 0), "badge": STATUS_BADGES[value]}
                        for value, label in PartStatus.choices],
            "can_view_parts": access.has("mes_lite.view_part") and access.has("mes_lite.view_transition"),
            "list_url": reverse("mes_lite:workorder-list"),
        })


urlpatterns = [
    *record_urls("orders/", Order, list=OrderList, detail=OrderDetail, form=OrderEdit, archive=True,
                 restore=True, history=True),
    path("orders/<int:pk>/progress/", OrderProgress.as_view(), name="order-progress"),
    path("orders/<int:pk>/release/", OrderRelease.as_view(), name="order-release"),
    path("orders/<int:pk>/complete/", OrderComplete.as_view(), name="order-complete"),
    path("orders/<int:pk>/cancel/", OrderCancel.as_view(), name="order-cancel"),
    *record_urls("work-orders/", WorkOrder, list=WorkOrderList, detail=WorkOrderDetail, form=WorkOrderEdit,
                 archive=True, restore=True, history=True),
    path("work-orders/<int:pk>/board/", WorkOrderBoard.as_view(), name="workorder-board"),
    path("work-orders/<int:pk>/release/", WorkOrderRelease.as_view(), name="workorder-release"),
    path("work-orders/<int:pk>/complete/", WorkOrderComplete.as_view(), name="workorder-complete"),
    path("work-orders/<int:pk>/cancel/", WorkOrderCancel.as_view(), name="workorder-cancel"),
    path("work-orders/<int:pk>/create-parts/", WorkOrderCreateParts.as_view(), name="workorder-create-parts"),
]
