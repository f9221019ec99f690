"""Quality analytics: the defect Pareto (from quality reports' defects) and first-pass yield per step
(from the traveler's transition log). Reads only; every figure is aggregated in SQL, in the current
tenant (the managers scope every query, row-level security is the second wall).

Definitions (docs/qms.md, "Quality dashboard and Pareto"):

* **Pareto**: the sum of the counts of the defect codes found on quality reports that are not
  archived, grouped by defect code, part type, step or period (day, week, month of the report's
  date), largest first, each group with its share and the cumulative share.
* **First-pass yield** of a step: of the parts whose *first departure* from the step (the earliest
  log row leaving it, by time then id) falls in the period, the share whose first departure is an
  advance or a completion. Any other action first (quarantine, hold, scrap, a rework or any action
  added later) means the part did not pass the step first time; later visits to the step (after a
  rework) do not count again. A part still waiting at the step is not counted yet. The first
  departures are kept as the log is written (``FirstDeparture``, docs/qms.md), not derived here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, DateField, Q, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from traveler.core.errors import InvalidInput
from traveler.mes_lite.choices import TransitionAction
from traveler.mes_lite.models import PartType, Step
from traveler.qms.choices import Severity
from traveler.qms.models import FirstDeparture, FirstPassCount, QualityReportDefect

PARETO_BY = ("code", "part_type", "step", "day", "week", "month")
PERIODS = ("day", "week", "month")
DEFAULT_DAYS = 30
# Leaving a step by one of these the first time is passing it first time; anything else is not.
FIRST_PASS_ACTIONS = (TransitionAction.ADVANCE, TransitionAction.COMPLETE)


@dataclass(frozen=True)
class AnalyticsFilters:
    """The period (both days included, in the tenant's time zone) and the optional filters."""

    date_from: date
    date_to: date
    part_type: PartType | None = None
    step: Step | None = None
    severity: str | None = None

    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return (datetime.combine(self.date_from, time.min, tzinfo=tz),
                datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=tz))

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.date_from, "to": self.date_to,
                "part_type": self.part_type.pk if self.part_type else None,
                "step": self.step.pk if self.step else None, "severity": self.severity}


def _date(raw: Any, field: str) -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidInput(f"{field}: {raw!r} is not a date (YYYY-MM-DD).", fields={field: ["not a date"]}) from None


def _record(model, raw: Any, field: str, label: str):
    if raw in (None, ""):
        return None
    if isinstance(raw, model):
        return raw
    try:
        pk = int(str(raw).strip())
    except ValueError:
        raise InvalidInput(f"{field}: {raw!r} is not an id.", fields={field: ["not an id"]}) from None
    found = model.objects.filter(pk=pk).first()  # another tenant's id is "no such" here too
    if found is None:
        raise InvalidInput(f"{field}: no {label} {pk}.", fields={field: ["does not exist"]})
    return found


