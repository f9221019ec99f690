from traveler.mes_lite.models.equipment import Equipment, EquipmentType, EquipmentUsage
from traveler.mes_lite.models.orders import Order, WorkOrder
from traveler.mes_lite.models.parts import Part, SerialCounter, StepMeasurement, StepTransitionLog
from traveler.mes_lite.models.routing import MeasurementDefinition, PartType, Process, Step, StepEdge

__all__ = [
    "Equipment", "EquipmentType", "EquipmentUsage", "MeasurementDefinition", "Order", "Part", "PartType",
    "Process", "SerialCounter", "Step", "StepEdge", "StepMeasurement", "StepTransitionLog", "WorkOrder",
]
