"""Secure messages between a party and the union, built once for members and deduction contacts.

A thread has one party: a member, or an employer (whose current deduction
contacts all read and write it: their messages follow the user across their
employers). The union side is an org unit, whose officers answer, or the
union office. The text is stored here only; the e-mail to the other side
(the party, or the unit's officers or the office) says that a message is
waiting and links to it, never what it says nor who wrote it.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_mail import Message as MailMessage
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.models import Employer, Member, Message, MessageThread, OrgUnit, Position
from webapp.security import roles
from webapp.security import scope as sc
from webapp.security.rowfilters import visible_clause
from webapp.services import audit
from webapp.services import mail as outbox
from webapp.services.mypage import chosen_email
from webapp.services.notices import current_contacts
from webapp.services.periods import current_clause

SUBJECT_MAX = 200
BODY_MAX = 10_000


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
    return scope.active is not None and scope.active.role in roles.PARTY_ROLES


def threads(grants: list[sc.Grant], limit: int | None = None) -> list[MessageThread]:
    query = (
        select(MessageThread)
        .where(visible_clause(MessageThread, grants))
        .options(joinedload(MessageThread.member), joinedload(MessageThread.employer),
                 joinedload(MessageThread.org_unit))
        .order_by(MessageThread.last_message_at.desc(), MessageThread.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()


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
        notify_other_side(message)
    return thread


def reply(thread: MessageThread, body: str, author_id: int | None, from_party: bool,
          now: dt.datetime | None = None, notify: bool = True) -> Message:
    now = now or dt.datetime.now()
    message = _add_message(thread, _clean_body(body), author_id, from_party, now)
    db.session.commit()
    if notify:
        notify_other_side(message)
    return message


def _add_message(thread: MessageThread, text: str, author_id: int | None, from_party: bool,
                 now: dt.datetime) -> Message:
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


def union_addresses(thread: MessageThread, today: dt.date | None = None) -> list[str]:
    """Who on the union side is told: the current officers of the thread's unit, else the union office."""
    if thread.org_unit_id is not None:
        today = today or dt.date.today()
        officers = db.session.scalars(
            select(Member).join(Position, Position.member_id == Member.id).where(
                Position.org_unit_id == thread.org_unit_id,
                Position.type.in_(roles.ANSWERING_POSITIONS),  # the holders of these answer the unit's threads
                current_clause(Position, today),
            )
        ).all()
        addresses = sorted({address for address in map(chosen_email, officers) if address})
        if addresses:
            return addresses
    office = current_app.config.get("OFFICE_EMAIL")
    return [office] if office else []


def notify_other_side(message: Message, now: dt.datetime | None = None) -> int:
    """E-mail the other side of the thread that a message waits. Returns the number of e-mails sent.

    A message from the union goes to the party (the member, or the employer's contacts); one from the
    party goes to the unit's officers or the office. The e-mails go through the outbox with `notified_at`
    in one commit: when the mail server is down they wait there and are retried; the message stands.
    """
    if message.notified_at is not None:
        return 0
    thread = message.thread
    config = current_app.config
    if message.from_party:
        addresses = union_addresses(thread)
        subject = _("A new message is waiting in the inbox of %(box)s", box=union_side_label(thread))
        template = "mail/message_waiting_union.txt"
    else:
        addresses = party_addresses(thread)
        subject = _("You have a new message from %(union)s", union=config["UNION_NAME"])
        template = "mail/message_waiting.txt"
    if not addresses:
        return 0
    link = config["PORTAL_URL"].rstrip("/") + f"/messages/{thread.id}"
    body = render_template(template, union_name=config["UNION_NAME"], box=union_side_label(thread), link=link)
    message.notified_at = now or dt.datetime.now()
    outbox.queue_and_send(*(MailMessage(subject=subject, recipients=[address], body=body) for address in addresses))
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
