"""What a customer sees of its parts and orders: its own serializers, chosen field by field.

docs/mes.md, "What a customer sees": no reasons (hold, quarantine, scrap), no measured values, no work
orders, no employees. The views choose these for Customer users, in the API as in the UI.
"""

from __future__ import annotations

from rest_framework import serializers

from traveler.mes_lite.api.serializers import OrderBriefSerializer, StepBriefSerializer
from traveler.mes_lite.models import Part, StepTransitionLog

# What a customer sees: its own serializers, field by field (docs/mes.md, "What a customer sees").
# No reasons (hold, quarantine, scrap), no measured values, no work orders, no employees.


class CustomerPartSerializer(serializers.ModelSerializer):
    part_number = serializers.CharField(source="part_type.part_number", read_only=True)
    current_step_name = serializers.CharField(source="current_step.name", read_only=True, allow_null=True)
    order_number = serializers.CharField(source="order.number", read_only=True, allow_null=True)

    class Meta:
        model = Part
        fields = ["id", "serial_number", "status", "part_type", "part_number", "current_step", "current_step_name",
                  "order", "order_number", "created_at", "updated_at"]
        read_only_fields = fields


class CustomerTransitionSerializer(serializers.ModelSerializer):
    from_step_name = serializers.CharField(source="from_step.name", read_only=True, allow_null=True)
    to_step_name = serializers.CharField(source="to_step.name", read_only=True, allow_null=True)

    class Meta:
        model = StepTransitionLog
        fields = ["action", "from_step_name", "to_step_name", "to_status", "transition_time"]
        read_only_fields = fields


class CustomerRouteEntrySerializer(serializers.Serializer):
    step = StepBriefSerializer()
    state = serializers.ChoiceField(choices=["done", "current", "ahead"])


class CustomerProgressStepSerializer(serializers.Serializer):
    step = StepBriefSerializer()
    in_work = serializers.IntegerField(help_text="Parts at this step not yet completed or scrapped.")


class CustomerOrderProgressSerializer(serializers.Serializer):
    """The tracker as the customer's page shows it: parts per step, completed, scrapped, percent;
    not why parts wait (hold, quarantine) nor the work orders."""

    order = OrderBriefSerializer()
    total = serializers.IntegerField()
    completed = serializers.IntegerField(source="by_status.completed")
    scrapped = serializers.IntegerField(source="by_status.scrapped")
    percent_complete = serializers.FloatField(
        help_text="Completed parts over parts not scrapped (total - scrapped), in percent.")
    steps = CustomerProgressStepSerializer(many=True)


class CustomerTravelerSerializer(serializers.Serializer):
    part = CustomerPartSerializer()
    route = CustomerRouteEntrySerializer(many=True)
    transitions = CustomerTransitionSerializer(many=True)


