"""Every e-mail goes through the outbox: stored with the change that causes it, then sent, retried while it fails.

The mail server being down never fails a person's action: `queue_and_send` saves the change and the mail
together, tries to send at once and answers whether it went; what did not go waits in `mail_outbox` and is
sent by `flask --app run mail retry` (e.g. from cron) and by the next successful sending.

A sender first claims a mail with a conditional update (only an unsent mail that nobody holds), so two
retries running at once never send the same mail twice. A claim left by a crashed process times out.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
from contextlib import ExitStack
from dataclasses import dataclass
from email.utils import parseaddr

from flask import current_app
from flask_mail import Connection, Message
from sqlalchemy import delete, func, or_, select, update

from webapp.extensions import db
from webapp.models import OutboxAttachment, OutboxMail

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = dt.timedelta(minutes=10)
# How many older waiting mails ride along with a successful sending (the user's request should stay quick).
RIDE_ALONG = 20
ERROR_LENGTH = 200
# Refusals of one message (an address, its size); others mean the server is unreachable, so stop trying.
MESSAGE_REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    waiting: int = 0

    def summary(self) -> str:
        return f"mail: {self.sent} sent, {self.waiting} still waiting"


def queue(message: Message) -> OutboxMail:
    """Store the message in the caller's transaction; the caller's commit saves it with its change."""
    row = OutboxMail(
        sender=_address_text(message.sender), recipients=json.dumps([_address_text(a) for a in message.recipients]),
        subject=message.subject or "", body=message.body or "", html=message.html,
        created_at=dt.datetime.now(), attempts=0,
    )
    row.attachments = [OutboxAttachment(filename=a.filename, content_type=a.content_type, data=a.data)
                       for a in message.attachments]
    db.session.add(row)
    db.session.flush()
    return row


def queue_and_send(*messages: Message) -> bool:
    """Queue the messages, commit them with the caller's pending change, then try to send them now.

    True when every message went to the mail server; False when some wait in the outbox (the change stands)."""
    ids = [queue(message).id for message in messages]
    db.session.commit()
    report = send_waiting(ids)
    if report.failed == 0 and report.waiting == 0:
        send_waiting(limit=RIDE_ALONG)  # the server answers: older mail that waited goes too
        return True
    return False


def retry_queued(limit: int | None = None) -> SendReport:
    """Send what waits in the outbox, oldest first (`flask --app run mail retry`)."""
    report = send_waiting(limit=limit)
    report.waiting = waiting_count()
    return report


def send_waiting(ids: list[int] | None = None, limit: int | None = None) -> SendReport:
    """Send the given waiting mails (or the oldest waiting ones) over one connection, each claimed first."""
    report = SendReport()
    pending = ids if ids is not None else _oldest_waiting(limit)
    with ExitStack() as stack:
        server = None
        for position, mail_id in enumerate(pending):
            if not _claim(mail_id):
                continue  # sent already, or another sender holds it
            row = db.session.get(OutboxMail, mail_id)
            try:
                if server is None:
                    server = stack.enter_context(connection())
                server.send(_message(row), outbox_id=mail_id)
            except OSError as exc:  # smtplib's errors are OSErrors too
                if server is None:  # no connection to the server: the mail waits (a send logs its own line)
                    log_mail(json.loads(row.recipients), "queued", mail_id, exc)
                _release(mail_id, exc)
                report.failed += 1
                if not isinstance(exc, MESSAGE_REFUSALS):
                    report.waiting += len(pending) - position - 1
                    break
                continue
            _mark_sent(mail_id)
            report.sent += 1
    return report


def forget_sent(before: dt.datetime) -> int:
    """Delete the record of mails sent before `before` (who got what, when): it names people and is kept only
    as long as the office may need it to answer "did the e-mail go?" (MAIL_OUTBOX_KEEP_DAYS)."""
    return db.session.execute(
        delete(OutboxMail).where(OutboxMail.sent_at.is_not(None), OutboxMail.sent_at < before)
        .execution_options(synchronize_session=False)
    ).rowcount


def waiting_for(address: str) -> bool:
    """Whether mail to this address waits in the outbox (the page then says the e-mail follows)."""
    rows = db.session.scalars(select(OutboxMail.recipients).where(
        OutboxMail.sent_at.is_(None), OutboxMail.recipients.icontains(address, autoescape=True),
    )).all()
    return any(address.lower() in (a.lower() for a in json.loads(recipients)) for recipients in rows)


def waiting_count() -> int:
    return db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.sent_at.is_(None)))


# ------------------------------------------------------------------ one mail's way out


def _oldest_waiting(limit: int | None) -> list[int]:
    query = select(OutboxMail.id).where(OutboxMail.sent_at.is_(None)).order_by(OutboxMail.created_at, OutboxMail.id)
    return list(db.session.scalars(query.limit(limit) if limit else query))


def _claim(mail_id: int) -> bool:
    """Take the mail for sending: one sender wins, the others see no row to update."""
    now = dt.datetime.now()
    claimed = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None),
               or_(OutboxMail.claimed_at.is_(None), OutboxMail.claimed_at < now - CLAIM_TIMEOUT))
        .values(claimed_at=now, attempts=OutboxMail.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return claimed


def _mark_sent(mail_id: int) -> None:
    """Sent: the body and files are dropped (a body may hold a login link); who, what and when stay."""
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(
        sent_at=dt.datetime.now(), claimed_at=None, last_error=None, body="", html=None,
    ).execution_options(synchronize_session=False))
    db.session.execute(delete(OutboxAttachment).where(OutboxAttachment.mail_id == mail_id))
    db.session.commit()


def log_mail(recipients: list, status: str, outbox_id: int | None = None, error: Exception | None = None) -> None:
    """One structured log line per mail handed to the mail server (webapp/logs.py): the outbox id (None for a
    send-out's mail, which has its own record), how many recipients and their domains, and the outcome: sent;
    queued (the server is away: the mail waits for a retry); failed (the server refused this message). Never an
    address's local part, the subject or the body, nor the server's answer (it may quote an address)."""
    domains = sorted({parseaddr(_address_text(a) or "")[1].rpartition("@")[2].lower() for a in recipients} - {""})
    fields = {"event": "mail", "outbox_id": outbox_id, "recipients": len(recipients), "domains": domains,
              "status": status, "error": type(error).__name__ if error is not None else None}
    log.log(logging.INFO if status == "sent" else logging.WARNING, "mail %s", status, extra={"fields": fields})


def _release(mail_id: int, error: Exception) -> None:
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(
        claimed_at=None, last_error=error_text(error),
    ).execution_options(synchronize_session=False))
    db.session.commit()


def _message(row: OutboxMail) -> Message:
    message = Message(subject=row.subject, recipients=json.loads(row.recipients), body=row.body, html=row.html,
                      sender=row.sender)
    for attachment in row.attachments:
        message.attach(attachment.filename, attachment.content_type, attachment.data)
    return message


def connection():
    """One connection to the mail server for many messages, as a context manager: it gives up after MAIL_TIMEOUT
    seconds when the server does not answer, and closing it never raises when the server has gone meanwhile."""
    return _tolerant(_TimedConnection(current_app.extensions["mail"]))


def error_text(error: Exception) -> str:
    """The error's kind and first line: the server's answer, never the login sent to it."""
    first_line = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first_line}"[:ERROR_LENGTH]


def _address_text(address) -> str | None:
    """Flask-Mail takes an address as text or (name, address); the outbox stores text."""
    if address is None or isinstance(address, str):
        return address
    name, email = address
    return f"{name} <{email}>"


class _TimedConnection(Connection):
    """Flask-Mail's connection with a timeout (MAIL_TIMEOUT seconds): a mail server that does not answer must
    not hold the person's request; the mail then waits in the outbox like one the server refused."""

    def configure_host(self) -> smtplib.SMTP:
        server = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = server(self.mail.server, self.mail.port, timeout=current_app.config["MAIL_TIMEOUT"])
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class _tolerant:
    """A Flask-Mail connection whose closing does not raise when the server has gone away meanwhile."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        return _LoggedConnection(self.connection.__enter__())

    def __exit__(self, *exc_info):
        try:
            self.connection.__exit__(*exc_info)
        except OSError as exc:
            log.info("closing the mail connection failed: %s", exc)
        return False


class _LoggedConnection:
    """A mail connection whose every send writes the mail log line (`log_mail`), sent or not."""

    def __init__(self, connection):
        self._connection = connection

    def send(self, message: Message, envelope_from=None, outbox_id: int | None = None) -> None:
        try:
            self._connection.send(message, envelope_from)
        except OSError as exc:
            log_mail(message.recipients, "failed" if isinstance(exc, MESSAGE_REFUSALS) else "queued", outbox_id, exc)
            raise
        log_mail(message.recipients, "sent", outbox_id)

    def __getattr__(self, name):
        return getattr(self._connection, name)
