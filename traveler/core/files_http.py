"""Serving a document revision's file: the one place that answers with its bytes (UI and API)."""

from __future__ import annotations

from django.http import FileResponse

from traveler.core.auth import client_ip
from traveler.core.services.documents import document_revision_download

# A preview is a file shown by the browser itself (its PDF viewer, an image), never a page of ours:
# nothing may run in it, and only our own pages may frame it.
PREVIEW_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; " \
                 "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
DOWNLOAD_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"


def revision_file_response(request, revision, *, inline: bool = False) -> FileResponse:
    """The file of ``revision`` (found through ``document_revision_get_for_user``), the download recorded.

    ``inline`` shows PDF and images in the browser (``Content-Disposition: inline``); any other type is
    always an attachment. The Content-Type is the type detected at upload, never the client's.
    """
    inline = inline and revision.previewable
    handle = document_revision_download(revision=revision, ip=client_ip(request), inline=inline)
    response = FileResponse(handle, content_type=revision.media_type, as_attachment=not inline,
                            filename=revision.original_name)
    response["Content-Length"] = str(revision.size)
    response["Cache-Control"] = "private, no-store"  # each view is recorded, and ITAR stays off shared caches
    response["Content-Security-Policy"] = PREVIEW_POLICY if inline else DOWNLOAD_POLICY
    response["X-Frame-Options"] = "SAMEORIGIN" if inline else "DENY"
    response["X-Document-SHA256"] = revision.sha256
    return response
