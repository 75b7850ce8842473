"""The monthly notice to each deduction contact: changes, portal link, dues rules, account and KID.

A notice goes out once per employer and month: the basis remembers when, and
each e-mail sent is recorded (who, which address, when) for the office.
"Sent" means handed to the outbox (webapp.services.mail) together with that record: when the mail
server is down the notices wait there and `flask mail retry` delivers them; they are not made again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import select

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


def notify(month: Month, now: dt.datetime | None = None) -> NotifyResult:
    """Send the month's notices that have not gone out. Each employer's notices are queued and recorded in one
    commit, then everything queued is sent over one connection; what fails waits in the outbox."""
    now = now or dt.datetime.now()
    result = NotifyResult(month)
    bases = db.session.scalars(
        select(DeductionBasis).where(DeductionBasis.period == str(month)).order_by(DeductionBasis.employer_id)
    ).all()
    queued = []
    for basis in bases:
        if basis.notified_at is not None:
            result.already_notified += 1
            continue
        contacts = [c for c in current_contacts(basis.employer_id, now.date()) if c.user and c.user.email]
        if not contacts:
            result.without_contacts.append(basis.employer.name)
            continue
        subject, body = notice_text(basis)
        for contact in contacts:
            queued.append(outbox.queue(Message(subject=subject, recipients=[contact.user.email], body=body)).id)
            db.session.add(
                DeductionNotice(basis_id=basis.id, user_id=contact.user_id, email=contact.user.email, subject=subject,
                                sent_at=now)
            )
            result.emails += 1
        basis.notified_at = now
        db.session.commit()
        result.employers += 1
    sending = outbox.send_waiting(queued)
    result.waiting = sending.failed + sending.waiting
    return result
