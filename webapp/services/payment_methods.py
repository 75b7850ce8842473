"""Who pays how: through the employer's payroll, or directly by invoice or AvtaleGiro. One rule, two forms.

- On payroll deduction in a month: the month's deduction basis covers the member (a line on deduction) when
  bases exist for the month; for a month without bases yet, the basis generator's own rule
  (`deduction_basis.payroll_deduction_clause`), so the answer does not change when the basis is made.
- Otherwise an active member (periodized, `membership.active_member_in_month_clause`) pays directly: by
  AvtaleGiro when they have an active mandate registered by the end of the month, else by invoice.

Since when: on deduction since the first month of the member's current unbroken run of deduction months;
paying directly since the month after the last month on deduction (or since the membership counts); by
AvtaleGiro since the mandate's registration date (not before paying directly).

`payment_method` answers for one member and day (the screens); `direct_payers` and `on_deduction_clause`
are the set-based forms (billing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, func, select

from webapp.extensions import db
from webapp.models import AvtaleGiroMandate, DeductionBasis, DeductionBasisLine, Employer, Employment, Member
from webapp.models.choices import PaymentMethod
from webapp.services.deduction_basis import on_payroll_deduction, payroll_deduction_clause
from webapp.services.membership import active_member_in_month_clause, is_active_member
from webapp.services.periods import Month, effective_start

DIRECT_METHODS = (PaymentMethod.invoice, PaymentMethod.avtalegiro)


@dataclass(frozen=True)
class MethodSince:
    """How a member pays, and from which day."""

    method: PaymentMethod
    since: dt.date

    @property
    def is_direct(self) -> bool:
        return self.method in DIRECT_METHODS


# ------------------------------------------------------------------ set-based (SQL)


def month_has_bases(month: Month) -> bool:
    return db.session.scalar(select(DeductionBasis.id).where(DeductionBasis.period == str(month)).limit(1)) is not None


def on_deduction_clause(month: Month, has_bases: bool | None = None):
    """SQL over Member: the member is on payroll deduction in `month` (see the module's rule)."""
    if has_bases is None:
        has_bases = month_has_bases(month)
    if has_bases:
        return Member.id.in_(
            select(DeductionBasisLine.member_id)
            .join(DeductionBasis, DeductionBasis.id == DeductionBasisLine.basis_id)
            .where(DeductionBasis.period == str(month), DeductionBasisLine.on_deduction.is_(True))
        )
    return exists(
        select(Employment.id)
        .join(Employer, Employer.id == Employment.employer_id)
        .where(Employment.member_id == Member.id, payroll_deduction_clause(month))
    )


def mandate_cutoff(month: Month) -> dt.datetime:
    """A mandate counts in `month` when it was registered before this moment (by the end of the month)."""
    return dt.datetime.combine(month.next.first_day, dt.time())


def mandate_counts_in(registered_at: dt.datetime | None, month: Month) -> bool:
    """Python twin of `mandate_clause` for an active mandate's registration time."""
    return registered_at is not None and registered_at < mandate_cutoff(month)


def mandate_clause(month: Month):
    """SQL over Member: the member has an active AvtaleGiro mandate registered by the end of `month`."""
    return exists(
        select(AvtaleGiroMandate.id).where(
            AvtaleGiroMandate.member_id == Member.id,
            AvtaleGiroMandate.active.is_(True),
            AvtaleGiroMandate.registered_at < mandate_cutoff(month),
        )
    )


def first_mandate_registrations() -> dict[int, dt.datetime]:
    """{member: when their earliest active mandate was registered}, for billing many members at once."""
    return dict(db.session.execute(
        select(AvtaleGiroMandate.member_id, func.min(AvtaleGiroMandate.registered_at))
        .where(AvtaleGiroMandate.active.is_(True), AvtaleGiroMandate.member_id.is_not(None))
        .group_by(AvtaleGiroMandate.member_id)
    ).all())


def direct_payer_clause(month: Month, has_bases: bool | None = None):
    """SQL over Member: an active member who pays directly in `month` (by either direct method)."""
    return active_member_in_month_clause(month) & ~on_deduction_clause(month, has_bases)


def direct_payers(month: Month, method: PaymentMethod | None = None):
    """A select of the ids of the members who pay directly in `month`: by `method` (invoice or avtalegiro), or
    by either when `method` is None."""
    query = select(Member.id).where(direct_payer_clause(month))
    if method == PaymentMethod.avtalegiro:
        query = query.where(mandate_clause(month))
    elif method == PaymentMethod.invoice:
        query = query.where(~mandate_clause(month))
    elif method is not None:
        raise ValueError(f"method: {method} is not a direct payment method")
    return query


# ------------------------------------------------------------------ one member


def payment_method(member: Member, day: dt.date) -> MethodSince | None:
    """How the member pays in the month of `day`, and since when; None when the membership does not count then."""
    if not is_active_member(member, day):
        return None
    month = Month.of(day)
    on_deduction = _deduction_history(member)
    joined = Month.of(effective_start(member.joined_on))
    if on_deduction(month):
        first = month
        while first > joined and on_deduction(first.previous):
            first = first.previous
        return MethodSince(PaymentMethod.deduction, first.first_day)
    last = month.previous
    while last >= joined and not on_deduction(last):
        last = last.previous
    direct_since = last.next.first_day if last >= joined else effective_start(member.joined_on)
    registered = _mandate_registered(member.id, month)
    if registered is not None:
        return MethodSince(PaymentMethod.avtalegiro, max(registered, direct_since))
    return MethodSince(PaymentMethod.invoice, direct_since)


def _deduction_history(member: Member):
    """`on_deduction(month)` for one member, from a few queries: the basis where a month has one, the basis
    generator's rule (its Python twin) for the months without."""
    months_with_bases = set(db.session.scalars(select(DeductionBasis.period).distinct()))
    basis_months = set(db.session.scalars(
        select(DeductionBasis.period)
        .join(DeductionBasisLine, DeductionBasisLine.basis_id == DeductionBasis.id)
        .where(DeductionBasisLine.member_id == member.id, DeductionBasisLine.on_deduction.is_(True))
    ))
    employments = db.session.execute(
        select(Employment.start_date, Employment.end_date, Employment.on_deduction)
        .join(Employer, Employer.id == Employment.employer_id)
        .where(Employment.member_id == member.id, Employer.has_deduction_agreement.is_(True))
    ).all()

    def on_deduction(month: Month) -> bool:
        if str(month) in months_with_bases:
            return str(month) in basis_months
        return on_payroll_deduction(member.category, member.joined_on, member.left_on, employments, month)

    return on_deduction


def _mandate_registered(member_id: int, month: Month) -> dt.date | None:
    """The day the member's (earliest) active mandate counting in `month` was registered, or None."""
    registered = db.session.scalar(
        select(AvtaleGiroMandate.registered_at)
        .where(AvtaleGiroMandate.member_id == member_id, AvtaleGiroMandate.active.is_(True),
               AvtaleGiroMandate.registered_at < mandate_cutoff(month))
        .order_by(AvtaleGiroMandate.registered_at).limit(1)
    )
    return registered.date() if registered is not None else None
