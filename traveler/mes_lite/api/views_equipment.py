"""Equipment and its calibration over HTTP."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from traveler.core.api.base import RecordServices
from traveler.core.errors import InvalidInput
from traveler.mes_lite.api import serializers as s
from traveler.mes_lite.api.views import MES, MesRecordViewSet, parsed, reason_of, version_of
from traveler.mes_lite.models import Equipment, EquipmentType, EquipmentUsage
from traveler.mes_lite.services.equipment import equipment_calibrate, equipment_create, equipment_update

TAGS = ["mes: equipment"]


@extend_schema(tags=TAGS)
class EquipmentTypeViewSet(MesRecordViewSet):
    """Kinds of equipment and how often they are calibrated."""

    model = EquipmentType
    queryset = EquipmentType.objects.all()
    serializer_class = s.EquipmentTypeSerializer
    input_serializer_class = s.EquipmentTypeInput
    filterset_fields = ["name"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]


class EquipmentFilter(filters.FilterSet):
    calibration_overdue = filters.BooleanFilter(method="filter_overdue", label="Past its calibration due date")

    class Meta:
        model = Equipment
        fields = ["equipment_type", "serial_number"]

    def filter_overdue(self, queryset, name, value):
        overdue = {"next_calibration__lt": timezone.localdate()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


@extend_schema(tags=TAGS)
class EquipmentViewSet(MesRecordViewSet):
    """Gauges, fixtures and machines. Equipment past its calibration due date blocks any advance it
    is used in."""

    model = Equipment
    queryset = Equipment.objects.all()
    serializer_class = s.EquipmentSerializer
    input_serializer_class = s.EquipmentInput
    filterset_class = EquipmentFilter
    search_fields = ["name", "serial_number"]
    ordering_fields = ["name", "serial_number", "next_calibration"]
    services = RecordServices(create=equipment_create, update=equipment_update)
    extra_permissions = {"calibrate": f"{MES}.change_equipment", "usage": f"{MES}.view_equipment"}

    def get_queryset(self):
        return super().get_queryset().select_related("equipment_type")

    @extend_schema(request=s.CalibrateInput, responses={200: s.EquipmentSerializer})
    @action(detail=True, methods=["post"])
    def calibrate(self, request, pk=None):
        """Record a calibration; the next due date follows from the equipment type's interval."""
        equipment = self.get_object()
        data = parsed(s.CalibrateInput, request)
        updated = equipment_calibrate(equipment=equipment, version=version_of(request, data),
                                      calibrated_on=data["calibrated_on"], result=data["result"],
                                      certificate=data["certificate"], reason=reason_of(request, data))
        return self.out(s.EquipmentSerializer, updated)

    @extend_schema(parameters=[
        OpenApiParameter("from", date, description="First day (inclusive, local date); default: 30 days ago."),
        OpenApiParameter("to", date, description="Last day (inclusive, local date); default: today."),
    ], responses={200: s.EquipmentUsageSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def usage(self, request, pk=None):
        """Which parts this equipment measured between two days (inclusive), at which step, by whom, when:
        what to check when a gauge is found out of calibration."""
        equipment = self.get_object()
        query = UsageQuery(data=request.query_params)
        if not query.is_valid():
            raise ValidationError(query.errors)
        params = query.validated_data
        today = timezone.localdate()
        first, last = params.get("from") or today - timedelta(days=30), params.get("to") or today
        if first > last:
            raise InvalidInput("from is after to.", fields={"from": ["after to"]})
        tz = timezone.get_current_timezone()
        usages = (EquipmentUsage.objects.filter(
            equipment=equipment, start_time__gte=datetime.combine(first, time.min, tz),
            start_time__lt=datetime.combine(last + timedelta(days=1), time.min, tz))
            .select_related("equipment", "part", "step", "operator").order_by("start_time", "pk"))
        page = self.paginate_queryset(usages)
        ser = s.EquipmentUsageSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(ser.data)


class UsageQuery(serializers.Serializer):
    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)  # a keyword in Python
        return fields
