"""Where a bank payment's money goes: an employer-month, a member's invoices (and credit), back to the payer, or
the office's queue of unmatched payments.

The rules (one place for the import, the office's manual actions and the billing run):

- An employer KID matches the employer-month it names only when that employer has a deduction basis for the
  month; otherwise the payment waits in the unmatched queue.
- A member KID matches the member's invoice with exactly that KID. A payment allocates to it up to what is
  outstanding; the rest is the member's credit. A reversal (negative amount) takes back from that invoice at
  most what it has been paid; the rest reduces the credit. A member KID without such an invoice stays unmatched.
- A payment is exactly one of employer-matched, member-matched, returned or unmatched.

Every manual action locks the payment row and re-checks its state inside the transaction (one winner), is
audited, keeps the sums of the invoices and reconciles the employer-months it touched, and commits; a refusal raises
`PaymentMatchError` and leaves nothing written.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, select, update

from webapp.extensions import db
from webapp.models import DeductionBasis, Employer, Invoice, Payment, PaymentAllocation
from webapp.services import audit, bulk, invoice_ledger, transitions
from webapp.services import kid as kids
from webapp.services.bounds import required_reason
from webapp.services.periods import Month, PeriodError
from webapp.services.reconciliation import reconcile

CHUNK = bulk.LOOKUP_CHUNK
# Above this many employers in one month, reconcile the whole month (one query) instead of an IN list.
RECONCILE_ALL_ABOVE = 500


class PaymentMatchError(ValueError):
    """A manual action on a payment was refused; the message says why. Nothing was written."""


def chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def unmatched_clause():
    """SQL: the payment is in the office's queue (matched to nothing and not returned)."""
    return and_(Payment.employer_id.is_(None), Payment.member_id.is_(None), Payment.returned_at.is_(None))


# ------------------------------------------------------------------ what a KID names


@dataclass(frozen=True, slots=True)
class Target:
    """What a KID resolves to: an employer-month with a basis, or a member's invoice."""

    employer_id: int | None = None
    period: str | None = None
    member_id: int | None = None
    invoice_id: int | None = None


def resolve_kids(values: Iterable[str]) -> dict[str, Target]:
    """The target of every KID that names an employer-month with a basis or an existing invoice.

    Set-based: a few queries per 900 KIDs. KIDs that resolve to nothing are left out."""
    employer_kids: dict[str, kids.ParsedKid] = {}
    member_kids: list[str] = []
    for value in set(values):
        if value.startswith(kids.MEMBER_PREFIX):
            # Looked up as it is, not parsed first: every invoice's KID is valid, so an invalid one finds no
            # invoice (parsing 100,000 KIDs took longer than looking them up).
            member_kids.append(value)
            continue
        parsed = kids.parse(value)
        if parsed is not None and parsed.is_employer:
            employer_kids[value] = parsed
    targets = _employer_targets(employer_kids)
    for kid, invoice_id, member_id in bulk.select_in(select(Invoice.kid, Invoice.id, Invoice.member_id), Invoice.kid,
                                                     sorted(member_kids)):
        targets[kid] = Target(member_id=member_id, invoice_id=invoice_id)
    return targets


def _employer_targets(employer_kids: dict[str, kids.ParsedKid]) -> dict[str, Target]:
    if not employer_kids:
        return {}
    customers: dict[str, int] = {}
    for chunk in chunks(sorted({parsed.number for parsed in employer_kids.values()})):
        customers.update(db.session.execute(
            select(Employer.customer_no, Employer.id).where(Employer.customer_no.in_(chunk))
        ).all())
    periods = sorted({str(parsed.month) for parsed in employer_kids.values()})
    bases: set[tuple[int, str]] = set()
    for chunk in chunks(sorted(set(customers.values()))):
        bases.update(db.session.execute(
            select(DeductionBasis.employer_id, DeductionBasis.period)
            .where(DeductionBasis.employer_id.in_(chunk), DeductionBasis.period.in_(periods))
        ).all())
    targets = {}
    for kid, parsed in employer_kids.items():
        employer_id = customers.get(parsed.number)
        if employer_id is not None and (employer_id, str(parsed.month)) in bases:
            targets[kid] = Target(employer_id=employer_id, period=str(parsed.month))
    return targets


# ------------------------------------------------------------------ allocating to invoices


