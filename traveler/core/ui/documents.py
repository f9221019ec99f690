"""Document control pages: the library, a document's page, upload, transitions, downloads and previews,
and the "Documents" panel on the records of attachable models.

Every page finds documents through ``core.selectors``: a document the user may not see is a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from traveler.core.access import check, visible
from traveler.core.errors import NotFound, TravelerError
from traveler.core.files_http import revision_file_response
from traveler.core.models import Document, DocumentDownload, DocumentRevision, DocumentType, Membership, User
from traveler.core.models.documents import OPEN_STATES, RevisionState
from traveler.core.registry import registry
from traveler.core.selectors import (
    document_get_for_user,
    document_links_for_record,
    document_list_for_user,
    document_revision_get_for_user,
)
from traveler.core.services.documents import (
    attachable_target,
    document_archive,
    document_attach,
    document_create,
    document_detach,
    document_revision_obsolete,
    document_revision_release,
    document_revision_submit,
    document_revision_upload,
    document_update,
)
from traveler.core.services.files import MEDIA_TYPE_NAMES, human_size
from traveler.core.ui.display import format_datetime
from traveler.core.ui.generic import (
    Column,
    RecordArchiveView,
    RecordDetailView,
    RecordFormView,
    RecordHistoryView,
    RecordListView,
    RecordRestoreView,
    ShellView,
    add_service_error,
    record_urls,
)

VIEW, MANAGE, RELEASE = "core.view_documents", "core.manage_documents", "core.release_documents"
DOWNLOADS_SHOWN = 25


def _members():
    from traveler.core.tenancy import current_tenant

    return User.objects.filter(memberships__tenant=current_tenant(), memberships__is_active=True,
                               memberships__accepted_at__isnull=False).order_by("full_name")


class _DocumentPage:
    """What every document page shares: documents come from the selector; the permissions are the
    three document permissions rather than one per action."""

    model = Document
    service_kwarg = "document"
    PERMS = {"view": VIEW, "add": MANAGE, "change": MANAGE, "archive": MANAGE}

    def perm(self, action: str) -> str:
        return self.PERMS[action]

    def get_queryset(self):
        return document_list_for_user(access=self.request.access).select_related(
            "document_type", "owner", "released_revision__document")


def _found(lookup, **kw):
    """A selector's NotFound as the UI's 404 page."""
    try:
        return lookup(**kw)
    except NotFound as exc:
        raise Http404(exc.message) from exc


class DocumentList(_DocumentPage, RecordListView):
    columns = ["number", "title", "document_type", Column("released_revision", "Released revision"),
               "classification", "owner", Column("review_due_at", "Review due")]
    search_fields = ["number", "title"]
    filter_fields = ["classification"]

    def filtered(self):
        qs = super().filtered()
        params = self.request.GET
        if params.get("document_type", "").isdigit():
            qs = qs.filter(document_type_id=int(params["document_type"]))
        if params.get("owner", "").isdigit():
            qs = qs.filter(owner_id=int(params["owner"]))
        if params.get("state") in RevisionState.values:
            qs = qs.filter(revisions__state=params["state"]).distinct()
        if params.get("review") == "due":
            qs = qs.filter(review_due_at__lte=timezone.now())
        return qs

    def filters(self) -> list[dict]:
        get = self.request.GET.get
        types = [(str(t.pk), t.name) for t in DocumentType.objects.filter(archived_at__isnull=True)]
        owners = [(str(u.pk), str(u)) for u in _members()]
        return [
            {"name": "document_type", "label": "Type", "choices": types, "value": get("document_type", "")},
            {"name": "state", "label": "Revision state", "choices": RevisionState.choices, "value": get("state", "")},
            {"name": "owner", "label": "Owner", "choices": owners, "value": get("owner", "")},
            *super().filters(),
            {"name": "review", "label": "Review", "choices": [("due", "Due")], "value": get("review", "")},
        ]


class DocumentForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ["document_type", "title", "classification", "owner", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].queryset = DocumentType.objects.filter(archived_at__isnull=True)
        self.fields["owner"].queryset = _members()
        self.fields["owner"].required = False
        self.fields["owner"].help_text = "Who keeps this document current. Default: you."
        self.fields["classification"].help_text = (
            "ITAR and EAR documents are visible only to users a Tenant Admin has export-cleared.")
        if self.instance.pk:
            self.fields["document_type"].disabled = True
            self.fields["document_type"].help_text = "A document's type (and number) never changes."


class DocumentEdit(_DocumentPage, RecordFormView):
    form_class = DocumentForm
    create_service = document_create
    update_service = document_update

    def changed_data(self, form) -> dict:
        data = super().changed_data(form)
        if not self.is_create:
            data.pop("document_type", None)
        if "owner" in data and data["owner"] is None:
            data.pop("owner")
        return data


class DocumentDetail(_DocumentPage, RecordDetailView):
    template_name = "core/document_detail.html"
    fields = ["number", "title", "document_type", "classification", "owner", "description", "review_due_at"]

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is None:
            return context
        access = self.request.access
        revisions = list(obj.revisions.select_related("uploaded_by", "released_by").order_by("-id"))
        open_rev = next((r for r in revisions if r.state in OPEN_STATES), None)
        rows = [{"r": r, "size": human_size(r.size), "kind": MEDIA_TYPE_NAMES.get(r.media_type, r.media_type),
                 "uploaded": format_datetime(r.created_at),
                 "released": format_datetime(r.released_at) if r.released_at else ""} for r in revisions]
        downloads = (DocumentDownload.objects.filter(revision__document=obj).select_related("revision", "user")
                     [:DOWNLOADS_SHOWN])
        can_manage = access.has(MANAGE) and obj.archived_at is None
        context["signed_revisions"] = revision_signatures(revisions)
        context.update({
            "revisions": rows, "open_revision": open_rev, "released": obj.released_revision,
            "links": attachment_rows(self.request, obj),
            "downloads": [{"d": d, "at": format_datetime(d.at)} for d in downloads],
            "can_upload": can_manage and (open_rev is None or open_rev.state == RevisionState.DRAFT),
            "can_manage": can_manage, "can_release": access.has(RELEASE),
            "requires_approval": obj.document_type.requires_approval,
            "review_due": obj.review_due_at is not None and obj.review_due_at <= timezone.now(),
        })
        return context


class DocumentCover(_DocumentPage, RecordDetailView):
    """The cover sheet PDF: identity, released revision and its SHA-256, revisions, signatures."""

    def get(self, request, *args, **kwargs):
        from django.http import HttpResponse

        from traveler.core.pdf import document_cover_pdf
        from traveler.core.services.signatures import manifestations

        document = self.get_object()
        revisions = list(document.revisions.order_by("-id"))
        rows = [{"r": r, "signatures": manifestations(r)} for r in revisions]
        body = document_cover_pdf(document=document, revisions=rows, tenant=request.tenant.name,
                                  printed_by=request.user.full_name)
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{document.number}-cover.pdf"'
        return response


def revision_signatures(revisions) -> list[dict]:
    """Each revision's signatures (their manifestation) and approval requests, newest revision first."""
    from django.contrib.contenttypes.models import ContentType

    from traveler.core.models import ApprovalRequest
    from traveler.core.services.signatures import manifestations

    ct = ContentType.objects.get_for_model(DocumentRevision)
    requests: dict[str, list] = {}
    for req in ApprovalRequest.objects.filter(record_type=ct, record_id__in=[str(r.pk) for r in revisions]).order_by("-id"):
        requests.setdefault(req.record_id, []).append(req)
    rows = []
    for r in revisions:
        sigs = manifestations(r)
        if sigs or requests.get(str(r.pk)):
            rows.append({"r": r, "signatures": sigs, "requests": requests.get(str(r.pk), [])})
    return rows


