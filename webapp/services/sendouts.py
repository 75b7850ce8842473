"""Send-outs: a message by e-mail or SMS to the members of a segment, sent by a background job.

The life of a send-out: a draft (criteria from the segment form, channel, subject, body, optional survey link)
→ "Send": one winner moves it to `sending`, its recipients are fixed set-based (segments.insert_recipients:
the segment inside the sender's units, minus those who said no to the channel, minus those without an address)
and a job is started → the job sends in batches of SENDOUT_BATCH and marks each recipient sent or failed →
`sent` (or `failed` when the job broke; the office's retry of the job goes on from where it stopped).

E-mail goes out over one mail connection per batch (a commit per mail, as the outbox's own sending does, would
cost minutes at 100,000 members). A mail the server refuses, and every mail after the server stops answering,
goes to the outbox instead (webapp/services/mail.py): `flask --app run mail retry` delivers it later, and the
recipient is marked failed with the server's answer. The statuses of a batch are committed once the batch is
through (also when the job breaks in the middle of it), so a retry sends only the recipients still queued: no
one twice. Only a worker killed in the middle of a batch can leave the mails of that batch that had gone
already marked queued (at most one batch).

Every e-mail ends with an unsubscribe link (`<PORTAL_URL>/avmelding/<token>`, signed with its own salt, the
payload the recipient row's id): it works without login, once, and sets the member's "no" to information by
e-mail. SMS end with "Svar ikke – endre valg på Min side".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_mail import Message
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.jobs import job_task, report_progress, set_result, start_job
from webapp.models import Member
from webapp.models.choices import RecipientStatus, SendOutChannel, SendOutStatus
from webapp.models.outreach import Job, Segment, SendOut, SendOutRecipient
from webapp.security.scope import unit_subtree_ids
from webapp.services import audit, segments
from webapp.services import mail as outbox
from webapp.services.bounds import row_id
from webapp.services.sms import send_sms
from webapp.services.transitions import claim

log = logging.getLogger(__name__)

JOB_KIND = "sendout"
UNSUBSCRIBE_SALT = "sendout-unsubscribe"
SUBJECT_MAX = 200
SEGMENT_NAME_MAX = 150
EMAIL_BODY_MAX = 20_000
SMS_BODY_MAX = 320  # the message itself; the survey link and the closing line come on top
SURVEY_URL_MAX = 500
ERROR_MAX = 300


class SendOutError(ValueError):
    """A send-out cannot be made or sent; `field` names the form field when one is to blame."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


# ------------------------------------------------------------------ the message: read and check


def message_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """Channel, subject, body and survey link checked; SendOutError names the first field that breaks a rule."""
    channel = SendOutChannel.__members__.get(str(form.get("channel") or ""))
    if channel is None:
        raise SendOutError(_l("Channel: choose e-mail or SMS."), "channel")
    subject = _text(form.get("subject"), _l("Subject"), SUBJECT_MAX, "subject")
    if channel == SendOutChannel.email and not subject:
        raise SendOutError(_l("Subject: is required for an e-mail."), "subject")
    if "\n" in subject or "\r" in subject:
        raise SendOutError(_l("Subject: one line only."), "subject")
    limit = EMAIL_BODY_MAX if channel == SendOutChannel.email else SMS_BODY_MAX
    body = _text(form.get("body"), _l("Message"), limit, "body")
    if not body:
        raise SendOutError(_l("Message: is required."), "body")
    return {"channel": channel, "subject": subject or None, "body": body,
            "survey_url": _survey_url(form.get("survey_url"))}


def _text(value, label, limit: int, name: str) -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise SendOutError(_l("%(field)s: contains a character that is not allowed (NUL).", field=label), name)
    if len(text) > limit:
        raise SendOutError(_l("%(field)s: at most %(count)s characters.", field=label, count=limit), name)
    return text


