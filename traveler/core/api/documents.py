"""Document control API: /api/v1/core/documents/, document-types/, document-revisions/.

Every look-up goes through ``core.selectors``: a document the user may not see (an ITAR document for a
user who is not export-cleared, anything for a customer) answers 404 as if it did not exist.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from traveler.core.access import visible
from traveler.core.api.base import (
    ChangeInput,
    InputSerializer,
    RecordReadOnlyViewSet,
    RecordSerializer,
    RecordServices,
    RecordWriteViewSet,
    SlugRelatedField,
)
from traveler.core.errors import InvalidInput, NotFound
from traveler.core.files_http import revision_file_response
from traveler.core.models import Document, DocumentLink, DocumentRevision, DocumentType, Membership
from traveler.core.models.documents import Classification, RevisionState
from traveler.core.registry import registry
from traveler.core.selectors import document_list_for_user, document_revision_list_for_user
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
from traveler.core.services.files import MEDIA_TYPE_NAMES
from traveler.core.tenancy import current_tenant

VIEW, MANAGE, RELEASE = "core.view_documents", "core.manage_documents", "core.release_documents"
# What a download may answer: every type upload detection knows (the allow list is a setting).
FILE_MEDIA_TYPES = tuple(MEDIA_TYPE_NAMES)


class DocumentPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")


class DocumentTypeSerializer(RecordSerializer):
    class Meta:
        model = DocumentType
        fields = ["id", "code", "name", "numbering_pattern", "requires_approval", "review_months", "version",
                  "created_at", "updated_at", "archived_at"]


class RevisionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentRevision
        fields = ["id", "label", "state", "released_at"]


class DocumentSerializer(RecordSerializer):
    document_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = DocumentPersonSerializer(read_only=True)
    released_revision = RevisionSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Document
        fields = ["id", "number", "title", "document_type", "classification", "owner", "description",
                  "released_revision", "review_due_at", "version", "created_at", "updated_at", "archived_at"]


def _owner(pk: int):
    m = Membership.objects.filter(tenant=current_tenant(), user_id=pk, is_active=True, accepted_at__isnull=False).select_related("user").first()
    if m is None:
        raise InvalidInput(f"No active member with id {pk}.", fields={"owner": ["not a member"]})
    return m.user


class DocumentInput(ChangeInput, InputSerializer):
    document_type = SlugRelatedField(slug_field="code", queryset=DocumentType.objects.filter(
        archived_at__isnull=True), help_text="The type's code (SOP, DWG, ...). Set on create; never changes.")
    title = serializers.CharField(max_length=200)
    classification = serializers.ChoiceField(choices=Classification.choices, required=False)
    owner = serializers.IntegerField(required=False, help_text="A member's user id; default: you.")
    description = serializers.CharField(required=False, allow_blank=True)

    def validate_owner(self, value):
        return _owner(value)

    def validate(self, attrs):
        if self.instance is not None and "document_type" in attrs:
            if attrs.pop("document_type") != self.instance.document_type:
                raise serializers.ValidationError({"document_type": ["A document's type never changes."]})
        return attrs


class RevisionSerializer(RecordSerializer):
    document = serializers.PrimaryKeyRelatedField(read_only=True)
    number = serializers.CharField(source="document.number", read_only=True)
    uploaded_by = DocumentPersonSerializer(read_only=True)
    released_by = DocumentPersonSerializer(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DocumentRevision
        fields = ["id", "document", "number", "label", "state", "original_name", "media_type", "size", "sha256",
                  "change_description", "uploaded_by", "submitted_at", "released_at", "released_by", "closed_at",
                  "download_url", "version", "created_at", "updated_at", "archived_at"]

    def get_download_url(self, obj) -> str:
        return f"/api/v1/core/document-revisions/{obj.pk}/download/"


class UploadInput(InputSerializer):
    file = serializers.FileField(help_text="The revision's file; its media type is detected from the content.")
    change_description = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class LinkSerializer(serializers.ModelSerializer):
    target = serializers.SerializerMethodField()
    linked_by = DocumentPersonSerializer(read_only=True)

    class Meta:
        model = DocumentLink
        fields = ["id", "document", "target", "object_id", "linked_by", "reason", "created_at", "archived_at"]

    def get_target(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class AttachInput(InputSerializer):
    target = serializers.CharField(help_text="The model's label, e.g. mes_lite.part (see the attachable models).")
    object_id = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class DetachInput(InputSerializer):
    link = serializers.IntegerField(help_text="The id of the attachment (from .../links/).")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class TransitionInput(InputSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   help_text="Why: stored in the revision's history (required to make obsolete).")


class DocumentTypeViewSet(RecordReadOnlyViewSet):
    """The tenant's document types: how documents are numbered, approved and reviewed."""

    model = DocumentType
    queryset = DocumentType.objects.all()
    serializer_class = DocumentTypeSerializer
    view_permission = VIEW
    filterset_fields = ["code", "requires_approval"]


