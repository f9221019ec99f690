"""SPC's signed records: a baseline is frozen with its approver's signature."""

from traveler.core.registry import Signable, register_signable
from traveler.spc.models import SPCBaseline

register_signable(Signable(model=SPCBaseline, module="spc", permission="spc.freeze_baseline", meanings=("approved",),
                           detail_target="spc.baseline.detail", generic_signing=False))