def _survey_url(value) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    parts = urlsplit(text) if len(text) <= SURVEY_URL_MAX and not any(c.isspace() for c in text) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise SendOutError(_l("Survey link: an address starting with https:// (at most %(count)s characters).",
                              count=SURVEY_URL_MAX), "survey_url")
    return text


# ------------------------------------------------------------------ segments saved for reuse


def save_segment(name, criteria: Mapping[str, Any], unit_id: int | None, user_id: int | None) -> Segment:
    """Save the (validated) criteria under a name, unique among the segments of the same unit (the office's:
    no unit)."""
    name = _text(name, _l("Segment name"), SEGMENT_NAME_MAX, "segment_name")
    if not name:
        raise SendOutError(_l("Segment name: is required to save the segment."), "segment_name")
    taken = select(Segment.id).where(func.lower(Segment.name) == name.lower(),
                                     Segment.unit_id.is_(None) if unit_id is None else Segment.unit_id == unit_id)
    if db.session.execute(taken).first() is not None:
        raise SendOutError(_l("Segment name: a segment with this name exists; choose another name."), "segment_name")
    segment = Segment(name=name, criteria=segments.to_json(criteria), unit_id=unit_id, created_by_id=user_id,
                      created_at=dt.datetime.now())
    db.session.add(segment)
    db.session.flush()
    return segment


# ------------------------------------------------------------------ drafts and the start of sending


def scope_of(send_out: SendOut) -> frozenset[int] | None:
    """The units an officer's send-out reaches (its unit and below); None for the office's."""
    return None if send_out.unit_id is None else unit_subtree_ids({send_out.unit_id})


def save_draft(send_out_id: int | None, criteria: Mapping[str, Any], message: Mapping[str, Any],
               segment_id: int | None, unit_id: int | None, user_id: int | None) -> SendOut:
    """A new draft, or the draft `send_out_id` changed (refused once it is being sent: one winner)."""
    values = {"criteria": segments.to_json(criteria), "segment_id": segment_id, **message}
    if send_out_id is None:
        send_out = SendOut(unit_id=unit_id, status=SendOutStatus.draft, created_by_id=user_id,
                           created_at=dt.datetime.now(), sent_count=0, **values)
        db.session.add(send_out)
        db.session.flush()
        return send_out
    if not claim(SendOut, send_out_id, SendOutStatus.draft, **values):
        raise SendOutError(_l("The send-out is being sent or was sent; it can no longer be changed."))
    return db.session.get(SendOut, send_out_id)


def start_sending(send_out_id: int, user_id: int | None) -> Job:
    """Fix the recipients (one INSERT … SELECT), mark the draft as being sent (one winner), audit and commit, then
    start the job that sends. SendOutError when it was sent already or reaches nobody."""
    send_out = db.session.get(SendOut, send_out_id)
    if send_out is None or not claim(SendOut, send_out_id, SendOutStatus.draft, status=SendOutStatus.sending):
        db.session.rollback()
        raise SendOutError(_l("The send-out is being sent or was sent already."))
    criteria = segments.from_json(send_out.criteria)
    count = segments.insert_recipients(send_out.id, criteria, send_out.channel, scope_of(send_out),
                                       survey=bool(send_out.survey_url))
    if count == 0:
        db.session.rollback()
        raise SendOutError(_l("Nobody in the segment can get the message: nothing was sent."))
    db.session.execute(update(SendOut).where(SendOut.id == send_out_id).values(recipient_count=count))
    audit.record("send_out_sent", "send_out", send_out_id, count=count, channel=send_out.channel.name,
                 subject=send_out.subject or "")
    db.session.commit()
    title = str(_l("Send-out: %(subject)s", subject=title_of(send_out)))
    job = start_job(JOB_KIND, title, send_out_task, {"send_out_id": send_out_id}, user_id)
    db.session.execute(update(SendOut).where(SendOut.id == send_out_id).values(job_id=job.id))
    db.session.commit()
    return job


