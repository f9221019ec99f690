"""3D defect map pages: the list of 3D models, the upload form, and a model's page with the viewer.

The viewer (``static/qms/defect_map.js``) is an ES module on three.js, which the app serves from its
own static files (installed from the npm registry by ``./dev``, see requirements/npm.json). Its import
map is an inline script: the page allows exactly that script by its SHA-256 in its own
Content-Security-Policy, nothing else inline. The heatmap table and the latest annotations are in the
HTML itself, for browsers without WebGL or without JavaScript.
"""

from __future__ import annotations

import base64
import hashlib
import json

from django import forms
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import reverse

from traveler.core.errors import InvalidInput, TravelerError
from traveler.core.security import POLICY
from traveler.core.services.files import human_size
from traveler.core.ui.generic import (
    RecordDetailView,
    RecordFormView,
    RecordListView,
    RecordView,
    add_service_error,
)
from traveler.mes_lite.models import Part, PartType, Step
from traveler.qms.api.maps import heatmap_query
from traveler.qms.models import QualityErrorsList, ThreeDModel
from traveler.qms.services.maps import (
    annotations_matching,
    heatmap_aggregate,
    three_d_model_create,
    three_d_model_update,
)

THREE = "qms/vendor/three"
RECENT_ANNOTATIONS = 50
SERIALS_OFFERED = 500


def viewer_importmap() -> str | None:
    """The import map of the vendored three.js, or None when it is not installed (``./dev npm``)."""
    if not finders.find(f"{THREE}/build/three.module.js"):
        return None
    return json.dumps({"imports": {"three": static(f"{THREE}/build/three.module.js"),
                                   "three/addons/": static(f"{THREE}/examples/jsm/")}}, separators=(",", ":"))


def policy_allowing(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return POLICY.replace("script-src 'self'", f"script-src 'self' 'sha256-{digest}'")


class ThreeDModelList(RecordListView):
    model = ThreeDModel
    columns = ["name", "part_type", "file_format", "created_at"]
    search_fields = ["name"]
    filter_fields = ["file_format"]


class ThreeDModelUploadForm(forms.Form):
    part_type = forms.ModelChoiceField(queryset=PartType.objects.none())
    name = forms.CharField(max_length=200, help_text="For example: Injector body.")
    file = forms.FileField(help_text="glTF binary (.glb), glTF JSON with embedded buffers, or STL (ASCII or binary). "
                                     "The type is read from the file's content.")
    reason = forms.CharField(label="Reason", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Stored in the record's history.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part_type"].queryset = PartType.objects.filter(archived_at__isnull=True)


class ThreeDModelUpload(RecordView):
    """Upload a 3D model: the file becomes a revision of a new drawing document attached to the part type."""

    model = ThreeDModel
    action = "add"
    template_name = "qms/map_upload.html"

    def page(self, form, status: int = 200):
        from django.conf import settings

        return self.render({"form": form, "limit": human_size(settings.TRAVELER_UPLOAD_MAX_BYTES)}, status=status)

    def get(self, request, *args, **kwargs):
        initial = {"part_type": request.GET.get("part_type")} if request.GET.get("part_type", "").isdigit() else {}
        return self.page(ThreeDModelUploadForm(initial=initial))

    def post(self, request, *args, **kwargs):
        form = ThreeDModelUploadForm(data=request.POST, files=request.FILES)
        if not form.is_valid():
            return self.page(form, status=400)
        d = form.cleaned_data
        try:
            model = three_d_model_create(part_type=d["part_type"], name=d["name"], content=d["file"],
                                         original_name=d["file"].name, reason=d.get("reason") or None)
        except TravelerError as exc:
            add_service_error(form, exc)
            return self.page(form, status=exc.status)
        messages.success(request, f"3D model “{model}” uploaded.")
        return HttpResponseRedirect(self.url("detail", model))


class ThreeDModelRename(RecordFormView):
    model = ThreeDModel
    fields = ["name"]
    service_kwarg = "three_d_model"
    update_service = three_d_model_update


class ThreeDModelDetail(RecordDetailView):
    """A model's page: the viewer (place defects, heatmap), its filters, the heatmap table and the
    latest annotations."""

    model = ThreeDModel
    template_name = "qms/map_detail.html"
    fields = ["part_type", "name", "document", "file_format"]

    def get_queryset(self):
        return super().get_queryset().select_related("part_type", "document", "revision")

    def record_context(self, obj=None):
        context = super().record_context(obj)
        if obj is None:
            return context
        params = self.request.GET
        filter_error = None
        try:
            query = heatmap_query(params)
            heat = heatmap_aggregate(model=obj, **query)
        except InvalidInput as exc:
            filter_error, query = exc.message, {}
            heat = heatmap_aggregate(model=obj)
        annotations = annotations_matching(model=obj, **{k: v for k, v in query.items() if k != "resolution"})
        codes = QualityErrorsList.objects.filter(archived_at__isnull=True).order_by("code")
        steps = Step.objects.filter(process__part_type=obj.part_type, archived_at__isnull=True).select_related(
            "process").order_by("process__route_version", "pk")
        can_place = self.request.access.has("qms.add_heatmapannotation") and obj.archived_at is None
        code_names = {c.pk: c for c in codes}
        context.update({
            "heat": heat,
            "bins": [{"bin": b, "share": round(100 * b.count / heat.total) if heat.total else 0,
                      "level": min(4, int(5 * b.count / heat.max_count)) if heat.max_count else 0}
                     for b in heat.bins],
            "heat_codes": [{**c, "description": getattr(code_names.get(c["id"]), "description", "")}
                           for c in heat.defect_codes],
            "recent": list(annotations.select_related("defect_code", "part", "step", "created_by")
                           .order_by("-created_at", "-pk")[:RECENT_ANNOTATIONS]),
            "annotation_total": annotations.count(),
            "codes": codes, "steps": steps, "filter_error": filter_error,
            "filters": {"from": params.get("from", ""), "to": params.get("to", ""),
                        "defect_code": params.get("defect_code", ""), "step": params.get("step", ""),
                        "resolution": params.get("resolution", "")},
            "serials": list(Part.objects.filter(part_type=obj.part_type, archived_at__isnull=True)
                            .order_by("-pk").values_list("serial_number", flat=True)[:SERIALS_OFFERED]),
            "can_place": can_place, "importmap": viewer_importmap(),
            "viewer": {
                "model_url": reverse("qms-api:three-d-model-file", args=[obj.pk]),
                "heatmap_url": reverse("qms-api:three-d-model-heatmap", args=[obj.pk]),
                "annotations_url": reverse("qms-api:heatmap-annotation-list"),
                "parts_url": reverse("mes_lite-api:part-list"),
                "format": obj.file_format, "bounds": json.dumps(obj.bounds), "model_id": obj.pk,
                "part_type": obj.part_type_id,
                "script": static("qms/defect_map.js"),
            },
        })
        return context

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        importmap = viewer_importmap()
        if importmap:
            response["Content-Security-Policy"] = policy_allowing(importmap)
        return response
