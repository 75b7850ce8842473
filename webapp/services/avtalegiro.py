"""AvtaleGiro: the members' mandates as the bank reports them, and the monthly payment claims the union sends.

- Agreements: Nets' AvtaleGiro agreement files list new, changed and deleted mandates, each with the KID it
  was signed with and whether the member wants the bank to notify them of each claim. A mandate is attached
  to the member its member KID names (any month part); a KID naming no member of ours is kept without one.
  A file that lists all active agreements (registration type 0 only) also ends the mandates it leaves out.
- Claims: `claims_file(month)` is the month's payment-claims file (Nets format, written record by record by
  nets_claims_file exactly as netsgiro writes it): one claim per AvtaleGiro invoice of the month with something
  outstanding whose member has an active mandate, for the outstanding amount and on the invoice's due date,
  notified by the bank when the member asked for it.
  The AvtaleGiro payments come back in the ordinary OCR giro files and are matched by the invoice's KID.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from dataclasses import dataclass, field

import netsgiro
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, or_, select, update

from webapp.extensions import db
from webapp.models import AvtaleGiroMandate, Invoice, Member
from webapp.models.choices import InvoiceDelivery, PaymentMethod
from webapp.services import audit, invoice_ledger
from webapp.services import kid as kids
from webapp.services.money import kroner
from webapp.services.nets_claims_file import ClaimsFileWriter
from webapp.services.payment_matching import chunks
from webapp.services.periods import Month

REGISTRATION = netsgiro.AvtaleGiroRegistrationType


@dataclass
class AgreementResult:
    count: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    ended_by_full_list: int = 0
    without_member: int = 0

    def summary(self) -> str:
        text = (f"{self.count} AvtaleGiro agreements: {self.new} new, {self.changed} changed, {self.deleted} deleted, "
                f"{self.unchanged} unchanged; {self.without_member} name no member of ours")
        if self.ended_by_full_list:
            text += f"; {self.ended_by_full_list} mandates not in the full list ended"
        return text


def _member_ids_by_number(numbers: set[str]) -> dict[int, int]:
    """int(member number) -> member id, for numbers as a member KID carries them (zero-padded to 8 digits)."""
    candidates = kids.member_number_forms(numbers)
    found: dict[int, int] = {}
    for chunk in chunks(candidates):
        for member_id, member_no in db.session.execute(
            select(Member.id, Member.member_no).where(Member.member_no.in_(chunk))
        ):
            if str(member_no).strip().isdigit():
                found[int(member_no)] = member_id
    return found


def members_of_kids(values: set[str]) -> dict[str, int]:
    """KID -> member id, for member KIDs (any month) of members of ours."""
    numbers = {}
    for value in values:
        parsed = kids.parse(value)
        if parsed is not None and parsed.is_member:
            numbers[value] = parsed.number
    by_number = _member_ids_by_number(set(numbers.values()))
    return {value: by_number[int(number)] for value, number in numbers.items() if int(number) in by_number}


@dataclass
class AgreementsRead:
    """An agreements file's mandates as they are read: the last word on each KID (its registration type and
    notify), how many agreements there were, and whether all of them were active agreements (a full list). A
    million agreements keep a million small tuples, not netsgiro's objects."""

    latest: dict[str, tuple[int, bool]] = field(default_factory=dict)
    count: int = 0
    full_list: bool = True
    # The few (registration type, notify) words, each one tuple shared by every KID that says it.
    _words: dict[tuple[int, bool], tuple[int, bool]] = field(default_factory=dict, repr=False, compare=False)

    def add(self, agreement: netsgiro.Agreement) -> None:
        self.count += 1
        self.full_list = self.full_list and agreement.registration_type == REGISTRATION.ACTIVE_AGREEMENT
        kid = (agreement.kid or "").strip()
        if kid:
            word = (int(agreement.registration_type), bool(agreement.notify))
            self.latest[kid] = self._words.setdefault(word, word)

    def __bool__(self) -> bool:
        return self.count > 0


# The KIDs applied at a time: their members, their mandates, the rows written.
_APPLY_CHUNK = 5000


def import_agreements(agreements: AgreementsRead, import_id: int, now: dt.datetime) -> AgreementResult:
    """Apply an agreements file's mandates (the last word on a KID in the file wins), _APPLY_CHUNK KIDs at a time.
    The caller commits."""
    result = AgreementResult(count=agreements.count)
    pending = iter(agreements.latest.items())
    while chunk := list(itertools.islice(pending, _APPLY_CHUNK)):
        _apply(chunk, import_id, now, result)
    if agreements and agreements.full_list:
        result.ended_by_full_list = _end_mandates_not_listed(import_id, now)
    audit.record("avtalegiro_agreements", "payment_import", import_id, count=result.count, new=result.new,
                 changed=result.changed, deleted=result.deleted, without_member=result.without_member,
                 ended_by_full_list=result.ended_by_full_list)
    return result


