"""Ballots (uravstemninger) among the members a collective agreement covers on a cut-off date.

A ballot starts as a draft: its voter list is computed from the register (webapp.services.agreements'
`covered_clause` on the cut-off date) every time it is shown. Locking it freezes the list: one conditional
UPDATE makes the draft locked (one winner, webapp.services.transitions.claim), and one INSERT … SELECT copies
member number, name, chosen e-mail and chosen mobile of every covered member into BallotVoter. From then on the
register may change (a new job, a leave, a new address) without changing the list or its export.

Only a locked list is ever exported, for the vendor who runs the vote (the union never sees the votes); every
export is audited with its count. A member on a locked list sees on Min side that they have a vote, until the
ballot closes. The privacy purge deletes a list BALLOT_VOTERS_KEEP_DAYS after its ballot closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, literal, select, update

from webapp.extensions import db
from webapp.models import Member
from webapp.models.choices import BallotStatus, SendOutChannel
from webapp.models.outreach import Ballot, BallotVoter, CollectiveAgreement
from webapp.services import audit, transitions
from webapp.services.agreements import covered_clause
from webapp.services.bounds import FIRST_DATE, LAST_DATE, bounded_text, row_id, typed_date
from webapp.services.segments import address_expression, members_from
from webapp.services.validation import FieldError

TITLE_MAX_LENGTH = 200
PREVIEW_ROWS = 20
# The vendor's file: exactly these four columns, in this order, whatever the screen's language.
EXPORT_HEADER = ["medlemsnummer", "navn", "e-post", "mobil"]


class BallotFormInvalid(ValueError):
    """The ballot form has bad fields: {field: message naming the field and the rule}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class BallotError(ValueError):
    """A ballot could not be made, locked or exported; `field` names the form field the message is about."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


# ------------------------------------------------------------------ the four fields, in SQL


def voter_columns():
    """Member number, name, chosen e-mail, chosen mobile: what the vendor gets of each voter. The addresses are
    the SQL twin of webapp.services.mypage.chosen_email / chosen_mobile (segments.address_expression, which the
    send-outs use too), so the list holds the address the member chose, as Min side shows it. Select them from
    `segments.members_from(SendOutChannel.email)` (the member joined to its login)."""
    return (
        Member.member_no,
        (Member.first_name + " " + Member.last_name).label("name"),
        address_expression(SendOutChannel.email).label("email"),
        address_expression(SendOutChannel.sms).label("mobile"),
    )


def covered_voters(agreement_id: int, cutoff: dt.date):
    """SELECT of (member id, the four fields) of the members the agreement covers on the cut-off date."""
    return (
        select(Member.id, *voter_columns())
        .select_from(members_from(SendOutChannel.email))  # the member with its login, whose address is the last
        .where(covered_clause(agreement_id, cutoff))
    )


# ------------------------------------------------------------------ making a ballot


@dataclass
class BallotForm:
    agreement_id: int
    title: str
    cutoff_date: dt.date
    closes_on: dt.date


def _form_date(value, field: str, label, problems: dict) -> dt.date | None:
    day = typed_date(value)
    if day is None:
        problems[field] = _l("%(field)s: must be a date (dd.mm.yyyy).", field=label)
    elif not FIRST_DATE <= day <= LAST_DATE:
        problems[field] = _l("%(field)s: must be a date from %(first)s to %(last)s.", field=label,
                             first=FIRST_DATE.strftime("%d.%m.%Y"), last=LAST_DATE.strftime("%d.%m.%Y"))
        day = None
    return day


def read_form(form) -> BallotForm:
    """The typed form as a ballot's fields, or BallotErrors naming every bad field: {field: message}."""
    problems: dict[str, object] = {}
    agreement_id = row_id(form.get("agreement_id", ""))
    if agreement_id is None or db.session.get(CollectiveAgreement, agreement_id) is None:
        problems["agreement_id"] = _l("%(field)s: choose one of the agreements.", field=_l("Collective agreement"))
    try:
        title = bounded_text(_l("Title"), TITLE_MAX_LENGTH, required=True)(form.get("title"))
    except FieldError as exc:
        problems["title"], title = exc.message, ""
    cutoff = _form_date(form.get("cutoff_date"), "cutoff_date", _l("Cut-off date"), problems)
    closes_on = _form_date(form.get("closes_on"), "closes_on", _l("Closes on"), problems)
    if cutoff and closes_on and closes_on < cutoff:
        problems["closes_on"] = _l("Closes on: cannot be before the cut-off date.")
    if problems:
        raise BallotFormInvalid({name: str(message) for name, message in problems.items()})
    return BallotForm(agreement_id, title, cutoff, closes_on)


def create(form: BallotForm) -> Ballot:
    """A draft ballot; audited and committed."""
    ballot = Ballot(agreement_id=form.agreement_id, title=form.title, cutoff_date=form.cutoff_date,
                    closes_on=form.closes_on, status=BallotStatus.draft, created_at=dt.datetime.now())
    db.session.add(ballot)
    db.session.flush()
    audit.record("ballot_created", "ballot", ballot.id, agreement=form.agreement_id, title=form.title,
                 cutoff_date=str(form.cutoff_date), closes_on=str(form.closes_on))
    db.session.commit()
    return ballot


# ------------------------------------------------------------------ the list


def draft_count(ballot: Ballot) -> int:
    """How many members the ballot's agreement covers on its cut-off date, from the register now."""
    return db.session.scalar(select(func.count()).select_from(
        covered_voters(ballot.agreement_id, ballot.cutoff_date).subquery())) or 0


def draft_preview(ballot: Ballot, limit: int = PREVIEW_ROWS) -> list:
    """The first rows of the list the lock would freeze now, by membership number (as the export)."""
    query = covered_voters(ballot.agreement_id, ballot.cutoff_date).order_by(Member.member_no).limit(limit)
    return list(db.session.execute(query))


