from __future__ import annotations

from django.db import models

from traveler.core.models import TenantModel
from traveler.mes_lite.choices import OrderStatus, WorkOrderStatus


class Order(TenantModel):
    """A customer's order: what the customer follows on its progress page."""

    number = models.CharField(max_length=60)
    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    estimated_completion = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    customer_company_path = "company"

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["tenant", "number"], name="mes_order_unique_number")]

    def __str__(self) -> str:
        return self.number


class WorkOrder(TenantModel):
    """Internal production of a quantity of one part type along one released process."""

    number = models.CharField(max_length=60)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="work_orders")
    part_type = models.ForeignKey("mes_lite.PartType", on_delete=models.PROTECT, related_name="work_orders")
    process = models.ForeignKey("mes_lite.Process", on_delete=models.PROTECT, related_name="work_orders")
    quantity = models.PositiveIntegerField()
    erp_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=WorkOrderStatus.choices, default=WorkOrderStatus.DRAFT)
    expected_completion = models.DateField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    customer_company_path = "order__company"

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="mes_workorder_unique_number"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="mes_workorder_positive_quantity"),
        ]

    def __str__(self) -> str:
        return self.number
