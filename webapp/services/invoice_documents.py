"""Invoices and reminders on paper and by e-mail: the PDF, the sending, the reminders.

- `invoice_pdf(invoice)`: one invoice as PDF (for a download on Min side or by the office): the union, the
  member's name and address, member number, the months billed, the amount by component, KID, the union's
  account number and the due date; what is paid, credited or written off and what is left when anything is.
- `send(period, today)` (`flask --app run invoices send 2027-Q1`): every invoice of the period not yet sent
  goes once: by e-mail to the member's chosen address with the PDF attached (through the outbox: a mail server
  that is down makes the mail wait, never fails the run), and the invoices of members without e-mail into ONE
  print-ready PDF for the office, one invoice per page, in INVOICE_PRINT_DIR. AvtaleGiro claims are not sent
  here (the claim goes to the bank).
- `remind(today)` (`flask --app run invoices remind --date ...`): a first reminder INVOICE_FIRST_REMINDER_DAYS
  after the due date of an unpaid invoice that was sent, a second INVOICE_SECOND_REMINDER_DAYS after it (and
  never sooner after the first than the settings' distance between the two), each at most once, with the PDF
  of what is owed; without e-mail into the day's print file.

"Once" is a conditional update (`... WHERE sent_at IS NULL`, `... WHERE first_reminder_on IS NULL`) in the
transaction that queues the mail: of two runs at once, each invoice is claimed by one. Mail and files are in
Norwegian (the default locale) whoever starts the run.

The e-mails go BATCH invoices at a time: each invoice claimed with its mail queued (a commit each), then the
batch's mails sent over one connection, also when the batch breaks half-way (what was claimed goes out; a run
started again claims only the rest), and `progress(done, total)` called (the background job's progress bar,
webapp/services/billing_jobs.py).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app, render_template
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.models import Invoice
from webapp.models.choices import InvoiceDelivery, PaymentMethod
from webapp.services import invoice_ledger
from webapp.services import mail as outbox
from webapp.services.money import account_number, kroner
from webapp.services.mypage import chosen_email
from webapp.services.pdf import render_pdf
from webapp.services.periods import Month, Quarter

FIRST, SECOND = 1, 2
# Invoices per batch of e-mails: claimed and queued, then sent, then the progress reported.
BATCH = 500

Progress = Callable[[int, int], None]


@dataclass
class InvoiceDocument:
    """What one page of an invoice or a reminder shows."""

    invoice: Invoice
    reminder: int = 0

    @property
    def member(self):
        return self.invoice.member

    @property
    def title(self) -> str:
        if self.reminder == SECOND:
            return _("Second reminder: invoice %(kid)s", kid=self.invoice.kid)
        if self.reminder == FIRST:
            return _("Reminder: invoice %(kid)s", kid=self.invoice.kid)
        return _("Invoice %(kid)s", kid=self.invoice.kid)

    @property
    def reminder_text(self) -> str:
        if not self.reminder:
            return ""
        return _("We have not received payment of this invoice, which was due on %(due)s. Please pay "
                 "%(amount)s kr now. If you have paid in the last few days, please disregard this reminder.",
                 due=self.invoice.due_date.strftime("%d.%m.%Y"), amount=kroner(self.to_pay_ore))

    @property
    def months_text(self) -> str:
        return months_text(self.invoice.first_month, self.invoice.month_count)

    @property
    def to_pay_ore(self) -> int:
        """What is left to pay: the amount less what is paid, credited and written off (never below 0)."""
        return max(self.invoice.outstanding_ore, 0)

    @property
    def avtalegiro(self) -> bool:
        return self.invoice.method == PaymentMethod.avtalegiro and not self.reminder


def months_text(first_month: str, month_count: int) -> str:
    """"januar–mars 2027", "desember 2026–januar 2027", "februar 2027" in the current language."""
    first = Month.parse(first_month)
    last = first.shift(int(month_count) - 1)
    if first == last:
        return format_date(first.first_day, "LLLL y")
    if first.year == last.year:
        return f"{format_date(first.first_day, 'LLLL')}–{format_date(last.first_day, 'LLLL y')}"
    return f"{format_date(first.first_day, 'LLLL y')}–{format_date(last.first_day, 'LLLL y')}"


def render_documents(documents: list[InvoiceDocument], footer: str) -> bytes:
    config = current_app.config
    return render_pdf("pdf/invoice.html", documents=documents, union_name=config["UNION_NAME"],
                      account=account_number(config["UNION_ACCOUNT_NUMBER"]), footer=footer)


def invoice_pdf(invoice: Invoice, reminder: int = 0) -> bytes:
    """One invoice (or its reminder) as PDF, in the current language."""
    return render_documents([InvoiceDocument(invoice, reminder)], footer=_("Invoice %(kid)s", kid=invoice.kid))


def invoice_file_name(invoice: Invoice, reminder: int = 0) -> str:
    kind = {0: "faktura", FIRST: "purring", SECOND: "purring-2"}[reminder]
    return f"{kind}-{invoice.period}-{invoice.kid}.pdf"


# ------------------------------------------------------------------ sending


@dataclass
class SendResult:
    label: str
    emails: int = 0
    printed: int = 0
    already_sent: int = 0
    without_address: list[str] = field(default_factory=list)
    print_file: str | None = None
    print_files: list[str] = field(default_factory=list)
    waiting: int = 0

    def count(self, _reminder: int, delivery: InvoiceDelivery) -> None:
        if delivery == InvoiceDelivery.email:
            self.emails += 1
        else:
            self.printed += 1

    def summary(self) -> str:
        text = f"{self.label}: {self.emails} sent by e-mail, {self.printed} to print"
        if self.print_file:
            text += f" ({self.print_file})"
        if self.already_sent:
            text += f"; {self.already_sent} were sent before"
        if self.waiting:
            text += f"; {self.waiting} e-mails wait for the mail server (sent by `mail retry`)"
        return text


def send(period: Quarter | Month, today: dt.date | None = None, progress: Progress | None = None) -> SendResult:
    """Send every invoice of the period's months that has not gone out (see the module's rule); `progress(done,
    total)` after each batch, counting the invoices sent before."""
    today = today or dt.date.today()
    months = [str(m) for m in (period.months if isinstance(period, Quarter) else [period])]
    result = SendResult(str(period))
    of_period = (Invoice.method == PaymentMethod.invoice, Invoice.first_month.in_(months))
    ids = list(db.session.scalars(select(Invoice.id).where(*of_period, Invoice.sent_at.is_(None))
                                  .order_by(Invoice.id)))
    result.already_sent = db.session.scalar(
        select(db.func.count(Invoice.id)).where(*of_period, Invoice.sent_at.is_not(None)))
    counter = _Counter(progress, result.already_sent, result.already_sent + len(ids))
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        to_print = _deliver(ids, 0, _claim_sending, result, counter)
        if to_print:
            result.print_file = _print(to_print, 0, f"fakturaer-{period}-utskrift", _claim_sending, result)
            result.print_files = [result.print_file] if result.print_file else []
        counter.add(len(to_print))
    return result


@dataclass
class _Counter:
    """The progress of a run: `done` of `total` invoices, told to `report` (when there is one) as it grows."""

    report: Progress | None
    done: int
    total: int

    def add(self, count: int) -> None:
        self.done += count
        if self.report is not None:
            self.report(self.done, self.total)


def _claim_sending(invoice_id: int, delivery: InvoiceDelivery, sent_to: str | None) -> bool:
    return db.session.execute(
        update(Invoice).where(Invoice.id == invoice_id, Invoice.sent_at.is_(None))
        .values(sent_at=dt.datetime.now(), delivery=delivery, sent_to=sent_to)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def _deliver(ids: list[int], reminder: int, claim: Callable[[int, InvoiceDelivery, str | None], bool],
             result, counter: _Counter) -> list[int]:
    """E-mail each invoice (or reminder) whose member has an address, BATCH at a time: each claimed first, with
    its mail queued, in its own commit; the batch's mails then sent (also when the batch broke: what was claimed
    goes out, the error is raised after) and the progress counted. The ids of the invoices to print."""
    to_print: list[int] = []
    for start in range(0, len(ids), BATCH):
        queued: list[int] = []
        mailed = 0
        try:
            for invoice in _load(ids[start:start + BATCH]):
                address = chosen_email(invoice.member)
                if not address:
                    to_print.append(invoice.id)
                    continue
                mailed += 1  # handled: claimed here, or by another run (it sends it)
                if not claim(invoice.id, InvoiceDelivery.email, address):
                    db.session.rollback()
                    continue
                queued.append(outbox.queue(_message(invoice, reminder, address)).id)
                db.session.commit()
                result.count(reminder, InvoiceDelivery.email)
        except Exception:
            db.session.rollback()  # an invoice whose mail broke stays unclaimed, for the next run
            raise
        finally:
            db.session.expunge_all()
            result.waiting += _send_queued(queued)
        counter.add(mailed)
    return to_print


def _load(ids: list[int]) -> list[Invoice]:
    return db.session.scalars(select(Invoice).options(joinedload(Invoice.member)).where(Invoice.id.in_(ids))
                              .order_by(Invoice.id)).unique().all()


def _print(ids: list[int], reminder: int, stem: str, claim, result) -> str | None:
    """Claim the invoices for print and write them as ONE PDF (one per page); the file's path."""
    try:
        claimed = [invoice_id for invoice_id in ids if claim(invoice_id, InvoiceDelivery.print, None)]
        if not claimed:
            db.session.rollback()
            return None
        db.session.expire_all()
        documents = [InvoiceDocument(invoice, reminder) for invoice in _load(claimed)]
        pdf = render_documents(documents, footer=stem)
        path = _write_new_file(current_app.config["INVOICE_PRINT_DIR"], stem, pdf)
        if not reminder:  # the invoice itself went to print: the office finds it in this file
            db.session.execute(update(Invoice).where(Invoice.id.in_(claimed)).values(sent_to=os.path.basename(path))
                               .execution_options(synchronize_session=False))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for _invoice_id in claimed:
        result.count(reminder, InvoiceDelivery.print)
    return path


