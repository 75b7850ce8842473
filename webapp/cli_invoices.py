"""Flask CLI commands of direct billing: `flask --app run invoices ...`.

    invoices generate 2027-Q1 [--refresh]    invoices and AvtaleGiro claim rows of the quarter's direct payers
    invoices send 2027-Q1                    e-mail the invoices not sent; the rest into one print-ready PDF
    invoices remind [--date YYYY-MM-DD]      first and second reminders due on the date (default today)
    invoices arrears [--date YYYY-MM-DD]     the members in arrears
"""

from __future__ import annotations

import datetime as dt
import re

import click
from flask.cli import with_appcontext

from webapp.cli import _month_argument, _quarter_argument, refused_as

_MONTH_FORM = re.compile(r"^\s*\d{4}-\d{1,2}\s*$")
_DATE_FORM = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@click.group("invoices", help="Direct billing: invoices to members who pay the union themselves.")
def invoices_group():
    pass


def _period_argument(text: str):
    """A quarter (YYYY-Qn), or a month (YYYY-MM) for a monthly billing period; a usage error naming the form."""
    return _month_argument(text) if _MONTH_FORM.match(str(text)) else _quarter_argument(text)


def _date_option(text: str | None, name: str, not_after_today: bool = False) -> dt.date:
    """A --date option: YYYY-MM-DD within the register's dates (today when not given)."""
    from webapp.services.bounds import FIRST_DATE, LAST_DATE

    today = dt.date.today()
    if text is None:
        return today
    cleaned = str(text).strip()
    try:
        if not _DATE_FORM.match(cleaned):  # fromisoformat also takes 20260101 and week dates
            raise ValueError(cleaned)
        day = dt.date.fromisoformat(cleaned)
    except ValueError:
        raise click.BadParameter(f"'{text}' is not a date of the form YYYY-MM-DD", param_hint=name) from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise click.BadParameter(f"{day} must lie from {FIRST_DATE} to {LAST_DATE}", param_hint=name)
    if not_after_today and day > today:
        raise click.BadParameter(f"{day} is in the future; reminders go out on today's date or for an earlier one",
                                 param_hint=name)
    return day


@invoices_group.command("generate", help="Make the invoices (and AvtaleGiro claim rows) of a billing period "
                                         "(YYYY-Qn) for every member who pays directly; a second run adds nothing.")
@click.argument("period")
@click.option("--refresh", is_flag=True, help="Recompute the period's invoices that are not sent, paid or adjusted.")
@with_appcontext
def invoices_generate(period: str, refresh: bool):
    from webapp.services.direct_dues import DirectDuesError
    from webapp.services.invoices import InvoiceError, generate

    billing_period = _period_argument(period)
    with refused_as("invoices generate", DirectDuesError, InvoiceError):
        result = generate(billing_period, refresh=refresh)
    click.echo(result.summary())


@invoices_group.command("send", help="Send the period's invoices (YYYY-Qn) not sent yet: by e-mail with the PDF, "
                                     "the invoices of members without e-mail into one print-ready PDF.")
@click.argument("period")
@with_appcontext
def invoices_send(period: str):
    from webapp.services.invoice_documents import send

    click.echo(send(_period_argument(period)).summary())


@invoices_group.command("remind", help="Send the first and second reminders due on a date (never twice).")
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="The day of the reminders (default today).")
@with_appcontext
def invoices_remind(date_text: str | None):
    from webapp.services.invoice_documents import remind

    click.echo(remind(_date_option(date_text, "--date", not_after_today=True)).summary())


@invoices_group.command("arrears", help="List the members with overdue invoices, most months unpaid first.")
@click.option("--date", "date_text", metavar="YYYY-MM-DD", help="Overdue on this date (default today).")
@with_appcontext
def invoices_arrears(date_text: str | None):
    from webapp.services.arrears import arrears_rows
    from webapp.services.money import kroner

    day = _date_option(date_text, "--date")
    rows = arrears_rows(day)
    for row in rows:
        left = f"  left {row.left_on}" if row.left_on else ""
        click.echo(f"{row.member_no:<9} {row.name[:40]:<40} {row.months_unpaid:>3} months "
                   f"{kroner(row.outstanding_ore):>12} kr  due since {row.oldest_due_date}  "
                   f"reminders {row.reminders_sent}{left}")
    total = sum(row.outstanding_ore for row in rows)
    click.echo(f"{day}: {len(rows)} members in arrears, {kroner(total)} kr outstanding")
