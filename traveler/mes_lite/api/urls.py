"""MES Lite's API, mounted at /api/v1/mes/."""

from rest_framework.routers import SimpleRouter

from traveler.mes_lite.api.views_equipment import EquipmentTypeViewSet, EquipmentViewSet
from traveler.mes_lite.api.views_orders import OrderViewSet, WorkOrderViewSet
from traveler.mes_lite.api.views_parts import MeasurementViewSet, PartViewSet, TransitionViewSet
from traveler.mes_lite.api.views_routing import (
    MeasurementDefinitionViewSet,
    PartTypeViewSet,
    ProcessViewSet,
    StepViewSet,
)

router = SimpleRouter()
router.register("part-types", PartTypeViewSet, basename="part-type")
router.register("processes", ProcessViewSet, basename="process")
router.register("steps", StepViewSet, basename="step")
router.register("measurement-definitions", MeasurementDefinitionViewSet, basename="measurement-definition")
router.register("orders", OrderViewSet, basename="order")
router.register("work-orders", WorkOrderViewSet, basename="work-order")
router.register("parts", PartViewSet, basename="part")
router.register("transitions", TransitionViewSet, basename="transition")
router.register("measurements", MeasurementViewSet, basename="measurement")
router.register("equipment-types", EquipmentTypeViewSet, basename="equipment-type")
router.register("equipment", EquipmentViewSet, basename="equipment")

urlpatterns = router.urls
