"""What the office's payment screens read: the state of a payment, what its KID says, the unmatched queue.

Reading only: every change of a payment (match by hand, return, undo) is made by webapp.services.payment_matching.

A payment is exactly one of: matched to an employer-month, matched to a member (and their invoices), returned,
or unmatched (the queue). What its KID says is read back through the one KID module: whose it is, which month,
and why it did not match by itself ("Member 12345, January 2027, no invoice").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from webapp.extensions import db
from webapp.models import DeductionBasis, Employer, Invoice, Member, Payment, PaymentAllocation
from webapp.services import kid as kids
from webapp.services.invoice_ledger import UNSETTLED
from webapp.services.periods import Month

# The Nets transaction types of a reversal: their amounts are negative.
REVERSAL_TYPES = (18, 20)


def unmatched_clause():
    """SQL: a payment in the office's queue (matched to nobody and not returned)."""
    return and_(Payment.employer_id.is_(None), Payment.member_id.is_(None), Payment.returned_at.is_(None))


def state_of(payment: Payment) -> str:
    """'employer', 'member', 'returned' or 'unmatched': the one state a payment is in."""
    if payment.returned_at is not None:
        return "returned"
    if payment.employer_id is not None:
        return "employer"
    if payment.member_id is not None:
        return "member"
    return "unmatched"


STATE_LABELS = {
    "employer": _l("Matched to employer and month"),
    "member": _l("Matched to member"),
    "returned": _l("Returned"),
    "unmatched": _l("Unmatched"),
}


def state_label(payment: Payment) -> str:
    return str(STATE_LABELS[state_of(payment)])


def month_name(month: Month) -> str:
    """'januar 2027' in the user's language."""
    return format_date(month.first_day, "MMMM y")


@dataclass(frozen=True)
class KidReading:
    """What a payment's KID says, and the rows it names (when they exist)."""

    text: str
    month: Month | None = None
    member: Member | None = None
    employer: Employer | None = None
    invoice_id: int | None = None


def _member_numbers(parsed: Iterable[kids.ParsedKid]) -> dict[int, Member]:
    """Member number (as a number) -> member, for the member KIDs given: member numbers are stored unpadded."""
    wanted = sorted({int(p.number) for p in parsed if p.is_member})
    if not wanted:
        return {}
    rows = db.session.scalars(select(Member).where(Member.member_no.in_(kids.member_number_forms(wanted)))).all()
    return {int(m.member_no): m for m in rows if m.member_no.isdigit()}


def read_kids(payments: Sequence[Payment]) -> dict[int, KidReading]:
    """payment id -> what its KID says, for a page of payments (a handful of queries, not one per payment)."""
    parsed = {p.id: kids.parse(p.kid) for p in payments}
    known = [value for value in parsed.values() if value is not None]
    members = _member_numbers(known)
    customers = sorted({p.number for p in known if p.is_employer})
    employers = {e.customer_no: e for e in db.session.scalars(
        select(Employer).where(Employer.customer_no.in_(customers)))} if customers else {}
    kid_texts = sorted({p.kid for p in payments if parsed[p.id] is not None})
    invoices = dict(db.session.execute(select(Invoice.kid, Invoice.id).where(Invoice.kid.in_(kid_texts))).all()) \
        if kid_texts else {}
    bases = {(row.employer_id, row.period) for row in db.session.execute(
        select(DeductionBasis.employer_id, DeductionBasis.period).where(DeductionBasis.kid.in_(kid_texts)))} \
        if kid_texts else set()
    readings = {}
    for payment in payments:
        value = parsed[payment.id]
        if value is None:
            readings[payment.id] = KidReading(str(_l("Not a KID of ours")))
        elif value.is_member:
            readings[payment.id] = _member_reading(value, members.get(int(value.number)), invoices.get(payment.kid))
        else:
            employer = employers.get(value.number)
            has_basis = employer is not None and (employer.id, str(value.month)) in bases
            readings[payment.id] = _employer_reading(value, employer, has_basis)
    return readings


def _member_reading(value: kids.ParsedKid, member: Member | None, invoice_id: int | None) -> KidReading:
    number, month = int(value.number), month_name(value.month)
    if member is None:
        text = _l("Member %(number)s, %(month)s: no such member", number=number, month=month)
    elif invoice_id is None:
        text = _l("Member %(number)s, %(month)s, no invoice", number=number, month=month)
    else:
        text = _l("Member %(number)s, %(month)s, invoice with this KID", number=number, month=month)
    return KidReading(str(text), value.month, member, None, invoice_id)


def _employer_reading(value: kids.ParsedKid, employer: Employer | None, has_basis: bool) -> KidReading:
    month = month_name(value.month)
    if employer is None:
        text = _l("Customer number %(number)s, %(month)s: no such employer", number=value.number, month=month)
    elif not has_basis:
        text = _l("%(employer)s, %(month)s, no deduction basis", employer=employer.name, month=month)
    else:
        text = _l("%(employer)s, %(month)s", employer=employer.name, month=month)
    return KidReading(str(text), value.month, None, employer, None)


def unmatched_page(page: int, page_size: int) -> tuple[int, list[Payment]]:
    """The queue, oldest first (the longest waiting at the top): the count and one page of payments."""
    count = db.session.scalar(select(func.count(Payment.id)).where(unmatched_clause()))
    rows = db.session.scalars(
        select(Payment).where(unmatched_clause()).order_by(Payment.paid_on, Payment.id)
        .offset(page * page_size).limit(page_size)
    ).all()
    return int(count or 0), list(rows)


def open_invoices_of(member_id: int) -> list[Invoice]:
    """The member's unsettled invoices, oldest first: what a payment of theirs may be matched to."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.member_id == member_id, Invoice.status.in_(UNSETTLED))
        .order_by(Invoice.first_month, Invoice.id)
    ))


def invoice_by_reference(text: str) -> Invoice | None:
    """An invoice by its KID (16 digits) or its number; None for anything else."""
    text = (text or "").strip()
    if not text.isdigit():
        return None
    if len(text) == kids.KID_LENGTH:
        return db.session.scalar(select(Invoice).where(Invoice.kid == text))
    if len(text) <= 18 and 0 < int(text) < 2**63:
        return db.session.get(Invoice, int(text))
    return None


def allocations_of(payment_id: int) -> list[PaymentAllocation]:
    return list(db.session.scalars(
        select(PaymentAllocation).where(PaymentAllocation.payment_id == payment_id).order_by(PaymentAllocation.id)
    ))


def is_reversal(payment: Payment) -> bool:
    return payment.amount_ore < 0 or (payment.transaction_type in REVERSAL_TYPES)


def member_payments(member_id: int, limit: int = 50) -> list[Payment]:
    """The member's own payments (matched to them), newest first."""
    return list(db.session.scalars(
        select(Payment).where(Payment.member_id == member_id).order_by(Payment.paid_on.desc(), Payment.id.desc())
        .limit(limit)
    ))
