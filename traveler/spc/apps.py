from traveler.core.modules import ModuleConfig


class SpcConfig(ModuleConfig):
    """Statistical process control: control charts of the traveler's measurements with frozen baselines,
    run rules, capability, acceptance sampling and the calculators."""

    name = "traveler.spc"
    label = "spc"
    verbose_name = "Statistical process control"
    requires = ("core", "mes_lite")
    url_prefix = "spc"
    api_enum_names = {
        "CharacteristicChartTypeEnum": "traveler.spc.choices.ChartType",
        "CalculatorChartTypeEnum": "traveler.spc.stats.analyze.CHART_TYPES",
        "SubgroupingEnum": "traveler.spc.choices.Subgrouping",
        "BaselineStatusEnum": "traveler.spc.choices.BaselineStatus",
        "SignalStatusEnum": "traveler.spc.choices.SignalStatus",
    }
