"""Transfers between this union and the other LO unions.

Incoming: the member keeps the seniority from the other union. The transfer is recorded with the union, the
day the member joined the other union (Member.seniority_on) and a reference; `transfer_on` is the day the
membership here began. Outgoing: the membership ends at the end of the month of the transfer date
(leaving.end_membership, reason transferred: STOP on the next deduction basis, direct billing credited after
it), recorded with the union and a reference, and a confirmation PDF goes to the receiving union.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.extensions import db
from webapp.models import Member
from webapp.models.choices import TransferDirection
from webapp.models.lifecycle import LoUnion, MembershipTransfer
from webapp.services import audit
from webapp.services.bounds import FIRST_DATE, LAST_DATE, bounded_text, row_id
from webapp.services.validation import FieldError

REFERENCE_MAX_LENGTH = 100


class TransferError(ValueError):
    """A transfer was refused; the message names the field and the rule. Nothing was written."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


def _union(lo_union_id) -> LoUnion:
    union_id = None if lo_union_id is None or isinstance(lo_union_id, bool) else row_id(lo_union_id)
    union = db.session.get(LoUnion, union_id) if union_id is not None else None
    if union is None:
        raise TransferError(_("LO union: choose a union from the list."), "lo_union")
    if not union.active:
        raise TransferError(_("LO union: %(name)s is no longer in use; choose another union.", name=union.name),
                            "lo_union")
    return union


def _reference(reference) -> str | None:
    try:
        text = bounded_text(_l("Reference"), REFERENCE_MAX_LENGTH)(reference)
    except FieldError as exc:
        raise TransferError(exc.message, "reference") from None
    return text or None


def _date(value, label, field: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TransferError(_("%(field)s: enter a date (dd.mm.yyyy).", field=label), field)
    if not FIRST_DATE <= value <= LAST_DATE:
        raise TransferError(_("%(field)s: must be a date from %(first)s to %(last)s.", field=label,
                              first=FIRST_DATE.strftime("%d.%m.%Y"), last=LAST_DATE.strftime("%d.%m.%Y")), field)
    return value


def _since(member: Member, since, today: dt.date) -> dt.date:
    label = _("Member of the other union since")
    since = _date(since, label, "since")
    if since > today:
        raise TransferError(_("%(field)s: cannot be in the future.", field=label), "since")
    if member.joined_on is not None and since > member.joined_on:
        raise TransferError(_("%(field)s: cannot be after the day the membership here began (%(date)s).",
                              field=label, date=member.joined_on.strftime("%d.%m.%Y")), "since")
    return since


def record_incoming(member: Member, lo_union_id: int, since: dt.date, reference: str | None, user_id: int | None,
                    application_id: int | None = None, today: dt.date | None = None) -> MembershipTransfer:
    """Record that `member` came from another LO union, a member there since `since`: the member keeps that
    seniority (Member.seniority_on). In the caller's transaction (no commit); audited "transfer_in".

    Refused (TransferError naming the field, nothing written) for an unknown or retired union, a `since` that
    is no date, in the future or after the membership here began, or a reference over 100 characters."""
    today = today or dt.date.today()
    union = _union(lo_union_id)
    since = _since(member, since, today)
    reference = _reference(reference)
    transfer = MembershipTransfer(
        member=member, direction=TransferDirection.incoming, lo_union_id=union.id, transfer_on=member.joined_on,
        other_union_since=since, reference=reference, application_id=application_id,
        registered_at=dt.datetime.now(), registered_by_id=user_id,
    )
    old_seniority = member.seniority_on
    member.seniority_on = since
    db.session.add(transfer)
    db.session.flush()
    audit.record("transfer_in", "membership_transfer", transfer.id, member_id=member.id, lo_union=union.name,
                 other_union_since=since.isoformat(), transfer_on=member.joined_on.isoformat(), reference=reference,
                 application_id=application_id, old_seniority_on=old_seniority.isoformat() if old_seniority else None,
                 by_user_id=user_id)
    return transfer
