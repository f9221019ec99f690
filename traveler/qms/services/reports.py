"""Quality reports: an inspection of one part at one step, with its results (measured values against
the step's definitions), the defect codes found, the inspectors and the equipment used.

A result is in spec when its measurement definition says so (``MeasurementDefinition.in_spec``, the
rule the traveler's measurements follow); a report with any result out of spec cannot be a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from traveler.core.errors import Conflict, InvalidInput
from traveler.core.eventbus import publish
from traveler.core.models import User
from traveler.core.services.records import record_archive, record_create, record_update
from traveler.core.tenancy import audit_reason, current_actor, current_tenant
from traveler.mes_lite.choices import MeasurementKind
from traveler.mes_lite.models import Equipment, MeasurementDefinition, Part, Step
from traveler.qms.choices import ReportOrigin, ReportStatus
from traveler.qms.events import QualityReportCreated
from traveler.qms.models import (
    MeasurementResult,
    QualityErrorsList,
    QualityReport,
    QualityReportDefect,
    QualityReportEquipment,
    QualityReportInspector,
)

SCALARS = ("status", "description")
LISTS = ("inspectors", "equipment", "defects", "results")


@dataclass
class _Result:
    definition: MeasurementDefinition
    value: Decimal | None
    passed: bool | None
    in_spec: bool


def _parse_value(d: MeasurementDefinition, raw: Any, field: str) -> tuple[Decimal | None, bool | None]:
    if d.kind == MeasurementKind.PASS_FAIL:
        if isinstance(raw, bool):
            return None, raw
        text = str(raw).strip().lower() if raw is not None else ""
        if text in {"pass", "passed", "true", "1", "yes"}:
            return None, True
        if text in {"fail", "failed", "false", "0", "no"}:
            return None, False
        raise InvalidInput(f"{d.label}: give pass or fail, not {raw!r}.", fields={field: ["pass or fail"]})
    if isinstance(raw, bool) or raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput(f"{d.label}: a number is needed.", fields={field: ["a number is needed"]})
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{d.label}: {raw!r} is not a number.", fields={field: ["not a number"]}) from None
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise InvalidInput(f"{d.label}: {raw!r} is out of range.", fields={field: ["out of range"]})
    return value, None


def _results(step: Step, raw: Any) -> list[_Result]:
    if not isinstance(raw, (list, tuple)):
        raise InvalidInput("results must be a list.", fields={"results": ["must be a list"]})
    out: dict[int, _Result] = {}
    for i, item in enumerate(raw):
        field = f"results[{i}]"
        d = item.get("definition") if isinstance(item, dict) else None
        if not isinstance(d, MeasurementDefinition):
            raise InvalidInput("Each result names its measurement definition.", fields={f"{field}.definition": ["required"]})
        if d.step_id != step.pk:
            raise InvalidInput(f"{d.label} is measured at another step, not at '{step.name}'.",
                               fields={f"{field}.definition": ["not of this step"]})
        if d.pk in out:
            raise InvalidInput(f"{d.label} is given twice.", fields={f"{field}.definition": ["duplicate"]})
        value, passed = _parse_value(d, item.get("value"), f"{field}.value")
        out[d.pk] = _Result(d, value, passed, d.in_spec(passed if d.kind == MeasurementKind.PASS_FAIL else value))
    return list(out.values())


def _defects(part: Part, step: Step, raw: Any) -> list[tuple[QualityErrorsList, int]]:
    if not isinstance(raw, (list, tuple)):
        raise InvalidInput("defects must be a list.", fields={"defects": ["must be a list"]})
    out: dict[int, tuple[QualityErrorsList, int]] = {}
    for i, item in enumerate(raw):
        field = f"defects[{i}]"
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, QualityErrorsList):
            raise InvalidInput("Each defect names its defect code.", fields={f"{field}.code": ["required"]})
        if code.archived_at is not None:
            raise InvalidInput(f"Defect code {code} is archived.", fields={f"{field}.code": ["archived"]})
        count = item.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidInput(f"{code}: the count is a whole number of at least 1.", fields={f"{field}.count": ["at least 1"]})
        if code.pk in out:
            raise InvalidInput(f"Defect code {code} is given twice.", fields={f"{field}.code": ["duplicate"]})
        types = {pt.pk for pt in code.part_types.all()}
        if types and part.part_type_id not in types:
            raise InvalidInput(f"Defect code {code} does not apply to part type {part.part_type}.",
                               fields={f"{field}.code": ["not for this part type"]})
        steps = {s.pk for s in code.steps.all()}
        if steps and step.pk not in steps:
            raise InvalidInput(f"Defect code {code} does not apply at step '{step.name}'.",
                               fields={f"{field}.code": ["not for this step"]})
        out[code.pk] = (code, count)
    return list(out.values())


def _inspectors(raw: Any) -> list[User]:
    users = list(dict.fromkeys(raw or []))
    members = set(User.objects.filter(pk__in=[u.pk for u in users], memberships__tenant=current_tenant(),
                                      memberships__is_active=True).values_list("pk", flat=True))
    strangers = [u.full_name or u.email for u in users if u.pk not in members]
    if strangers:
        raise InvalidInput(f"Not a member of this tenant: {', '.join(strangers)}.", fields={"inspectors": ["not a member"]})
    return users


def _equipment(raw: Any) -> list[Equipment]:
    items = list(dict.fromkeys(raw or []))
    archived = [str(e) for e in items if e.archived_at is not None]
    if archived:
        raise InvalidInput(f"Archived equipment: {', '.join(archived)}.", fields={"equipment": ["archived"]})
    return items


def _check_status(status: Any, results: list[_Result]) -> None:
    if status not in ReportStatus.values:
        raise InvalidInput(f"status: one of {', '.join(ReportStatus.values)}.", fields={"status": ["invalid choice"]})
    bad = [r.definition.label for r in results if not r.in_spec]
    if status == ReportStatus.PASS and bad:
        raise InvalidInput(f"A report with results out of specification cannot pass: {', '.join(bad)}. "
                           "Record it as fail (or pending), or correct the values.", fields={"status": ["out of spec"]})


def _write_results(report: QualityReport, results: list[_Result]) -> None:
    actor = current_actor()
    MeasurementResult.objects.bulk_create([
        MeasurementResult(tenant=current_tenant(), report=report, definition=r.definition, value=r.value,
                          passed=r.passed, in_spec=r.in_spec, created_by=actor) for r in results])


def _write_links(report: QualityReport, *, inspectors=None, equipment=None, defects=None) -> None:
    tenant = current_tenant()
    if inspectors is not None:
        QualityReportInspector.objects.filter(report=report).delete()
        QualityReportInspector.objects.bulk_create(
            [QualityReportInspector(tenant=tenant, report=report, user=u) for u in inspectors])
    if equipment is not None:
        QualityReportEquipment.objects.filter(report=report).delete()
        QualityReportEquipment.objects.bulk_create(
            [QualityReportEquipment(tenant=tenant, report=report, equipment=e) for e in equipment])
    if defects is not None:
        QualityReportDefect.objects.filter(report=report).delete()
        QualityReportDefect.objects.bulk_create(
            [QualityReportDefect(tenant=tenant, report=report, error=c, count=n) for c, n in defects])


def quality_report_create(*, part: Part, step: Step, status: str, description: str = "",
                          inspectors: list[User] | None = None, equipment: list[Equipment] | None = None,
                          defects: list[dict] | None = None, results: list[dict] | None = None,
                          reason: str | None = None, origin: str = ReportOrigin.MANUAL,
                          source_event_id: int | None = None) -> QualityReport:
    """Record an inspection of ``part`` at ``step`` (a step of the part's process). ``results`` are
    ``{"definition", "value"}`` against the step's measurement definitions, ``defects`` are
    ``{"code", "count"}``. Raises Conflict when ``source_event_id`` already has its report."""
    if not isinstance(part, Part):
        raise InvalidInput("part: required.", fields={"part": ["required"]})
    if not isinstance(step, Step):
        raise InvalidInput("step: required.", fields={"step": ["required"]})
    if part.archived_at is not None:
        raise InvalidInput(f"Part {part} is archived.", fields={"part": ["archived"]})
    if step.process_id != part.process_id:
        raise InvalidInput(f"Step '{step.name}' is not on the route of part {part}.", fields={"step": ["not on the route"]})
    checked = _results(step, results or [])
    _check_status(status, checked)
    found = _defects(part, step, defects or [])
    people = _inspectors(inspectors)
    used = _equipment(equipment)
    try:
        with transaction.atomic(), audit_reason(reason):
            report = record_create(QualityReport, data={
                "part": part, "step": step, "status": status, "description": description or "", "origin": origin,
                "source_event_id": source_event_id}, reason=reason)
            _write_results(report, checked)
            _write_links(report, inspectors=people, equipment=used, defects=found)
            publish(QualityReportCreated(report_id=report.pk, part_id=part.pk, step_id=step.pk, status=status,
                                         origin=origin))
    except InvalidInput:
        if source_event_id is not None and QualityReport.objects.filter(source_event_id=source_event_id).exists():
            raise Conflict(f"Event {source_event_id} already has its quality report.") from None
        raise
    except IntegrityError as exc:  # a concurrent delivery of the same event
        raise Conflict(f"Event {source_event_id} already has its quality report.") from exc
    return report


def quality_report_update(*, quality_report: QualityReport, version: int | None, data: dict[str, Any],
                          reason: str | None = None) -> QualityReport:
    """Change a report's status, description, inspectors, equipment, defects or results (a list given
    replaces the one recorded). Its part and step do not change."""
    report = quality_report
    for fixed in ("part", "step"):
        if fixed in data and getattr(data[fixed], "pk", data[fixed]) != getattr(report, f"{fixed}_id"):
            raise InvalidInput(f"A quality report's {fixed} does not change; record a new report instead.",
                               fields={fixed: ["cannot change"]})
    unknown = set(data) - set(SCALARS) - set(LISTS) - {"part", "step"}
    if unknown:
        raise InvalidInput(f"Not a field of a quality report: {', '.join(sorted(unknown))}.",
                           fields={k: ["unknown"] for k in sorted(unknown)})
    part, step = report.part, report.step
    if "results" in data:
        checked = _results(step, data["results"] or [])
    else:
        checked = [_Result(r.definition, r.value, r.passed, r.in_spec)
                   for r in report.results.select_related("definition")]
    status = data.get("status", report.status)
    _check_status(status, checked)
    found = _defects(part, step, data["defects"] or []) if "defects" in data else None
    people = _inspectors(data["inspectors"]) if "inspectors" in data else None
    used = _equipment(data["equipment"]) if "equipment" in data else None
    scalars = {k: data[k] for k in SCALARS if k in data}
    if "description" in scalars:
        scalars["description"] = scalars["description"] or ""
    with transaction.atomic(), audit_reason(reason):
        report = record_update(report, version=version, data=scalars, reason=reason)
        if "results" in data:
            MeasurementResult.objects.filter(report=report).delete()
            _write_results(report, checked)
        _write_links(report, inspectors=people, equipment=used, defects=found)
    return report


def quality_report_archive(*, quality_report: QualityReport, version: int | None = None,
                           reason: str | None = None) -> QualityReport:
    """Archive a report: it leaves the lists and stays readable, with its history."""
    return record_archive(quality_report, version=version, reason=reason)
