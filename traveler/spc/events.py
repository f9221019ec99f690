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


@event_type
@dataclass(frozen=True)
class SignalRaised(Event):
    """A new SPC signal. ``open_nonconformance`` / ``open_capa``: its reaction plan asks for them (a
    quality module answers with ``qms.spc_signal.answered``); ``owner_id``: who is to own them."""

    name = "spc.signal.raised"
    signal_id: int
    definition_id: int
    label: str
    rule: str
    description: str
    severity: str
    step_id: int | None
    part_ids: list[int]
    open_nonconformance: bool
    open_capa: bool
    owner_id: int | None
    url: str
