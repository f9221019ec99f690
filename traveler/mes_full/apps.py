from traveler.core.modules import ModuleConfig


class MesFullConfig(ModuleConfig):
    """Step control: what must be true before a part may pass a step (requirements, sampling and lot
    acceptance, first-piece inspection, training, calibration), overrides signed by a second person,
    rollbacks, and one execution record per visit of a part at a step."""

    name = "traveler.mes_full"
    label = "mes_full"
    verbose_name = "Step control"
    requires = ("core", "mes_lite")
    optional = ("qms", "spc")
    url_prefix = "mes-full"
    api_enum_names = {
        "RequirementKindEnum": "traveler.mes_full.choices.RequirementKind",
        "ExecutionOutcomeEnum": "traveler.mes_full.choices.ExecutionOutcome",
        "BlockKindEnum": "traveler.mes_full.choices.BlockKind",
        "SamplingRuleKindEnum": "traveler.mes_full.choices.SamplingRuleKind",
        "SamplingModeEnum": "traveler.mes_full.choices.SamplingMode",
        "CalibrationOutcomeEnum": "traveler.mes_full.choices.CalibrationOutcome",  # training and calibration
        # Lot acceptance and rollbacks.
        "Z14SeverityEnum": "traveler.mes_full.models.lots.Severity",
    }
