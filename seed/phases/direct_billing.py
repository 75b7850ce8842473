"""Demo data for direct payment: the last twelve months of invoices, AvtaleGiro, bank files, reminders and
arrears, played through the real services. Runs after the deduction cycle (seed/cycle.py), whose bases say who
is on payroll deduction and so who pays directly.

First the direct dues as data (seed/data/direct_dues.json: income bands and monthly rates per category, in
force from 1 January some years back and regulated this January), and most ordinary members who pay directly
declare their band (mypage.declare_income_band). Then the months are played from the first month of the
quarter eleven months back to this month, on simulated days:

- before the year, and in some months on the 10th, the bank's AvtaleGiro agreements file arrives (written with
  netsgiro, read by payments.import_file): new mandates, some with notice of each claim; later a few changed
  and deleted;
- on the first day of the year the first quarter's invoices and AvtaleGiro claim rows are generated
  (invoices.generate), and those of each later quarter on the 15th of the month before it; in the newest two
  quarters (SENT_QUARTERS) the invoices are sent: the first SENT_BY_SERVICE by invoices.send (e-mail with the
  PDF, or the office's print file), the others marked sent in bulk as it marks them; the invoices of the earlier
  quarters are billed, paid and reconciled but not sent, since each invoice sent is a commit and a mail of its
  own and the demo must stay quick;
- on the 5th the month's AvtaleGiro claims go to the bank (avtalegiro.build_claims and mark_claimed) and the
  payers' banks pay them on the due day, now and then not;
- the members pay as their habit says (on time, late, part, too much, not at all) and the bank's OCR files
  arrive on the 15th and the last day (payments.build_ocr_file, payments.import_file), reminders go out on
  the same days (invoices.remind for the first SENT_BY_SERVICE, the others marked reminded in bulk);
- last month: a payment with a mistyped KID (the office matches it by hand), one from an unknown payer
  (returned), two that stay in the queue, an AvtaleGiro payment reversed by the bank, a credit note, a full
  credit and a write-off; today the office ends one membership for non-payment.

Nothing leaves the machine: mail is suppressed while the demo plays (the outbox records the mails as sent,
and drops their attachments, so those PDFs are not rendered: direct_bank.unrendered_attachments).
The services stamp rows with the wall clock; the demo clock (direct_bank.demo_clock) sets that clock to the
simulated day for each step, so that the screens read like a year that happened and mandates count from their
file's day.
A member paying by invoice gets a demo login, so Min side shows invoices too.

The office's other invoice runs are not played: the catch-up run on the 1st of a quarter's later months (members
who became direct payers since the quarter was billed) and the month's AvtaleGiro run before its claims file
(invoices.generate_avtalegiro_month, as `flask avtalegiro claims` makes it). Here they would make nothing: the
deduction cycle has made every month's bases before this year is played, so the quarter's run already knows who
pays directly in each of its months, and a month's new mandates arrive after its claims, in months the quarter's
invoices cover already. A test runs them on the seeded year and finds nothing made; at a million members they
were about 120 s of the demo's time.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import bindparam, func, null, select, union_all, update
from werkzeug.security import generate_password_hash

from seed.context import TupleWriter
from seed.phases import direct_bank as bank
from seed.reference import load
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    AvtaleGiroMandate,
    DemoAccount,
    DirectDuesRate,
    IncomeBand,
    Invoice,
    Member,
    Payment,
    PaymentImport,
)
from webapp.models.choices import InvoiceDelivery, InvoiceStatus, MemberCategory, PaymentMethod
from webapp.services import (
    arrears,
    avtalegiro,
    invoice_documents,
    invoices,
    mypage,
    payment_matching,
    payment_methods,
    payments,
)
from webapp.services.kid import member_kid_for
from webapp.services.periods import Month, Quarter

DATA = load("direct_dues.json")
FIRST_FILE_NUMBER = 7000
# Of the members paying directly: a mandate before the year, and the chance of one arriving in each month.
MANDATE_BEFORE, MANDATE_PER_MONTH = 0.45, 0.015
NOTIFY = 0.3
# The quarters whose invoices are sent (e-mail and print file) and reminded, the newest: each invoice sent is
# a commit and a mail, each page of a print file a PDF page, and the demo must stay quick.
SENT_QUARTERS = 2
# Of each quarter's invoices and of each day's reminders, this many go out through the real services
# (invoices.send and invoices.remind: a mail in the outbox, or a page of the print file), with the demo login's
# and those of members with a login of their own; the others are marked sent or reminded in bulk, as those
# services mark them, without a mail or a page of their own. A million members' year holds a million of them.
SENT_BY_SERVICE = 40
DEMO_NOTE = "Member paying directly by invoice: invoices, reminders and payments on own page"


@dataclass
class DirectBillingResult:
    months: list[str] = field(default_factory=list)
    bands_declared: int = 0
    mandates: int = 0
    invoices: int = 0
    avtalegiro_claims: int = 0
    payments: int = 0
    unmatched: int = 0
    returned: int = 0
    reminders: int = 0
    in_arrears: int = 0
    seconds: float = 0.0
    skipped: str = ""

    def summary(self) -> str:
        if self.skipped:
            return f"direct billing: {self.skipped}"
        return (f"direct billing: {len(self.months)} months ({self.months[0]} to {self.months[-1]}), "
                f"{self.bands_declared} income bands declared, {self.mandates} AvtaleGiro mandates, "
                f"{self.invoices} invoices and {self.avtalegiro_claims} AvtaleGiro claims, {self.payments} payments "
                f"({self.unmatched} unmatched, {self.returned} returned), {self.reminders} reminders, "
                f"{self.in_arrears} members in arrears, in {self.seconds:.1f} s")


def play_direct_billing(seed: int = 1, months: int = 12, today: dt.date | None = None,
                        progress: bool = False) -> DirectBillingResult:
    """Play the months of direct billing that end with today's month (0 months: nothing)."""
    result = DirectBillingResult()
    if months <= 0:
        result.skipped = "skipped (no months)"
        return result
    started = time.perf_counter()
    today = today or dt.date.today()
    ensure_direct_rates(today)
    year = Year(seed, months, today, result)
    with bank.fast_commits(), bank.mail_stays_here(), bank.unrendered_attachments():
        year.play(progress)
    _count(result, today)
    result.seconds = time.perf_counter() - started
    return result