def _apply(chunk: list[tuple[str, tuple[int, bool]]], import_id: int, now: dt.datetime,
           result: AgreementResult) -> None:
    """Insert or update the mandates of these KIDs (each named once) and count what changed."""
    members = members_of_kids({kid for kid, _agreement in chunk})
    existing: dict[str, tuple] = {}
    for kids_chunk in chunks(sorted(kid for kid, _agreement in chunk)):
        for row in db.session.execute(
            select(AvtaleGiroMandate.id, AvtaleGiroMandate.kid, AvtaleGiroMandate.notify, AvtaleGiroMandate.active,
                   AvtaleGiroMandate.member_id)
            .where(AvtaleGiroMandate.kid.in_(kids_chunk))
        ):
            existing[row.kid] = row
    inserts, updates = [], []
    for kid, (registration_type, notify) in chunk:
        active = registration_type != REGISTRATION.DELETED_AGREEMENT
        member_id = members.get(kid)
        result.without_member += member_id is None
        result.deleted += not active
        values = {"notify": notify, "active": active, "deleted_at": None if active else now, "import_id": import_id}
        row = existing.get(kid)
        if row is None:
            result.new += active
            inserts.append({"kid": kid, "member_id": member_id, "registered_at": now, "changed_at": None, **values})
        else:
            same = (row.notify, row.active) == (notify, active)
            result.unchanged += same
            result.changed += active and not same
            updates.append({"id": row.id, "member_id": member_id if member_id is not None else row.member_id,
                            "changed_at": now, **values})
    if inserts:
        db.session.execute(insert(AvtaleGiroMandate), inserts)
    if updates:
        db.session.execute(update(AvtaleGiroMandate), updates)


def _end_mandates_not_listed(import_id: int, now: dt.datetime) -> int:
    """A full list of the active agreements: the active mandates it does not name have ended at the bank. Every
    mandate the list names was written with this import's id (`_apply`), so those without it are the ones left
    out: one UPDATE."""
    ended = db.session.execute(
        update(AvtaleGiroMandate)
        .where(AvtaleGiroMandate.active.is_(True),
               or_(AvtaleGiroMandate.import_id.is_(None), AvtaleGiroMandate.import_id != import_id))
        .values(active=False, deleted_at=now, changed_at=now, import_id=import_id)
        .execution_options(synchronize_session=False)
    )
    return ended.rowcount


# ------------------------------------------------------------------ the monthly claims file


@dataclass
class Claims:
    month: Month
    data: bytes = b""
    invoice_ids: list[int] = field(default_factory=list)
    total_ore: int = 0
    notified: int = 0

    @property
    def count(self) -> int:
        return len(self.invoice_ids)

    def summary(self) -> str:
        return (f"AvtaleGiro claims {self.month}: {self.count} claims, {self.notified} notified by the bank, "
                f"total {self.total_ore / 100:.2f} kr")


def _claim_rows(month: Month, again: bool, batch: int = 2000):
    """The month's claims in invoice order, streamed from the database `batch` rows at a time."""
    active_members = select(AvtaleGiroMandate.member_id).where(AvtaleGiroMandate.active.is_(True),
                                                               AvtaleGiroMandate.member_id.is_not(None))
    outstanding = invoice_ledger.outstanding_expression()
    not_claimed_yet = () if again else (Invoice.sent_at.is_(None),)
    # whether the member wants the bank's notice: their newest active mandate says
    notify = (select(AvtaleGiroMandate.notify)
              .where(AvtaleGiroMandate.member_id == Invoice.member_id, AvtaleGiroMandate.active.is_(True))
              .order_by(AvtaleGiroMandate.registered_at.desc(), AvtaleGiroMandate.id.desc())
              .limit(1).scalar_subquery())
    # On the session's connection: plain rows, without the ORM's result layer (a third of the time for 100,000)
    return db.session.connection().execute(
        select(Invoice.id, notify, Invoice.kid, Invoice.due_date, outstanding, Member.member_no,
               Member.first_name, Member.last_name)
        .join(Member, Member.id == Invoice.member_id)
        .where(Invoice.method == PaymentMethod.avtalegiro, Invoice.first_month == str(month), outstanding > 0,
               Invoice.member_id.in_(active_members), *not_claimed_yet)
        .order_by(Invoice.id)
        .execution_options(yield_per=batch)
    )


def transmission_number(now: dt.datetime) -> str:
    """Seven digits that differ between any two files made in a year a minute or more apart (Nets refuses a
    transmission number it has had): the day of the year and the minute of the day."""
    return f"{now:%j}{now.hour * 60 + now.minute:04d}"