class InvoiceBalances:
    """The outstanding and paid amounts of some invoices, locked for this transaction, kept up to date as
    payments are allocated to them one after the other; `store` keeps the invoices' new sums and status."""

    def __init__(self, invoice_ids: Iterable[int]):
        self.locked = invoice_ledger.locked_figures(invoice_ids)
        self.outstanding = {invoice_id: kept.outstanding_ore for invoice_id, kept in self.locked.items()}
        self.paid = {invoice_id: kept.paid_ore for invoice_id, kept in self.locked.items()}

    def take(self, invoice_id: int, amount_ore: int) -> int:
        """What of a payment of `amount_ore` goes to the invoice: up to its outstanding amount, or for a
        reversal (negative) minus at most what it has been paid."""
        if amount_ore >= 0:
            share = max(0, min(amount_ore, self.outstanding[invoice_id]))
        else:
            share = -max(0, min(-amount_ore, self.paid[invoice_id]))
        self.outstanding[invoice_id] -= share
        self.paid[invoice_id] += share
        return share

    def store(self) -> None:
        """Keep the paid sums and status the allocations taken give the invoices (invoice_ledger.store_paid)."""
        invoice_ledger.store_paid(self.locked, self.paid)


def allocate(entries: list[tuple[int, int, int]], now: dt.datetime | None = None) -> int:
    """Allocate payments to the invoice each names, in the order given: (payment_id, amount_ore, invoice_id).

    Writes the allocation rows in bulk and keeps the invoices' sums and status; returns the øre allocated."""
    if not entries:
        return 0
    now = now or dt.datetime.now()
    balances = InvoiceBalances(invoice_id for _payment, _amount, invoice_id in entries)
    allocated = 0
    for chunk in chunks(entries, 5000):  # the rows a chunk at a time: a bank file may pay a million invoices
        rows = []
        for payment_id, amount_ore, invoice_id in chunk:
            share = balances.take(invoice_id, amount_ore)
            if share:
                rows.append({"payment_id": payment_id, "invoice_id": invoice_id, "amount_ore": share,
                             "created_at": now})
                allocated += share
        bulk.insert_rows(PaymentAllocation.__table__, rows)
    balances.store()
    return allocated


def settle(employer_months: dict[str, set[int]], invoice_ids: Iterable[int]) -> None:
    """Bring the kept figures up to date after payments changed: the invoices' sums and statuses (those `allocate`
    did not keep: allocations removed), and the reconciliation of the employer-months."""
    db.session.flush()
    invoice_ledger.refresh(invoice_ids)
    for period, employer_ids in sorted(employer_months.items()):
        ids = sorted(i for i in employer_ids if i is not None)
        if ids:
            reconcile(period, None if len(ids) > RECONCILE_ALL_ABOVE else ids)


# ------------------------------------------------------------------ member credit


def _free_credit_by_payment(member_ids: list[int], lock: bool) -> dict[int, list[tuple[int, int]]]:
    """member_id -> [(payment_id, unallocated øre)] of the members' payments (not returned), oldest first."""
    by_member: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for chunk in chunks(member_ids):
        query = (
            select(Payment.id, Payment.member_id, Payment.amount_ore)
            .where(invoice_ledger.member_payments_clause(), Payment.member_id.in_(chunk))
            .order_by(Payment.id)
        )
        rows = db.session.execute(query.with_for_update() if lock else query).all()
        allocated = dict(db.session.execute(
            select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount_ore))
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(invoice_ledger.member_payments_clause(), Payment.member_id.in_(chunk))
            .group_by(PaymentAllocation.payment_id)
        ).all())
        for payment_id, member_id, amount in rows:
            by_member[member_id].append((payment_id, int(amount) - int(allocated.get(payment_id) or 0)))
    return by_member


# Above this many members, the members with credit are found by one grouped pass over all member payments
# (few members have credit) instead of an IN list per 900 members.
_ONE_PASS_FROM = 5000


def _members_with_credit(member_ids: list[int]) -> list[int]:
    if len(member_ids) >= _ONE_PASS_FROM:
        wanted = set(member_ids)
        return sorted(member for member in invoice_ledger.members_with_credit() if member in wanted)
    by_member = _free_credit_by_payment(member_ids, lock=False)
    return sorted(member for member, payments in by_member.items() if sum(free for _p, free in payments) > 0)


