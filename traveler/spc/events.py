"""Events SPC publishes."""

from dataclasses import dataclass

from traveler.core.eventbus import Event, event_type


@event_type
@dataclass(frozen=True)
class BaselineFrozen(Event):
    name = "spc.baseline.frozen"
    baseline_id: int
    definition_id: int
    superseded_id: int | None
