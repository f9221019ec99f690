"""What Quality lets people sign and approve: the disposition of a nonconformance (signed
*dispositioned* by who decides it, approved through a disposition or material review template) and
its verification."""

from traveler.core.registry import (
    Approvable,
    Signable,
    declare_approval_template_type,
    declare_signature_meaning,
    register_approvable,
    register_signable,
)
from traveler.qms.models import QuarantineDisposition

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
