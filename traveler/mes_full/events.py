"""Events step control publishes."""

from dataclasses import dataclass

from traveler.core.eventbus import Event, event_type

# Calibration -----------------------------------------------------------------------------------------


@event_type
@dataclass(frozen=True)
class CalibrationSuspectsReported(Event):
    """A failed calibration's suspect parts (measured with the equipment since its last passing
    calibration) are reported to Quality, which opens one nonconformance for them (once)."""

    name = "mes_full.calibration.suspects_reported"
    calibration_id: int
    equipment_id: int
    equipment: str
    calibrated_on: str
    since: str | None
    part_ids: list[int]
    url: str
