"""Ending a membership: one rule for a resignation, a transfer to another LO union and non-payment.

A membership ends at the end of a month (`left_on` = the month's last day, the usual periodization): the
member counts, and pays, through that month. From the next month on they are on no deduction basis (the
next basis shows STOP for them) and are billed for nothing: whatever invoices already bill for months after
the leave is credited at once (a credit note per invoice, the share of those months, at most what is
still open). Positions held end with the membership. The retention clock (webapp/services/retention.py)
runs from `left_on`.

`end_membership` works in the caller's transaction, so the caller's own rows (a transfer, a mail) are
saved with it or not at all. The member row is locked and the leave set by a conditional update, so of
two concurrent attempts one wins and the other is told the member has left.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from webapp.extensions import db
from webapp.models import Invoice, InvoiceAdjustment, Member, Position
from webapp.models.choices import InvoiceAdjustmentKind, LeaveReason
from webapp.services import audit, invoice_ledger, transitions
from webapp.services.periods import Month


class LeavingError(ValueError):
    pass


def end_membership(member_id: int, reason: LeaveReason, month: Month, user_id: int | None,
                   note: str | None = None, today: dt.date | None = None) -> Member:
    """End the membership at the end of `month`, for `reason`; in the caller's transaction.

    Refused (LeavingError, nothing written) for a member who has left or has a leave registered, or for a
    month before the one the member joined in."""
    member = transitions.lock(Member, member_id)
    if member is None:
        raise LeavingError(_("Member: no such member."))
    if member.left_on is not None:
        raise LeavingError(_("Membership: %(name)s has already left (%(date)s).", name=member.full_name,
                             date=member.left_on.strftime("%d.%m.%Y")))
    left_on = month.last_day
    if left_on < member.joined_on:
        raise LeavingError(_("Leaving: the membership cannot end before it began (%(date)s).",
                             date=member.joined_on.strftime("%d.%m.%Y")))
    ended = db.session.execute(
        update(Member).where(Member.id == member.id, Member.left_on.is_(None))
        .values(left_on=left_on, leave_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not ended:
        raise LeavingError(_("Membership: %(name)s has already left.", name=member.full_name))
    positions_ended = _end_positions(member.id, left_on)
    credited = credit_months_after(member.id, left_on, user_id, _("Membership ended %(date)s",
                                                                   date=left_on.strftime("%d.%m.%Y")))
    audit.record("end_membership", "member", member.id, member_id=member.id, left_on=left_on.isoformat(),
                 reason=reason.name, note=note, positions_ended=positions_ended, credited_ore=credited,
                 by_user_id=user_id)
    db.session.refresh(member)
    return member


def _end_positions(member_id: int, left_on: dt.date) -> int:
    return db.session.execute(
        update(Position)
        .where(Position.member_id == member_id, or_(Position.end_date.is_(None), Position.end_date > left_on))
        .values(end_date=left_on)
        .execution_options(synchronize_session=False)
    ).rowcount


def _months_after(invoice: Invoice, left_month: Month) -> int:
    first = Month.parse(invoice.first_month)
    return sum(1 for k in range(invoice.month_count) if first.shift(k) > left_month)


def credit_months_after(member_id: int, left_on: dt.date, user_id: int | None, reason: str) -> int:
    """Credit what the member's invoices bill for months after `left_on`: per invoice the share of those months
    (øre, rounded down), at most what is still open. In the caller's transaction; the øre credited."""
    left_month = Month.of(left_on)
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.member_id == member_id).with_for_update().order_by(Invoice.id)
    ).all()
    adjustments = []
    for invoice in invoices:
        months = _months_after(invoice, left_month)
        if months == 0:
            continue
        share = invoice.amount_ore * months // invoice.month_count
        amount = min(share, invoice.outstanding_ore)
        if amount <= 0:
            continue
        adjustments.append(InvoiceAdjustment(invoice_id=invoice.id, kind=InvoiceAdjustmentKind.credit_note,
                                             amount_ore=amount, reason=reason[:500], created_at=dt.datetime.now(),
                                             created_by_id=user_id))
    if not adjustments:
        return 0
    db.session.add_all(adjustments)
    db.session.flush()
    invoice_ledger.refresh([a.invoice_id for a in adjustments])
    for adjustment in adjustments:
        audit.record("invoice_credit_note", "invoice", adjustment.invoice_id, member_id=member_id,
                     amount_ore=adjustment.amount_ore, reason=adjustment.reason, by_user_id=user_id)
    return sum(a.amount_ore for a in adjustments)
