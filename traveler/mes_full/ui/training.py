"""Training pages: the matrix (people × training types, expiring soon and expired highlighted), records
expiring within 30 days, training records and training types."""

from __future__ import annotations

from django import forms
from django.urls import path, reverse

from traveler.core.models import Document, User
from traveler.core.ui.generic import (
    RecordArchiveView,
    RecordDetailView,
    RecordFormView,
    RecordHistoryView,
    RecordListView,
    RecordRestoreView,
    ShellView,
    record_urls,
)
from traveler.mes_full.models import TrainingRecord, TrainingType
from traveler.mes_full.services import training as svc

VIEW_RECORDS, CHANGE_RECORDS = "mes_full.view_trainingrecord", "mes_full.change_trainingrecord"
VIEW_TYPES, CHANGE_TYPES = "mes_full.view_trainingtype", "mes_full.change_trainingtype"
STATE_BADGES = {"current": "badge-success", "expiring": "badge-queued", "expired": "badge-dead",
                "pending": "badge-updated", "missing": "badge-archived"}


class _Permissions:
    """Creating, changing and archiving all need the one change permission."""

    view_permission = ""
    change_permission = ""

    def perm(self, action: str) -> str:
        return self.view_permission if action == "view" else self.change_permission


class _TypePermissions(_Permissions):
    view_permission, change_permission = VIEW_TYPES, CHANGE_TYPES


class _RecordPermissions(_Permissions):
    view_permission, change_permission = VIEW_RECORDS, CHANGE_RECORDS


# Training types ---------------------------------------------------------------------------------

class TrainingTypeList(_TypePermissions, RecordListView):
    model = TrainingType
    columns = ["name", "validity_days", "description"]
    search_fields = ["name", "description"]


class TrainingTypeDetail(_TypePermissions, RecordDetailView):
    model = TrainingType
    fields = ["name", "validity_days", "description"]


class TrainingTypeForm(_TypePermissions, RecordFormView):
    model = TrainingType
    fields = ["name", "validity_days", "description"]
    create_service = svc.training_type_create
    update_service = svc.training_type_update


class TrainingTypeArchive(_TypePermissions, RecordArchiveView):
    model = TrainingType
    archive_service = svc.training_type_archive


class TrainingTypeRestore(_TypePermissions, RecordRestoreView):
    model = TrainingType


class TrainingTypeHistory(_TypePermissions, RecordHistoryView):
    model = TrainingType


# Training records -------------------------------------------------------------------------------

def _people():
    return User.objects.filter(pk__in=[u.pk for u in svc.training_people()]).order_by("full_name")


class TrainingRecordModelForm(forms.ModelForm):
    class Meta:
        model = TrainingRecord
        fields = ["user", "training_type", "completed_on", "expires_on", "trainer", "trainer_name", "evidence", "note"]
        widgets = {"completed_on": forms.DateInput(attrs={"type": "date"}),
                   "expires_on": forms.DateInput(attrs={"type": "date"})}
        help_texts = {"expires_on": "Empty: from the training type's validity (or no expiry)."}
        labels = {"user": "Person trained"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _people()
        self.fields["trainer"].queryset = _people()
        self.fields["training_type"].queryset = TrainingType.objects.filter(archived_at__isnull=True)
        self.fields["evidence"].queryset = Document.objects.filter(archived_at__isnull=True)
        if self.instance.pk:
            self.fields["user"].disabled = True
            self.fields["training_type"].disabled = True


class TrainingRecordList(_RecordPermissions, RecordListView):
    model = TrainingRecord
    columns = ["user", "training_type", "completed_on", "expires_on", "status", "trainer"]
    search_fields = ["user__full_name", "training_type__name", "trainer_name"]
    filter_fields = ["status"]

    def filtered(self):
        qs = super().filtered()
        for name in ("user", "training_type"):
            value = self.request.GET.get(name, "")
            if value.isdigit():
                qs = qs.filter(**{f"{name}_id": int(value)})
        return qs


class TrainingRecordDetail(_RecordPermissions, RecordDetailView):
    model = TrainingRecord
    fields = ["user", "training_type", "completed_on", "expires_on", "status", "trainer", "trainer_name", "evidence",
              "note"]


class TrainingRecordForm(_RecordPermissions, RecordFormView):
    model = TrainingRecord
    form_class = TrainingRecordModelForm
    create_service = svc.training_record_create
    update_service = svc.training_record_update


class TrainingRecordArchive(_RecordPermissions, RecordArchiveView):
    model = TrainingRecord
    archive_service = svc.training_record_archive


class TrainingRecordRestore(_RecordPermissions, RecordRestoreView):
    model = TrainingRecord


class TrainingRecordHistory(_RecordPermissions, RecordHistoryView):
    model = TrainingRecord


# The matrix and what expires ---------------------------------------------------------------------

class TrainingMatrix(ShellView):
    """People × training types: current, expiring within 30 days (amber), expired (red), awaiting
    approval, missing; each cell opens the person's records of that type."""

    permission = VIEW_RECORDS

    def get(self, request):
        from django.shortcuts import render

        matrix = svc.training_matrix()
        records = reverse("mes_full:trainingrecord-list")
        for row in matrix["rows"]:
            for cell in row["cells"]:
                cell["badge"] = STATE_BADGES[cell["standing"].state]
                cell["url"] = f"{records}?user={row['user'].pk}&training_type={cell['type'].pk}&archived=all"
        return render(request, "mes_full/training/matrix.html", {
            **matrix, "within": svc.EXPIRING_DAYS, "can_change": request.access.has(CHANGE_RECORDS),
            "expiring_url": reverse("mes_full:training-expiring")})


class TrainingExpiring(ShellView):
    """Records expiring within 30 days that no later record renews, soonest first."""

    permission = VIEW_RECORDS

    def get(self, request):
        from django.shortcuts import render

        records = list(svc.training_expiring())
        return render(request, "mes_full/training/expiring.html", {
            "records": records, "within": svc.EXPIRING_DAYS, "matrix_url": reverse("mes_full:training-matrix")})


urlpatterns = [
    path("training/", TrainingMatrix.as_view(), name="training-matrix"),
    path("training/expiring/", TrainingExpiring.as_view(), name="training-expiring"),
    *record_urls("training/types/", TrainingType, list=TrainingTypeList, detail=TrainingTypeDetail,
                 form=TrainingTypeForm, archive=TrainingTypeArchive, restore=TrainingTypeRestore,
                 history=TrainingTypeHistory),
    *record_urls("training/records/", TrainingRecord, list=TrainingRecordList, detail=TrainingRecordDetail,
                 form=TrainingRecordForm, archive=TrainingRecordArchive, restore=TrainingRecordRestore,
                 history=TrainingRecordHistory),
]
