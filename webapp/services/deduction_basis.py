"""The monthly deduction basis (trekkgrunnlag): who each employer is to deduct, and what changed.

For a month M, every employer with a deduction agreement gets the members with
an employment there that is on deduction and, periodized, covers M, with their
components. Compared with M-1 each line says START, STOP or CHANGE. One query
reads every employment of the month; the lines are written in bulk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Protocol

from sqlalchemy import and_, delete, insert, select

from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionBasisLine, DuesRate, Employer, Employment, Member
from webapp.models.choices import BasisChange, MemberCategory
from webapp.services import dues, payment_matching
from webapp.services.kid import kid_for
from webapp.services.membership import (
    active_member_in_month_clause,
    employment_counted_in_month_clause,
    main_employment_order,
)
from webapp.services.periods import Month, covers_month

# Categories deducted through payroll; the others pay directly or nothing.
PAYROLL_CATEGORIES = (MemberCategory.ordinary, MemberCategory.apprentice)

# Change codes stored on a line; the screens show them by label.
APPRENTICE_TO_ORDINARY = "apprentice_to_ordinary"
ORDINARY_TO_APPRENTICE = "ordinary_to_apprentice"
TRAVEL_STARTED = "travel_insurance_started"
TRAVEL_STOPPED = "travel_insurance_stopped"
CONTENTS_STARTED = "contents_insurance_started"
CONTENTS_STOPPED = "contents_insurance_stopped"
INSURANCE_MOVED = "insurance_moved"


class BasisError(ValueError):
    pass


class DeductionEmployment(Protocol):
    """An employment as `on_payroll_deduction` reads it (a row or an Employment)."""

    start_date: dt.date
    end_date: dt.date | None
    on_deduction: bool


@dataclass(frozen=True)
class Components:
    """What one member is to be deducted at one employer in a month."""

    employment_id: int | None
    ordinary_dues: bool
    contents_insurance: bool
    travel_insurance: bool
    apprentice: bool
    fixed_amount_ore: int
    position_pct: Decimal | None

    def kind(self) -> tuple[bool, bool, bool, bool]:
        return (self.ordinary_dues, self.contents_insurance, self.travel_insurance, self.apprentice)


@dataclass
class GenerateResult:
    month: Month
    created: int = 0
    refreshed: int = 0
    already_there: int = 0
    refused_notified: int = 0
    members: int = 0
    changes: int = 0
    employers_refused: list[str] = field(default_factory=list)
    payments_matched: int = 0

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.refreshed)

    def summary(self) -> str:
        if not self.changed_anything:
            text = f"{self.month}: nothing to do, {self.already_there} employers already have a basis for the month"
            if self.refused_notified:
                text += f"; {self.refused_notified} not recomputed because their notices have gone out"
            elif self.already_there:
                text += " (--refresh recomputes those whose notices have not gone out)"
            return text
        text = (
            f"{self.month}: {self.created} bases created, {self.refreshed} recomputed, "
            f"{self.members} members on deduction, {self.changes} changes"
        )
        if self.already_there:
            text += f"; {self.already_there} left as they were"
        if self.refused_notified:
            text += f"; {self.refused_notified} not recomputed because their notices have gone out"
        if self.payments_matched:
            text += f"; {self.payments_matched} waiting payments matched to the new bases"
        return text


def rate_for(month: Month) -> DuesRate:
    rate = dues.rate_in_force(month)
    if rate is None:
        raise BasisError(f"period: no dues rate is valid in {month}; the office must register one")
    return rate


def payroll_deduction_clause(month: Month):
    """SQL over Employment, Employer and Member: this employment puts its member on payroll deduction in `month`.

    The one rule of who is deducted through payroll (the basis generator's), also read by
    webapp.services.payment_methods for months that have no basis yet: an employment on deduction at an employer
    with a deduction agreement, counted in the month, of an active member of a payroll category."""
    return and_(
        Employer.has_deduction_agreement.is_(True),
        Employment.on_deduction.is_(True),
        employment_counted_in_month_clause(month),
        active_member_in_month_clause(month),
        Member.category.in_(PAYROLL_CATEGORIES),
    )


def on_payroll_deduction(category: MemberCategory, joined_on: dt.date | None, left_on: dt.date | None,
                         employments: Iterable[DeductionEmployment], month: Month) -> bool:
    """Python twin of `payroll_deduction_clause` for one member: `employments` are the member's employments at
    employers with a deduction agreement (those are the only ones the clause can pass)."""
    if category not in PAYROLL_CATEGORIES or not covers_month(joined_on, left_on, month):
        return False
    return any(e.on_deduction and covers_month(e.start_date, e.end_date, month) for e in employments)


def compute_month(
    month: Month, rate: DuesRate, employer_ids: set[int] | None = None
) -> dict[int, dict[int, Components]]:
    """{employer_id: {member_id: components}} for the month, from the register as it is now."""
    query = (
        select(
            Employment.id,
            Employment.member_id,
            Employment.employer_id,
            Employment.position_pct,
            Employment.start_date,
            Member.category,
            Member.travel_insurance,
            Member.contents_insurance,
        )
        .join(Member, Member.id == Employment.member_id)
        .join(Employer, Employer.id == Employment.employer_id)
        .where(payroll_deduction_clause(month))
    )
    if employer_ids is not None:
        query = query.where(Employment.employer_id.in_(sorted(employer_ids)))
    # Rows in the main-employment order: each member's first row is the main one, and the first at an employer
    # the largest there.
    rows = db.session.execute(query.order_by(*main_employment_order())).all()
    # The main employment of each member carries the fixed amounts (insurances, apprentice flat rate).
    main_employment: dict[int, int] = {}
    for row in rows:
        main_employment.setdefault(row.member_id, row.id)

    result: dict[int, dict[int, Components]] = {}
    for row in rows:
        per_employer = result.setdefault(row.employer_id, {})
        if row.member_id in per_employer:
            continue  # one line per member and employer: the largest employment there
        parts = dues.fixed_components(
            rate,
            apprentice=row.category == MemberCategory.apprentice,
            main_employment=main_employment[row.member_id] == row.id,
            contents_insurance=row.contents_insurance,
            travel_insurance=row.travel_insurance,
        )
        per_employer[row.member_id] = Components(employment_id=row.id, position_pct=row.position_pct, **asdict(parts))
    return result


def stored_month(month: Month) -> dict[int, dict[int, Components]]:
    """The bases already made for a month, as the employers were told them (STOP lines left out)."""
    rows = db.session.execute(
        select(DeductionBasis.employer_id, DeductionBasisLine)
        .join(DeductionBasisLine, DeductionBasisLine.basis_id == DeductionBasis.id)
        .where(DeductionBasis.period == str(month), DeductionBasisLine.on_deduction.is_(True))
    ).all()
    result: dict[int, dict[int, Components]] = {}
    for employer_id, line in rows:
        result.setdefault(employer_id, {})[line.member_id] = Components(
            employment_id=line.employment_id,
            ordinary_dues=line.ordinary_dues,
            contents_insurance=line.contents_insurance,
            travel_insurance=line.travel_insurance,
            apprentice=line.apprentice,
            fixed_amount_ore=line.fixed_amount_ore,
            position_pct=line.position_pct,
        )
    return result


def describe_change(before: Components, after: Components) -> list[str]:
    codes = []
    if before.apprentice and not after.apprentice:
        codes.append(APPRENTICE_TO_ORDINARY)
    elif after.apprentice and not before.apprentice:
        codes.append(ORDINARY_TO_APPRENTICE)
    else:
        if before.travel_insurance != after.travel_insurance:
            codes.append(TRAVEL_STARTED if after.travel_insurance else TRAVEL_STOPPED)
        if before.contents_insurance != after.contents_insurance:
            codes.append(CONTENTS_STARTED if after.contents_insurance else CONTENTS_STOPPED)
    if not codes and before.fixed_amount_ore != after.fixed_amount_ore:
        codes.append(INSURANCE_MOVED)
    return codes


def diff_lines(previous: dict[int, Components], current: dict[int, Components]) -> list[dict]:
    """Basis lines for one employer: everyone on it now, and a STOP line for everyone who left it."""
    lines = []
    for member_id, now in current.items():
        before = previous.get(member_id)
        change, detail = None, None
        if before is None:
            change = BasisChange.start
        elif before.kind() != now.kind() or before.fixed_amount_ore != now.fixed_amount_ore:
            codes = describe_change(before, now)
            change, detail = BasisChange.change, ",".join(codes)
        lines.append(_line_row(member_id, now, True, change, detail))
    for member_id, before in previous.items():
        if member_id not in current:
            stopped = Components(before.employment_id, False, False, False, False, 0, before.position_pct)
            lines.append(_line_row(member_id, stopped, False, BasisChange.stop, None))
    return lines


def _line_row(member_id: int, c: Components, on_deduction: bool, change, detail) -> dict:
    return {
        "member_id": member_id,
        "employment_id": c.employment_id,
        "on_deduction": on_deduction,
        "ordinary_dues": c.ordinary_dues,
        "contents_insurance": c.contents_insurance,
        "travel_insurance": c.travel_insurance,
        "apprentice": c.apprentice,
        "fixed_amount_ore": c.fixed_amount_ore,
        "position_pct": c.position_pct,
        "change": change,
        "change_detail": detail,
    }


def generate(month: Month, refresh: bool = False, now: dt.datetime | None = None) -> GenerateResult:
    """Make (or with `refresh`, remake) the month's bases in one transaction."""
    now = now or dt.datetime.now()
    result = GenerateResult(month)
    try:
        rate = rate_for(month)
        current = compute_month(month, rate)
        previous = _previous_month(month, rate, current)
        existing = {b.employer_id: b
                    for b in db.session.scalars(select(DeductionBasis).where(DeductionBasis.period == str(month)))}
        customers = dict(
            db.session.execute(
                select(Employer.id, Employer.customer_no).where(Employer.has_deduction_agreement.is_(True))
            ).all()
        )
        employers = sorted(employer_id for employer_id in set(current) | set(previous) if employer_id in customers)
        to_build = _employers_to_build(employers, existing, refresh, result)
        _delete_bases([existing[e].id for e in to_build if e in existing])
        result.created = len(to_build) - result.refreshed
        lines_by_employer = {
            employer_id: diff_lines(previous.get(employer_id, {}), current.get(employer_id, {}))
            for employer_id in to_build
        }
        basis_rows = [
            _basis_row(month, employer_id, customers[employer_id], rate, now, lines, result)
            for employer_id, lines in lines_by_employer.items()
        ]
        _insert_bases(basis_rows, lines_by_employer)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if result.created:
        # Payments that came before their month's basis existed wait in the queue: they match now.
        result.payments_matched = payment_matching.rematch_unmatched()
    return result


def _previous_month(month: Month, rate: DuesRate, current: dict) -> dict[int, dict[int, Components]]:
    """Last month's components per employer: as told then, or (for an employer not told) as computed now."""
    previous = stored_month(month.previous)
    told_last_month = set(
        db.session.scalars(select(DeductionBasis.employer_id).where(DeductionBasis.period == str(month.previous)))
    )
    missing_previous = set(current) - told_last_month
    if missing_previous:
        computed = compute_month(month.previous, rate_for_or_none(month.previous) or rate, missing_previous)
        previous.update(computed)
    return previous


def _employers_to_build(employers: list[int], existing: dict, refresh: bool, result: GenerateResult) -> list[int]:
    """The employers whose basis is made now; counts the ones left alone in `result`."""
    to_build: list[int] = []
    for employer_id in employers:
        basis = existing.get(employer_id)
        if basis is None:
            to_build.append(employer_id)
        elif not refresh:
            result.already_there += 1
        elif basis.notified_at is not None:
            result.refused_notified += 1
        else:
            to_build.append(employer_id)
            result.refreshed += 1
    return to_build


def _delete_bases(basis_ids: list[int]) -> None:
    if basis_ids:
        db.session.execute(delete(DeductionBasisLine).where(DeductionBasisLine.basis_id.in_(basis_ids)))
        db.session.execute(delete(DeductionBasis).where(DeductionBasis.id.in_(basis_ids)))


def _basis_row(month: Month, employer_id: int, customer_no: str, rate: DuesRate, now: dt.datetime, lines: list[dict],
               result: GenerateResult) -> dict:
    """The basis row of one employer; adds its members and changes to `result`."""
    members = sum(1 for line in lines if line["on_deduction"])
    changes = sum(1 for line in lines if line["change"] is not None)
    result.members += members
    result.changes += changes
    return {
        "employer_id": employer_id,
        "period": str(month),
        "kid": kid_for(customer_no, month),
        "rate_id": rate.id,
        "generated_at": now,
        "member_count": members,
        "change_count": changes,
        "fixed_total_ore": sum(line["fixed_amount_ore"] for line in lines),
    }


def _insert_bases(basis_rows: list[dict], lines_by_employer: dict[int, list[dict]]) -> None:
    """One insert for the bases, then their lines in batches, each line pointing at its new basis."""
    if not basis_rows:
        return
    created = db.session.execute(
        insert(DeductionBasis).returning(
            DeductionBasis.id, DeductionBasis.employer_id, sort_by_parameter_order=True
        ),
        basis_rows,
    ).all()
    line_rows = []
    for basis_id, employer_id in created:
        for line in lines_by_employer[employer_id]:
            line["basis_id"] = basis_id
            line_rows.append(line)
    for start in range(0, len(line_rows), 5000):
        db.session.execute(insert(DeductionBasisLine), line_rows[start : start + 5000])


def rate_for_or_none(month: Month) -> DuesRate | None:
    try:
        return rate_for(month)
    except BasisError:
        return None