def attachment_rows(request, document) -> list[dict]:
    rows = []
    for link in document.links.filter(archived_at__isnull=True).select_related("content_type", "linked_by"):
        model = link.content_type.model_class()
        spec = registry.attachables.get(model._meta.label_lower) if model else None
        record = None
        if spec is not None and request.access.has(spec.permission):
            record = visible(model.objects.filter(pk=link.object_id), request.access).first()
        url = None
        if record is not None:
            app, name = spec.panel_target.split(".")[:2]
            try:
                url = reverse(f"{app}:{name}-detail", args=[record.pk])
            except NoReverseMatch:
                url = None
        rows.append({"link": link, "record": record, "url": url,
                     "kind": model._meta.verbose_name if model else link.content_type.model,
                     "at": format_datetime(link.created_at)})
    return rows


class DocumentArchive(_DocumentPage, RecordArchiveView):
    archive_service = document_archive


class DocumentRestore(_DocumentPage, RecordRestoreView):
    pass


class DocumentHistory(_DocumentPage, RecordHistoryView):
    pass


class UploadForm(forms.Form):
    file = forms.FileField(help_text="PDF, images, DXF, STEP or text; the type is read from the file itself.")
    change_description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                         help_text="What changed in this revision.")


class RevisionUpload(ShellView):
    permission = MANAGE

    def page(self, document, form, status=200):
        from django.conf import settings

        return render(self.request, "core/document_upload.html", {
            "document": document, "form": form, "limit": human_size(settings.TRAVELER_UPLOAD_MAX_BYTES),
            "draft": document.revisions.filter(state=RevisionState.DRAFT).first()}, status=status)

    def get(self, request, pk):
        return self.page(_found(document_get_for_user, access=request.access, pk=pk), UploadForm())

    def post(self, request, pk):
        document = _found(document_get_for_user, access=request.access, pk=pk)
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(document, form, 400)
        upload = form.cleaned_data["file"]
        try:
            revision = document_revision_upload(document=document, content=upload, original_name=upload.name,
                                                change_description=form.cleaned_data["change_description"])
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(document, form, exc.status)
        messages.success(request, f"Revision {revision.label} of {document.number} uploaded as a draft.")
        return HttpResponseRedirect(reverse("core:document-detail", args=[document.pk]))


