"""Inspection demo data: quality reports with defects found over the last 30 days on the injector
line, so that the quality dashboard's defect Pareto has something to show. Runs after the 3D map
demo (which creates the defect codes); idempotent: a tenant with manual reports already is left as
it is."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from traveler.core.demo import demo_loader
from traveler.core.models import Tenant, User
from traveler.core.tenancy import tenant_context
from traveler.mes_lite.models import Part, Step
from traveler.qms.choices import ReportOrigin, ReportStatus
from traveler.qms.demo_maps import DEFECTS
from traveler.qms.models import QualityErrorsList, QualityReport
from traveler.qms.services.reports import quality_report_create

REPORTS = 60


@demo_loader
def load_reports_demo(tenant: Tenant) -> None:
    if QualityReport.objects.filter(origin=ReportOrigin.MANUAL).exists():
        return
    codes = {c.code: c for c in QualityErrorsList.objects.filter(code__in=[d[0] for d in DEFECTS])}
    inspector = User.objects.filter(email=f"qa.inspector@{tenant.slug}.example.com").first()
    parts = list(Part.objects.filter(archived_at__isnull=True).order_by("pk")[:200])
    if len(codes) < len(DEFECTS) or inspector is None or not parts:
        return
    rng = random.Random(f"reports-demo-{tenant.slug}")
    steps = {s.name: s for s in Step.objects.filter(process_id__in={p.process_id for p in parts})}
    # Weighted like the line's real trouble: burrs most, then seats, scratches, porosity.
    weights = {"BURR": 8, "SEAT-DMG": 5, "SCRATCH": 4, "POROSITY": 2}
    now = timezone.now()
    with tenant_context(tenant, actor=inspector):
        for n in range(REPORTS):
            part = rng.choice(parts)
            code = rng.choices(list(weights), weights=list(weights.values()))[0]
            step_name = next(d[4] for d in DEFECTS if d[0] == code)
            step = steps.get(step_name)
            if step is None or step.process_id != part.process_id:
                continue
            defects = [{"code": codes[code], "count": rng.randint(1, 3)}]
            if n % 4 == 0 and code != "SCRATCH":  # some reports find a second, minor defect
                defects.append({"code": codes["SCRATCH"], "count": 1})
            report = quality_report_create(part=part, step=step, status=ReportStatus.FAIL, defects=defects,
                                           inspectors=[inspector], description=f"{codes[code].description}.",
                                           reason="Demo: inspection history")
            QualityReport.objects.filter(pk=report.pk).update(created_at=now - timedelta(days=rng.uniform(0, 29)))
