"""Step control's signed records: an inspection sign-off is the inspector's signature of the decision."""

from traveler.core.registry import Signable, declare_signature_meaning, register_signable
from traveler.mes_full.models import StepInspection

declare_signature_meaning("inspected", "Inspected")

register_signable(Signable(model=StepInspection, module="mes_full", permission="mes_full.inspect_part",
                           meanings=("inspected",), generic_signing=False))
