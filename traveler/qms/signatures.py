"""What Quality lets people sign and approve: the disposition of a nonconformance (signed
*dispositioned* by who decides it, approved through a disposition or material review template) and
its verification; the completion of a CAPA task, the verification of a CAPA's effectiveness and the
closure of a critical or major CAPA."""

from traveler.core.registry import (
    Approvable,
    Signable,
    declare_approval_template_type,
    declare_signature_meaning,
    register_approvable,
    register_signable,
)
from traveler.qms.models import CAPA, CapaTaskAssignee, CapaVerification, QuarantineDisposition

# Nonconformances -----------------------------------------------------------------------------------

declare_signature_meaning("dispositioned", "Dispositioned")
declare_approval_template_type("nonconformance_disposition", "Nonconformance disposition")
declare_approval_template_type("material_review", "Material review board (use as is)")


def _visible(*, access):
    from traveler.qms.services.nonconformances import nonconformances_visible

    return nonconformances_visible(QuarantineDisposition.objects.all(), access)


def _url(obj) -> str:
    from django.urls import reverse

    return reverse("qms:quarantinedisposition-detail", args=[obj.pk])


register_signable(Signable(model=QuarantineDisposition, module="qms", permission="qms.view_quarantinedisposition",
                           visible=_visible))
register_approvable(Approvable(model=QuarantineDisposition, module="qms",
                               permission="qms.disposition_quarantinedisposition",
                               template_types=("nonconformance_disposition", "material_review"),
                               detail_url=_url, visible=_visible))

# CAPA: an assignee signs the completion of a task, a verifier the verification of effectiveness, and a
# critical or major CAPA closes through an approval of type capa_closure.

declare_signature_meaning("completed", "Completed")
declare_approval_template_type("capa_closure", "CAPA closure")
register_signable(Signable(model=CapaTaskAssignee, module="qms", permission="qms.change_capa", meanings=("completed",)))
register_signable(Signable(model=CapaVerification, module="qms", permission="qms.change_capa", meanings=("verified",)))
register_approvable(Approvable(model=CAPA, module="qms", permission="qms.change_capa", template_types=("capa_closure",),
                               detail_target="qms.capa.detail"))
