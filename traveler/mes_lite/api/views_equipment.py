"""Equipment and its calibration over HTTP."""

from __future__ import annotations

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from traveler.core.api.base import RecordServices
from traveler.mes_lite.api import serializers as s
from traveler.mes_lite.api.views import MES, MesRecordViewSet, parsed, reason_of, version_of
from traveler.mes_lite.models import Equipment, EquipmentType
from traveler.mes_lite.services.equipment import equipment_calibrate, equipment_create

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
    services = RecordServices(create=equipment_create)
    extra_permissions = {"calibrate": f"{MES}.change_equipment"}

    def get_queryset(self):
        return super().get_queryset().select_related("equipment_type")

    @extend_schema(request=s.CalibrateInput, responses={200: s.EquipmentSerializer})
    @action(detail=True, methods=["post"])
    def calibrate(self, request, pk=None):
        """Record a calibration; the next due date follows from the equipment type's interval."""
        equipment = self.get_object()
        data = parsed(s.CalibrateInput, request)
        updated = equipment_calibrate(equipment=equipment, version=version_of(request, data),
                                      calibrated_on=data["calibrated_on"], reason=reason_of(request, data))
        return self.out(s.EquipmentSerializer, updated)
