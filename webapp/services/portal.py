"""What the deduction portal shows an employer: its months with their lists and the payments received for each,
and its contacts. Everything is of the one employer asked for: another employer's payments never show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionContact, DeductionList, Payment
from webapp.models.choices import ListStatus
from webapp.services.deduction_lists import stored_month
from webapp.services.periods import current_first


def months_overview(employer_id: int) -> list[dict]:
    """One row per month with a basis, newest first: the basis, its month, the delivered lists and the draft."""
    bases = db.session.scalars(
        select(DeductionBasis).where(DeductionBasis.employer_id == employer_id).order_by(DeductionBasis.period.desc())
    ).all()
    lists = db.session.scalars(
        select(DeductionList).where(DeductionList.employer_id == employer_id).order_by(DeductionList.created_at)
    ).all()
    by_period: dict[str, list[DeductionList]] = {}
    for deduction_list in lists:
        by_period.setdefault(deduction_list.period, []).append(deduction_list)
    payments = payments_by_month(employer_id)
    rows = []
    for basis in bases:
        period_lists = by_period.get(basis.period, [])
        rows.append({
            "basis": basis,
            "month": stored_month(basis.period),
            "delivered": [lst for lst in period_lists if lst.status == ListStatus.delivered],
            "draft": next((lst for lst in period_lists if lst.status == ListStatus.draft), None),
            "payments": payments.get(basis.period, MonthPayments()),
        })
    return rows


@dataclass
class MonthPayments:
    """The payments received for one employer-month (reversals with their minus sign), oldest first."""

    kid: str | None = None
    payments: list[Payment] = field(default_factory=list)

    @property
    def total_ore(self) -> int:
        return sum(payment.amount_ore for payment in self.payments)


def _employer_payments(employer_id: int, period: str | None = None):
    """The payments matched to the employer's months (to one month when `period` is given): never a member's,
    an unmatched or a returned payment, and never another employer's."""
    query = select(Payment).where(Payment.employer_id == employer_id, Payment.period.is_not(None),
                                  Payment.returned_at.is_(None))
    if period is not None:
        query = query.where(Payment.period == period)
    return db.session.scalars(query.order_by(Payment.paid_on, Payment.id)).all()


def payments_by_month(employer_id: int) -> dict[str, MonthPayments]:
    """Every month's payments of the employer, by month (one query)."""
    months: dict[str, MonthPayments] = {}
    for payment in _employer_payments(employer_id):
        months.setdefault(payment.period, MonthPayments()).payments.append(payment)
    return months


def payment_information(employer_id: int, period: str) -> MonthPayments:
    """What the employer needs to pay for a month and sees of it: the month's KID and the payments received."""
    kid = db.session.scalar(
        select(DeductionBasis.kid).where(DeductionBasis.employer_id == employer_id, DeductionBasis.period == period))
    return MonthPayments(kid=kid, payments=list(_employer_payments(employer_id, period)))


def contacts_of(employer_id: int) -> list[DeductionContact]:
    """The employer's deduction contacts, those in post today first, each group oldest first (history kept)."""
    return db.session.scalars(
        select(DeductionContact).where(DeductionContact.employer_id == employer_id)
        .order_by(current_first(DeductionContact, dt.date.today()), DeductionContact.start_date)
    ).all()