def title_of(send_out: SendOut) -> str:
    """What a send-out is called in lists: its subject, or the start of an SMS."""
    text = send_out.subject or " ".join(send_out.body.split())
    return text if len(text) <= 60 else text[:59] + "…"


# ------------------------------------------------------------------ the texts members get


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(recipient_id: int) -> str:
    return _serializer().dumps(recipient_id)


def recipient_id_for(token: str) -> int | None:
    """The recipient row a token names; None for a forged, altered or foreign token."""
    try:
        value = _serializer().loads(str(token)[:200])
    except BadSignature:
        return None
    return row_id(value) if isinstance(value, int) and not isinstance(value, bool) else None


_LINK = "\x00link\x00"


class EmailTexts:
    """The e-mail's text for each recipient of a send-out: the message, the survey link and the closing lines in
    the union's language, made once; the recipient's own unsubscribe link put in per mail."""

    def __init__(self, send_out: SendOut):
        config = current_app.config
        self.subject = send_out.subject
        self.serializer = _serializer()
        self.link_base = f"{config['PORTAL_URL'].rstrip('/')}/avmelding/"
        with force_locale(config["BABEL_DEFAULT_LOCALE"]):
            parts = [send_out.body]
            if send_out.survey_url:
                parts.append(_("Answer the survey: %(url)s", url=send_out.survey_url))
            parts.append("-- \n" + _("You get this e-mail as a member of %(union)s. To get no more information by "
                                     "e-mail, unsubscribe here: %(link)s", union=config["UNION_NAME"], link=_LINK))
        self.template = "\n\n".join(parts) + "\n"

    def link(self, recipient_id: int) -> str:
        return self.link_base + self.serializer.dumps(recipient_id)

    def text(self, recipient_id: int) -> str:
        return self.template.replace(_LINK, self.link(recipient_id))


def unsubscribe_link(recipient_id: int) -> str:
    return f"{current_app.config['PORTAL_URL'].rstrip('/')}/avmelding/{unsubscribe_token(recipient_id)}"


def email_text(send_out: SendOut, recipient_id: int) -> str:
    """The e-mail's text as the member gets it: the message, the survey link, the unsubscribe link."""
    return EmailTexts(send_out).text(recipient_id)


def sms_text(send_out: SendOut) -> str:
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        lines = [send_out.body]
        if send_out.survey_url:
            lines.append(send_out.survey_url)
        lines.append(_("Do not reply – change your choices on My page"))
    return "\n".join(lines)


def email_message(texts: EmailTexts, recipient_id: int, address: str) -> Message:
    return Message(subject=texts.subject, recipients=[address], body=texts.text(recipient_id))


# ------------------------------------------------------------------ the job


@dataclass
class BatchResult:
    sent: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.failed)


@dataclass
class MailState:
    """Once the mail server stops answering, the rest of the job's mail goes straight to the outbox."""

    server_down: bool = False


@job_task(JOB_KIND)
def send_out_task(job_id: int, params: dict) -> None:
    """Send a send-out's queued recipients in batches, with progress (the background job)."""
    run(job_id, int(params["send_out_id"]))


def run(job_id: int, send_out_id: int) -> None:
    send_out = db.session.get(SendOut, send_out_id)
    if send_out is None:
        raise LookupError(f"send-out {send_out_id} does not exist")
    if send_out.status == SendOutStatus.sent:
        report_progress(job_id, send_out.recipient_count or 0, send_out.recipient_count or 0,
                        _log(_l("The send-out was sent already.")))
        return
    # A retry of a job that broke: the send-out goes on being sent.
    claim(SendOut, send_out_id, SendOutStatus.failed, status=SendOutStatus.sending)
    db.session.commit()
    try:
        _send_all(job_id, send_out)
    except Exception:
        db.session.rollback()
        claim(SendOut, send_out_id, SendOutStatus.sending, status=SendOutStatus.failed)
        db.session.commit()
        raise