class RevisionTransition(ShellView):
    """POST: submit, release or make a revision obsolete, back to the document's page."""

    http_method_names = ["post"]
    services = {"submit": (document_revision_submit, MANAGE, "submitted for review"),
                "release": (document_revision_release, RELEASE, "released"),
                "obsolete": (document_revision_obsolete, RELEASE, "made obsolete")}

    def post(self, request, pk, transition):
        service, perm, done = self.services[transition]
        check(request.access, request.user, perm)
        revision = _found(document_revision_get_for_user, access=request.access, pk=pk)
        reason = request.POST.get("reason", "").strip() or None
        try:
            service(revision=revision, reason=reason)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Revision {revision.label} of {revision.document.number} {done}.")
        return HttpResponseRedirect(reverse("core:document-detail", args=[revision.document_id]))


class RevisionFile(ShellView):
    """The file of a revision: ``inline`` shows a PDF or image in the browser; every fetch is recorded."""

    permission = VIEW
    inline = False

    def get(self, request, pk):
        revision = _found(document_revision_get_for_user, access=request.access, pk=pk)
        return revision_file_response(request, revision, inline=self.inline)


def _back(request, fallback: str) -> HttpResponseRedirect:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(nxt)
    return HttpResponseRedirect(fallback)


class DocumentAttach(ShellView):
    """POST from a record's Documents panel: attach the document with the number given."""

    permission = MANAGE
    http_method_names = ["post"]

    def post(self, request):
        number = request.POST.get("number", "").strip()
        object_id = request.POST.get("object_id", "")
        target_label = request.POST.get("target", "")
        try:
            target = attachable_target(target=target_label, object_id=int(object_id) if object_id.isdigit() else 0)
            spec = registry.attachables[type(target)._meta.label_lower]
            check(request.access, request.user, spec.permission)
            if not visible(type(target).objects.filter(pk=target.pk), request.access).exists():
                raise NotFound("No such record.")
            document = document_list_for_user(access=request.access).filter(number__iexact=number).first()
            if document is None:
                raise NotFound(f"No document numbered {number!r}." if number else "Give the document's number.")
            document_attach(document=document, target=target, reason=request.POST.get("reason", ""))
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{document.number} attached.")
        return _back(request, reverse("core:document-list"))


