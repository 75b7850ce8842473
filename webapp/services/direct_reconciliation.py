"""Reconciliation of direct payments: what was billed to members and what came in from the bank, to the øre.

Two views, each a handful of grouped queries over the raw rows (invoices, payment allocations, invoice
adjustments, payments), never a query per invoice or payment:

- `by_period(today)`: per billing period (an invoice's `period`, "2027-Q1" for quarterly invoices, "2027-01"
  for monthly AvtaleGiro claims) how many invoices, what was billed, paid (the sum of the allocations),
  credited, written off, outstanding and overdue. The sums are taken from the allocations and adjustments
  themselves, not from the sums kept on the invoice rows; `ledger_differences` counts the invoices whose kept
  sums (webapp.services.invoice_ledger) disagree with them, which must be none.
- `payment_figures()`: every bank transaction is exactly one of employer-matched, member-matched, returned or
  unmatched, and a member-matched payment's money is either allocated to invoices or the member's credit, so
      total = employer-matched + allocated to invoices + member credit + unmatched + returned.
  Each part is summed by its own rule; `unexplained_ore` is what is left over and must be 0. A payment counted
  twice (matched to an employer and a member), or an allocation left on a payment that is no longer the
  member's (returned or unmatched), shows up there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

from sqlalchemy import and_, case, func, or_, select

from webapp.extensions import db
from webapp.models import Invoice, InvoiceAdjustment, Payment, PaymentAllocation
from webapp.models.choices import InvoiceAdjustmentKind, InvoiceStatus
from webapp.services.invoice_ledger import member_payments_clause, members_with_credit_query, overdue_clause
from webapp.services.periods import Month


@dataclass(frozen=True)
class PeriodFigures:
    """One billing period's invoices, in øre."""

    period: str
    invoices: int = 0
    billed_ore: int = 0
    paid_ore: int = 0
    credited_ore: int = 0
    written_off_ore: int = 0
    outstanding_ore: int = 0
    overdue_count: int = 0
    overdue_ore: int = 0
    # Invoices whose kept sums (paid, credited, written off) differ from their allocations and adjustments.
    ledger_differences: int = 0

    @property
    def is_monthly(self) -> bool:
        return "Q" not in self.period


@dataclass(frozen=True)
class PaymentFigures:
    """Bank transactions split by what became of them, counts and øre."""

    total_count: int = 0
    total_ore: int = 0
    employer_count: int = 0
    employer_ore: int = 0
    member_count: int = 0
    member_ore: int = 0
    allocated_ore: int = 0
    credit_ore: int = 0
    unmatched_count: int = 0
    unmatched_ore: int = 0
    returned_count: int = 0
    returned_ore: int = 0
    # Reversals (negative amounts), already inside the figures above.
    reversal_count: int = 0
    reversal_ore: int = 0

    @property
    def explained_ore(self) -> int:
        return self.employer_ore + self.allocated_ore + self.credit_ore + self.unmatched_ore + self.returned_ore

    @property
    def unexplained_ore(self) -> int:
        return self.total_ore - self.explained_ore


@dataclass(frozen=True)
class MonthPayments:
    """The payments of one month (by the day the bank booked them)."""

    month: str
    figures: PaymentFigures


@dataclass
class DirectReconciliation:
    periods: list[PeriodFigures] = field(default_factory=list)
    payments: PaymentFigures = field(default_factory=PaymentFigures)
    members_with_credit: int = 0

    @property
    def billed(self) -> PeriodFigures:
        """All periods added up."""
        return add_periods("", self.periods)

    @property
    def ledger_differences(self) -> int:
        return sum(row.ledger_differences for row in self.periods)

    @property
    def unexplained_ore(self) -> int:
        return self.payments.unexplained_ore


def add_periods(period: str, rows: list[PeriodFigures]) -> PeriodFigures:
    names = [f.name for f in fields(PeriodFigures) if f.name != "period"]
    return PeriodFigures(period, **{name: sum(getattr(row, name) for row in rows) for name in names})


def _invoice_sums():
    """Per invoice: what its allocations paid and its adjustments credited and wrote off (raw rows)."""
    paid = (
        select(PaymentAllocation.invoice_id.label("invoice_id"), func.sum(PaymentAllocation.amount_ore).label("ore"))
        .group_by(PaymentAllocation.invoice_id)
        .subquery("allocated")
    )

    def of_kind(kind):
        return func.sum(case((InvoiceAdjustment.kind == kind, InvoiceAdjustment.amount_ore), else_=0))

    adjusted = (
        select(InvoiceAdjustment.invoice_id.label("invoice_id"),
               of_kind(InvoiceAdjustmentKind.credit_note).label("credited"),
               of_kind(InvoiceAdjustmentKind.write_off).label("written_off"))
        .group_by(InvoiceAdjustment.invoice_id)
        .subquery("adjusted")
    )
    return paid, adjusted


