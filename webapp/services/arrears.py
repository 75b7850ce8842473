"""Arrears: members with overdue invoices, and the office ending a membership for non-payment.

An invoice is overdue when it is unsettled past its due date (invoice_ledger.overdue_clause). The arrears list
shows, per member, the months the overdue invoices bill, what is outstanding on them, the oldest due date and
the reminders sent. Only the office ends a membership for non-payment (never the system by itself): the leave
takes effect at the end of the current month, as every leave does (periodization), is audited, and of two
attempts at once one wins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from webapp.extensions import db
from webapp.models import Invoice, Member
from webapp.models.choices import LeaveReason
from webapp.services import audit, invoice_ledger, leaving
from webapp.services.bounds import required_reason
from webapp.services.periods import Month


class ArrearsError(ValueError):
    pass


@dataclass(frozen=True)
class ArrearsRow:
    member_id: int
    member_no: str
    name: str
    months_unpaid: int
    outstanding_ore: int
    oldest_due_date: dt.date
    reminders_sent: int
    invoices: int
    left_on: dt.date | None
    leave_reason: LeaveReason | None


def _grouped(today: dt.date):
    """Per member with overdue invoices: months, outstanding, oldest due date, reminders, invoices."""
    reminders = (case((Invoice.first_reminder_on.is_not(None), 1), else_=0)
                 + case((Invoice.second_reminder_on.is_not(None), 1), else_=0))
    return (
        select(
            Invoice.member_id.label("member_id"),
            func.sum(Invoice.month_count).label("months_unpaid"),
            func.sum(invoice_ledger.outstanding_expression()).label("outstanding_ore"),
            func.min(Invoice.due_date).label("oldest_due_date"),
            func.sum(reminders).label("reminders_sent"),
            func.count(Invoice.id).label("invoices"),
        )
        .where(invoice_ledger.overdue_clause(today))
        .group_by(Invoice.member_id)
        .subquery()
    )


def _query(today: dt.date):
    grouped = _grouped(today)
    query = (
        select(Member.id, Member.member_no, Member.first_name, Member.last_name, Member.left_on, Member.leave_reason,
               grouped.c.months_unpaid, grouped.c.outstanding_ore, grouped.c.oldest_due_date,
               grouped.c.reminders_sent, grouped.c.invoices)
        .join(grouped, grouped.c.member_id == Member.id)
    )
    return query, grouped


def _row(row) -> ArrearsRow:
    return ArrearsRow(row.id, row.member_no, f"{row.first_name} {row.last_name}", int(row.months_unpaid),
                      int(row.outstanding_ore), row.oldest_due_date, int(row.reminders_sent), int(row.invoices),
                      row.left_on, row.leave_reason)


def arrears_rows(today: dt.date | None = None, limit: int | None = None) -> list[ArrearsRow]:
    """Members in arrears on `today`, most months unpaid first (then most outstanding); one query."""
    query, grouped = _query(today or dt.date.today())
    query = query.order_by(grouped.c.months_unpaid.desc(), grouped.c.outstanding_ore.desc(), Member.member_no)
    if limit is not None:
        query = query.limit(limit)
    return [_row(row) for row in db.session.execute(query).all()]


def member_arrears(member_id: int, today: dt.date | None = None) -> ArrearsRow | None:
    """One member's arrears on `today`, or None when nothing is overdue."""
    query, _grouped_columns = _query(today or dt.date.today())
    row = db.session.execute(query.where(Member.id == member_id)).first()
    return _row(row) if row is not None else None


def end_membership_for_non_payment(member_id: int, user_id: int | None, today: dt.date | None = None,
                                   reason: str = "") -> Member:
    """The office ends a membership in arrears: left at the end of the current month, reason non-payment
    (leaving.end_membership: one winner, billed months after it credited).

    Refused (ArrearsError, nothing written) for a member who has left or has a leave registered, or has
    nothing overdue."""
    today = today or dt.date.today()
    try:
        reason_text = required_reason(reason, ArrearsError)
        owed = member_arrears(member_id, today)
        if owed is None:
            member = db.session.get(Member, member_id)
            if member is None:
                raise ArrearsError(_("Member: no such member."))
            if member.left_on is None:
                raise ArrearsError(_("Arrears: %(name)s has no overdue invoices; only a membership in arrears is "
                                     "ended for non-payment.", name=member.full_name))
        member = leaving.end_membership(member_id, LeaveReason.non_payment, Month.of(today), user_id,
                                        note=reason_text, today=today)
        audit.record("end_membership_non_payment", "member", member.id, member_id=member.id,
                     left_on=member.left_on.isoformat(), reason=reason_text, months_unpaid=owed.months_unpaid,
                     outstanding_ore=owed.outstanding_ore, by_user_id=user_id)
        db.session.commit()
    except leaving.LeavingError as exc:
        db.session.rollback()
        raise ArrearsError(str(exc)) from exc
    except Exception:
        db.session.rollback()
        raise
    db.session.refresh(member)
    return member
