"""The tenant's module switches and its background jobs."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse

from traveler.core.access import check
from traveler.core.errors import TravelerError
from traveler.core.models import Job
from traveler.core.queue import retry_job
from traveler.core.registry import registry
from traveler.core.services.tenants import enabled_modules, tenant_module_set
from traveler.core.ui.display import EMPTY, format_datetime
from traveler.core.ui.generic import PAGE_SIZE, ShellView


def module_rows(tenant) -> list[dict]:
    on = enabled_modules(tenant)
    return [{"label": m.label, "name": str(m.verbose_name), "enabled": m.label in on, "switchable": m.switchable,
             "requires": [r for r in m.requires if r != m.label]}
            for m in registry.modules.values()]


class ModuleList(ShellView):
    permission = "core.manage_modules"

    def get(self, request):
        return render(request, "core/module_list.html", {"modules": module_rows(request.tenant)})


class ModuleSwitch(ShellView):
    """POST enabled=true|false. With htmx, answers the module's row and the refreshed navigation."""

    permission = "core.manage_modules"
    http_method_names = ["post"]

    def post(self, request, label):
        enabled = request.POST.get("enabled") == "true"
        try:
            tenant_module_set(tenant=request.tenant, module=label, enabled=enabled)
        except TravelerError as exc:
            if request.htmx:
                return render(request, "core/_module_row.html", {
                    "m": next((m for m in module_rows(request.tenant) if m["label"] == label), None),
                    "error": exc.message}, status=exc.status)
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("core:module-list"))
        name = str(registry.modules[label].verbose_name)
        if request.htmx:
            row = next(m for m in module_rows(request.tenant) if m["label"] == label)
            return render(request, "core/_module_row.html", {"m": row, "oob_nav": True})
        messages.success(request, f"{name} switched {'on' if enabled else 'off'} for {request.tenant.name}.")
        return HttpResponseRedirect(reverse("core:module-list"))


STATUSES = [("", "All")] + list(Job.Status.choices)


class JobList(ShellView):
    permission = "core.view_jobs"

    def get(self, request):
        qs = Job.objects.filter(tenant=request.tenant)
        counts = dict(qs.values_list("status").annotate(n=Count("id")).order_by())
        status = request.GET.get("status", "")
        if status in Job.Status.values:
            qs = qs.filter(status=status)
        page = Paginator(qs.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [{"job": j, "run_at": format_datetime(j.run_at),
                 "finished_at": format_datetime(j.finished_at) if j.finished_at else EMPTY}
                for j in page.object_list]
        tabs = [{"value": v, "label": lbl, "count": sum(counts.values()) if not v else counts.get(v, 0),
                 "active": v == status} for v, lbl in STATUSES]
        return render(request, "core/job_list.html", {
            "rows": rows, "page": page, "tabs": tabs, "status": status,
            "can_retry": request.access.has("core.manage_jobs")})


class JobRetry(ShellView):
    permission = "core.manage_jobs"
    http_method_names = ["post"]

    def post(self, request, pk):
        job = get_object_or_404(Job.objects.filter(tenant=request.tenant), pk=pk)
        check(request.access, request.user, "core.manage_jobs", job)
        try:
            retry_job(job.pk)
        except ValueError as exc:
            messages.error(request, f"Job #{job.pk} was not retried: {exc}.")
        else:
            messages.success(request, f"Job #{job.pk} ({job.name}) is queued again.")
        back = reverse("core:job-list")
        status = request.POST.get("status", "")
        return HttpResponseRedirect(f"{back}?status={status}" if status in Job.Status.values else back)


urlpatterns = [
    path("modules/", ModuleList.as_view(), name="module-list"),
    path("modules/<slug:label>/switch/", ModuleSwitch.as_view(), name="module-switch"),
    path("jobs/", JobList.as_view(), name="job-list"),
    path("jobs/<int:pk>/retry/", JobRetry.as_view(), name="job-retry"),
]