def _log(text) -> str:
    """A line of the job's log, in the union's language (the job has no visitor whose language it could use)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(text)


def _send_all(job_id: int, send_out: SendOut) -> None:
    total = _recipient_count(send_out.id)
    done = _recipient_count(send_out.id, handled_only=True)
    channel = send_out.channel
    report_progress(job_id, done, total, _log(_l("%(channel)s: %(left)s of %(total)s recipients to send",
                                                 channel=channel.labels()[channel.name], left=total - done,
                                                 total=total)))
    batch_size = max(1, int(current_app.config.get("SENDOUT_BATCH", 500)))
    state = MailState()
    email = EmailTexts(send_out) if channel == SendOutChannel.email else None
    sms = sms_text(send_out) if channel == SendOutChannel.sms else None
    waiting = _queued_ids(send_out.id)
    for start in range(0, len(waiting), batch_size):
        batch = _batch(waiting[start:start + batch_size])
        result = BatchResult()
        try:
            if email is not None:
                _send_emails(send_out.id, email, batch, result, state)
            else:
                _send_sms(sms, batch, result)
        finally:
            _record(result)
            db.session.commit()
        done += result.handled
        report_progress(job_id, done)
    _finish(job_id, send_out.id, total)


def _recipient_count(send_out_id: int, handled_only: bool = False) -> int:
    query = select(func.count(SendOutRecipient.id)).where(SendOutRecipient.send_out_id == send_out_id)
    if handled_only:
        query = query.where(SendOutRecipient.status != RecipientStatus.queued)
    return db.session.scalar(query) or 0


def _queued_ids(send_out_id: int) -> list[int]:
    """The ids of the recipients still queued, in order: read once, so each batch is a lookup by primary key
    (a query for "the next queued ones" would walk the rows already sent, or their dead versions, each time)."""
    return list(db.session.scalars(
        select(SendOutRecipient.id)
        .where(SendOutRecipient.send_out_id == send_out_id, SendOutRecipient.status == RecipientStatus.queued)
        .order_by(SendOutRecipient.id)))


def _batch(ids: list[int]) -> list[tuple[int, str]]:
    """These recipients with their addresses, those still queued. Looked up by primary key alone, the status
    checked here: with a status condition PostgreSQL may walk the status index instead (every queued row)."""
    rows = db.session.execute(select(SendOutRecipient.id, SendOutRecipient.address, SendOutRecipient.status)
                              .where(SendOutRecipient.id.in_(ids)).order_by(SendOutRecipient.id))
    return [(row.id, row.address) for row in rows if row.status == RecipientStatus.queued]


def _send_emails(send_out_id: int, texts: EmailTexts, batch: list[tuple[int, str]], result: BatchResult,
                 state: MailState) -> None:
    """One connection for the batch; refused mails, and all once the server is gone, wait in the outbox.

    The outbox's own timed connection is used (MAIL_TIMEOUT), so a server that does not answer holds the job
    for seconds, not for ever."""
    reason: Exception = ConnectionError("the mail server did not answer earlier in this send-out")
    if not state.server_down:
        try:
            with outbox.connection() as connection:
                for recipient_id, address in batch:
                    message = email_message(texts, recipient_id, address)
                    try:
                        connection.send(message)
                    except outbox.MESSAGE_REFUSALS as exc:
                        _to_outbox(message, recipient_id, exc, result)
                        continue
                    result.sent.append(recipient_id)
        except OSError as exc:  # no connection, or the server went away: the rest waits in the outbox
            log.warning("send-out %s: the mail server does not answer (%s); the rest waits in the outbox",
                        send_out_id, exc)
            state.server_down, reason = True, exc
    for recipient_id, address in batch[result.handled:]:
        _to_outbox(email_message(texts, recipient_id, address), recipient_id, reason, result)


def _to_outbox(message: Message, recipient_id: int, error: Exception, result: BatchResult) -> None:
    outbox.queue(message)
    result.failed.append((recipient_id, (outbox.error_text(error) + " (waits in the outbox)")[:ERROR_MAX]))


def _send_sms(text: str, batch: list[tuple[int, str]], result: BatchResult) -> None:
    for recipient_id, address in batch:
        try:
            send_sms(address, text)
        except Exception as exc:  # any gateway error fails this message only
            result.failed.append((recipient_id, f"{type(exc).__name__}: {exc}"[:ERROR_MAX]))
            continue
        result.sent.append(recipient_id)


def _record(result: BatchResult) -> None:
    """The batch's outcome, in the job's transaction (committed by the caller)."""
    now = dt.datetime.now()
    if result.sent:  # read as queued by this job, the one running the send-out (run_job's claim): by key alone
        db.session.execute(
            update(SendOutRecipient).where(SendOutRecipient.id.in_(result.sent))
            .values(status=RecipientStatus.sent, sent_at=now).execution_options(synchronize_session=False))
    if result.failed:
        db.session.execute(update(SendOutRecipient), [
            {"id": recipient_id, "status": RecipientStatus.failed, "error": error}
            for recipient_id, error in result.failed])


def _finish(job_id: int, send_out_id: int, total: int) -> None:
    sent = db.session.scalar(select(func.count(SendOutRecipient.id)).where(
        SendOutRecipient.send_out_id == send_out_id, SendOutRecipient.status == RecipientStatus.sent)) or 0
    claim(SendOut, send_out_id, SendOutStatus.sending, status=SendOutStatus.sent, sent_count=sent,
          sent_at=dt.datetime.now())
    db.session.commit()
    report_progress(job_id, total, total, _log(_l("Done: %(sent)s sent, %(failed)s not sent",
                                                  sent=sent, failed=total - sent)))
    set_result(job_id, f"/sendouts/{send_out_id}")


# ------------------------------------------------------------------ unsubscribe (public, no login)


UNSUBSCRIBED, ALREADY_USED = "unsubscribed", "already_used"


def recipient_for_token(token: str) -> SendOutRecipient | None:
    """The e-mail recipient a token names, or None (forged, altered, unknown, or not an e-mail)."""
    recipient_id = recipient_id_for(token)
    recipient = db.session.get(SendOutRecipient, recipient_id) if recipient_id else None
    if recipient is None or recipient.send_out.channel != SendOutChannel.email:
        return None
    return recipient


def unsubscribe(recipient: SendOutRecipient) -> str:
    """Use the link: the member says no to information by e-mail. The link works once (a conditional update; the
    second use, or a concurrent one, changes nothing and answers ALREADY_USED). Audited; the caller commits."""
    now = dt.datetime.now()
    won = db.session.execute(
        update(SendOutRecipient)
        .where(SendOutRecipient.id == recipient.id, SendOutRecipient.unsubscribed_at.is_(None))
        .values(unsubscribed_at=now).execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        return ALREADY_USED
    changed = db.session.execute(
        update(Member).where(Member.id == recipient.member_id, Member.info_by_email.is_(True))
        .values(info_by_email=False).execution_options(synchronize_session=False)).rowcount == 1
    audit.record("unsubscribe", "member", recipient.member_id, member_id=recipient.member_id,
                 send_out_id=recipient.send_out_id, info_by_email_changed=changed)
    return UNSUBSCRIBED


# ------------------------------------------------------------------ what was sent to a member


def sent_to_member(member_id: int, send_outs=None, limit: int = 50) -> list[tuple[SendOutRecipient, SendOut]]:
    """The send-outs that went (or go) to the member, newest first; `send_outs`: a clause over SendOut that limits
    them (the viewer's scope)."""
    query = (select(SendOutRecipient, SendOut).join(SendOut, SendOut.id == SendOutRecipient.send_out_id)
             .where(SendOutRecipient.member_id == member_id))
    if send_outs is not None:
        query = query.where(send_outs)
    return [(recipient, send_out) for recipient, send_out in
            db.session.execute(query.order_by(SendOut.created_at.desc(), SendOut.id.desc()).limit(limit))]