def _write_new_file(directory: str, stem: str, data: bytes) -> str:
    """Write `data` to `<stem>.pdf` in `directory`, or `<stem>-2.pdf` and so on: never over another run's file."""
    os.makedirs(directory, exist_ok=True)
    for number in range(1, 1000):
        path = os.path.join(directory, f"{stem}.pdf" if number == 1 else f"{stem}-{number}.pdf")
        try:
            with open(path, "xb") as handle:
                handle.write(data)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{directory}: too many files named {stem}")


def _send_queued(queued: list[int]) -> int:
    """Send what was queued over one connection; how many wait for the mail server."""
    if not queued:
        return 0
    report = outbox.send_waiting(queued)
    return report.failed + report.waiting


def _message(invoice: Invoice, reminder: int, address: str) -> Message:
    config = current_app.config
    document = InvoiceDocument(invoice, reminder)
    subject = {
        0: _("Invoice for membership dues %(months)s – %(union)s", months=document.months_text,
             union=config["UNION_NAME"]),
        FIRST: _("Reminder: unpaid membership dues %(months)s – %(union)s", months=document.months_text,
                 union=config["UNION_NAME"]),
        SECOND: _("Second reminder: unpaid membership dues %(months)s – %(union)s", months=document.months_text,
                  union=config["UNION_NAME"]),
    }[reminder]
    body = render_template(
        "mail/invoice.txt", document=document, invoice=invoice, member=invoice.member, reminder=reminder,
        amount=kroner(document.to_pay_ore), due=invoice.due_date.strftime("%d.%m.%Y"),
        account=account_number(config["UNION_ACCOUNT_NUMBER"]), union_name=config["UNION_NAME"],
        months=document.months_text,
    )
    message = Message(subject=subject, recipients=[address], body=body)
    message.attach(invoice_file_name(invoice, reminder), "application/pdf", invoice_pdf(invoice, reminder))
    return message


