"""The monthly notice to each deduction contact: changes, portal link, dues rules, account and KID.

A notice goes out once per employer and month: the basis remembers when, and
each e-mail sent is recorded (who, which address, when) for the office.
Notices go out in batches of NOTICE_BATCH employers, each batch recorded in one commit and then sent, so a run
that stops half-way and is run again sends each notice once.
"Sent" means handed to the outbox (webapp.services.mail) together with that record: when the mail
server is down the notices wait there and `flask mail retry` delivers them; they are not made again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionContact, DeductionNotice
from webapp.services import mail as outbox
from webapp.services.money import account_number, kroner
from webapp.services.periods import Month, current_clause


@dataclass
class NotifyResult:
    month: Month
    employers: int = 0
    emails: int = 0
    already_notified: int = 0
    waiting: int = 0
    without_contacts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.employers:
            text = f"{self.month}: nothing to send"
            if self.already_notified:
                text += f", all {self.already_notified} employers were notified before"
        else:
            text = f"{self.month}: {self.emails} notices sent to {self.employers} employers"
            if self.already_notified:
                text += f"; {self.already_notified} were notified before"
        if self.without_contacts:
            text += f"; no deduction contact at {len(self.without_contacts)} employers"
        if self.waiting:
            text += f"; {self.waiting} e-mails wait for the mail server (sent by `mail retry`)"
        return text


def notice_text(basis: DeductionBasis) -> tuple[str, str]:
    month = Month.parse(basis.period)
    rate = basis.rate
    config = current_app.config
    subject = _("Dues deduction %(period)s – %(employer)s", period=month.label, employer=basis.employer.name)
    body = render_template(
        "mail/deduction_notice.txt",
        basis=basis,
        employer=basis.employer,
        period_label=f"{month.month:02d}/{month.year}",
        portal_url=config["PORTAL_URL"].rstrip("/") + "/portal/",
        percent=str(rate.percent.normalize()).replace(".", ","),
        contents=kroner(rate.contents_insurance_ore, decimals=False),
        travel=kroner(rate.travel_insurance_ore, decimals=False),
        apprentice=kroner(rate.apprentice_flat_ore, decimals=False),
        account=account_number(config["UNION_ACCOUNT_NUMBER"]),
        union_name=config["UNION_NAME"],
    )
    return subject, body


def current_contacts(employer_id: int, today: dt.date):
    return db.session.scalars(
        select(DeductionContact).where(
            DeductionContact.employer_id == employer_id,
            current_clause(DeductionContact, today),
        )
    ).all()


def notify(month: Month, now: dt.datetime | None = None, batch_size: int | None = None,
           progress: Callable[[int, int], None] | None = None) -> NotifyResult:
    """Send the month's notices that have not gone out, `batch_size` employers at a time (NOTICE_BATCH).

    A batch's notices are queued in the outbox and recorded (the notice rows, the basis's `notified_at`) in one
    commit, then sent over one connection; what fails waits in the outbox. A run that stops half-way (a crash,
    a killed worker) and is run again skips the employers already notified: no notice is made or sent twice
    (mails of a batch that was committed but not yet sent wait in the outbox for `mail retry`).
    `progress(done, total)` is called after each batch with the employers handled so far of the month's bases."""
    now = now or dt.datetime.now()
    batch_size = max(1, int(batch_size or current_app.config.get("NOTICE_BATCH", 50)))
    result = NotifyResult(month)
    basis_ids = list(db.session.scalars(
        select(DeductionBasis.id).where(DeductionBasis.period == str(month)).order_by(DeductionBasis.employer_id)))
    total = len(basis_ids)
    for start in range(0, total, batch_size):
        queued = _notify_batch(basis_ids[start:start + batch_size], now, result)
        db.session.commit()
        sending = outbox.send_waiting(queued)
        result.waiting += sending.failed + sending.waiting
        if progress is not None:
            progress(min(total, start + batch_size), total)
    return result


def _notify_batch(basis_ids: list[int], now: dt.datetime, result: NotifyResult) -> list[int]:
    """Queue and record the notices of these bases (those not notified yet), in the caller's transaction; the
    outbox ids queued."""
    queued = []
    bases = db.session.scalars(select(DeductionBasis).where(DeductionBasis.id.in_(basis_ids))
                               .order_by(DeductionBasis.employer_id)).all()
    for basis in bases:
        if basis.notified_at is not None:
            result.already_notified += 1
            continue
        contacts = [c for c in current_contacts(basis.employer_id, now.date()) if c.user and c.user.email]
        if not contacts:
            result.without_contacts.append(basis.employer.name)
            continue
        if not _claim_notice(basis.id, now):
            result.already_notified += 1  # another run notified it a moment ago
            continue
        subject, body = notice_text(basis)
        for contact in contacts:
            queued.append(outbox.queue(Message(subject=subject, recipients=[contact.user.email], body=body)).id)
            db.session.add(
                DeductionNotice(basis_id=basis.id, user_id=contact.user_id, email=contact.user.email, subject=subject,
                                sent_at=now)
            )
            result.emails += 1
        result.employers += 1
    return queued


def _claim_notice(basis_id: int, now: dt.datetime) -> bool:
    """Mark the basis notified unless it is: one run wins each employer (two runs at once notify it once)."""
    return db.session.execute(
        update(DeductionBasis).where(DeductionBasis.id == basis_id, DeductionBasis.notified_at.is_(None))
        .values(notified_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
