"""Figures for the reconciliation dashboard: expected, reported and paid per month, the employers with open
issues and the deviations by reason. Grouped queries over the reconciliation figures that
webapp.services.reconciliation keeps on every deduction basis; nothing is recomputed here.

Expected is what the union fixes itself on the basis (the insurances and the apprentices' flat rate); the
percentage dues are computed by the employer from pay the union does not know, so reported is normally
above expected, and paid should equal reported.
"""

from __future__ import annotations

from collections import Counter

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionList, DeductionListLine, Employer
from webapp.models.choices import DeviationReason, ListStatus, ReconciliationStatus
from webapp.services.periods import Month


def months_back(last: Month, count: int) -> tuple[Month, Month]:
    """The first and last month of the `count` months that end with `last`."""
    return last.shift(-(max(count, 1) - 1)), last


def latest_period() -> Month | None:
    """The newest month with a deduction basis."""
    period = db.session.scalar(select(func.max(DeductionBasis.period)))
    return Month.parse(period) if period else None


def _in_months(column, first: Month, last: Month):
    return column.between(str(first), str(last))


def _kroner(ore: int) -> float:
    return round((ore or 0) / 100, 2)


def monthly_figures(first: Month, last: Month) -> list[dict]:
    """Per month: bases, delivered, reconciled (ok) and open, and expected / reported / paid in øre and kroner."""
    ok = ReconciliationStatus.ok
    rows = db.session.execute(
        select(
            DeductionBasis.period,
            func.count(DeductionBasis.id),
            func.sum(case((DeductionBasis.delivered.is_(True), 1), else_=0)),
            func.sum(case((DeductionBasis.reconciliation_status == ok, 1), else_=0)),
            func.coalesce(func.sum(DeductionBasis.fixed_total_ore), 0),
            func.coalesce(func.sum(DeductionBasis.reported_total_ore), 0),
            func.coalesce(func.sum(DeductionBasis.paid_total_ore), 0),
            func.coalesce(func.sum(DeductionBasis.deviation_count), 0),
        )
        .where(_in_months(DeductionBasis.period, first, last))
        .group_by(DeductionBasis.period)
        .order_by(DeductionBasis.period)
    ).all()
    result = []
    for period, bases, delivered, reconciled, expected, reported, paid, deviations in rows:
        expected, reported, paid = int(expected), int(reported), int(paid)
        result.append({
            "month": period,
            "employers": int(bases),
            "delivered": int(delivered or 0),
            "reconciled": int(reconciled or 0),
            "open": int(bases) - int(reconciled or 0),
            "deviations": int(deviations),
            "expected_ore": expected,
            "reported_ore": reported,
            "paid_ore": paid,
            "unpaid_ore": reported - paid,
            "expected_kr": _kroner(expected),
            "reported_kr": _kroner(reported),
            "paid_kr": _kroner(paid),
        })
    return result


def amounts_long(figures: list[dict]) -> list[dict]:
    """The monthly figures one row per month and measure, as charts want them (labels in the app's language)."""
    measures = (("expected", _l("Expected (fixed amounts)")), ("reported", _l("Reported")), ("paid", _l("Paid")))
    return [
        {"month": row["month"], "measure": str(label), "kroner": row[f"{key}_kr"]}
        for row in figures
        for key, label in measures
    ]


def status_counts(first: Month, last: Month) -> list[dict]:
    """Per month and reconciliation status: how many employers."""
    rows = db.session.execute(
        select(DeductionBasis.period, DeductionBasis.reconciliation_status, func.count(DeductionBasis.id))
        .where(_in_months(DeductionBasis.period, first, last))
        .group_by(DeductionBasis.period, DeductionBasis.reconciliation_status)
        .order_by(DeductionBasis.period, DeductionBasis.reconciliation_status)
    ).all()
    return [{"month": period, "status": status.label, "status_code": status.name, "employers": int(count)}
            for period, status, count in rows]