def apply_member_credit(member_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Apply the free credit of these members' payments to their open invoices, oldest invoice first.

    Called after invoices are generated (and by the office's actions). The caller commits. Returns the øre
    allocated."""
    members = _members_with_credit(sorted({int(m) for m in member_ids if m is not None}))
    if not members:
        return 0
    now = now or dt.datetime.now()
    # Lock order everywhere: payments, then invoices.
    credit = _free_credit_by_payment(members, lock=True)
    open_invoices: dict[int, list[int]] = defaultdict(list)
    for chunk in chunks(members):
        for invoice_id, member_id in db.session.execute(
            select(Invoice.id, Invoice.member_id)
            .where(Invoice.member_id.in_(chunk), invoice_ledger.outstanding_expression() > 0)
            .order_by(Invoice.first_month, Invoice.id)
        ):
            open_invoices[member_id].append(invoice_id)
    balances = InvoiceBalances(i for ids in open_invoices.values() for i in ids)
    rows = []
    for member_id, invoice_ids in open_invoices.items():
        rows.extend(_credit_rows(credit.get(member_id, []), invoice_ids, balances, now))
    bulk.insert_rows(PaymentAllocation.__table__, rows)
    balances.store()
    return sum(row["amount_ore"] for row in rows)


def _credit_rows(payments: list[tuple[int, int]], invoice_ids: list[int], balances: InvoiceBalances,
                 now: dt.datetime) -> list[dict]:
    """Allocation rows taking a member's free credit (never more than its net total) to the invoices in order."""
    left = sum(free for _payment, free in payments)
    sources = [[payment_id, free] for payment_id, free in payments if free > 0]
    rows = []
    for invoice_id in invoice_ids:
        for source in sources:
            if left <= 0:
                return rows
            share = balances.take(invoice_id, min(source[1], left))
            if share <= 0:
                continue
            source[1] -= share
            left -= share
            rows.append({"payment_id": source[0], "invoice_id": invoice_id, "amount_ore": share, "created_at": now})
    return rows


# ------------------------------------------------------------------ matching by KID after the fact


def rematch_unmatched(now: dt.datetime | None = None) -> int:
    """Match the unmatched payments whose KID now names an employer-month with a basis or an invoice (a basis or
    an invoice made after the payment came). Manual decisions are never touched: only payments still in the queue
    are considered. Commits; returns how many were matched."""
    now = now or dt.datetime.now()
    waiting = db.session.execute(select(Payment.id, Payment.kid).where(unmatched_clause())).all()
    targets = resolve_kids(kid for _id, kid in waiting)
    candidate_ids = sorted(payment_id for payment_id, kid in waiting if kid in targets)
    locked = []
    for chunk in chunks(candidate_ids):
        locked.extend(db.session.execute(
            select(Payment.id, Payment.kid, Payment.amount_ore)
            .where(Payment.id.in_(chunk), unmatched_clause()).order_by(Payment.id).with_for_update()
        ).all())
    updates, to_allocate, employer_months = [], [], defaultdict(set)
    for payment_id, kid, amount in locked:
        target = targets[kid]
        updates.append({"id": payment_id, "employer_id": target.employer_id, "period": target.period,
                        "member_id": target.member_id, "matched_at": now})
        if target.invoice_id is not None:
            to_allocate.append((payment_id, int(amount), target.invoice_id))
        else:
            employer_months[target.period].add(target.employer_id)
    if updates:
        db.session.execute(update(Payment), updates)
    allocate(to_allocate, now)
    settle(employer_months, ())
    if updates:
        audit.record("payment_rematch", "payment", None, count=len(updates))
    db.session.commit()
    return len(updates)


# ------------------------------------------------------------------ the office's manual actions


def _locked_payment(payment_id: int) -> Payment:
    payment = transitions.lock(Payment, payment_id)
    if payment is None:
        raise PaymentMatchError(_("Payment: no such payment."))
    return payment


def _require_unmatched(payment: Payment) -> None:
    if payment.returned_at is not None:
        raise PaymentMatchError(_("Payment: it has been returned to the payer; undo the return first."))
    if payment.employer_id is not None or payment.member_id is not None:
        raise PaymentMatchError(_("Payment: it is already matched; undo that match first."))


def _claim_unmatched(payment_id: int, **values) -> None:
    """Set `values` on the payment only while it is still unmatched: of two concurrent actions one wins."""
    result = db.session.execute(
        update(Payment).where(Payment.id == payment_id, unmatched_clause()).values(**values)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise PaymentMatchError(_("Payment: it is already matched; undo that match first."))


def _refused(action):
    """Run `action` (which commits); on a refusal roll back everything it wrote and raise the refusal."""
    try:
        return action()
    except Exception:
        db.session.rollback()
        raise


def match_to_employer_month(payment_id: int, employer_id: int, period: str | Month, user_id: int | None) -> None:
    """The office matches an unmatched payment to an employer's month, which must have a deduction basis."""
    return _refused(lambda: _match_to_employer_month(payment_id, employer_id, period, user_id))


def _match_to_employer_month(payment_id, employer_id, period, user_id) -> None:
    try:
        month = Month.parse(str(period))
    except PeriodError:
        raise PaymentMatchError(_("Month: must be a month of the form YYYY-MM.")) from None
    payment = _locked_payment(payment_id)
    _require_unmatched(payment)
    employer = db.session.get(Employer, employer_id)
    if employer is None:
        raise PaymentMatchError(_("Employer: no such employer."))
    has_basis = db.session.scalar(
        select(DeductionBasis.id).where(DeductionBasis.employer_id == employer_id,
                                        DeductionBasis.period == str(month))
    )
    if has_basis is None:
        raise PaymentMatchError(_("Month: %(employer)s has no deduction basis for %(month)s; a payment is matched "
                                  "only to a month with a basis.", employer=employer.name, month=str(month)))
    _claim_unmatched(payment.id, employer_id=employer_id, period=str(month), matched_manually=True,
                     matched_at=dt.datetime.now(), matched_by_id=user_id)
    audit.record("payment_match_employer_month", "payment", payment.id, employer_id=employer_id,
                 period=str(month), amount_ore=payment.amount_ore, kid=payment.kid)
    settle({str(month): {employer_id}}, ())
    db.session.commit()


def match_to_invoice(payment_id: int, invoice_id: int, user_id: int | None) -> None:
    """The office matches an unmatched payment to a member's invoice: allocated up to what is outstanding (a
    reversal takes back at most what the invoice was paid); the rest is the member's credit."""
    return _refused(lambda: _match_to_invoice(payment_id, invoice_id, user_id))


def _match_to_invoice(payment_id, invoice_id, user_id) -> None:
    payment = _locked_payment(payment_id)
    _require_unmatched(payment)
    payment_id, amount, kid = payment.id, int(payment.amount_ore), payment.kid
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise PaymentMatchError(_("Invoice: no such invoice."))
    member_id = invoice.member_id
    now = dt.datetime.now()
    _claim_unmatched(payment_id, member_id=member_id, matched_manually=True, matched_at=now,
                     matched_by_id=user_id)
    allocated = allocate([(payment_id, amount, invoice_id)], now)
    audit.record("payment_match_invoice", "payment", payment_id, member_id=member_id, invoice_id=invoice_id,
                 amount_ore=amount, allocated_ore=int(allocated), kid=kid)
    db.session.commit()


def return_payment(payment_id: int, reason: str, user_id: int | None) -> None:
    """The office sends an unmatched payment back to the payer (outside the system) and records why."""
    return _refused(lambda: _return_payment(payment_id, reason, user_id))


def _return_payment(payment_id, reason, user_id) -> None:
    reason = required_reason(reason, PaymentMatchError)
    payment = _locked_payment(payment_id)
    _require_unmatched(payment)
    if payment.amount_ore <= 0:
        raise PaymentMatchError(_("Payment: only an incoming payment (an amount above 0) can be returned."))
    _claim_unmatched(payment.id, returned_at=dt.datetime.now(), returned_by_id=user_id, return_reason=reason)
    audit.record("payment_return", "payment", payment.id, amount_ore=payment.amount_ore, kid=payment.kid,
                 reason=reason)
    db.session.commit()


def undo_manual_match(payment_id: int, user_id: int | None) -> None:
    """The office takes back its own decision on a payment (a manual match or a return): the payment is
    unmatched again, and a member match loses all its allocations (also credit applied to other invoices)."""
    return _refused(lambda: _undo_manual_match(payment_id, user_id))


def _undo_manual_match(payment_id, user_id) -> None:
    payment = _locked_payment(payment_id)
    if payment.returned_at is not None:
        details = {"undone": "return", "reason": payment.return_reason}
    elif payment.matched_manually and (payment.employer_id is not None or payment.member_id is not None):
        details = {"undone": "employer_month" if payment.employer_id is not None else "member",
                   "employer_id": payment.employer_id, "period": payment.period}
    else:
        raise PaymentMatchError(_("Payment: only a manual match or a return can be undone."))
    employer_months = {payment.period: {payment.employer_id}} if payment.employer_id is not None else {}
    member_id = payment.member_id
    invoice_ids = set(db.session.scalars(
        select(PaymentAllocation.invoice_id).where(PaymentAllocation.payment_id == payment.id)
    ))
    db.session.execute(delete(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id))
    db.session.execute(
        update(Payment).where(Payment.id == payment.id).values(
            employer_id=None, period=None, member_id=None, matched_manually=False, matched_at=None,
            matched_by_id=None, returned_at=None, returned_by_id=None, return_reason=None)
        .execution_options(synchronize_session="fetch")
    )
    settle(employer_months, invoice_ids)
    if invoice_ids and db.session.scalar(
        select(func.count(Invoice.id)).where(Invoice.id.in_(sorted(invoice_ids)), Invoice.paid_ore < 0)
    ):
        raise PaymentMatchError(_("Payment: a reversal has since taken back money from an invoice this payment "
                                  "paid; the match cannot be undone."))
    audit.record("payment_undo", "payment", payment.id, member_id=member_id, amount_ore=payment.amount_ore,
                 by=user_id, **details)
    db.session.commit()
