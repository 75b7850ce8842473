"""Resignations: a member resigns on Min side, or the office registers a resignation from a letter.

The membership ends at the end of a month (leaving.end_membership: STOP on the next deduction basis, direct
billing after it credited, positions ended, the retention clock starts): on Min side the current month, from a
letter the month of the letter's date (from the month the member joined up to next month). The reason is one
of RESIGNATION_REASONS. The member gets a confirmation e-mail through the outbox (saved with the resignation,
then sent; a mail server that is down never fails the resignation) saying the last day, that the deduction or
the invoices stop, and how long their data is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_mail import Message

from webapp.extensions import db
from webapp.models import Member
from webapp.models.choices import RESIGNATION_REASONS, LeaveReason
from webapp.services import audit, leaving
from webapp.services import mail as outbox
from webapp.services.bounds import FIRST_DATE, LAST_DATE, bounded_text
from webapp.services.mypage import chosen_email
from webapp.services.periods import Month
from webapp.services.validation import FieldError

COMMENT_MAX_LENGTH = 500
SOURCE_MEMBER = "member"
SOURCE_LETTER = "office letter"


class ResignationError(ValueError):
    """A resignation was refused; the message names the field and the rule. Nothing was written."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


@dataclass(frozen=True)
class Resignation:
    member: Member
    left_on: dt.date
    address: str | None  # where the confirmation went; None when the member has no e-mail address
    mail_sent: bool  # False: it waits in the outbox (or there is no address)


def reason_of(value) -> LeaveReason:
    """One of RESIGNATION_REASONS, from the enum or its name; ResignationError naming the field otherwise."""
    reason = value if isinstance(value, LeaveReason) else LeaveReason.__members__.get(str(value or "").strip())
    if reason not in RESIGNATION_REASONS:
        raise ResignationError(_("Reason: choose one of the reasons in the list."), "reason")
    return reason


def _text(value, label, field: str) -> str | None:
    try:
        return bounded_text(label, COMMENT_MAX_LENGTH)(value) or None
    except FieldError as exc:
        raise ResignationError(exc.message, field) from None


def leaving_month(member: Member, day, label, today: dt.date) -> Month:
    """The month a membership ends in for a leave dated `day`: from the month the member joined up to next
    month. FieldError naming `label` otherwise."""
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise FieldError(_("%(field)s: enter a date (dd.mm.yyyy).", field=label))
    if not FIRST_DATE <= day <= LAST_DATE:
        raise FieldError(_("%(field)s: must be a date from %(first)s to %(last)s.", field=label,
                           first=FIRST_DATE.strftime("%d.%m.%Y"), last=LAST_DATE.strftime("%d.%m.%Y")))
    month, first, last = Month.of(day), Month.of(member.joined_on), Month.of(today).next
    if not first <= month <= last:
        raise FieldError(_("%(field)s: must lie from %(first)s (the month the member joined) to the end of next "
                           "month, %(last)s.", field=label, first=first.first_day.strftime("%d.%m.%Y"),
                           last=last.last_day.strftime("%d.%m.%Y")))
    return month


def resign(member: Member, reason, comment, today: dt.date | None = None) -> Resignation:
    """The member resigns on Min side: the membership ends at the end of the current month."""
    today = today or dt.date.today()
    reason = reason_of(reason)
    comment = _text(comment, _l("Comment"), "comment")
    return _end(member.id, reason, Month.of(today), member.user_id, SOURCE_MEMBER, comment, today)


def register_from_letter(member_id: int, reason, letter_date, note, user_id: int | None,
                         today: dt.date | None = None) -> Resignation:
    """The office registers a resignation the member sent by letter: the membership ends at the end of the month
    of the letter's date (from the month the member joined up to next month)."""
    today = today or dt.date.today()
    reason = reason_of(reason)
    note = _text(note, _l("Note"), "note")
    member = db.session.get(Member, member_id) if isinstance(member_id, int) else None
    if member is None:
        raise ResignationError(_("Member: no such member."), "member")
    label = _("Date of the letter")
    try:
        month = leaving_month(member, letter_date, label, today)
    except FieldError as exc:
        raise ResignationError(exc.message, "letter_date") from None
    return _end(member.id, reason, month, user_id, SOURCE_LETTER, note, today, letter_date=letter_date)


def _end(member_id: int, reason: LeaveReason, month: Month, user_id: int | None, source: str, text: str | None,
         today: dt.date, letter_date: dt.date | None = None) -> Resignation:
    """End the membership, audit the resignation and queue the confirmation in one transaction; commit, then
    try to send the mail."""
    try:
        member = leaving.end_membership(member_id, reason, month, user_id, note=text, today=today)
        audit.record("resignation", "member", member.id, member_id=member.id, source=source,
                     left_on=member.left_on.isoformat(), reason=reason.name, text=text,
                     letter_date=letter_date.isoformat() if letter_date else None, by_user_id=user_id)
        address = chosen_email(member)
        if address:
            mail_sent = outbox.queue_and_send(confirmation_mail(member, address))
        else:
            db.session.commit()
            mail_sent = False
    except leaving.LeavingError as exc:
        db.session.rollback()
        raise ResignationError(str(exc), "member") from exc
    except Exception:
        db.session.rollback()
        raise
    member = db.session.get(Member, member_id)
    return Resignation(member, member.left_on, address, mail_sent)


def confirmation_mail(member: Member, address: str) -> Message:
    config = current_app.config
    left_month = Month.of(member.left_on)
    body = render_template(
        "transfers/resignation_mail.txt", member=member, last_day=member.left_on.strftime("%d.%m.%Y"),
        last_month=left_month, next_month=left_month.next, reason=member.leave_reason,
        retention_months=int(config["PRIVACY_RETENTION_MONTHS"]), union_name=config["UNION_NAME"],
    )
    return Message(subject=_("Your resignation from %(union)s", union=config["UNION_NAME"]), recipients=[address],
                   body=body)
