"""Orders and work orders over HTTP: their lifecycles, an order's progress, a work order's board,
creating a work order's parts and advancing many of them at once."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action

from traveler.core.api.base import RecordServices
from traveler.mes_lite.api import customer_serializers as cs
from traveler.mes_lite.api import serializers as s
from traveler.mes_lite.api.views import MES, MesRecordViewSet, parsed, reason_of
from traveler.mes_lite.models import Order, WorkOrder
from traveler.mes_lite.selectors import order_progress, work_order_board
from traveler.mes_lite.services import orders as order_services
from traveler.mes_lite.services.parts import parts_advance_bulk

TAGS = ["mes: orders"]


class OrderFilter(filters.FilterSet):
    class Meta:
        model = Order
        fields = {"number": ["exact", "icontains"], "status": ["exact"], "company": ["exact"]}


@extend_schema(tags=TAGS)
class OrderViewSet(MesRecordViewSet):
    """Customer orders. Customer users see their own company's orders only (read-only)."""

    model = Order
    queryset = Order.objects.all()
    serializer_class = s.OrderSerializer
    input_serializer_class = s.OrderInput
    filterset_class = OrderFilter
    search_fields = ["number", "name"]
    ordering_fields = ["number", "status", "estimated_completion", "created_at"]
    services = RecordServices(create=order_services.order_create, update=order_services.order_update)
    extra_permissions = {
        "release": f"{MES}.change_order",
        "complete": f"{MES}.change_order",
        "cancel": f"{MES}.change_order",
        "progress": f"{MES}.view_order",
    }

    def get_queryset(self):
        return super().get_queryset().select_related("company")

    @extend_schema(request=s.MesReasonInput, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Release a draft order to production. Publishes ``mes.order.released``."""
        order = self.get_object()
        data = parsed(s.MesReasonInput, request)
        return self.out(s.OrderSerializer, order_services.order_release(order=order, reason=reason_of(request, data)))

    @extend_schema(request=s.MesReasonInput, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Complete an order whose work orders are all completed or cancelled (409 naming them otherwise)."""
        order = self.get_object()
        data = parsed(s.MesReasonInput, request)
        return self.out(s.OrderSerializer, order_services.order_complete(order=order, reason=reason_of(request, data)))

    @extend_schema(request=s.CancelInput, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an order and each of its open work orders, their unfinished parts scrapped or put on hold
        as ``unfinished_parts`` says; all or nothing. Publishes ``mes.order.cancelled``."""
        order = self.get_object()
        data = parsed(s.CancelInput, request)
        return self.out(s.OrderSerializer, order_services.order_cancel(
            order=order, reason=data["reason"], unfinished_parts=data["unfinished_parts"],
            version=data.get("version")))

    @extend_schema(responses={200: s.OrderProgressSerializer},
                   description="Customers get CustomerOrderProgressSerializer: parts per step, completed, "
                               "scrapped and percent, as their tracker page shows them.")
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        """The order's parts per step and status: where the order stands (the "pizza tracker")."""
        progress = order_progress(order=self.get_object())
        if request._request.access.is_customer:
            return self.out(cs.CustomerOrderProgressSerializer, progress)
        return self.out(s.OrderProgressSerializer, progress)


class WorkOrderFilter(filters.FilterSet):
    class Meta:
        model = WorkOrder
        fields = {"number": ["exact", "icontains"], "status": ["exact"], "order": ["exact"],
                  "part_type": ["exact"], "process": ["exact"], "erp_id": ["exact"]}


@extend_schema(tags=TAGS)
class WorkOrderViewSet(MesRecordViewSet):
    """Production of a quantity of one part type along a released process."""

    model = WorkOrder
    queryset = WorkOrder.objects.all()
    serializer_class = s.WorkOrderSerializer
    input_serializer_class = s.WorkOrderInput
    filterset_class = WorkOrderFilter
    search_fields = ["number", "erp_id"]
    ordering_fields = ["number", "status", "expected_completion", "created_at"]
    services = RecordServices(create=order_services.work_order_create, update=order_services.work_order_update)
    extra_permissions = {
        "release": f"{MES}.change_workorder",
        "complete": f"{MES}.change_workorder",
        "cancel": f"{MES}.change_workorder",
        "create_parts": f"{MES}.change_workorder",
        "board": f"{MES}.view_workorder",
        "advance_parts": f"{MES}.advance_part",
    }

    def get_queryset(self):
        return super().get_queryset().select_related("order", "part_type", "process")

    @extend_schema(request=s.MesReasonInput, responses={200: s.WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Release a draft work order (its order is released with it). Publishes ``mes.work_order.released``."""
        wo = self.get_object()
        data = parsed(s.MesReasonInput, request)
        return self.out(s.WorkOrderSerializer,
                        order_services.work_order_release(work_order=wo, reason=reason_of(request, data)))

    @extend_schema(request=s.MesReasonInput, responses={200: s.WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Complete a work order whose parts are all completed or scrapped."""
        wo = self.get_object()
        data = parsed(s.MesReasonInput, request)
        return self.out(s.WorkOrderSerializer,
                        order_services.work_order_complete(work_order=wo, reason=reason_of(request, data)))

    @extend_schema(request=s.CancelInput, responses={200: s.WorkOrderSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a work order; its unfinished parts are scrapped (``scrap``) or put on hold, released from
        production (``release``); all or nothing. Publishes ``mes.work_order.cancelled``."""
        wo = self.get_object()
        data = parsed(s.CancelInput, request)
        return self.out(s.WorkOrderSerializer, order_services.work_order_cancel(
            work_order=wo, reason=data["reason"], unfinished_parts=data["unfinished_parts"],
            version=data.get("version")))

    @extend_schema(request=s.CreatePartsInput, responses={201: s.CreatePartsResult})
    @action(detail=True, methods=["post"], url_path="create-parts")
    def create_parts(self, request, pk=None):
        """Create serialized parts at the first step of the route, serial numbers from a pattern.
        A pattern that cannot give unique serial numbers is refused (400) and nothing is created."""
        wo = self.get_object()
        data = parsed(s.CreatePartsInput, request)
        parts = order_services.work_order_create_parts(work_order=wo, pattern=data["pattern"],
                                                       quantity=data.get("quantity"), reason=reason_of(request, data))
        wo.refresh_from_db()
        result = {"created": len(parts), "first_serial": parts[0].serial_number,
                  "last_serial": parts[-1].serial_number, "work_order": wo}
        return self.out(s.CreatePartsResult, result, status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.WorkOrderBoardSerializer})
    @action(detail=True, methods=["get"])
    def board(self, request, pk=None):
        """The work order's parts per step and status."""
        return self.out(s.WorkOrderBoardSerializer, work_order_board(work_order=self.get_object()))

    @extend_schema(request=s.BulkAdvanceInput, responses={200: s.BulkAdvanceResult})
    @action(detail=True, methods=["post"], url_path="advance-parts")
    def advance_parts(self, request, pk=None):
        """Advance many parts of this work order at one step: all of them or none. Out-of-spec parts are
        quarantined (counted, not an error); any bad entry refuses the whole call and names it."""
        wo = self.get_object()
        data = parsed(s.BulkAdvanceInput, request)
        counts = parts_advance_bulk(work_order=wo, step=data["step"], parts=data["parts"],
                                    equipment=data["equipment"], note=data["note"])
        return self.out(s.BulkAdvanceResult, counts)
