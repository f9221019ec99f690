from traveler.core.modules import ModuleConfig


class MesLiteConfig(ModuleConfig):
    """The digital traveler: orders, work orders, routes, serialized parts and their measurements."""

    name = "traveler.mes_lite"
    label = "mes_lite"
    verbose_name = "MES Lite"
    requires = ("core",)
    url_prefix = "mes"
