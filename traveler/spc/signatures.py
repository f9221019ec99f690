"""SPC's signed records: a baseline is frozen with its approver's signature; a signal is
acknowledged with a signature (which releases a step its reaction plan stopped)."""

from traveler.core.registry import Signable, declare_signature_meaning, register_signable
from traveler.spc.models import SPCBaseline, SPCSignal

declare_signature_meaning("acknowledged", "Acknowledged")

register_signable(Signable(model=SPCBaseline, module="spc", permission="spc.freeze_baseline", meanings=("approved",),
                           detail_target="spc.baseline.detail", generic_signing=False))
register_signable(Signable(model=SPCSignal, module="spc", permission="spc.handle_signal", meanings=("acknowledged",),
                           detail_target="spc.spcsignal.detail", generic_signing=False))