class DocumentViewSet(RecordWriteViewSet):
    """Controlled documents. ``POST .../revisions/`` (multipart) uploads a draft revision; attach and
    detach link a document to a record of an attachable model."""

    model = Document
    queryset = Document.objects.all()
    serializer_class = DocumentSerializer
    input_serializer_class = DocumentInput
    service_kwarg = "document"
    services = RecordServices(create=document_create, update=document_update, archive=document_archive)
    filterset_fields = ["classification", "owner"]
    search_fields = ["number", "title"]
    ordering_fields = ["number", "title", "review_due_at", "updated_at"]

    @property
    def permission_map(self) -> dict[str, str]:
        return {"list": VIEW, "retrieve": VIEW, "history": VIEW, "links": VIEW, "create": MANAGE,
                "update": MANAGE, "partial_update": MANAGE, "archive": MANAGE, "restore": MANAGE,
                "revisions": VIEW if self.request.method == "GET" else MANAGE, "attach": MANAGE, "detach": MANAGE}

    def get_queryset(self):
        qs = document_list_for_user(access=self.request._request.access).select_related(
            "document_type", "owner", "released_revision")
        params = self.request.query_params
        if self.action == "list":
            if params.get("archived") not in ("true", "1", "all"):
                qs = qs.filter(archived_at__isnull=True)
            if params.get("document_type"):
                qs = qs.filter(document_type__code=params["document_type"])
            if params.get("state"):
                qs = qs.filter(revisions__state=params["state"]).distinct()
            if params.get("review_due") in ("true", "1"):
                from django.utils import timezone

                qs = qs.filter(review_due_at__lte=timezone.now())
        return qs.order_by("number", "pk")

    @extend_schema(parameters=[
        OpenApiParameter("document_type", str, description="A type's code."),
        OpenApiParameter("state", str, enum=RevisionState.values, description="Has a revision in this state."),
        OpenApiParameter("review_due", bool, description="Only documents whose periodic review is due."),
        OpenApiParameter("archived", str, description="true: include archived documents."),
    ])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(methods=["GET"], responses=RevisionSerializer(many=True))
    @extend_schema(methods=["POST"], request={"multipart/form-data": UploadInput}, responses={201: RevisionSerializer})
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser], pagination_class=None)
    def revisions(self, request: Request, *args, **kwargs) -> Response:
        """GET: the document's revisions, newest first. POST (multipart): upload a file as a draft revision
        (or replace the file of the current draft)."""
        document = self.get_object()
        if request.method == "GET":
            rows = document.revisions.select_related("uploaded_by", "released_by", "document").order_by("-id")
            return Response(RevisionSerializer(rows, many=True, context=self.get_serializer_context()).data)
        ser = UploadInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        upload = d["file"]
        revision = document_revision_upload(document=document, content=upload, original_name=upload.name,
                                            change_description=d.get("change_description", ""),
                                            reason=d.get("reason") or None)
        return self.out(RevisionSerializer, revision, status.HTTP_201_CREATED)

    @extend_schema(responses=LinkSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def links(self, request: Request, *args, **kwargs) -> Response:
        """The records this document is attached to (active attachments)."""
        document = self.get_object()
        rows = document.links.filter(archived_at__isnull=True).select_related("content_type", "linked_by")
        return Response(LinkSerializer(rows, many=True).data)

    def _check_target_permission(self, request, target_model) -> None:
        spec = registry.attachables[target_model._meta.label_lower]
        if not request._request.access.has(spec.permission):
            raise PermissionDenied(f"You do not have the permission {spec.permission}.")

    @extend_schema(request=AttachInput, responses={201: LinkSerializer})
    @action(detail=True, methods=["post"])
    def attach(self, request: Request, *args, **kwargs) -> Response:
        """Attach this document to a record (``target`` is a model registered as attachable)."""
        document = self.get_object()
        ser = AttachInput(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        target = attachable_target(target=d["target"], object_id=d["object_id"])
        self._check_target_permission(request, type(target))
        if not visible(type(target).objects.filter(pk=target.pk), request._request.access).exists():
            raise NotFound(f"No {type(target)._meta.verbose_name} with id {target.pk}.")
        link = document_attach(document=document, target=target, reason=d.get("reason", ""))
        return Response(LinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DetachInput, responses={200: LinkSerializer})
    @action(detail=True, methods=["post"])
    def detach(self, request: Request, *args, **kwargs) -> Response:
        """Detach: the attachment is archived, with the reason in its history."""
        document = self.get_object()
        ser = DetachInput(data=request.data)
        ser.is_valid(raise_exception=True)
        link = document.links.filter(pk=ser.validated_data["link"], archived_at__isnull=True).select_related(
            "content_type").first()
        if link is None:
            raise InvalidInput(f"{document.number} has no attachment {ser.validated_data['link']}.",
                               fields={"link": ["not found"]})
        self._check_target_permission(request, link.content_type.model_class())
        link = document_detach(link=link, reason=ser.validated_data.get("reason") or None)
        return Response(LinkSerializer(link).data)


class DocumentRevisionViewSet(RecordReadOnlyViewSet):
    """Revisions of the documents you may see: submit, release, make obsolete, download."""

    model = DocumentRevision
    queryset = DocumentRevision.objects.all()
    serializer_class = RevisionSerializer
    view_permission = VIEW
    extra_permissions = {"submit": MANAGE, "release": RELEASE, "obsolete": RELEASE, "download": VIEW}
    filterset_fields = ["document", "state"]

    def get_queryset(self):
        return (document_revision_list_for_user(access=self.request._request.access)
                .select_related("document", "uploaded_by", "released_by").order_by("-id"))

    def _transition(self, request, service, **kw) -> Response:
        revision = self.get_object()
        ser = TransitionInput(data=request.data if isinstance(request.data, dict) else {})
        ser.is_valid(raise_exception=True)
        revision = service(revision=revision, reason=ser.validated_data.get("reason") or None, **kw)
        return self.out(RevisionSerializer, revision)

    @extend_schema(request=TransitionInput, responses=RevisionSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, *args, **kwargs) -> Response:
        """Draft -> in review."""
        return self._transition(request, document_revision_submit)

    @extend_schema(request=TransitionInput, responses=RevisionSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request: Request, *args, **kwargs) -> Response:
        """In review -> released, superseding the revision released before. Refused (409) for a type that
        requires approval: those are released by their approval."""
        return self._transition(request, document_revision_release)

    @extend_schema(request=TransitionInput, responses=RevisionSerializer)
    @action(detail=True, methods=["post"])
    def obsolete(self, request: Request, *args, **kwargs) -> Response:
        """Withdraw the revision (a reason is required)."""
        return self._transition(request, document_revision_obsolete)

    @extend_schema(
        parameters=[OpenApiParameter("inline", bool, description="Show a PDF or image in the browser.")],
        responses={(200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The file, as uploaded.")
                   for media_type in FILE_MEDIA_TYPES})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, *args, **kwargs):
        """The revision's file, with its detected Content-Type. Every download is recorded."""
        revision = self.get_object()
        return revision_file_response(request._request, revision,
                                      inline=request.query_params.get("inline") in ("1", "true"))

