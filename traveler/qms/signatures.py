"""What Quality lets people sign and approve."""

from traveler.core.registry import (
    Approvable,
    Signable,
    declare_approval_template_type,
    declare_signature_meaning,
    register_approvable,
    register_signable,
)
from traveler.qms.models import CAPA, CapaTaskAssignee, CapaVerification

# CAPA: an assignee signs the completion of a task, a verifier the verification of effectiveness, and a
# critical or major CAPA closes through an approval of type capa_closure.
declare_signature_meaning("completed", "Completed")
declare_approval_template_type("capa_closure", "CAPA closure")
register_signable(Signable(model=CapaTaskAssignee, module="qms", permission="qms.change_capa", meanings=("completed",)))
register_signable(Signable(model=CapaVerification, module="qms", permission="qms.change_capa", meanings=("verified",)))
register_approvable(Approvable(model=CAPA, module="qms", permission="qms.change_capa", template_types=("capa_closure",),
                               detail_target="qms.capa.detail"))
