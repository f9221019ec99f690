"""Generic record pages that every module reuses for its own tenant-owned models.

A module's pages for one model are declarations::

    class PartTypeList(RecordListView):
        model = PartType
        columns = ["name", "revision", "updated_at"]
        search_fields = ["name", "description"]

    class PartTypeForm(RecordFormView):
        model = PartType
        form_class = PartTypeModelForm
        create_service = part_type_create      # (*, data, reason) -> obj
        update_service = part_type_update      # (*, part_type, version, data, reason) -> obj

    urlpatterns = record_urls("part-types/", PartType, list=PartTypeList, form=PartTypeForm, ...)

Conventions (so a reader who knows one module knows all): permissions ``<app>.view_<model>``,
``<app>.add_<model>``, ``<app>.change_<model>``, ``<app>.archive_<model>`` (history also needs
``core.view_history``); URL names ``<app>:<model>-list|detail|create|update|archive|restore|history``;
rows pass through ``visible()`` so customers see only their company's records. See docs/ui.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import ForeignKey, Q
from django.forms import modelform_factory
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.views import View

from traveler.core.access import check, visible
from traveler.core.errors import Conflict, TravelerError
from traveler.core.models import History, TenantModel
from traveler.core.registry import registry
from traveler.core.services.records import record_archive, record_create, record_restore, record_update
from traveler.core.services.tenants import enabled_modules
from traveler.core.ui.display import (
    display_value,
    field_label,
    history_rows,
    input_display,
    keeps_together,
    model_field,
)

log = logging.getLogger(__name__)
PAGE_SIZE = 50


@dataclass(frozen=True)
class Column:
    """A list column: a field or attribute name, optionally with its own label."""

    name: str
    label: str | None = None


def error_page(request, status: int, title: str, message: str):
    return render(request, "core/error.html", {"status": status, "title": title, "message": message},
                  status=status)


def add_service_error(form: forms.Form | None, exc: TravelerError) -> None:
    """Put a service error on the form: on the fields it names, and its message on top."""
    if form is None:
        return
    for name, errors in exc.fields.items():
        if name in form.fields and name not in form.errors:
            for message in errors:
                form.add_error(name, message)
    form.add_error(None, exc.message)


def panels_for(request, target: str, obj=None) -> list[dict]:
    """The panels other modules registered on ``target`` that this user may see, rendered."""
    on = enabled_modules(request.tenant)
    out = []
    for panel in registry.panels.get(target, ()):
        needed = (panel.permission,) if isinstance(panel.permission, str) else panel.permission or ()
        if panel.module not in on or not all(request.access.has(p) for p in needed):
            continue
        try:
            html = mark_safe(panel.render(request, obj))  # a panel's contract is to return HTML
        except Exception:  # one broken panel must not take the page down with it
            log.exception("panel %r on %s failed", panel.title, target)
            html = None
        out.append({"title": panel.title, "module": panel.module, "html": html})
    return out


def record_page_url(record, access) -> str | None:
    """The detail page of ``record`` when this user may open it, else None.

    The page is the record's ``get_absolute_url()`` when its model has one, else, for a tenant-owned
    record, the page that ``record_urls`` names ``<app>:<model>-detail`` (other models' URLs of that
    name need not take their pk: a user's page is its membership's). The user needs
    ``<app>.view_<model>`` (or the model's ``view_permission``, when it declares one) and, for a
    customer, the record must be one of theirs.
    """
    opts = record._meta
    if not access.has(getattr(record, "view_permission", None) or f"{opts.app_label}.view_{opts.model_name}"):
        return None
    if hasattr(record, "get_absolute_url"):
        url = record.get_absolute_url()
    elif not isinstance(record, TenantModel):
        return None
    else:
        try:
            url = reverse(f"{opts.app_label}:{opts.model_name}-detail", args=[record.pk])
        except NoReverseMatch:
            return None
    # Only a customer's rows are narrowed by role type: staff need no query to know they see it.
    if access.is_customer and not visible(type(record)._default_manager.filter(pk=record.pk), access).exists():
        return None
    return url


class ShellView(View):
    """A signed-in page inside a tenant, guarded by one permission (``permission``; None: any member)."""

    permission: str | None = None
    tenant_required = True

    def get_permissions(self) -> list[str]:
        return [self.permission] if self.permission else []

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if self.tenant_required and request.tenant is None:
            return error_page(request, 403, "No tenant",
                              "Your account is not an active member of any tenant. Ask an administrator.")
        for perm in self.get_permissions():
            check(request.access, request.user, perm)
        return super().dispatch(request, *args, **kwargs)


class RecordView(ShellView):
    """What every record page shares: the model, its permissions, its URLs and visible rows."""

    model: type | None = None
    action = "view"
    permission_prefix: str | None = None  # default: the model's app label
    url_namespace: str | None = None  # default: the model's app label
    service_kwarg = ""  # the keyword a service takes the record by; default: the model name
    template_name = ""

    @property
    def opts(self):
        return self.model._meta

    @property
    def record_kwarg(self) -> str:
        return self.service_kwarg or self.opts.model_name

    def perm(self, action: str) -> str:
        return f"{self.permission_prefix or self.opts.app_label}.{action}_{self.opts.model_name}"

    def get_permissions(self) -> list[str]:
        return [self.permission or self.perm(self.action)]

    def can(self, action: str) -> bool:
        return self.request.access.has(self.perm(action))

    def url(self, kind: str, obj=None) -> str | None:
        name = f"{self.url_namespace or self.opts.app_label}:{self.opts.model_name}-{kind}"
        try:
            return reverse(name, args=[obj.pk] if obj is not None else [])
        except NoReverseMatch:
            return None

    def get_queryset(self):
        return visible(self.model.objects.all(), self.request.access)

    def get_object(self):
        # Archived records stay reachable by id, for their history and for restore.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def record_context(self, obj=None) -> dict[str, Any]:
        return {
            "opts": self.opts,
            "verbose_name": capfirst(str(self.opts.verbose_name)),
            "verbose_name_plural": capfirst(str(self.opts.verbose_name_plural)),
            "list_url": self.url("list"),
            "create_url": self.url("create") if self.can("add") else None,
            "object": obj,
            "detail_url": self.url("detail", obj) if obj is not None else None,
            "update_url": self.url("update", obj) if obj is not None and self.can("change") else None,
            "archive_url": self.url("archive", obj) if obj is not None and self.can("archive") else None,
            "restore_url": self.url("restore", obj) if obj is not None and self.can("archive") else None,
            "history_url": (self.url("history", obj) if obj is not None and self.request.access.has("core.view_history")
                            else None),
        }

    def render(self, context: dict, status: int = 200, template: str | None = None):
        return render(self.request, template or self.template_name, {**self.record_context(context.get("object")),
                                                                        **context}, status=status)


class RecordListView(RecordView):
    """Rows of ``model`` the user may see: search, archived filter, choice filters, sorting, 50 a page."""

    template_name = "core/record_list.html"
    columns: list[str | Column] = ["__str__"]
    search_fields: list[str] = []
    filter_fields: list[str] = []  # fields with choices, offered as selects
    page_size = PAGE_SIZE

    def get_columns(self) -> list[Column]:
        out = []
        for c in self.columns:
            c = c if isinstance(c, Column) else Column(c)
            label = c.label or (capfirst(str(self.opts.verbose_name)) if c.name == "__str__"
                                else field_label(self.model, c.name))
            out.append(Column(c.name, label))
        return out

    def filtered(self):
        params = self.request.GET
        qs = self.get_queryset()
        archived = params.get("archived", "")
        if archived == "only":
            qs = qs.filter(archived_at__isnull=False)
        elif archived != "all":
            qs = qs.filter(archived_at__isnull=True)
        q = params.get("q", "").strip()
        if q and self.search_fields:
            cond = Q()
            for name in self.search_fields:
                cond |= Q(**{f"{name}__icontains": q})
            qs = qs.filter(cond)
        for name in self.filter_fields:
            value = params.get(name)
            if value:
                qs = qs.filter(**{name: value})
        related = [c.name for c in self.get_columns() if isinstance(model_field(self.model, c.name), ForeignKey)]
        if related:
            qs = qs.select_related(*related)
        return qs.order_by(*self.ordering(), "pk")

    def sortable(self) -> set[str]:
        return {c.name for c in self.get_columns() if model_field(self.model, c.name) is not None}

    def ordering(self) -> list[str]:
        sort = self.request.GET.get("sort", "")
        if sort.lstrip("-") in self.sortable():
            return [sort]
        return list(self.opts.ordering or ["pk"])

    def filters(self) -> list[dict]:
        out = []
        for name in self.filter_fields:
            field = model_field(self.model, name)
            out.append({"name": name, "label": field_label(self.model, name),
                        "choices": list(field.flatchoices) if field is not None else [],
                        "value": self.request.GET.get(name, "")})
        return out

    def column_css(self, column: Column, cells: list[str], first: bool) -> str:
        """The class of a column's cells: ``nowrap`` for values read whole (dates, numbers, ids), else a
        minimum width so text wraps into lines, never into one word a line (``cell-name`` for the
        first column, which names the record)."""
        field = None if column.name == "__str__" else model_field(self.model, column.name)
        if keeps_together(field, cells):
            return "nowrap"
        return "cell-name" if first else "cell-text"

    def render(self, context: dict, status: int = 200, template: str | None = None):
        # Paired here, after subclasses have put their own HTML into ``cells`` (badges).
        css = [h.get("css", "") for h in context.get("headers", ())]
        for row in context.get("rows", ()):
            row["columns"] = [{"value": v, "css": css[i] if i < len(css) else ""} for i, v in enumerate(row["cells"])]
        return super().render(context, status, template)

    def get(self, request, *args, **kwargs):
        page = Paginator(self.filtered(), self.page_size).get_page(request.GET.get("page"))
        columns = self.get_columns()
        rows = [{"object": obj, "url": self.url("detail", obj),
                 "cells": [str(obj) if c.name == "__str__" else display_value(obj, c.name) for c in columns]}
                for obj in page.object_list]
        sort = request.GET.get("sort", "")
        sortable = self.sortable()
        headers = [{"label": c.label, "name": c.name, "sortable": c.name in sortable,
                    "sorted": "asc" if sort == c.name else "desc" if sort == f"-{c.name}" else "",
                    "next": f"-{c.name}" if sort == c.name else c.name,
                    "css": self.column_css(c, [row["cells"][i] for row in rows], first=i == 0)}
                   for i, c in enumerate(columns)]
        context = {
            "headers": headers, "rows": rows, "page": page, "q": request.GET.get("q", ""),
            "archived": request.GET.get("archived", ""), "filters": self.filters(),
            "searchable": bool(self.search_fields), "sort": sort,
            "filtered": any(request.GET.get(k) for k in ("q", "archived", *self.filter_fields)),
            "search_placeholder": "Search " + ", ".join(field_label(self.model, f).lower() for f in self.search_fields),
        }
        partial = getattr(request, "htmx", False) and request.htmx.target == "record-results"
        response = self.render(context, template="core/_record_results.html" if partial else None)
        patch_vary_headers(response, ("HX-Request", "HX-Target"))  # one URL, two bodies: keep caches apart
        return response


class RecordDetailView(RecordView):
    """One record: its fields, the panels other modules add to it, and links to edit and history."""

    template_name = "core/record_detail.html"
    fields: list[str] = []  # default: every editable field
    record_fields: list[str] = ["version", "created_at", "updated_at"]  # shown beside, in "Record"

    def get_fields(self) -> list[str]:
        if self.fields:
            return self.fields
        return [f.name for f in self.opts.concrete_fields if f.editable and not f.primary_key]

    def panel_target(self) -> str:
        return f"{self.opts.app_label}.{self.opts.model_name}.detail"

    def related_url(self, obj, name: str) -> str | None:
        """The page of the record that the foreign key ``name`` points to, when the user may open it."""
        field = model_field(self.model, name)
        if not isinstance(field, ForeignKey):
            return None
        related = getattr(obj, name, None)
        return record_page_url(related, self.request.access) if related is not None else None

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        def rows(names):
            return [{"label": field_label(self.model, n), "value": display_value(obj, n), "name": n,
                     "url": self.related_url(obj, n)} for n in names]

        return self.render({"object": obj, "fields": rows(self.get_fields()), "record_fields": rows(self.record_fields),
                            "panels": panels_for(request, self.panel_target(), obj)})


class RecordFormView(RecordView):
    """Create (no ``pk`` in the URL) or update a record through a service.

    Update carries the version the user read as a hidden field; when someone else saved the
    record meanwhile, the service raises Conflict (409) and the page shows the message and what
    changed, keeps the user's input and takes the new version, so saving again is a choice.
    """

    template_name = "core/record_form.html"
    form_class: type[forms.ModelForm] | None = None
    fields: list[str] | None = None  # used when no form_class is given
    create_service: Callable[..., Any] | None = None  # (*, data, reason) -> obj
    update_service: Callable[..., Any] | None = None  # (*, <record_kwarg>, version, data, reason) -> obj
    reason_field = True
    reason_required_on_update = False

    @property
    def is_create(self) -> bool:
        return "pk" not in self.kwargs

    def get_permissions(self) -> list[str]:
        return [self.permission or self.perm("add" if self.is_create else "change")]

    def get_form_class(self):
        return self.form_class or modelform_factory(self.model, fields=self.fields)

    def get_form(self, data=None, instance=None) -> forms.ModelForm:
        form = self.get_form_class()(data=data, instance=instance)
        if not self.is_create:
            form.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, initial=instance.version)
        if self.reason_field:
            form.fields["reason"] = forms.CharField(
                label="Reason for change", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                required=not self.is_create and self.reason_required_on_update,
                help_text="Stored with the change in the record's history.")
        return form

    def changed_data(self, form) -> dict:
        names = [n for n in (form.changed_data if not self.is_create else form.cleaned_data)
                 if n not in ("version", "reason") and model_field(self.model, n) is not None]
        return {n: form.cleaned_data[n] for n in names}

    def call_create(self, data: dict, reason: str | None):
        service = type(self).create_service
        if service is None:
            return record_create(self.model, data=data, reason=reason)
        return service(data=data, reason=reason)

    def call_update(self, obj, version: int, data: dict, reason: str | None):
        service = type(self).update_service
        if service is None:
            return record_update(obj, version=version, data=data, reason=reason)
        return service(**{self.record_kwarg: obj}, version=version, data=data, reason=reason)

    def page(self, form, obj=None, conflict=None, status=200):
        title = f"New {self.opts.verbose_name}" if self.is_create else f"Edit {obj}"
        cancel = self.url("detail", obj) if obj is not None else self.url("list")
        return self.render({"form": form, "object": obj, "title": title, "conflict": conflict,
                            "cancel_url": cancel, "is_create": self.is_create}, status=status)

    def get(self, request, *args, **kwargs):
        obj = None if self.is_create else self.get_object()
        if obj is not None and obj.archived_at is not None:
            messages.warning(request, f"This {self.opts.verbose_name} is archived; restore it before changing it.")
            return HttpResponseRedirect(self.url("detail", obj))
        return self.page(self.get_form(instance=obj), obj)

    def post(self, request, *args, **kwargs):
        obj = None if self.is_create else self.get_object()
        form = self.get_form(data=request.POST, instance=obj)
        if not form.is_valid():
            return self.page(form, obj, status=400)
        reason = form.cleaned_data.get("reason") or None
        data = self.changed_data(form)
        try:
            if self.is_create:
                obj = self.call_create(data, reason)
                messages.success(request, f"{capfirst(str(self.opts.verbose_name))} “{obj}” created.")
            elif not data:
                messages.info(request, "Nothing changed, so nothing was saved.")
            else:
                obj = self.call_update(obj, form.cleaned_data["version"], data, reason)
                messages.success(request, f"{capfirst(str(self.opts.verbose_name))} “{obj}” saved.")
        except Conflict as exc:
            if obj is None:  # a create the service refused as a conflict (a duplicate): shown on the form
                add_service_error(form, exc)
                return self.page(form, None, status=exc.status)
            return self.conflict(exc, obj)
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(form, obj, status=exc.status)
        return HttpResponseRedirect(self.url("detail", obj) or self.url("list"))

    def conflict(self, exc: Conflict, obj):
        """Re-show the user's input against the record as it is now, at its current version."""
        current = self.get_queryset().filter(pk=obj.pk).first()
        if current is None or current.archived_at is not None:
            messages.error(self.request, exc.message)
            return HttpResponseRedirect(self.url("detail", obj) if current is not None else self.url("list"))
        data = self.request.POST.copy()
        data["version"] = str(current.version)
        # The form validates into its own copy: ``current`` must keep showing what is saved.
        form = self.get_form(data=data, instance=self.get_queryset().get(pk=obj.pk))
        form.is_valid()
        theirs = [{"label": field_label(self.model, n), "current": display_value(current, n),
                   "yours": input_display(self.model, n, form.cleaned_data.get(n, form.data.get(n)))}
                  for n in form.changed_data if n not in ("version", "reason") and model_field(self.model, n)]
        return self.page(form, current, conflict={"message": exc.message, "fields": theirs}, status=409)


class _RecordPostView(RecordView):
    """A POST that changes a record's state and returns to its page, with a reason."""

    http_method_names = ["post"]
    reason_required = False
    done = ""

    def apply(self, obj, version: int | None, reason: str | None):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        reason = request.POST.get("reason", "").strip() or None
        version = request.POST.get("version", "")
        version = int(version) if version.isdigit() else None
        if self.reason_required and not reason:
            messages.error(request, f"Give a reason: it is kept in the {self.opts.verbose_name}'s history.")
            return HttpResponseRedirect(self.url("detail", obj))
        try:
            obj = self.apply(obj, version, reason)
        except TravelerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{capfirst(str(self.opts.verbose_name))} “{obj}” {self.done}.")
        return HttpResponseRedirect(self.url("detail", obj))


class RecordArchiveView(_RecordPostView):
    """POST: archive the record (records are never deleted), with the reason in its history."""

    action = "archive"
    archive_service: Callable[..., Any] | None = None  # (*, <record_kwarg>, version, reason) -> obj
    reason_required = True
    done = "archived"

    def apply(self, obj, version, reason):
        service = type(self).archive_service
        if service is None:
            return record_archive(obj, version=version, reason=reason)
        return service(**{self.record_kwarg: obj}, version=version, reason=reason)


class RecordRestoreView(_RecordPostView):
    """POST: bring an archived record back."""

    action = "archive"
    restore_service: Callable[..., Any] | None = None  # (*, <record_kwarg>, reason) -> obj
    done = "restored"

    def apply(self, obj, version, reason):
        service = type(self).restore_service
        if service is None:
            return record_restore(obj, reason=reason)
        return service(**{self.record_kwarg: obj}, reason=reason)


class RecordHistoryView(RecordView):
    """Every change to one record, newest first: who, when (UTC), what changed from what, and why."""

    template_name = "core/record_history.html"

    def get_permissions(self) -> list[str]:
        return [self.permission or self.perm("view"), "core.view_history"]

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        rows = History.objects.filter(table_name=self.opts.db_table, record_id=str(obj.pk)).order_by("-id")
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        return self.render({"object": obj, "page": page, "entries": history_rows(self.model, page.object_list)})


def record_urls(prefix: str, model, *, list=None, detail=None, form=None, archive=None,
                restore=None, history=None) -> list:
    """URL patterns for a model's record pages, named by the convention the views reverse.

    ``archive``, ``restore`` and ``history`` may be ``True``: the generic view for ``model``, when a
    subclass would only name the model.
    """
    name = model._meta.model_name
    generic = {"archive": RecordArchiveView, "restore": RecordRestoreView, "history": RecordHistoryView}
    routes = [
        (list, "", "list"), (form, "new/", "create"), (detail, "<int:pk>/", "detail"),
        (form, "<int:pk>/edit/", "update"), (archive, "<int:pk>/archive/", "archive"),
        (restore, "<int:pk>/restore/", "restore"), (history, "<int:pk>/history/", "history"),
    ]
    return [path(f"{prefix}{route}", generic[kind].as_view(model=model) if view is True else view.as_view(),
                 name=f"{name}-{kind}")
            for view, route, kind in routes if view]
