"""Your notifications and your choice of channels. Everyone sees only their own, in the current tenant:
there is no permission to see another user's notifications."""

from __future__ import annotations

from django.db import transaction
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from traveler.core.api.base import InputSerializer
from traveler.core.models import Notification
from traveler.core.registry import NOTIFICATION_CHANNELS
from traveler.core.selectors import notification_list_for_user, notification_preferences_for_user
from traveler.core.services.notifications import (
    notification_mark_read,
    notification_preference_set,
    notifications_mark_all_read,
)


class NotificationSerializer(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "title", "body", "url", "created_at", "read_at", "is_read"]

    def get_kind_label(self, obj) -> str:
        from traveler.core.registry import registry

        kind = registry.notification_kinds.get(obj.kind)
        return kind.label if kind else obj.kind


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread and are now read.")


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull",
                                   label="true: unread only; false: read only.")

    class Meta:
        model = Notification
        fields = ["kind"]


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your notifications in this tenant, unread first, then newest first."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()
    filterset_class = NotificationFilter
    ordering_fields = ["created_at", "read_at"]

    def get_queryset(self):
        return notification_list_for_user(self.request.user)

    def get_object(self):
        if not str(self.kwargs.get("pk", "")).isdigit():
            raise NotFound("No such notification among yours.")
        return super().get_object()

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark this notification read (again: it stays read as it was)."""
        n = notification_mark_read(user=request.user, notification_id=self.get_object().pk)
        return Response(NotificationSerializer(n).data)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every unread notification of yours in this tenant read."""
        return Response({"marked": notifications_mark_all_read(user=request.user)})


class ChannelStateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Whether you receive this kind on this channel.")
    default = serializers.BooleanField(help_text="What a user who has not chosen receives.")


ChannelsSerializer = type("NotificationChannelsSerializer", (serializers.Serializer,), {
    channel: ChannelStateSerializer(help_text=label) for channel, label in NOTIFICATION_CHANNELS.items()})


class NotificationPreferenceSerializer(serializers.Serializer):
    kind = serializers.CharField(source="kind.code")
    label = serializers.CharField(source="kind.label")
    description = serializers.CharField(source="kind.description")
    module = serializers.CharField(source="kind.module")
    channels = ChannelsSerializer()


class NotificationPreferenceInput(InputSerializer):
    """The channels to change, each true (receive) or false (do not); those left out stay as they are."""

    def get_fields(self):
        return {**super().get_fields(), **{
            channel: serializers.BooleanField(required=False, help_text=label)
            for channel, label in NOTIFICATION_CHANNELS.items()}}

    def validate(self, data):
        if not data:
            raise serializers.ValidationError({c: ["give at least one channel"] for c in NOTIFICATION_CHANNELS})
        return data


KIND_PARAMETER = OpenApiParameter("kind", str, OpenApiParameter.PATH,
                                  description="The notification kind's code, e.g. core.approval.requested.")


class NotificationPreferenceViewSet(viewsets.ViewSet):
    """Which kinds of notification you receive, on which channel, in this tenant."""

    lookup_field = "kind"
    lookup_value_regex = r"[a-z0-9_.]+"
    serializer_class = NotificationPreferenceSerializer

    def _rows(self, request):
        return notification_preferences_for_user(request.user, request._request.tenant)

    def _row(self, request, kind: str):
        row = next((r for r in self._rows(request) if r["kind"].code == kind), None)
        if row is None:
            raise NotFound(f"No notification kind {kind!r} here.")
        return row

    @extend_schema(responses=NotificationPreferenceSerializer(many=True))
    def list(self, request):
        """Every kind of notification of the modules on for this tenant, with your channels."""
        return Response(NotificationPreferenceSerializer(self._rows(request), many=True).data)

    @extend_schema(parameters=[KIND_PARAMETER], responses=NotificationPreferenceSerializer)
    def retrieve(self, request, kind=None):
        """One kind, with your channels."""
        return Response(NotificationPreferenceSerializer(self._row(request, kind)).data)

    @extend_schema(parameters=[KIND_PARAMETER], request=NotificationPreferenceInput,
                   responses=NotificationPreferenceSerializer)
    def partial_update(self, request, kind=None):
        """Change your channels for one kind; the channels you leave out stay as they are."""
        self._row(request, kind)
        ser = NotificationPreferenceInput(data=request.data)
        ser.is_valid(raise_exception=True)
        with transaction.atomic():
            for channel, enabled in ser.validated_data.items():
                notification_preference_set(user=request.user, kind=kind, channel=channel, enabled=enabled)
        return Response(NotificationPreferenceSerializer(self._row(request, kind)).data)
