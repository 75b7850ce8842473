"""Transfers between this union and the other LO unions.

Incoming: the member keeps the seniority from the other union. The transfer is recorded with the union, the
day the member joined the other union (Member.seniority_on) and a reference; `transfer_on` is the day the
membership here began. Outgoing: the membership ends at the end of the month of the transfer date
(leaving.end_membership, reason transferred: STOP on the next deduction basis, direct billing credited after
it), recorded with the union and a reference, and a confirmation PDF goes to the receiving union.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.models import Invoice, Member
from webapp.models.choices import LeaveReason, PaymentMethod, TransferDirection
from webapp.models.lifecycle import LoUnion, MembershipTransfer
from webapp.services import audit, leaving, payment_methods, transitions
from webapp.services.bounds import FIRST_DATE, LAST_DATE, bounded_text, row_id
from webapp.services.pdf import render_pdf
from webapp.services.periods import Month
from webapp.services.resignations import leaving_month
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


def register_incoming_for_member(member_id: int, lo_union_id, since, reference, user_id: int | None,
                                 today: dt.date | None = None) -> MembershipTransfer:
    """The office records that an existing member came from another LO union (record_incoming), and commits.

    The member row is locked, so of two registrations at once one wins; a member who already has a transfer in
    for this membership is refused. Refused with TransferError naming the field, nothing written."""
    try:
        member = transitions.lock(Member, member_id)
        if member is None:
            raise TransferError(_("Member: no such member."), "member")
        if has_incoming(member):
            raise TransferError(_("Transfer: a transfer from another LO union is already registered for %(name)s.",
                                  name=member.full_name), "member")
        transfer = record_incoming(member, lo_union_id, since, reference, user_id, today=today)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return db.session.get(MembershipTransfer, transfer.id)


def transfer_out(member_id: int, lo_union_id, on, reference, user_id: int | None,
                 today: dt.date | None = None) -> MembershipTransfer:
    """The member moves to another LO union: the membership ends at the end of the month of `on` (reason
    transferred; leaving.end_membership stops deduction and credits direct billing after it) and the transfer is
    recorded, in one transaction, committed. `on` may lie in any month from the one the member joined in to
    next month.

    Refused (TransferError naming the field, nothing written) for bad input or a member who has left or has a
    leave registered; of two at once, one wins (end_membership locks the member)."""
    today = today or dt.date.today()
    try:
        union = _union(lo_union_id)
        reference = _reference(reference)
        member = db.session.get(Member, member_id) if isinstance(member_id, int) else None
        if member is None:
            raise TransferError(_("Member: no such member."), "member")
        label = _("Transfer date")
        try:
            month = leaving_month(member, _date(on, label, "on"), label, today)
        except FieldError as exc:
            raise TransferError(exc.message, "on") from None
        member = leaving.end_membership(member.id, LeaveReason.transferred, month, user_id,
                                        note=reference, today=today)
        transfer = MembershipTransfer(
            member_id=member.id, direction=TransferDirection.outgoing, lo_union_id=union.id,
            transfer_on=member.left_on, reference=reference, registered_at=dt.datetime.now(),
            registered_by_id=user_id,
        )
        db.session.add(transfer)
        db.session.flush()
        audit.record("transfer_out", "membership_transfer", transfer.id, member_id=member.id, lo_union=union.name,
                     transfer_on=member.left_on.isoformat(), reference=reference, by_user_id=user_id)
        db.session.commit()
    except leaving.LeavingError as exc:
        db.session.rollback()
        raise TransferError(str(exc), "member") from exc
    except Exception:
        db.session.rollback()
        raise
    return db.session.get(MembershipTransfer, transfer.id)


# ------------------------------------------------------------------ the confirmation for the receiving union


def confirmation_filename(transfer: MembershipTransfer) -> str:
    return f"overforingsbekreftelse-{transfer.member.member_no}.pdf"


def paid_through(member: Member) -> tuple[Month | None, PaymentMethod | None]:
    """How the member paid in their last month, and the last month the dues are settled for.

    On payroll deduction the employer deducts through the month the membership ends in. Paying directly: the
    last month of the member's invoices that are settled without a gap from the first one (at most the month
    the membership ends in); None when nothing is settled."""
    last_month = Month.of(member.left_on)
    method = payment_methods.payment_method(member, member.left_on)
    if method is None:
        return None, None
    if method.method == PaymentMethod.deduction:
        return last_month, method.method
    settled = None
    for invoice in db.session.scalars(select(Invoice).where(Invoice.member_id == member.id)
                                      .order_by(Invoice.first_month, Invoice.id)):
        if invoice.outstanding_ore > 0:
            break
        end = Month.parse(invoice.first_month).shift(invoice.month_count - 1)
        settled = min(end, last_month) if settled is None else max(settled, min(end, last_month))
    return settled, method.method


def confirmation_pdf(transfer: MembershipTransfer) -> bytes:
    """The transfer confirmation for the receiving union (outgoing transfers): who the member is, since when
    they have been a member (and their seniority), the last day as a member here and what is paid."""
    if transfer.direction != TransferDirection.outgoing:
        raise TransferError(_("Transfer: a confirmation is made for transfers to another LO union only."),
                            "transfer")
    member = transfer.member
    month, method = paid_through(member)
    return render_pdf(
        "pdf/transfer_confirmation.html", transfer=transfer, member=member, union=transfer.lo_union,
        union_name=current_app.config["UNION_NAME"], paid_through=month, method=method,
        issued_on=dt.date.today(),
    )


# ------------------------------------------------------------------ reading


def active_unions() -> list[LoUnion]:
    """The LO unions a transfer may name, by name."""
    return list(db.session.scalars(select(LoUnion).where(LoUnion.active.is_(True)).order_by(LoUnion.name)))


def transfers_of(member_id: int) -> list[MembershipTransfer]:
    return list(db.session.scalars(
        select(MembershipTransfer).where(MembershipTransfer.member_id == member_id)
        .options(joinedload(MembershipTransfer.lo_union)).order_by(MembershipTransfer.transfer_on)))


def has_incoming(member: Member) -> bool:
    """Whether the member's current membership came with a transfer from another LO union."""
    return db.session.scalar(select(MembershipTransfer.id).where(
        MembershipTransfer.member_id == member.id, MembershipTransfer.direction == TransferDirection.incoming,
        MembershipTransfer.transfer_on == member.joined_on).limit(1)) is not None


def find_transfers(direction: TransferDirection | None = None, lo_union_id: int | None = None,
                   first: dt.date | None = None, last: dt.date | None = None,
                   limit: int = 500) -> tuple[list[MembershipTransfer], int]:
    """The transfers matching the filters, newest first (at most `limit`), and how many match in all."""
    where = []
    if direction is not None:
        where.append(MembershipTransfer.direction == direction)
    if lo_union_id is not None:
        where.append(MembershipTransfer.lo_union_id == lo_union_id)
    if first is not None:
        where.append(MembershipTransfer.transfer_on >= first)
    if last is not None:
        where.append(MembershipTransfer.transfer_on <= last)
    total = db.session.scalar(select(func.count(MembershipTransfer.id)).where(*where))
    rows = db.session.scalars(
        select(MembershipTransfer).where(*where)
        .options(joinedload(MembershipTransfer.member), joinedload(MembershipTransfer.lo_union))
        .order_by(MembershipTransfer.transfer_on.desc(), MembershipTransfer.id.desc()).limit(limit)).all()
    return list(rows), total
