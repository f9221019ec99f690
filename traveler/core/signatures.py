"""The signature meanings and approval template types the platform itself knows; modules add
theirs in their own ``signatures.py``, with the records they make signable or approvable."""

from traveler.core.registry import declare_approval_template_type, declare_signature_meaning

for _code, _label in (
    ("authored", "Authored"), ("reviewed", "Reviewed"), ("approved", "Approved"), ("rejected", "Rejected"),
    ("verified", "Verified"), ("responsible", "Responsible"), ("delegated", "Delegated"),
):
    declare_signature_meaning(_code, _label)

for _code, _label in (
    ("document_release", "Document release"), ("capa_approval", "CAPA approval"),
    ("nonconformance_disposition", "Nonconformance disposition"), ("eco", "Engineering change (ECO)"),
    ("training_certificate", "Training certificate"),
):
    declare_approval_template_type(_code, _label)