def ensure_direct_rates(today: dt.date) -> None:
    """The income bands and direct dues rates of seed/data/direct_dues.json, unless bands exist already."""
    if db.session.scalar(select(IncomeBand.id).limit(1)) is not None:
        return
    bands = {row["code"]: IncomeBand(**{key: row[key] for key in ("code", "lower_ore", "upper_ore", "is_default")})
             for row in DATA["income_bands"]}
    db.session.add_all(bands.values())
    db.session.flush()
    for rates in DATA["rates"]:
        valid_from = dt.date(today.year - rates["years_back"], 1, 1)
        for code, monthly in rates["ordinary"].items():
            db.session.add(DirectDuesRate(valid_from=valid_from, category=MemberCategory.ordinary,
                                          income_band_id=bands[code].id, monthly_ore=monthly, note=rates["note"]))
        for category in MemberCategory:
            if category != MemberCategory.ordinary:
                db.session.add(DirectDuesRate(valid_from=valid_from, category=category,
                                              monthly_ore=rates[category.value], note=rates["note"]))
    db.session.commit()


def _count(result: DirectBillingResult, today: dt.date) -> None:
    def count(query) -> int:
        return int(db.session.scalar(query) or 0)

    result.mandates = count(select(func.count(AvtaleGiroMandate.id)))
    result.invoices = count(select(func.count(Invoice.id)).where(Invoice.method == PaymentMethod.invoice))
    result.avtalegiro_claims = count(select(func.count(Invoice.id)).where(Invoice.method == PaymentMethod.avtalegiro))
    from_bank = Payment.import_id.in_(select(PaymentImport.id).where(PaymentImport.imported_by == bank.IMPORTED_BY))
    result.payments = count(select(func.count(Payment.id)).where(from_bank))
    result.unmatched = count(select(func.count(Payment.id)).where(from_bank, payment_matching.unmatched_clause()))
    result.returned = count(select(func.count(Payment.id)).where(from_bank, Payment.returned_at.is_not(None)))
    result.reminders = count(select(func.count(Invoice.first_reminder_on))) + count(
        select(func.count(Invoice.second_reminder_on)))
    result.in_arrears = len(arrears.arrears_rows(today))


