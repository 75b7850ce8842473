"""The office's invoice runs as background jobs (webapp/jobs.py), with progress, a log and the print file.

- `start_invoice_run(period)`: make the period's invoices (invoices.generate: a second run adds nothing), then
  send those not sent (invoice_documents.send: e-mail with the PDF, one print-ready PDF for the members without
  e-mail). Each invoice is claimed before its mail is queued, in one commit, so a retry after a crash half-way
  sends only the rest: never an invoice twice.
- `start_reminder_run(day)`: the first and second reminders due on `day` (invoice_documents.remind: each at most
  once, by the same kind of claim).

The print-ready PDF of a run is kept as the job's result file (the office downloads it from the job's page,
whichever machine the worker ran on); the result link is the list of invoices. Log lines are in the union's
language, numbers as people read them (1 234). `flask --app run invoices send|remind` stay synchronous and call
the same functions.
"""

from __future__ import annotations

import datetime as dt
import os
import re

from flask import current_app
from flask_babel import force_locale, format_date, format_number
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.extensions import db
from webapp.jobs import add_file, job_task, report_progress, set_result, start_job
from webapp.models import Invoice
from webapp.models.choices import InvoiceDelivery
from webapp.models.outreach import Job
from webapp.services.periods import Month, Quarter, period_label

INVOICE_RUN = "invoice_run"
REMINDER_RUN = "invoice_reminders"
INVOICES_PAGE = "/invoiceview/list/"

_MONTH_FORM = re.compile(r"^\s*\d{4}-\d{1,2}\s*$")


def parse_period(text: str) -> Quarter | Month:
    """A billing period: a quarter (YYYY-Qn) or a month (YYYY-MM); PeriodError otherwise."""
    return Month.parse(text) if _MONTH_FORM.match(str(text)) else Quarter.parse(text)


def _n(value: int) -> str:
    return format_number(value)


def _locale():
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


def _progress(job_id: int):
    def report(done: int, total: int) -> None:
        report_progress(job_id, done, total)

    return report


def _keep_print_files(job_id: int, paths: list[str]) -> None:
    """The run's print-ready PDFs as the job's result files (a retry replaces a file of the same name)."""
    for path in paths:
        with open(path, "rb") as handle:
            add_file(job_id, os.path.basename(path), "application/pdf", handle.read())


def _printed_by_earlier_attempts(job_id: int, period: Quarter | Month) -> list[str]:
    """The print files of the period's invoices printed since the job was created: an earlier attempt's, when it
    broke after printing (so a retry, which prints nothing again, still keeps the file)."""
    from webapp.services.invoices import months_of

    created_at = db.session.scalar(select(Job.created_at).where(Job.id == job_id))
    names = db.session.scalars(select(Invoice.sent_to).distinct().where(
        Invoice.delivery == InvoiceDelivery.print, Invoice.sent_at >= created_at,
        Invoice.first_month.in_([str(month) for month in months_of(period)])))
    directory = current_app.config["INVOICE_PRINT_DIR"]
    return sorted(path for name in names if name and os.path.isfile(path := os.path.join(directory, name)))


# ------------------------------------------------------------------ the invoice run


def start_invoice_run(period: Quarter | Month, user_id: int | None, key: str | None = None) -> Job:
    """Make the period's invoices and send them, as a job."""
    title = _("Invoices for %(period)s: make and send", period=period_label(period))
    return start_job(INVOICE_RUN, title, invoice_run_task, {"period": str(period)}, user_id, key=key)


@job_task(INVOICE_RUN)
def invoice_run_task(job_id: int, params: dict) -> None:
    """Generate the period's invoices (those not made), then send those not sent, batch by batch."""
    from webapp.services import invoice_documents, invoices

    period = parse_period(params["period"])
    with _locale():
        label = period_label(period)
        report_progress(job_id, 0, None, _("Making the invoices for %(period)s", period=label))
        made = invoices.generate(period)
        line = _("%(count)s invoices and AvtaleGiro claims made for %(members)s members",
                 count=_n(made.created), members=_n(made.members))
        if made.months_already_billed:
            line += "; " + _("%(count)s member-months were billed already", count=_n(made.months_already_billed))
        report_progress(job_id, 0, None, line)
        if made.without_kid:
            report_progress(job_id, 0, None, _("%(count)s members not billed: their member number cannot make a KID",
                                               count=_n(len(made.without_kid))))
        report_progress(job_id, 0, None, _("Sending the invoices not sent yet"))
        sent = invoice_documents.send(period, progress=_progress(job_id))
        _keep_print_files(job_id, sent.print_files or _printed_by_earlier_attempts(job_id, period))
        done = sent.already_sent + sent.emails + sent.printed
        report_progress(job_id, done, None, _("%(emails)s invoices sent by e-mail, %(printed)s to print",
                                              emails=_n(sent.emails), printed=_n(sent.printed)))
        if sent.already_sent:
            report_progress(job_id, done, None, _("%(count)s invoices were sent before",
                                                  count=_n(sent.already_sent)))
        _log_waiting(job_id, done, sent.waiting)
    set_result(job_id, INVOICES_PAGE)


def _log_waiting(job_id: int, done: int, waiting: int) -> None:
    if waiting:
        report_progress(job_id, done, None, _("%(count)s e-mails wait in the outbox for the mail server",
                                              count=_n(waiting)))


# ------------------------------------------------------------------ the reminder run


def start_reminder_run(day: dt.date, user_id: int | None, key: str | None = None) -> Job:
    """Send the reminders due on `day`, as a job. A day after today is refused (ValueError): reminders go out on
    their day or for one passed."""
    if day > dt.date.today():
        raise ValueError(f"day: {day} is in the future")
    title = _("Reminders of unpaid invoices due on %(day)s", day=format_date(day, "dd.MM.yyyy"))
    return start_job(REMINDER_RUN, title, reminder_run_task, {"day": day.isoformat()}, user_id, key=key)


@job_task(REMINDER_RUN)
def reminder_run_task(job_id: int, params: dict) -> None:
    """The first and second reminders due on the day, each at most once."""
    from webapp.services import invoice_documents

    day = dt.date.fromisoformat(params["day"])
    with _locale():
        report_progress(job_id, 0, None, _("Finding the reminders due on %(day)s",
                                           day=format_date(day, "dd.MM.yyyy")))
        result = invoice_documents.remind(day, progress=_progress(job_id))
        _keep_print_files(job_id, result.print_files)
        done = result.first + result.second
        report_progress(job_id, done, None, _("%(first)s first and %(second)s second reminders: %(emails)s by "
                                              "e-mail, %(printed)s to print", first=_n(result.first),
                                              second=_n(result.second), emails=_n(result.emails),
                                              printed=_n(result.printed)))
        _log_waiting(job_id, done, result.waiting)
    set_result(job_id, INVOICES_PAGE)
