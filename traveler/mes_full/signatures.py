"""Step control's signed records: an inspection sign-off is the inspector's signature of the decision."""

from traveler.core.registry import Signable, declare_signature_meaning, register_signable
from traveler.mes_full.models import StepInspection

declare_signature_meaning("inspected", "Inspected")

register_signable(Signable(model=StepInspection, module="mes_full", permission="mes_full.inspect_part",
                           meanings=("inspected",), generic_signing=False))

# Training: a training certificate may go through an approval (template type training_certificate);
# the record counts once approved.
from traveler.core.registry import Approvable, declare_approval_template_type, register_approvable  # noqa: E402
from traveler.mes_full.models import TrainingRecord  # noqa: E402

declare_approval_template_type("training_certificate", "Training certificate")


def _training_record_url(obj) -> str:
    from django.urls import reverse

    return reverse("mes_full:trainingrecord-detail", args=[obj.pk])


register_approvable(Approvable(model=TrainingRecord, module="mes_full", permission="mes_full.change_trainingrecord",
                               template_types=("training_certificate",), detail_url=_training_record_url,
                               detail_target="mes_full.trainingrecord.detail"))
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