def analytics_filters(params: Mapping[str, Any], *, today: date | None = None) -> AnalyticsFilters:
    """Parse ``from``, ``to``, ``part_type``, ``step`` and ``severity`` (query parameters or typed
    values). Without ``from``/``to`` the period is the last 30 days up to today."""
    today = today or timezone.localdate()
    date_to = _date(params.get("to"), "to") or today
    date_from = _date(params.get("from"), "from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise InvalidInput(f"from ({date_from}) is after to ({date_to}).", fields={"from": ["after to"]})
    severity = params.get("severity") or None
    if severity is not None and severity not in Severity.values:
        raise InvalidInput(f"severity: {severity!r} is not one of {', '.join(Severity.values)}.",
                           fields={"severity": [f"one of {', '.join(Severity.values)}"]})
    return AnalyticsFilters(date_from=date_from, date_to=date_to,
                            part_type=_record(PartType, params.get("part_type"), "part_type", "part type"),
                            step=_record(Step, params.get("step"), "step", "step"), severity=severity)


def _pareto_groups(by: str) -> tuple[list[str], str]:
    """The columns a Pareto groups on (the first is its key) and the key's output name."""
    if by == "code":
        return ["error", "error__code", "error__description", "error__severity"], "error"
    if by == "part_type":
        return ["report__part__part_type", "report__part__part_type__part_number",
                "report__part__part_type__revision", "report__part__part_type__name"], "report__part__part_type"
    if by == "step":
        return ["report__step", "report__step__sequence", "report__step__name", "report__step__process__name"], \
            "report__step"
    return ["period"], "period"


def _pareto_label(by: str, row: dict) -> str:
    if by == "code":
        return f"{row['error__code']} – {row['error__description']}"
    if by == "part_type":
        return (f"{row['report__part__part_type__part_number']} rev {row['report__part__part_type__revision']}"
                f" – {row['report__part__part_type__name']}")
    if by == "step":
        return f"{row['report__step__process__name']}: {row['report__step__sequence']}. {row['report__step__name']}"
    period: date = row["period"]
    if by == "week":
        year, week, _ = period.isocalendar()
        return f"{year}-W{week:02d}"
    return period.strftime("%Y-%m") if by == "month" else period.isoformat()


def defect_pareto(*, by: str = "code", filters: AnalyticsFilters) -> dict[str, Any]:
    """Defects found, grouped by ``by`` (one of ``PARETO_BY``), largest first, with
    each group's share and the cumulative share in percent (the last is 100)."""
    if by not in PARETO_BY:
        raise InvalidInput(f"by: {by!r} is not one of {', '.join(PARETO_BY)}.",
                           fields={"by": [f"one of {', '.join(PARETO_BY)}"]})
    start, end = filters.bounds()
    qs = QualityReportDefect.objects.filter(report__archived_at__isnull=True, report__created_at__gte=start,
                                            report__created_at__lt=end)
    if filters.part_type:
        qs = qs.filter(report__part__part_type=filters.part_type)
    if filters.step:
        qs = qs.filter(report__step=filters.step)
    if filters.severity:
        qs = qs.filter(error__severity=filters.severity)
    if by in PERIODS:
        qs = qs.annotate(period=Trunc("report__created_at", by, output_field=DateField(),
                                      tzinfo=timezone.get_current_timezone()))
    columns, key = _pareto_groups(by)
    tie = columns[1] if len(columns) > 1 else key  # equal counts: by code, part number, step number, date
    rows = list(qs.values(*columns).annotate(defects=Sum("count")).order_by("-defects", tie, key))
    total = sum(r["defects"] for r in rows)
    out, running = [], 0
    for r in rows:
        running += r["defects"]
        value = r[key]
        out.append({"key": value.isoformat() if isinstance(value, date) else value, "label": _pareto_label(by, r),
                    "count": r["defects"], "percent": round(100 * r["defects"] / total, 1),
                    "cumulative_percent": round(100 * running / total, 1)})
    return {"by": by, "filters": filters.as_dict(), "total": total, "rows": out}


def _hour(moment: datetime, *, up: bool) -> datetime:
    """``moment``'s UTC hour (its start), or the next one when ``up`` and it is not a whole hour."""
    whole = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return whole + timedelta(hours=1) if up and whole != moment else whole


def first_pass_yield(*, filters: AnalyticsFilters) -> dict[str, Any]:
    """First-pass yield per step over the period (see the module's docstring), steps in route order.
    ``filters.step`` keeps one step; the part type and severity filters do not apply."""
    start, end = filters.bounds()
    # Each (step, part)'s first departure is kept as the traveler writes it (FirstDeparture) and
    # counted per step and UTC hour (FirstPassCount), both by the triggers of migration 0007: the whole
    # hours of the period are added up from the counts, the part-hours at its ends (a time zone not a
    # whole number of hours off UTC) counted from the first departures.
    lo, hi = _hour(start, up=True), _hour(end, up=False)
    totals: dict[int, list[int]] = {}
    if lo < hi:
        hours = FirstPassCount.objects.filter(hour__gte=lo, hour__lt=hi)
        departures = FirstDeparture.objects.filter(Q(departed_at__gte=start, departed_at__lt=lo)
                                                   | Q(departed_at__gte=hi, departed_at__lt=end))
    else:
        hours, departures = None, FirstDeparture.objects.filter(departed_at__gte=start, departed_at__lt=end)
    if filters.step:
        departures = departures.filter(step=filters.step)
        hours = hours.filter(step=filters.step) if hours is not None else None
    found = []
    if hours is not None:
        found += hours.values("step").annotate(n=Sum("parts"), p=Sum("passed")).order_by().values_list("step", "n", "p")
    if not (lo < hi and lo == start and hi == end):  # the ends of the period are not whole hours
        found += departures.values("step").annotate(  # index-only: the index includes the action
            n=Count("step"), p=Count("step", filter=Q(action__in=FIRST_PASS_ACTIONS))).order_by() \
            .values_list("step", "n", "p")
    for step, n, p in found:
        total = totals.setdefault(step, [0, 0])
        total[0] += n
        total[1] += p
    counts = [{"from_step": step, "parts": n, "passed": p} for step, (n, p) in totals.items() if n]
    steps = {s.pk: s for s in Step.objects.filter(pk__in=[c["from_step"] for c in counts]).select_related("process")}
    rows = []
    for c in counts:
        step = steps[c["from_step"]]
        rows.append({"step": step.pk, "step_name": step.name, "sequence": step.sequence, "process": step.process_id,
                     "process_name": step.process.name, "route_version": step.process.route_version,
                     "parts": c["parts"], "first_pass": c["passed"], "not_first_pass": c["parts"] - c["passed"],
                     "yield_percent": round(100 * c["passed"] / c["parts"], 1)})
    rows.sort(key=lambda r: (r["process_name"], -r["route_version"], r["process"], r["sequence"]))
    parts = sum(r["parts"] for r in rows)
    passed = sum(r["first_pass"] for r in rows)
    return {"filters": {"from": filters.date_from, "to": filters.date_to,
                        "step": filters.step.pk if filters.step else None},
            "steps": rows, "attempts": parts, "first_pass": passed,
            "yield_percent": round(100 * passed / parts, 1) if parts else None}
