"""Part types and the process editor: a route as ordered steps with their measurements.

A draft process is edited here (add a step, edit a step, add a measurement definition), then
released after a confirmation; a released process is read-only and changes through "New version".
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse

from traveler.core.access import visible
from traveler.core.errors import Conflict, TravelerError
from traveler.core.ui.generic import (
    RecordDetailView,
    RecordFormView,
    RecordListView,
    ShellView,
    add_service_error,
    error_page,
    panels_for,
    record_urls,
)
from traveler.mes_lite.choices import ProcessStatus
from traveler.mes_lite.models import MeasurementDefinition, PartType, Process, Step
from traveler.mes_lite.services.routing import (
    measurement_definition_add,
    part_type_create,
    part_type_update,
    process_create,
    process_new_version,
    process_release,
    route_steps,
    step_add,
    step_update,
)
from traveler.mes_lite.ui.common import badge_cells, spec, status_badge
from traveler.mes_lite.ui.forms import MeasurementDefinitionForm, PartTypeForm, ProcessForm, StepForm

# Part types ------------------------------------------------------------------------------------


class PartTypeList(RecordListView):
    model = PartType
    columns = ["part_number", "revision", "name", "updated_at"]
    search_fields = ["part_number", "name", "description"]


class PartTypeDetail(RecordDetailView):
    model = PartType
    template_name = "mes_lite/parttype_detail.html"
    fields = ["part_number", "revision", "name", "description", "max_rework_attempts"]

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is not None:
            context["processes"] = Process.objects.filter(part_type=obj, archived_at__isnull=True) \
                .order_by("name", "-route_version")
            context["new_process_url"] = (f"{reverse('mes_lite:process-create')}?part_type={obj.pk}"
                                          if self.request.access.has("mes_lite.add_process") else None)
        return context


class PartTypeEdit(RecordFormView):
    model = PartType
    form_class = PartTypeForm
    create_service = part_type_create
    update_service = part_type_update
    service_kwarg = "part_type"


# Processes -------------------------------------------------------------------------------------


class ProcessList(RecordListView):
    model = Process
    columns = ["name", "part_type", "route_version", "status", "released_at"]
    search_fields = ["name"]
    filter_fields = ["status"]

    def render(self, context, status=200, template=None):
        badge_cells(context, "status", status_badge)
        return super().render(context, status, template)


class ProcessCreate(RecordFormView):
    """Create only: a process's name is fixed once made (its steps change while it is a draft)."""

    model = Process
    form_class = ProcessForm
    create_service = process_create

    def get_form(self, data=None, instance=None):
        form = super().get_form(data, instance)
        wanted = self.request.GET.get("part_type", "")
        if data is None and wanted.isdigit():
            form.initial["part_type"] = int(wanted)
        return form


def _route(process: Process) -> list[dict]:
    """The process's steps in route order, each with its measurement definitions and their specs."""
    steps = route_steps(process, strict=False)
    defs = MeasurementDefinition.objects.filter(step__process=process, archived_at__isnull=True) \
        .select_related("equipment_type").order_by("sequence", "pk")
    by_step: dict[int, list] = {}
    for d in defs:
        by_step.setdefault(d.step_id, []).append({"definition": d, "spec": spec(d)})
    return [{"step": s, "definitions": by_step.get(s.pk, [])} for s in steps]


class ProcessDetail(RecordDetailView):
    model = Process
    template_name = "mes_lite/process_detail.html"
    fields = ["part_type", "name", "route_version", "status", "released_at", "released_by", "previous"]
    record_fields = ["created_at", "updated_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("part_type", "released_by", "previous")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is None:
            return context
        access = self.request.access
        editable = obj.is_editable and obj.archived_at is None
        route = _route(obj)
        for r in route:  # what other modules show on a step (its documents, ...)
            r["panels"] = panels_for(self.request, "mes_lite.step.detail", r["step"])
        context.update({
            "route": route,
            "editable": editable,
            "can_edit": editable and access.has("mes_lite.change_process"),
            "can_release": editable and access.has("mes_lite.release_process"),
            "can_new_version": obj.status != ProcessStatus.DRAFT and access.has("mes_lite.add_process"),
            "versions": Process.objects.filter(part_type=obj.part_type, name=obj.name).order_by("-route_version"),
            "work_orders": obj.work_orders.filter(archived_at__isnull=True).count(),
        })
        return context


class _ProcessPage(ShellView):
    """A page about one process the user may see (404 otherwise)."""

    def get_process(self, pk) -> Process:
        return get_object_or_404(visible(Process.objects.select_related("part_type"), self.request.access), pk=pk)

    def detail(self, process) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("mes_lite:process-detail", args=[process.pk]))

    def read_only(self, process):
        return error_page(self.request, 409, "This process is read-only",
                          f"{process} is {process.get_status_display().lower()}: a released process is never edited "
                          "in place. Make a new version and edit that.")