class DocumentDetach(ShellView):
    permission = MANAGE
    http_method_names = ["post"]

    def post(self, request, pk, link_pk):
        document = _found(document_get_for_user, access=request.access, pk=pk)
        link = document.links.filter(pk=link_pk, archived_at__isnull=True).select_related("content_type").first()
        if link is None:
            raise Http404("No such attachment.")
        model = link.content_type.model_class()
        spec = registry.attachables.get(model._meta.label_lower) if model else None
        if spec is not None:
            check(request.access, request.user, spec.permission)
        try:
            document_detach(link=link, reason=request.POST.get("reason", "").strip() or None)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{document.number} detached.")
        return _back(request, reverse("core:document-detail", args=[document.pk]))


def attachments_panel(request, obj) -> str:
    """The "Documents" panel of a record of an attachable model: its documents this user may see."""
    links = list(document_links_for_record(access=request.access, obj=obj).select_related("document__owner"))
    spec = registry.attachables[type(obj)._meta.label_lower]
    return render_to_string("core/panels/documents.html", {
        "links": links, "target": spec.label, "object": obj,
        "can_attach": request.access.has(MANAGE) and getattr(obj, "archived_at", None) is None,
    }, request=request)


class ExportClearance(ShellView):
    """POST on a user's page: clear them for export-controlled documents, or withdraw it, with a reason."""

    permission = "core.set_export_clearance"
    http_method_names = ["post"]

    def post(self, request, pk):
        from traveler.core.services.users import member_set_export_clearance

        m = Membership.objects.filter(tenant=request.tenant, pk=pk).select_related("user").first()
        if m is None:
            raise Http404("No such user.")
        cleared = request.POST.get("cleared") == "true"
        try:
            member_set_export_clearance(membership=m, cleared=cleared, reason=request.POST.get("reason", ""))
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{m.label} is {'now' if cleared else 'no longer'} export-cleared.")
        return HttpResponseRedirect(reverse("core:user-detail", args=[m.pk]))


urlpatterns = [
    *record_urls("documents/", Document, list=DocumentList, detail=DocumentDetail, form=DocumentEdit,
                 archive=DocumentArchive, restore=DocumentRestore, history=DocumentHistory),
    path("documents/<int:pk>/upload/", RevisionUpload.as_view(), name="document-upload"),
    path("documents/<int:pk>/cover.pdf", DocumentCover.as_view(), name="document-cover"),
    path("documents/attach/", DocumentAttach.as_view(), name="document-attach"),
    path("documents/<int:pk>/links/<int:link_pk>/detach/", DocumentDetach.as_view(), name="document-detach"),
    *[path(f"documents/revisions/<int:pk>/{t}/", RevisionTransition.as_view(), {"transition": t},
           name=f"revision-{t}") for t in RevisionTransition.services],
    path("documents/revisions/<int:pk>/download/", RevisionFile.as_view(), name="revision-download"),
    path("documents/revisions/<int:pk>/preview/", RevisionFile.as_view(inline=True), name="revision-preview"),
    path("users/<int:pk>/export-clearance/", ExportClearance.as_view(), name="user-export-clearance"),
]