# ------------------------------------------------------------------ reminders


@dataclass
class RemindResult:
    day: dt.date
    first: int = 0
    second: int = 0
    emails: int = 0
    printed: int = 0
    print_file: str | None = None
    print_files: list[str] = field(default_factory=list)
    waiting: int = 0

    def count(self, reminder: int, delivery: InvoiceDelivery) -> None:
        if reminder == FIRST:
            self.first += 1
        else:
            self.second += 1
        if delivery == InvoiceDelivery.email:
            self.emails += 1
        else:
            self.printed += 1

    def summary(self) -> str:
        text = (f"{self.day}: {self.first} first and {self.second} second reminders, {self.emails} by e-mail, "
                f"{self.printed} to print")
        if self.print_file:
            text += f" ({self.print_file})"
        if self.waiting:
            text += f"; {self.waiting} e-mails wait for the mail server (sent by `mail retry`)"
        return text


def reminders_due(today: dt.date) -> dict[int, list[int]]:
    """{1: invoice ids due a first reminder, 2: due a second} on `today`: unsettled, sent, past the days."""
    config = current_app.config
    first_days = int(config["INVOICE_FIRST_REMINDER_DAYS"])
    second_days = int(config["INVOICE_SECOND_REMINDER_DAYS"])
    unpaid = (Invoice.status.in_(invoice_ledger.UNSETTLED), Invoice.sent_at.is_not(None),
              invoice_ledger.outstanding_expression() > 0)
    first = db.session.scalars(select(Invoice.id).where(
        *unpaid, Invoice.first_reminder_on.is_(None), Invoice.due_date <= today - dt.timedelta(days=first_days),
    ).order_by(Invoice.id)).all()
    second = db.session.scalars(select(Invoice.id).where(
        *unpaid, Invoice.first_reminder_on.is_not(None), Invoice.second_reminder_on.is_(None),
        Invoice.due_date <= today - dt.timedelta(days=second_days),
        Invoice.first_reminder_on <= today - dt.timedelta(days=max(second_days - first_days, 1)),
    ).order_by(Invoice.id)).all()
    return {FIRST: list(first), SECOND: list(second)}