def _flag_labels(flags: str) -> str:
    labels = []
    for code in filter(None, (flags or "").split(",")):
        try:
            labels.append(ReconciliationStatus[code].label)
        except KeyError:
            labels.append(code)
    return ", ".join(labels)


def open_issues(first: Month, last: Month) -> list[dict]:
    """Every employer and month that is not reconciled, worst-sorted by month, with its flags and amounts."""
    rows = db.session.execute(
        select(
            DeductionBasis.period, Employer.org_number, Employer.name, DeductionBasis.reconciliation_status,
            DeductionBasis.reconciliation_flags, DeductionBasis.fixed_total_ore, DeductionBasis.reported_total_ore,
            DeductionBasis.paid_total_ore, DeductionBasis.not_reported_count, DeductionBasis.unknown_reported_count,
            DeductionBasis.deviation_count,
        )
        .join(Employer, Employer.id == DeductionBasis.employer_id)
        .where(_in_months(DeductionBasis.period, first, last),
               DeductionBasis.reconciliation_status != ReconciliationStatus.ok)
        .order_by(DeductionBasis.period.desc(), Employer.name)
    ).all()
    return [{
        "month": r.period,
        "org_number": r.org_number,
        "employer": r.name,
        "status": r.reconciliation_status.label,
        "status_code": r.reconciliation_status.name,
        "flags": _flag_labels(r.reconciliation_flags),
        "expected_kr": _kroner(r.fixed_total_ore),
        "reported_kr": _kroner(r.reported_total_ore),
        "paid_kr": _kroner(r.paid_total_ore),
        "unpaid_kr": _kroner(r.reported_total_ore - r.paid_total_ore),
        "not_reported": r.not_reported_count,
        "unknown_reported": r.unknown_reported_count,
        "deviations": r.deviation_count,
    } for r in rows]


def employers_with_open_issues(first: Month, last: Month) -> list[dict]:
    """Per employer: how many of the months are open, the latest open month and its status, and what is unpaid."""
    per_employer: dict[str, dict] = {}
    for row in open_issues(first, last):  # newest month first
        item = per_employer.setdefault(row["org_number"], {
            "org_number": row["org_number"], "employer": row["employer"], "open_months": 0,
            "latest_month": row["month"], "latest_status": row["status"], "unpaid_kr": 0.0, "deviations": 0,
        })
        item["open_months"] += 1
        item["unpaid_kr"] = round(item["unpaid_kr"] + row["unpaid_kr"], 2)
        item["deviations"] += row["deviations"]
    return sorted(per_employer.values(), key=lambda item: (-item["open_months"], item["employer"]))


def deviations_by_reason(first: Month, last: Month) -> list[dict]:
    """Deviations on delivered lists per month, employer and reason (counts only, no member rows)."""
    rows = db.session.execute(
        select(DeductionList.period, Employer.org_number, Employer.name, DeductionListLine.deviation,
               func.count(DeductionListLine.id))
        .join(DeductionList, DeductionList.id == DeductionListLine.list_id)
        .join(Employer, Employer.id == DeductionList.employer_id)
        .where(_in_months(DeductionList.period, first, last), DeductionList.status == ListStatus.delivered,
               DeductionListLine.deviation.is_not(None))
        .group_by(DeductionList.period, Employer.org_number, Employer.name, DeductionListLine.deviation)
        .order_by(DeductionList.period, Employer.name)
    ).all()
    return [{"month": period, "org_number": org_number, "employer": name, "reason": reason.label,
             "reason_code": reason.name, "deviations": int(count)}
            for period, org_number, name, reason, count in rows]


def reason_totals(rows: list[dict]) -> list[dict]:
    """The deviation rows added up per reason, every reason listed."""
    totals = Counter()
    for row in rows:
        totals[row["reason_code"]] += row["deviations"]
    return [{"reason": reason.label, "reason_code": reason.name, "deviations": totals.get(reason.name, 0)}
            for reason in DeviationReason]
