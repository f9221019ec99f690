from traveler.core.modules import ModuleConfig


class MesLiteConfig(ModuleConfig):
    """The digital traveler: orders, work orders, routes, serialized parts and their measurements."""

    name = "traveler.mes_lite"
    label = "mes_lite"
    verbose_name = "MES Lite"
    requires = ("core",)
    url_prefix = "mes"
    api_enum_names = {
        "PartStatusEnum": "traveler.mes_lite.choices.PartStatus",
        "ProcessStatusEnum": "traveler.mes_lite.choices.ProcessStatus",
        "OrderStatusEnum": "traveler.mes_lite.choices.OrderStatus",
        "MeasurementKindEnum": "traveler.mes_lite.choices.MeasurementKind",
        "TransitionActionEnum": "traveler.mes_lite.choices.TransitionAction",
        "CalibrationResultEnum": "traveler.mes_lite.choices.CalibrationResult",
    }
