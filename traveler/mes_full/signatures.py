"""Step control's signed records: an inspection sign-off is the inspector's signature of the decision."""

from traveler.core.registry import Signable, declare_signature_meaning, register_signable
from traveler.mes_full.models import StepInspection

declare_signature_meaning("inspected", "Inspected")

register_signable(Signable(model=StepInspection, module="mes_full", permission="mes_full.inspect_part",
                           meanings=("inspected",), generic_signing=False))

# Rollbacks go through an approval of their own type; approvers sign the rollback.
from traveler.core.registry import Approvable, declare_approval_template_type, register_approvable  # noqa: E402
from traveler.mes_full.models import StepRollback  # noqa: E402


def _rollback_url(obj) -> str:
    from django.urls import reverse

    return reverse("mes_full:steprollback-detail", args=[obj.pk])


declare_approval_template_type("step_rollback", "Step rollback")
register_approvable(Approvable(model=StepRollback, module="mes_full", permission="mes_full.request_steprollback",
                               template_types=("step_rollback",), detail_url=_rollback_url,
                               detail_target="mes_full.steprollback.detail"))
