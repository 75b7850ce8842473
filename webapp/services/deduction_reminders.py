"""Reminders to employers whose deduction list for a month has not been delivered.

On the 20th and on the last day of the month (the calendar, webapp/schedule.py; or the office: the Runs page,
`flask --app run deductions remind MONTH --which 20th|last_day`), the deduction contacts of every employer that
has a basis for the month but no delivered list get an e-mail with the portal's address, through the outbox.

Each employer gets each reminder once per month: a `deduction_reminder` row (unique on employer, month and kind)
is written in the same commit as its e-mails, so a run stopped half-way and run again, or two runs at the same
moment, remind nobody twice (the run whose commit the constraint refuses makes its batch again without the
employers the other run reminded). Employers are handled in batches of NOTICE_BATCH (one commit each, then sent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionList, DeductionReminder, Employer
from webapp.models.choices import ListStatus
from webapp.services import mail as outbox
from webapp.services.notices import current_contacts
from webapp.services.periods import Month

KINDS = ("20th", "last_day")
# A batch that meets another run's reminders is made again without them, at most this many times.
BATCH_ATTEMPTS = 5


@dataclass
class RemindResult:
    month: Month
    which: str
    employers: int = 0
    emails: int = 0
    already_reminded: int = 0
    without_contacts: int = 0
    waiting: int = 0

    def summary(self) -> str:
        text = (f"{self.month} ({self.which}): {self.emails} reminders sent to {self.employers} employers "
                "without a delivered list")
        if self.already_reminded:
            text += f"; {self.already_reminded} were reminded before"
        if self.without_contacts:
            text += f"; no deduction contact at {self.without_contacts} employers"
        if self.waiting:
            text += f"; {self.waiting} e-mails wait for the mail server (sent by `mail retry`)"
        return text


def employers_without_list(month: Month) -> list[int]:
    """The employers with a basis for the month and no delivered list for it, by id."""
    delivered = exists().where(DeductionList.employer_id == DeductionBasis.employer_id,
                               DeductionList.period == DeductionBasis.period,
                               DeductionList.status == ListStatus.delivered)
    return list(db.session.scalars(
        select(DeductionBasis.employer_id).where(DeductionBasis.period == str(month), ~delivered)
        .distinct().order_by(DeductionBasis.employer_id)))


def reminder_text(employer: Employer, month: Month, which: str) -> tuple[str, str]:
    config = current_app.config
    subject = _("Reminder: deduction list %(period)s – %(employer)s", period=month.label, employer=employer.name)
    body = render_template("mail/deduction_reminder.txt", employer=employer,
                           period_label=f"{month.month:02d}/{month.year}", last_day=which == "last_day",
                           portal_url=config["PORTAL_URL"].rstrip("/") + "/portal/", union_name=config["UNION_NAME"])
    return subject, body


def remind(month: Month, which: str, now: dt.datetime | None = None, batch_size: int | None = None,
           progress: Callable[[int, int], None] | None = None) -> RemindResult:
    """Remind the contacts of the month's employers without a delivered list (those not reminded of this kind
    yet). `progress(done, total)` after each batch."""
    if which not in KINDS:
        raise ValueError(f"which: {which!r} is not one of {', '.join(KINDS)}")
    now = now or dt.datetime.now()
    batch_size = max(1, int(batch_size or current_app.config.get("NOTICE_BATCH", 50)))
    result = RemindResult(month, which)
    employer_ids = employers_without_list(month)
    total = len(employer_ids)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for start in range(0, total, batch_size):
            queued = _remind_batch_once(employer_ids[start:start + batch_size], month, which, now, result)
            sending = outbox.send_waiting(queued)
            result.waiting += sending.failed + sending.waiting
            if progress is not None:
                progress(min(total, start + batch_size), total)
    return result


def _remind_batch_once(employer_ids: list[int], month: Month, which: str, now: dt.datetime,
                       result: RemindResult) -> list[int]:
    """Queue, record and commit a batch. When another run recorded one of its employers a moment ago (the unique
    constraint refuses the commit), the batch is rolled back and made again without them."""
    for attempt in range(BATCH_ATTEMPTS):
        counts = RemindResult(month, which)
        try:
            queued = _remind_batch(employer_ids, month, which, now, counts)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            if attempt == BATCH_ATTEMPTS - 1:
                raise
            continue
        for name in ("employers", "emails", "already_reminded", "without_contacts"):
            setattr(result, name, getattr(result, name) + getattr(counts, name))
        return queued
    return []


def _remind_batch(employer_ids: list[int], month: Month, which: str, now: dt.datetime,
                  result: RemindResult) -> list[int]:
    """Queue and record the reminders of these employers, in the caller's transaction; the outbox ids."""
    reminded = set(db.session.scalars(select(DeductionReminder.employer_id).where(
        DeductionReminder.employer_id.in_(employer_ids), DeductionReminder.period == str(month),
        DeductionReminder.kind == which)))
    queued: list[int] = []
    for employer_id in employer_ids:
        if employer_id in reminded:
            result.already_reminded += 1
            continue
        contacts = [c for c in current_contacts(employer_id, now.date()) if c.user and c.user.email]
        if not contacts:
            result.without_contacts += 1
            continue
        db.session.add(DeductionReminder(employer_id=employer_id, period=str(month), kind=which, sent_at=now,
                                         contact_count=len(contacts)))
        subject, body = reminder_text(db.session.get(Employer, employer_id), month, which)
        for contact in contacts:
            queued.append(outbox.queue(Message(subject=subject, recipients=[contact.user.email], body=body)).id)
            result.emails += 1
        result.employers += 1
    return queued
