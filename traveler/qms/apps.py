from traveler.core.modules import ModuleConfig


class QmsConfig(ModuleConfig):
    """Quality management: defect codes and inspection records (quality reports with their results)."""

    name = "traveler.qms"
    label = "qms"
    verbose_name = "Quality"
    requires = ("core", "mes_lite")
    url_prefix = "qms"
    api_enum_names = {
        "QualityReportStatusEnum": "traveler.qms.choices.ReportStatus",
        "QualityReportOriginEnum": "traveler.qms.choices.ReportOrigin",
        "DefectSeverityEnum": "traveler.qms.choices.Severity",
        "CapaTaskKindEnum": "traveler.qms.choices.TaskKind",
        "CapaVerificationOutcomeEnum": "traveler.qms.choices.VerificationOutcome",
    }
