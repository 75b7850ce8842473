"""Secure messages between a party and the union, built once for members and deduction contacts.

A thread has one party: a member, or an employer (whose current deduction
contacts all read and write it: their messages follow the user across their
employers). The union side is an org unit, whose officers answer, or the
union office. The text is stored here only; the e-mail to the party says that
a message is waiting and links to it, never what it says.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_mail import Message as MailMessage
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.extensions import db, mail
from webapp.models import Employer, Member, Message, MessageThread, OrgUnit
from webapp.security import roles
from webapp.security import scope as sc
from webapp.security.rowfilters import visible_clause
from webapp.services import audit
from webapp.services.mypage import chosen_email
from webapp.services.notices import current_contacts

log = logging.getLogger(__name__)

SUBJECT_MAX = 200
BODY_MAX = 10_000
PARTY_ROLES = (roles.MEMBER, roles.DEDUCTION_CONTACT)


class MessageError(ValueError):
    """A message was refused; the message names the field and the rule."""


# ------------------------------------------------------------------ who reaches which threads


def thread_grants(scope: sc.Scope) -> list[sc.Grant]:
    """The grants that decide which threads the acting option reaches.

    A deduction contact acts for one employer at a time, but their messages
    follow the user: the box holds the threads of every employer they are a
    current contact for (all of them are among the user's own options).
    """
    active = scope.active
    if active is not None and active.role == roles.DEDUCTION_CONTACT:
        employers = frozenset(o.target_id for o in scope.options if o.role == roles.DEDUCTION_CONTACT)
        return [sc.Grant(roles.DEDUCTION_CONTACT, sc.EMPLOYERS, employers)]
    return list(scope.grants)


def writes_as_party(scope: sc.Scope) -> bool:
    """Members and deduction contacts write as the party; officers and the office answer for the union."""
    return scope.active is not None and scope.active.role in PARTY_ROLES


def threads(grants: list[sc.Grant], limit: int | None = None) -> list[MessageThread]:
    query = (
        select(MessageThread)
        .where(visible_clause(MessageThread, grants))
        .options(joinedload(MessageThread.member), joinedload(MessageThread.employer), joinedload(MessageThread.org_unit))
        .order_by(MessageThread.last_message_at.desc(), MessageThread.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()


def thread_for(thread_id: int, grants: list[sc.Grant]) -> MessageThread | None:
    """The thread when the grants reach it; None (answer 404) otherwise."""
    return db.session.scalars(
        select(MessageThread).where(MessageThread.id == thread_id, visible_clause(MessageThread, grants))
    ).first()


# ------------------------------------------------------------------ writing


def _clean_body(body: str | None) -> str:
    text = (body or "").strip()
    if not text:
        raise MessageError(_("Message: write something before you send."))
    if len(text) > BODY_MAX:
        raise MessageError(_("Message: at most %(count)s characters.", count=BODY_MAX))
    return text


def _clean_subject(subject: str | None) -> str:
    text = " ".join((subject or "").split())
    if not text:
        raise MessageError(_("Subject: give the message a subject."))
    if len(text) > SUBJECT_MAX:
        raise MessageError(_("Subject: at most %(count)s characters.", count=SUBJECT_MAX))
    return text


def start_thread(
    *,
    subject: str,
    body: str,
    author_id: int | None,
    from_party: bool,
    member_id: int | None = None,
    employer_id: int | None = None,
    org_unit_id: int | None = None,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> MessageThread:
    """A new thread with its first message. The caller has checked that the author may write to this party and unit."""
    if (member_id is None) == (employer_id is None):
        raise MessageError("party: a thread is with one member or one employer")
    now = now or dt.datetime.now()
    thread = MessageThread(
        subject=_clean_subject(subject), member_id=member_id, employer_id=employer_id, org_unit_id=org_unit_id,
        created_at=now, last_message_at=now,
    )
    text = _clean_body(body)
    db.session.add(thread)
    message = _add_message(thread, text, author_id, from_party, now)
    db.session.commit()
    if notify:
        notify_party(message)
    return thread


def reply(thread: MessageThread, body: str, author_id: int | None, from_party: bool,
          now: dt.datetime | None = None, notify: bool = True) -> Message:
    now = now or dt.datetime.now()
    message = _add_message(thread, _clean_body(body), author_id, from_party, now)
    db.session.commit()
    if notify:
        notify_party(message)
    return message


def _add_message(thread: MessageThread, text: str, author_id: int | None, from_party: bool, now: dt.datetime) -> Message:
    message = Message(thread=thread, author_id=author_id, from_party=from_party, body=text, sent_at=now)
    db.session.add(message)
    thread.last_message_at = now
    if from_party:
        thread.union_unread = True
    else:
        thread.party_unread = True
    db.session.flush()
    # The audit log names the thread, never the text.
    audit.record("send_message", "message_thread", thread.id, member_id=thread.member_id, message=message.id,
                 from_party=from_party)
    return message


def mark_read(thread: MessageThread, as_party: bool) -> None:
    flag = "party_unread" if as_party else "union_unread"
    if getattr(thread, flag):
        setattr(thread, flag, False)
        db.session.commit()


# ------------------------------------------------------------------ the e-mail that a message waits


def party_addresses(thread: MessageThread, today: dt.date | None = None) -> list[str]:
    """Where the party is told: the member's chosen address, or the employer's current deduction contacts."""
    if thread.member_id is not None:
        address = chosen_email(db.session.get(Member, thread.member_id))
        return [address] if address else []
    contacts = current_contacts(thread.employer_id, today or dt.date.today())
    return sorted({c.user.email for c in contacts if c.user and c.user.email})


def notify_party(message: Message, now: dt.datetime | None = None) -> int:
    """E-mail the party that a message from the union waits. Returns the number of e-mails sent.

    A failed send does not undo the message (it is stored and readable); it is logged and
    `notified_at` stays empty, so the office can see it was not told.
    """
    if message.from_party or message.notified_at is not None:
        return 0
    thread = message.thread
    addresses = party_addresses(thread)
    if not addresses:
        return 0
    config = current_app.config
    link = config["PORTAL_URL"].rstrip("/") + f"/messages/{thread.id}"
    subject = _("You have a new message from %(union)s", union=config["UNION_NAME"])
    body = render_template("mail/message_waiting.txt", union_name=config["UNION_NAME"], link=link)
    try:
        with mail.connect() as connection:
            for address in addresses:
                connection.send(MailMessage(subject=subject, recipients=[address], body=body))
    except OSError as exc:
        log.warning("message %s: the notice could not be sent (%s)", message.id, exc)
        return 0
    message.notified_at = now or dt.datetime.now()
    db.session.commit()
    return len(addresses)


# ------------------------------------------------------------------ labels


def union_side_label(thread: MessageThread) -> str:
    return thread.org_unit.name if thread.org_unit is not None else str(_l("Union office"))


def party_label(thread: MessageThread) -> str:
    if thread.member is not None:
        return f"{thread.member.full_name} ({thread.member.member_no})"
    return thread.employer.name if thread.employer is not None else ""


def member_counterparts(member: Member) -> list[tuple[str, str]]:
    """Whom a member can write to: the union office and their own org unit."""
    unit = db.session.get(OrgUnit, member.home_unit_id)
    return [("office", str(_l("Union office"))), (str(unit.id), unit.name)]


def contact_employers(scope: sc.Scope) -> list[Employer]:
    ids = [o.target_id for o in scope.options if o.role == roles.DEDUCTION_CONTACT]
    if not ids:
        return []
    return db.session.scalars(select(Employer).where(Employer.id.in_(ids)).order_by(Employer.name)).all()