def build_claims(month: Month, today: dt.date | None = None, again: bool = False,
                 now: dt.datetime | None = None) -> Claims:
    """The month's AvtaleGiro payment claims not yet sent to the bank (with `again`: also those sent) as a Nets
    file (ISO-8859-1); empty data when there are none. The claims are read in batches and written as they come
    (nets_claims_file), not held as objects."""
    today = today or dt.date.today()
    now = now or dt.datetime.combine(today, dt.datetime.now().time())
    config = current_app.config
    claims = Claims(month=month)
    reference = _("Union dues %(month)s", month=str(month))[:25]
    bank_notice = _BankNotice(month)
    out = io.BytesIO()
    writer = None
    rows = _claim_rows(month, again)
    for invoice_id, notify, kid, due_date, outstanding, member_no, first_name, last_name in rows:
        if writer is None:
            writer = ClaimsFileWriter(
                out, transmission_number=transmission_number(now), data_transmitter=config["NETS_DATA_TRANSMITTER"],
                data_recipient=config["NETS_DATA_RECIPIENT"], agreement_id=config["AVTALEGIRO_AGREEMENT_ID"],
                account=config["UNION_ACCOUNT_NUMBER"])
        amount = int(outstanding)
        notice = bank_notice(member_no, amount, due_date, kid) if notify else None
        writer.add_claim(kid=kid, due_date=due_date, amount_ore=amount, reference=reference,
                         payer_name=f"{last_name} {first_name}"[:10], notice=notice)
        claims.invoice_ids.append(invoice_id)
        claims.total_ore += amount
        claims.notified += bool(notice)
    if writer is not None:
        writer.close()
        claims.data = out.getvalue()
    return claims


class _BankNotice:
    """The text the bank shows the member with a notified claim (lines of at most 80 characters). The sentences
    are translated once per file, not once per claim (a third of 100,000 claims are notified)."""

    def __init__(self, month: Month):
        self.month = str(month)
        self.first_line = _("Union dues for %(month)s, member number %(member_no)s.")
        self.second_line = _("Amount %(amount)s kr, due %(due)s, KID %(kid)s.")
        self.dates: dict[dt.date, str] = {}

    def _date(self, day: dt.date) -> str:
        text = self.dates.get(day)
        if text is None:  # a file has a few due dates, and strftime is slow
            text = self.dates[day] = day.strftime("%d.%m.%Y")
        return text

    def __call__(self, member_no: str, amount_ore: int, due_date: dt.date, kid: str) -> str:
        lines = [
            self.first_line % {"month": self.month, "member_no": member_no},
            self.second_line % {"amount": kroner(amount_ore), "due": self._date(due_date), "kid": kid},
        ]
        return "\n".join(line[:80] for line in lines)


def claims_file(month: Month, today: dt.date | None = None) -> bytes:
    """The month's AvtaleGiro payment-claims file (Nets format), b"" when nothing is to be claimed."""
    return build_claims(month, today).data


def id_runs(ids) -> list[tuple[int, int]]:
    """The ids as runs of consecutive numbers: [1, 2, 3, 7, 8] -> [(1, 3), (7, 8)]."""
    runs: list[tuple[int, int]] = []
    for value in sorted(set(ids)):
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


# A run of at least this many consecutive ids is marked by its range; shorter runs by their ids.
LONG_RUN = 50


def mark_claimed(invoice_ids: list[int], now: dt.datetime | None = None) -> int:
    """Record that the invoices went to the bank as AvtaleGiro claims (once: invoices already sent keep their
    first sending). The caller commits. Returns how many were marked now.

    A month's claim rows made by one run are a few long runs of ids (each marked by its range), but the rows of a
    quarter's run interleave claims and invoices by member, so most of their runs are short: those are marked by
    lists of ids. Many short ranges OR-ed in one statement made PostgreSQL scan the whole invoice table once per
    200 ranges."""
    now = now or dt.datetime.now()
    conditions, scattered = [], []
    for first, last in id_runs(invoice_ids):
        if last - first + 1 >= LONG_RUN:
            conditions.append(Invoice.id.between(first, last))
        else:
            scattered.extend(range(first, last + 1))
    conditions.extend(Invoice.id.in_(chunk) for chunk in chunks(scattered))
    marked = 0
    for condition in conditions:
        marked += db.session.execute(
            update(Invoice).where(condition, Invoice.sent_at.is_(None))
            .values(sent_at=now, delivery=InvoiceDelivery.avtalegiro, sent_to="AvtaleGiro")
            .execution_options(synchronize_session=False)
        ).rowcount
    return marked