def by_period(today: dt.date | None = None, periods: list[str] | None = None) -> list[PeriodFigures]:
    """Per billing period, oldest first: invoices, billed, paid, credited, written off, outstanding, overdue.

    Overdue: unsettled (something outstanding) and past the due date on `today`, as invoice_ledger says."""
    today = today or dt.date.today()
    paid, adjusted = _invoice_sums()
    paid_ore = func.coalesce(paid.c.ore, 0)
    credited = func.coalesce(adjusted.c.credited, 0)
    written_off = func.coalesce(adjusted.c.written_off, 0)
    outstanding = Invoice.amount_ore - credited - written_off - paid_ore
    overdue = and_(outstanding > 0, Invoice.due_date < today)
    differs = or_(Invoice.paid_ore != paid_ore, Invoice.credited_ore != credited,
                  Invoice.written_off_ore != written_off)
    query = (
        select(
            Invoice.period,
            func.count(Invoice.id),
            func.sum(Invoice.amount_ore),
            func.sum(paid_ore),
            func.sum(credited),
            func.sum(written_off),
            func.sum(outstanding),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(case((overdue, outstanding), else_=0)),
            func.sum(case((differs, 1), else_=0)),
        )
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .outerjoin(adjusted, adjusted.c.invoice_id == Invoice.id)
        .group_by(Invoice.period)
        .order_by(Invoice.period)
    )
    if periods is not None:
        query = query.where(Invoice.period.in_([str(p) for p in periods]))
    return [PeriodFigures(period, *(int(value or 0) for value in values))
            for period, *values in db.session.execute(query).all()]


def status_counts(today: dt.date | None = None) -> list[dict]:
    """Per billing period and status as a user sees it (overdue derived): how many invoices and their amount."""
    today = today or dt.date.today()
    overdue = case((overdue_clause(today), 1), else_=0)
    rows = db.session.execute(
        select(Invoice.period, Invoice.status, overdue, func.count(Invoice.id), func.sum(Invoice.amount_ore))
        .group_by(Invoice.period, Invoice.status, overdue)
    ).all()
    counts: dict[tuple[str, InvoiceStatus], list[int]] = {}
    for period, status, is_overdue, count, amount in rows:
        sums = counts.setdefault((period, InvoiceStatus.overdue if is_overdue else status), [0, 0])
        sums[0] += int(count)
        sums[1] += int(amount or 0)
    return [{"period": period, "status": status, "invoices": count, "amount_ore": amount}
            for (period, status), (count, amount) in sorted(counts.items(), key=_period_then_status)]


def _period_then_status(item) -> tuple[str, int]:
    (period, status), _sums = item
    return period, list(InvoiceStatus).index(status)


def _allocated_by_payment():
    return (
        select(PaymentAllocation.payment_id.label("payment_id"), func.sum(PaymentAllocation.amount_ore).label("ore"))
        .group_by(PaymentAllocation.payment_id)
        .subquery("allocated")
    )


def _payment_columns():
    """The sums that split payments by what became of them (see the module's docstring)."""
    allocated = _allocated_by_payment()
    allocated_ore = func.coalesce(allocated.c.ore, 0)
    not_returned = Payment.returned_at.is_(None)
    employer = and_(Payment.employer_id.is_not(None), not_returned)
    member = member_payments_clause()
    unmatched = and_(Payment.employer_id.is_(None), Payment.member_id.is_(None), not_returned)
    returned = Payment.returned_at.is_not(None)
    reversal = Payment.amount_ore < 0

    def counted(clause):
        return func.sum(case((clause, 1), else_=0))

    def summed(clause, amount=Payment.amount_ore):
        return func.sum(case((clause, amount), else_=0))

    columns = [
        func.count(Payment.id), func.sum(Payment.amount_ore),
        counted(employer), summed(employer),
        counted(member), summed(member),
        func.sum(allocated_ore), summed(member, Payment.amount_ore - allocated_ore),
        counted(unmatched), summed(unmatched),
        counted(returned), summed(returned),
        counted(reversal), summed(reversal),
    ]
    return columns, allocated


def _figures(values) -> PaymentFigures:
    return PaymentFigures(*(int(value or 0) for value in values))


def payment_figures(first_day: dt.date | None = None, last_day: dt.date | None = None) -> PaymentFigures:
    """All payments (or those the bank booked between the two days) split by what became of them."""
    columns, allocated = _payment_columns()
    query = select(*columns).outerjoin(allocated, allocated.c.payment_id == Payment.id)
    if first_day is not None:
        query = query.where(Payment.paid_on >= first_day)
    if last_day is not None:
        query = query.where(Payment.paid_on <= last_day)
    return _figures(db.session.execute(query).one())


def payments_by_month() -> list[MonthPayments]:
    """The payments split as in payment_figures, per month the bank booked them (oldest first).

    Grouped by day in SQL (no engine-specific month function) and added up to months here."""
    columns, allocated = _payment_columns()
    rows = db.session.execute(
        select(Payment.paid_on, *columns)
        .outerjoin(allocated, allocated.c.payment_id == Payment.id)
        .group_by(Payment.paid_on)
    ).all()
    months: dict[str, list[int]] = {}
    for paid_on, *values in rows:
        key = str(Month.of(paid_on)) if paid_on else ""
        sums = months.setdefault(key, [0] * len(values))
        for index, value in enumerate(values):
            sums[index] += int(value or 0)
    return [MonthPayments(month, _figures(values)) for month, values in sorted(months.items())]


def members_with_credit() -> int:
    """How many members have money to their credit (payments no invoice took)."""
    credit = members_with_credit_query().subquery()
    return int(db.session.scalar(select(func.count()).select_from(credit)) or 0)


def reconcile(today: dt.date | None = None) -> DirectReconciliation:
    """Billing per period and all payments, with what is unexplained (which must be 0)."""
    return DirectReconciliation(periods=by_period(today), payments=payment_figures(),
                                members_with_credit=members_with_credit())