def remind(today: dt.date | None = None, progress: Progress | None = None) -> RemindResult:
    """Send the reminders due on `today`, each at most once (see the module's rule); `progress(done, total)`
    after each batch."""
    today = today or dt.date.today()
    result = RemindResult(today)
    due = reminders_due(today)
    counter = _Counter(progress, 0, sum(len(ids) for ids in due.values()))
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        for reminder, ids in due.items():
            claim = _reminder_claim(reminder, today)
            to_print = _deliver(ids, reminder, claim, result, counter)
            if to_print:
                stem = f"{'purringer' if reminder == FIRST else 'purringer-2'}-{today.isoformat()}-utskrift"
                path = _print(to_print, reminder, stem, claim, result)
                if path:
                    result.print_files.append(path)
                result.print_file = ", ".join(result.print_files) or None
            counter.add(len(to_print))
    return result


def reminder_column(reminder: int):
    """The invoice's day of its first (FIRST) or second (SECOND) reminder."""
    return Invoice.first_reminder_on if reminder == FIRST else Invoice.second_reminder_on


def _reminder_claim(reminder: int, today: dt.date):
    column = reminder_column(reminder)

    def claim(invoice_id: int, _delivery: InvoiceDelivery, _sent_to: str | None) -> bool:
        return db.session.execute(
            update(Invoice).where(Invoice.id == invoice_id, column.is_(None),
                                  Invoice.status.in_(invoice_ledger.UNSETTLED))
            .values({column: today}).execution_options(synchronize_session=False)
        ).rowcount == 1

    return claim
