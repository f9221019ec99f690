"""Step control's signed records: an inspection sign-off is the inspector's signature of the decision."""

from traveler.core.registry import Signable, declare_signature_meaning, register_signable
from traveler.mes_full.models import StepInspection

declare_signature_meaning("inspected", "Inspected")

register_signable(Signable(model=StepInspection, module="mes_full", permission="mes_full.inspect_part",
                           meanings=("inspected",), generic_signing=False))

# First-piece inspection and overrides: an override is approved by its approver's signature; a
# first-piece waiver goes through an approval request ("fpi waiver").
from traveler.core.registry import (  # noqa: E402
    Approvable,
    declare_approval_template_type,
    register_approvable,
)
from traveler.mes_full.models import FPIRecord, StepOverride  # noqa: E402


def _fpi_page(record) -> str:
    from django.urls import reverse

    return reverse("mes_full:fpi-board") + f"#fpi-{record.pk}"


declare_approval_template_type("fpi_waiver", "FPI waiver")
register_signable(Signable(model=StepOverride, module="mes_full", permission="mes_full.approve_override",
                           meanings=("approved",), generic_signing=False))
register_approvable(Approvable(model=FPIRecord, module="mes_full", permission="mes_full.waive_fpi",
                               template_types=("fpi_waiver",), detail_url=_fpi_page))
