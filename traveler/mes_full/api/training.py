"""Training over HTTP: training types, training records (with what expires within 30 days) and the
training matrix."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from traveler.core.api.base import ChangeInput, RecordSerializer, RecordServices, RecordWriteViewSet
from traveler.core.models import Document, User
from traveler.core.tenancy import current_tenant
from traveler.mes_full.choices import TrainingState
from traveler.mes_full.models import TrainingRecord, TrainingType
from traveler.mes_full.services import training as svc

TAGS = ["mes-full: training"]
VIEW_TYPES, CHANGE_TYPES = "mes_full.view_trainingtype", "mes_full.change_trainingtype"
VIEW_RECORDS, CHANGE_RECORDS = "mes_full.view_trainingrecord", "mes_full.change_trainingrecord"


@extend_schema_field(OpenApiTypes.INT)
class MemberField(serializers.PrimaryKeyRelatedField):
    """A user of the current tenant, by id (anyone else is "does not exist")."""

    def get_queryset(self):
        return User.objects.filter(memberships__tenant_id=current_tenant().pk, memberships__is_active=True).distinct()


def _permissions(view: str, change: str) -> dict[str, str]:
    return {"list": view, "retrieve": view, "history": view, "create": change, "update": change,
            "partial_update": change, "archive": change, "restore": change}


# Training types ---------------------------------------------------------------------------------

class TrainingTypeSerializer(RecordSerializer):
    class Meta:
        model = TrainingType
        fields = ["id", "name", "description", "validity_days", "version", "created_at", "updated_at", "archived_at"]


class TrainingTypeInput(ChangeInput, serializers.ModelSerializer):
    class Meta:
        model = TrainingType
        fields = ["name", "description", "validity_days", "version", "reason"]
        validators = []


@extend_schema(tags=TAGS)
class TrainingTypeViewSet(RecordWriteViewSet):
    """Qualifications operators must hold for some steps, and how long a record of each stays current."""

    model = TrainingType
    queryset = TrainingType.objects.all()
    serializer_class = TrainingTypeSerializer
    input_serializer_class = TrainingTypeInput
    services = RecordServices(create=svc.training_type_create, update=svc.training_type_update,
                              archive=svc.training_type_archive)
    filterset_fields = ["name"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]

    @property
    def permission_map(self) -> dict[str, str]:
        return _permissions(VIEW_TYPES, CHANGE_TYPES)


# Training records -------------------------------------------------------------------------------

class TrainingRecordSerializer(RecordSerializer):
    user_name = serializers.CharField(source="user.full_name", read_only=True)
    training_type_name = serializers.CharField(source="training_type.name", read_only=True)

    class Meta:
        model = TrainingRecord
        fields = ["id", "user", "user_name", "training_type", "training_type_name", "completed_on", "expires_on",
                  "trainer", "trainer_name", "evidence", "status", "note", "version", "created_at", "updated_at",
                  "archived_at"]


class TrainingRecordInput(ChangeInput, serializers.ModelSerializer):
    user = MemberField(help_text="Who was trained (a member of this tenant).")
    trainer = MemberField(required=False, allow_null=True)
    training_type = serializers.PrimaryKeyRelatedField(queryset=TrainingType.objects.filter(archived_at__isnull=True))
    evidence = serializers.PrimaryKeyRelatedField(queryset=Document.objects.all(), required=False, allow_null=True)

    class Meta:
        model = TrainingRecord
        fields = ["user", "training_type", "completed_on", "expires_on", "trainer", "trainer_name", "evidence", "note",
                  "version", "reason"]
        validators = []
        extra_kwargs = {"expires_on": {"help_text": "The last day it counts; empty: from the type's validity."}}


@extend_schema(tags=TAGS)
class TrainingRecordViewSet(RecordWriteViewSet):
    """Who completed which training, when, and until when it counts. With a training certificate
    approval template, a new record awaits its approval (``status`` pending_approval) and does not count."""

    model = TrainingRecord
    queryset = TrainingRecord.objects.all()
    serializer_class = TrainingRecordSerializer
    input_serializer_class = TrainingRecordInput
    services = RecordServices(create=svc.training_record_create, update=svc.training_record_update,
                              archive=svc.training_record_archive)
    filterset_fields = ["user", "training_type", "status"]
    search_fields = ["user__full_name", "training_type__name", "trainer_name"]
    ordering_fields = ["completed_on", "expires_on", "created_at"]

    @property
    def permission_map(self) -> dict[str, str]:
        return {**_permissions(VIEW_RECORDS, CHANGE_RECORDS), "expiring": VIEW_RECORDS}

    def get_queryset(self):
        return super().get_queryset().select_related("user", "training_type")

    @extend_schema(responses=TrainingRecordSerializer(many=True))
    @action(detail=False, methods=["get"])
    def expiring(self, request: Request) -> Response:
        """Active records expiring within 30 days (today included) that no later record renews, soonest first."""
        page = self.paginate_queryset(svc.training_expiring())
        return self.get_paginated_response(TrainingRecordSerializer(page, many=True).data)


# The matrix ------------------------------------------------------------------------------------

class MatrixCellSerializer(serializers.Serializer):
    training_type = serializers.IntegerField()
    state = serializers.ChoiceField(choices=TrainingState.choices)
    expires_on = serializers.DateField(allow_null=True)
    record = serializers.IntegerField(allow_null=True, help_text="The record the state rests on.")


class MatrixRowSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    name = serializers.CharField()
    cells = MatrixCellSerializer(many=True)


class MatrixSerializer(serializers.Serializer):
    today = serializers.DateField()
    training_types = TrainingTypeSerializer(many=True)
    rows = MatrixRowSerializer(many=True)


class TrainingMatrixView(APIView):
    permission_map = {"retrieve": VIEW_RECORDS}
    action = "retrieve"  # one document, not a list

    @extend_schema(responses=MatrixSerializer, tags=TAGS, operation_id="mes_full_training_matrix")
    def get(self, request: Request) -> Response:
        """People × training types: each person's standing in each type today (current, expiring within 30
        days, expired, awaiting approval, missing)."""
        m = svc.training_matrix()
        return Response(MatrixSerializer({
            "today": m["today"], "training_types": m["types"],
            "rows": [{"user": r["user"].pk, "name": r["user"].full_name,
                      "cells": [{"training_type": c["type"].pk, "state": c["standing"].state,
                                 "expires_on": c["standing"].expires_on,
                                 "record": c["standing"].record.pk if c["standing"].record else None}
                                for c in r["cells"]]} for r in m["rows"]]}).data)