def frozen_preview(ballot_id: int, limit: int = PREVIEW_ROWS) -> list[BallotVoter]:
    return list(db.session.scalars(select(BallotVoter).where(BallotVoter.ballot_id == ballot_id)
                                   .order_by(BallotVoter.member_no).limit(limit)))


def lock(ballot_id: int, user_id: int | None) -> int:
    """Freeze the voter list of a draft ballot; the number of voters. One winner: a second lock (another tab,
    another person) is refused and leaves the first list as it was. Audited; commits."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise BallotError(_l("No such ballot."))
    agreement_id, cutoff = ballot.agreement_id, ballot.cutoff_date
    now = dt.datetime.now()
    if not transitions.claim(Ballot, ballot_id, BallotStatus.draft, status=BallotStatus.locked, locked_at=now,
                             locked_by_id=user_id):
        db.session.rollback()
        raise BallotError(_l("The ballot is already locked: its voter list was frozen before."))
    rows = covered_voters(agreement_id, cutoff).subquery()
    db.session.execute(insert(BallotVoter).from_select(
        ["ballot_id", "member_id", "member_no", "name", "email", "mobile"],
        select(literal(ballot_id), rows.c.id, rows.c.member_no, rows.c.name, rows.c.email, rows.c.mobile),
    ))
    count = db.session.scalar(select(func.count()).select_from(BallotVoter).where(BallotVoter.ballot_id == ballot_id))
    db.session.execute(update(Ballot).where(Ballot.id == ballot_id).values(voter_count=count)
                       .execution_options(synchronize_session="fetch"))
    audit.record("ballot_locked", "ballot", ballot_id, count=count, cutoff_date=str(cutoff))
    db.session.commit()
    return count


def export_rows(ballot: Ballot) -> list[list]:
    """The frozen list as the vendor's rows (EXPORT_HEADER's four fields), by member number. Refused for a draft
    (nothing leaves the union before the list is frozen) and for a list the purge has deleted."""
    if ballot.status != BallotStatus.locked:
        raise BallotError(_l("Only a locked voter list can be exported: lock the ballot first."))
    if ballot.voters_deleted_at is not None:
        raise BallotError(_l("The voter list was deleted on %(date)s (privacy purge).",
                             date=ballot.voters_deleted_at.strftime("%d.%m.%Y")))
    query = (select(BallotVoter.member_no, BallotVoter.name, BallotVoter.email, BallotVoter.mobile)
             .where(BallotVoter.ballot_id == ballot.id).order_by(BallotVoter.member_no))
    return [[member_no, name, email or "", vendor_mobile(mobile)] for member_no, name, email, mobile
            in db.session.execute(query)]


def vendor_mobile(mobile: str | None) -> str:
    """A mobile as the file gives it: the register's E.164 (+4791234567) as digits with the country code
    (4791234567, the MSISDN form vote and SMS vendors read), since a cell starting with + would be neutralised
    as a formula (webapp.services.export_cells); anything else as stored."""
    text = mobile or ""
    return text[1:] if text.startswith("+") and text[1:].isdigit() else text


def export_filename(ballot: Ballot) -> str:
    return f"velgerliste-uravstemning-{ballot.id}-{ballot.cutoff_date.isoformat()}.csv"


# ------------------------------------------------------------------ Min side and the purge


def open_votes(member_id: int, today: dt.date | None = None) -> list[Ballot]:
    """The locked ballots the member has a vote in that have not closed yet (closes_on is the last day)."""
    today = today or dt.date.today()
    return list(db.session.scalars(
        select(Ballot).join(BallotVoter, BallotVoter.ballot_id == Ballot.id)
        .where(BallotVoter.member_id == member_id, Ballot.status == BallotStatus.locked, Ballot.closes_on >= today)
        .order_by(Ballot.closes_on, Ballot.id)
    ))


def voters_purge_cutoff(today: dt.date, keep_days: int) -> dt.date:
    """Ballots that closed before this day have their voter lists deleted (kept through closes_on + keep_days)."""
    return today - dt.timedelta(days=keep_days)


def purge_voters(today: dt.date, keep_days: int, dry_run: bool = False) -> tuple[int, int]:
    """Delete the voter lists of ballots that closed more than `keep_days` ago; (ballots, voter rows) deleted, or
    that would be in a dry run. The ballots keep their title, dates and number of voters. The caller commits."""
    before = voters_purge_cutoff(today, keep_days)
    due = select(Ballot.id).where(Ballot.status == BallotStatus.locked, Ballot.closes_on < before,
                                  Ballot.voters_deleted_at.is_(None))
    ballot_ids = list(db.session.scalars(due))
    if not ballot_ids:
        return 0, 0
    rows = db.session.scalar(select(func.count()).select_from(BallotVoter)
                             .where(BallotVoter.ballot_id.in_(ballot_ids))) or 0
    if dry_run:
        return len(ballot_ids), rows
    db.session.execute(delete(BallotVoter).where(BallotVoter.ballot_id.in_(ballot_ids))
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Ballot).where(Ballot.id.in_(ballot_ids)).values(voters_deleted_at=dt.datetime.now())
                       .execution_options(synchronize_session=False))
    audit.record("purge_ballot_voters", "ballot", None, ballots=len(ballot_ids), count=rows, closed_before=str(before))
    return len(ballot_ids), rows


def forget_voters(member_ids: list[int]) -> None:
    """Remove these members from every voter list (the privacy purge's anonymisation); the ballots keep their
    number of voters. The caller commits."""
    db.session.execute(delete(BallotVoter).where(BallotVoter.member_id.in_(member_ids))
                       .execution_options(synchronize_session=False))
