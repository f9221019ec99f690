from traveler.core.modules import ModuleConfig


class SpcConfig(ModuleConfig):
    """Statistical process control: control charts, run rules, capability, acceptance sampling."""

    name = "traveler.spc"
    label = "spc"
    verbose_name = "Statistical process control"
    requires = ("core",)
    optional = ("mes_lite",)
