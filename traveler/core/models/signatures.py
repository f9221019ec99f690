from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models


class Signature(models.Model):
    """An electronic signature (21 CFR 11.50, 11.70): who signed which version of which record, when,
    with which meaning, bound to the exact content signed by a SHA-256.

    Append-only: the database refuses UPDATE, DELETE and TRUNCATE (``append_only``), so a signature
    can be neither edited, removed nor moved to another record. ``content`` is the record as signed
    (canonical JSON, see ``services.signatures.canonical``); ``content_hash`` its SHA-256. ``row_hash``
    chains each signature to the tenant's previous one, so ``signatures_verify`` finds a row changed,
    removed or inserted out of band even by the database owner.
    """

    audited = True
    append_only = True

    tenant = models.ForeignKey("core.Tenant", on_delete=models.PROTECT, related_name="+")
    signer = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(max_length=200, help_text="The signer's name as it was at signing.")
    signer_email = models.CharField(max_length=254)
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=50)
    meaning_label = models.CharField(max_length=100)
    comment = models.TextField(blank=True, default="")
    record_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    record_id = models.CharField(max_length=64)
    record_version = models.PositiveIntegerField()
    record_label = models.CharField(max_length=300, help_text="How the record was named at signing.")
    content = models.TextField()
    content_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=20, default="password")
    prev_hash = models.CharField(max_length=64, default="")
    row_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="core_signature_record")]

    def __str__(self) -> str:
        return f"{self.printed_name}, {self.meaning_label}, {self.record_label} v{self.record_version}"