class ProcessRelease(_ProcessPage):
    """GET: what releasing means, and a confirmation. POST: release."""

    permission = "mes_lite.release_process"

    def page(self, process, error=None, status=200):
        route = _route(process)
        return render(self.request, "mes_lite/process_release.html", {
            "process": process, "route": route, "error": error,
            "measurements": sum(len(r["definitions"]) for r in route),
            "released_now": Process.objects.filter(part_type=process.part_type, name=process.name,
                                                   status=ProcessStatus.RELEASED).exclude(pk=process.pk).first(),
        }, status=status)

    def get(self, request, pk):
        process = self.get_process(pk)
        if not process.is_editable:
            return self.read_only(process)
        return self.page(process)

    def post(self, request, pk):
        process = self.get_process(pk)
        try:
            process = process_release(process=process, reason=request.POST.get("reason", "").strip() or None)
        except Conflict as exc:
            messages.error(request, exc.message)
            return self.detail(process)
        except TravelerError as exc:
            return self.page(process, error=exc.message, status=exc.status)
        messages.success(request, f"{process} is released: new work orders follow it, and it is now read-only.")
        return self.detail(process)


class ProcessNewVersion(_ProcessPage):
    permission = "mes_lite.add_process"
    http_method_names = ["post"]

    def post(self, request, pk):
        process = self.get_process(pk)
        try:
            new = process_new_version(process=process, reason=request.POST.get("reason", "").strip() or None)
        except TravelerError as exc:
            messages.error(request, exc.message)
            return self.detail(process)
        messages.success(request, f"Draft {new} created from {process}: edit its steps, then release it.")
        return self.detail(new)


class _StepFormPage(_ProcessPage):
    """A small form about a draft process (add a step, edit one, add a measurement)."""

    permission = "mes_lite.change_process"
    title = ""
    submit = "Save"

    def form_page(self, process, form, status=200, **extra):
        return render(self.request, "mes_lite/process_form.html", {
            "process": process, "form": form, "title": self.title, "submit": self.submit,
            "cancel_url": reverse("mes_lite:process-detail", args=[process.pk]), **extra}, status=status)


class StepCreate(_StepFormPage):
    title = "Add a step"
    submit = "Add step"

    def get(self, request, pk):
        process = self.get_process(pk)
        if not process.is_editable:
            return self.read_only(process)
        return self.form_page(process, StepForm())

    def post(self, request, pk):
        process = self.get_process(pk)
        form = StepForm(request.POST)
        if not form.is_valid():
            return self.form_page(process, form, status=400)
        try:
            step = step_add(process=process, **form.cleaned_data)
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.form_page(process, form, status=exc.status)
        messages.success(request, f"Step “{step.name}” added at the end of the route.")
        return HttpResponseRedirect(f"{reverse('mes_lite:process-detail', args=[process.pk])}#step-{step.pk}")


class _OneStep(_StepFormPage):
    def get_step(self, pk) -> Step:
        return get_object_or_404(visible(Step.objects.select_related("process", "process__part_type"),
                                         self.request.access), pk=pk)

    def back(self, step):
        return HttpResponseRedirect(f"{reverse('mes_lite:process-detail', args=[step.process_id])}#step-{step.pk}")


class StepUpdate(_OneStep):
    title = "Edit step"
    submit = "Save step"

    def get(self, request, pk):
        step = self.get_step(pk)
        if not step.process.is_editable:
            return self.read_only(step.process)
        form = StepForm(initial={"name": step.name, "description": step.description})
        return self.form_page(step.process, form, step=step, version=step.version)

    def post(self, request, pk):
        step = self.get_step(pk)
        form = StepForm(request.POST)
        if not form.is_valid():
            return self.form_page(step.process, form, status=400, step=step, version=step.version)
        version = request.POST.get("version", "")
        data = {k: v for k, v in form.cleaned_data.items() if getattr(step, k) != v}
        if not data:
            messages.info(request, "Nothing changed, so nothing was saved.")
            return self.back(step)
        try:
            step = step_update(step=step, version=int(version) if version.isdigit() else None, data=data,
                               reason=request.POST.get("reason", "").strip() or None)
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.form_page(step.process, form, status=exc.status, step=step, version=step.version)
        messages.success(request, f"Step “{step.name}” saved.")
        return self.back(step)


class MeasurementDefinitionCreate(_OneStep):
    title = "Add a measurement"
    submit = "Add measurement"

    def get(self, request, pk):
        step = self.get_step(pk)
        if not step.process.is_editable:
            return self.read_only(step.process)
        return self.form_page(step.process, MeasurementDefinitionForm(), step=step)

    def post(self, request, pk):
        step = self.get_step(pk)
        form = MeasurementDefinitionForm(request.POST)
        if not form.is_valid():
            return self.form_page(step.process, form, status=400, step=step)
        try:
            definition = measurement_definition_add(step=step, data=dict(form.cleaned_data))
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.form_page(step.process, form, status=exc.status, step=step)
        messages.success(request, f"“{definition.label}” is measured at step “{step.name}”.")
        return self.back(step)


urlpatterns = [
    *record_urls("part-types/", PartType, list=PartTypeList, detail=PartTypeDetail, form=PartTypeEdit,
                 archive=True, restore=True, history=True),
    *record_urls("processes/", Process, list=ProcessList, detail=ProcessDetail, history=True),
    path("processes/new/", ProcessCreate.as_view(), name="process-create"),
    path("processes/<int:pk>/release/", ProcessRelease.as_view(), name="process-release"),
    path("processes/<int:pk>/new-version/", ProcessNewVersion.as_view(), name="process-new-version"),
    path("processes/<int:pk>/steps/new/", StepCreate.as_view(), name="step-create"),
    path("steps/<int:pk>/edit/", StepUpdate.as_view(), name="step-update"),
    path("steps/<int:pk>/measurements/new/", MeasurementDefinitionCreate.as_view(),
         name="measurementdefinition-create"),
]