class Year:
    """One played year: the random choices made up front, then the months day by day."""

    def __init__(self, seed: int, months: int, today: dt.date, result: DirectBillingResult):
        self.rng = random.Random(seed * 104_729 + 13)
        self.today = today
        current = Month.of(today)
        first = current.shift(-(months - 1)).quarter.months[0]
        count = (current.year * 12 + current.month) - (first.year * 12 + first.month) + 1
        self.months = [first.shift(i) for i in range(count)]
        result.months = [str(m) for m in self.months]
        self.sent_from = current.shift(-3 * (SENT_QUARTERS - 1)).quarter
        self.result = result
        self.pending: list[bank.BankTransaction] = []
        self.last_invoice_id = int(db.session.scalar(select(func.max(Invoice.id))) or 0)
        self.file_number = FIRST_FILE_NUMBER
        self.office_id = _demo_user_id("office")
        self.special: dict = {}
        self.member_no: dict[int, str] = {}
        self.habits: dict[int, str] = {}
        self.mandate_month: dict[int, int] = {}
        self.notify: dict[int, bool] = {}

    # -------------------------------------------------------------- the plan

    def plan(self) -> None:
        """Who pays directly in the months, their habits and mandates; the demo login; the declared bands.

        What is kept per member is a few numbers (at a million members a quarter of a million pay directly): the
        members' own columns are read again in chunks where a step needs them, not held as rows."""
        per_month = union_all(*[payment_methods.direct_payers(month) for month in self.months]).subquery()
        months_direct = dict(db.session.execute(
            select(per_month.c.id, func.count()).group_by(per_month.c.id).order_by(per_month.c.id)).all())
        ids = sorted(months_direct)
        for member_id in ids:
            self.habits[member_id] = bank.choose_habit(self.rng)
            chance = self.rng.random()
            if chance < MANDATE_BEFORE:
                self.mandate_month[member_id] = -1
            elif chance < MANDATE_BEFORE + MANDATE_PER_MONTH * len(self.months) and len(self.months) > 1:
                self.mandate_month[member_id] = self.rng.randrange(1, len(self.months))
            notify = self.rng.random() < NOTIFY
            if member_id in self.mandate_month:  # only a mandate has a notice to give
                self.notify[member_id] = notify
        self.member_no = {row.id: row.member_no for chunk in _member_rows(sorted(self.mandate_month), Member.member_no)
                          for row in chunk}
        self._ensure_habits(ids)
        self._demo_login([member_id for member_id in ids if months_direct[member_id] == len(self.months)])
        del months_direct
        self._declare_bands(ids)

    def _ensure_habits(self, ids: list[int]) -> None:
        """At least one member paying by invoice of each rare habit, so that a small demo shows partly paid
        invoices, arrears and a membership ended for non-payment too."""
        by_invoice = [member_id for member_id in ids if member_id not in self.mandate_month]
        for habit in (bank.NEVER, bank.STOPS, bank.PARTIAL):
            if by_invoice and habit not in (self.habits[member_id] for member_id in by_invoice):
                self.habits[by_invoice[self.rng.randrange(len(by_invoice))]] = habit

    def _demo_login(self, all_year: list[int]) -> None:
        """A login for a member who pays by invoice all year (and pays late, so reminders show)."""
        by_invoice = [member_id for member_id in all_year if member_id not in self.mandate_month
                      and self.habits[member_id] in (bank.RELIABLE, bank.LATE)]
        candidates = [row.id for chunk in _member_rows(by_invoice, Member.category, Member.user_id, *_CONTACT_COLUMNS)
                      for row in chunk
                      if row.user_id is None and row.category == MemberCategory.ordinary and mypage.chosen_email(row)]
        if not candidates:
            return
        member = db.session.get(Member, candidates[self.rng.randrange(len(candidates))])
        self.habits[member.id] = bank.LATE
        self.special["demo_member"] = member.id
        config = current_app.config
        user = current_app.appbuilder.sm.user_model(
            first_name=member.first_name[:64], last_name=member.last_name[:64], username=member.member_no,
            email=f"{member.member_no}@brukere.forbundet.example", active=True,
            password=generate_password_hash(config["DEMO_PASSWORD"],
                                            method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"), salt_length=16),
            created_on=dt.datetime.combine(self.today, dt.time(6)), changed_on=dt.datetime.combine(self.today,
                                                                                                   dt.time(6)),
        )
        db.session.add(user)
        db.session.flush()
        member.user_id = user.id
        db.session.add(DemoAccount(username=member.member_no, role="member", scope=member.member_no, note=DEMO_NOTE))
        db.session.commit()

    def _declare_bands(self, ids: list[int]) -> None:
        """Most ordinary members who pay directly have declared their income band on Min side: written as
        mypage.declare_income_band writes each declaration (the member's band and day, an audit entry), but for
        all of them at once, as on the evening the year before the played months begin; a chunk of members at a
        time."""
        bands = {band.code: band.id for band in mypage.income_bands()}
        shares = DATA["income_band_shares"]
        choices, weights = list(shares), list(shares.values())
        first_day = self.months[0].first_day
        at = min(dt.datetime.combine(first_day - dt.timedelta(days=40), dt.time(20)),
                 dt.datetime.now() - dt.timedelta(seconds=1))
        member = Member.__table__
        declare = (update(member).where(member.c.id == bindparam("member_id"))
                   .values(income_band_id=bindparam("band_id"), income_band_declared_on=bindparam("on")))
        with TupleWriter(AuditEntry.__table__, ("at", "username", "action", "object_type", "object_id",
                                                "member_id", "details")) as writer:
            for chunk in _member_rows(ids, Member.category, Member.income_band_id):
                declarations = []
                for row in chunk:
                    code = self.rng.choices(choices, weights)[0]
                    if row.category == MemberCategory.ordinary and code in bands:
                        on = first_day - dt.timedelta(days=self.rng.randint(40, 700))
                        if row.income_band_id != bands[code]:
                            declarations.append((row, code, on))
                if not declarations:
                    continue
                db.session.execute(declare, [{"member_id": row.id, "band_id": bands[code], "on": on}
                                             for row, code, on in declarations])
                for row, code, _on in declarations:
                    details = json.dumps({"income_band": code, "previous_income_band_id": row.income_band_id},
                                         ensure_ascii=False, default=str)
                    writer.add((at, "cli", "declare_income_band", "member", row.id, row.id, details))
                self.result.bands_declared += len(declarations)
        db.session.commit()

    # -------------------------------------------------------------- the months

    def play(self, progress: bool) -> None:
        self.plan()
        before = self.months[0].first_day - dt.timedelta(days=20)
        with bank.demo_clock(dt.datetime.combine(before, dt.time(7))):
            self._agreements(before, [(m, bank.NEW_OR_CHANGED) for m, at in self.mandate_month.items() if at == -1])
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(self.months), desc="direct billing", unit="month")
        for index, month in enumerate(self.months):
            for day, hour, step in self._steps(month):
                if day <= self.today:
                    with bank.demo_clock(dt.datetime.combine(day, dt.time(hour))):
                        step(index, month, day)
            if bar:
                bar.update(1)
        if bar:
            bar.close()
        with bank.demo_clock(dt.datetime.combine(self.today, dt.time(14))):
            self._end_one_membership()

    def _steps(self, month: Month) -> list:
        last, mid = month.last_day, month.first_day.replace(day=15)
        office = month == self.months[-2] if len(self.months) > 1 else False
        first = [(month.first_day, 8, self._bill)] if month == self.months[0] else []
        specials = [(month.first_day.replace(day=2), 12, self._queue_specials)] if office else []
        steps = [*first, *specials, (month.first_day.replace(day=5), 9, self._claim),
                 (month.first_day.replace(day=10), 7, self._mandates_of_month),
                 (mid, 6, self._bank_day), (mid, 10, self._remind), (last, 6, self._bank_day), (last, 10, self._remind)]
        if month == month.quarter.months[-1]:
            steps.append((mid, 11, self._bill_ahead))
        if office:
            steps.append((last, 13, self._office))
        return steps

    def _bill(self, index: int, month: Month, day: dt.date) -> None:
        """The first quarter's invoices, on its first day (no run two weeks before it is played)."""
        self._invoices(month.quarter, day)

    def _bill_ahead(self, index: int, month: Month, day: dt.date) -> None:
        """The next quarter's invoices go out two weeks before it starts."""
        self._invoices(month.next.quarter, day)

    def _invoices(self, quarter: Quarter, day: dt.date) -> None:
        """Generate (and, in the newest quarters, send) the quarter's invoices; the members' payments follow."""
        invoices.generate(quarter, today=day)
        if quarter >= self.sent_from:
            self._send_in_bulk(quarter)
            invoices.send(quarter, today=day)
        halfway = str(self.months[len(self.months) // 2])
        new = db.session.execute(
            select(Invoice.id, Invoice.member_id, Invoice.kid, Invoice.first_month, Invoice.issued_on,
                   Invoice.due_date, Invoice.amount_ore, Invoice.paid_ore, Invoice.credited_ore,
                   Invoice.written_off_ore)
            .where(Invoice.id > self.last_invoice_id, Invoice.method == PaymentMethod.invoice).order_by(Invoice.id)
        ).all()
        for invoice in new:
            habit = self.habits.get(invoice.member_id, bank.RELIABLE)
            self.pending.extend(bank.invoice_payments(invoice, habit, self.rng, invoice.first_month >= halfway))
        self.last_invoice_id = max([self.last_invoice_id, *(invoice.id for invoice in new)])

    def _claim(self, index: int, month: Month, day: dt.date) -> None:
        """The month's AvtaleGiro claims (made by the quarter's run) go to the bank; the payers' banks pay them on the
        due day."""
        claims = avtalegiro.build_claims(month, day)
        avtalegiro.mark_claimed(claims.invoice_ids)
        db.session.commit()
        rows = db.session.execute(
            select(Invoice.kid, Invoice.due_date, Invoice.amount_ore - Invoice.paid_ore - Invoice.credited_ore
                   - Invoice.written_off_ore).where(Invoice.id.in_(claims.invoice_ids)).order_by(Invoice.id)
        ).all() if claims.invoice_ids else []
        paid = bank.claim_payments([tuple(row) for row in rows], self.rng)
        self.pending.extend(paid)
        if month == self.months[-2] and paid:
            reversed_payment = paid[0]
            self.pending.append(bank.BankTransaction(reversed_payment.day + dt.timedelta(days=3), reversed_payment.kid,
                                                     -reversed_payment.amount_ore))

    def _mandates_of_month(self, index: int, month: Month, day: dt.date) -> None:
        """New mandates of the month; halfway a few members change their notice, later two mandates end."""
        entries = [(member_id, bank.NEW_OR_CHANGED) for member_id, at in self.mandate_month.items() if at == index]
        earlier = sorted(member_id for member_id, at in self.mandate_month.items() if at == -1)
        if index == len(self.months) // 2:
            for member_id in earlier[:3]:
                self.notify[member_id] = not self.notify[member_id]
                entries.append((member_id, bank.NEW_OR_CHANGED))
        if index == 2 * len(self.months) // 3:
            entries.extend((member_id, bank.DELETED) for member_id in earlier[3:5])
        if entries:
            self._agreements(day, entries)

    def _agreements(self, day: dt.date, entries: list[tuple[int, int]]) -> None:
        if not entries:
            return
        start = Month.of(day)
        kids = self._mandate_kids([member_id for member_id, _kind in entries])
        agreements = [(kids.get(member_id) or member_kid_for(self.member_no[member_id], start), kind,
                       self.notify[member_id]) for member_id, kind in entries]
        self._import(f"AVTALEGIRO.{day.isoformat()}.demo.txt", bank.agreements_file(agreements, day,
                                                                                    self._next_file()))

    def _mandate_kids(self, member_ids: list[int]) -> dict[int, str]:
        """The KID each member registered a mandate with before (a mandate changed later keeps its KID), by
        member; members without a mandate use the KID of the invoice they have then."""
        found: dict[int, str] = {}
        for chunk in payment_matching.chunks(sorted(set(member_ids))):
            for member_id, kid in db.session.execute(
                select(AvtaleGiroMandate.member_id, AvtaleGiroMandate.kid)
                .where(AvtaleGiroMandate.member_id.in_(chunk)).order_by(AvtaleGiroMandate.id)
            ):
                found.setdefault(member_id, kid)
        return found

    def _bank_day(self, index: int, month: Month, day: dt.date) -> None:
        due = sorted(t for t in self.pending if t.day <= day)
        if not due:
            return
        self.pending = [t for t in self.pending if t.day > day]
        self._import(f"OCR.{day.isoformat()}.demo.txt", bank.ocr_file(due, self._next_file()))

    def _remind(self, index: int, month: Month, day: dt.date) -> None:
        for reminder, ids in invoice_documents.reminders_due(day).items():
            column = invoice_documents.reminder_column(reminder)
            for chunk in payment_matching.chunks(self._beyond_sample(ids)):
                db.session.execute(update(Invoice).where(Invoice.id.in_(chunk), column.is_(None)).values({column: day})
                                   .execution_options(synchronize_session=False))
        db.session.commit()
        invoices.remind(day)

    # -------------------------------------------------------------- sending in bulk

    def _send_in_bulk(self, quarter: Quarter) -> None:
        """Mark the quarter's unsent invoices beyond the sample sent, as invoices.send marks them: by e-mail to the
        member's chosen address, else to print (no print file holds them: sent_to stays empty)."""
        unsent = db.session.scalars(select(Invoice.id).where(
            Invoice.method == PaymentMethod.invoice, Invoice.first_month.in_([str(m) for m in quarter.months]),
            Invoice.sent_at.is_(None)).order_by(Invoice.id)).all()
        invoice = Invoice.__table__
        mark = (update(invoice).where(invoice.c.id == bindparam("invoice_id"), invoice.c.sent_at.is_(None))
                .values(sent_at=bindparam("at"), delivery=bindparam("how"), sent_to=bindparam("to")))
        now = dt.datetime.now()
        for chunk in payment_matching.chunks(self._beyond_sample(unsent)):
            rows = db.session.execute(
                select(Invoice.id, *_CONTACT_COLUMNS).join(Member, Member.id == Invoice.member_id)
                .where(Invoice.id.in_(chunk))).all()
            db.session.execute(mark, [
                {"invoice_id": row.id, "at": now, "to": address,
                 "how": InvoiceDelivery.email if address else InvoiceDelivery.print}
                for row in rows for address in (mypage.chosen_email(row),)])
        db.session.commit()

    def _beyond_sample(self, invoice_ids: list[int]) -> list[int]:
        """The invoices of `invoice_ids` (in id order) after the first SENT_BY_SERVICE, but for those of members
        with a login (the demo login's among them): theirs go through the services, so their pages show it."""
        beyond = invoice_ids[SENT_BY_SERVICE:]
        with_login = set()
        for chunk in payment_matching.chunks(beyond):
            with_login.update(db.session.scalars(select(Invoice.id).join(Member, Member.id == Invoice.member_id)
                                                 .where(Invoice.id.in_(chunk), Member.user_id.is_not(None))))
        return [invoice_id for invoice_id in beyond if invoice_id not in with_login]

    def _import(self, filename: str, data: bytes) -> None:
        payments.import_file(filename, data, imported_by=bank.IMPORTED_BY)

    def _next_file(self) -> int:
        self.file_number += 1
        return self.file_number

    # -------------------------------------------------------------- last month's specials and the office

    def _queue_specials(self, index: int, month: Month, day: dt.date) -> None:
        """Payments the matching cannot place: a mistyped KID, two unknown payers, a member on deduction's KID."""
        demo_kids = set(db.session.scalars(select(Invoice.kid).where(
            Invoice.member_id == self.special.get("demo_member", 0))))
        typo = next((t for t in sorted(self.pending) if Month.of(t.day) == month and t.kind == bank.GIRO
                     and t.amount_ore > 0 and t.kid not in demo_kids), None)
        if typo is not None:
            self.pending.remove(typo)
            self.special["typo"] = (bank.typo_kid(typo.kid), typo.kid)
            self.pending.append(bank.BankTransaction(typo.day, self.special["typo"][0], typo.amount_ore))
        self.special["unknown"] = [bank.unmatched_kid(self.rng) for _ in range(2)]
        for offset, kid in enumerate(self.special["unknown"]):
            self.pending.append(bank.BankTransaction(month.first_day.replace(day=12 + offset), kid,
                                                     self.rng.randint(200, 900) * 100))
        on_deduction = db.session.scalar(select(Member.member_no).where(payment_methods.on_deduction_clause(month))
                                         .order_by(Member.id).limit(1))
        if on_deduction is not None:
            self.pending.append(bank.BankTransaction(month.first_day.replace(day=14),
                                                     member_kid_for(on_deduction, month), 42_600))

    def _office(self, index: int, month: Month, day: dt.date) -> None:
        """The office works the queue (one matched by hand, one returned) and adjusts three invoices."""
        if "typo" in self.special:
            payment_id = db.session.scalar(select(Payment.id).where(Payment.kid == self.special["typo"][0]))
            invoice_id = db.session.scalar(select(Invoice.id).where(Invoice.kid == self.special["typo"][1]))
            if payment_id and invoice_id:
                payment_matching.match_to_invoice(payment_id, invoice_id, self.office_id)
        returned = db.session.scalar(select(Payment.id).where(Payment.kid == self.special["unknown"][0]))
        if returned:
            payment_matching.return_payment(returned, "Ukjent innbetaler; beløpet er sendt tilbake til avsenderens "
                                            "konto", self.office_id)
        self._adjust((bank.NEVER, bank.STOPS), lambda invoice: invoices.credit_note(
            invoice.id, invoice.outstanding_ore, "Feilfakturert: medlemmet hadde trekk i lønn i perioden",
            self.office_id))
        self._adjust((bank.STOPS, bank.NEVER), lambda invoice: invoices.credit_note(
            invoice.id, min(invoice.outstanding_ore, invoice.dues_ore // invoice.month_count),
            "Permisjon uten lønn én måned: kontingenten for måneden krediteres", self.office_id))
        self._adjust((bank.PARTIAL, bank.LATE), lambda invoice: invoices.write_off(
            invoice.id, None, "Restbeløpet avskrives etter avtale med medlemmet", self.office_id))

    def _adjust(self, habits: tuple[str, ...], action) -> None:
        """`action` on the oldest unsettled, unadjusted invoice of a member of the first of `habits` that has one
        (never the demo login's)."""
        for habit in habits:
            members = [member_id for member_id, h in self.habits.items()
                       if h == habit and member_id != self.special.get("demo_member")]
            invoice = db.session.scalars(
                select(Invoice).where(Invoice.member_id.in_(members), Invoice.method == PaymentMethod.invoice,
                                      Invoice.status.in_((InvoiceStatus.open, InvoiceStatus.partly_paid)),
                                      Invoice.credited_ore == 0, Invoice.written_off_ore == 0)
                .order_by(Invoice.due_date, Invoice.id).limit(1)
            ).first() if members else None
            if invoice is not None:
                action(invoice)
                return

    def _end_one_membership(self) -> None:
        """The office ends the membership of the member who has paid nothing longest."""
        never = {member_id for member_id, habit in self.habits.items() if habit == bank.NEVER}
        for row in arrears.arrears_rows(self.today):
            if row.member_id in never and row.left_on is None:
                arrears.end_membership_for_non_payment(row.member_id, self.office_id, self.today,
                                                       reason="Ingen betaling etter to purringer")
                return


# What mypage.chosen_email reads of a member, as columns; `user` is empty, as it reads it of a member without a
# login.
_CONTACT_COLUMNS = (Member.email_work, Member.email_private, Member.email_to, null().label("user"))


def _member_rows(ids: list[int], *columns):
    """The members of `ids` (in id order) with their id and these columns, as rows, a list per 20,000 ids: read by
    the range of each chunk's ids, of which the wanted ones are kept."""
    for start in range(0, len(ids), 20_000):
        part = ids[start : start + 20_000]
        wanted = set(part)
        in_range = select(Member.id, *columns).where(Member.id.between(part[0], part[-1])).order_by(Member.id)
        yield [row for row in db.session.execute(in_range) if row.id in wanted]


def _demo_user_id(role: str) -> int | None:
    username = db.session.scalar(select(DemoAccount.username).where(DemoAccount.role == role)
                                 .order_by(DemoAccount.id).limit(1))
    if username is None:
        return None
    user_model = current_app.appbuilder.sm.user_model
    return db.session.scalar(select(user_model.id).where(user_model.username == username))
