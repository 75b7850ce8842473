"""Reminders (first and second, never twice) and arrears (the list, and the office ending a membership)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from flask_appbuilder.security.sqla.models import User
from pypdf import PdfReader
from sqlalchemy import select

from tests.billing_helpers import DEFAULT_ORDINARY_MONTH_ORE, add_direct_rates, direct_member
from tests.conftest import free_loopback_port, mail_to_loopback
from tests.factories import add_initial_rate
from tests.test_mail_queue import MailServerLater
from webapp.extensions import db
from webapp.models import AuditEntry, Invoice, Member
from webapp.models.choices import LeaveReason
from webapp.services import arrears, invoice_documents, invoices, payments
from webapp.services.arrears import ArrearsError
from webapp.services.membership import is_active_member
from webapp.services.periods import Quarter

Q1 = Quarter(2027, 1)
ISSUED = dt.date(2026, 12, 10)
DUE = dt.date(2027, 1, 15)
FIRST_DAY = DUE + dt.timedelta(days=14)
SECOND_DAY = DUE + dt.timedelta(days=28)
QUARTER_ORE = 3 * DEFAULT_ORDINARY_MONTH_ORE
NBSP = "\u00a0"


def pdf_text(data: bytes) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).replace(NBSP, " ").split())


def invoice_of(member_id: int) -> Invoice:
    db.session.expire_all()
    return db.session.scalars(select(Invoice).where(Invoice.member_id == member_id)
                              .order_by(Invoice.first_month.desc())).first()


def pay(invoice: Invoice, amount_ore: int, number: int = 1) -> None:
    from tests.payment_helpers import ocr

    payments.import_file(f"ocr-{number}.txt", ocr([(invoice.kid, amount_ore)], file_number=number), "test")


@pytest.fixture()
def sent(app_ctx, world, tmp_path, smtp_server):
    """Q1 billed and sent: the world's five direct payers by e-mail, Per Papir on paper."""
    add_initial_rate()
    add_direct_rates()
    saved = app_ctx.config["INVOICE_PRINT_DIR"]
    app_ctx.config["INVOICE_PRINT_DIR"] = str(tmp_path)
    paper = direct_member(world, "Per", "Papir", email=None)
    db.session.commit()
    invoices.generate(Q1, today=ISSUED)
    invoice_documents.send(Q1, ISSUED)
    smtp_server.messages.clear()
    yield {"lise": world.members["lf1_direct"].id, "leader": world.members["leader"].id, "paper": paper.id,
           "dir": tmp_path, "smtp": smtp_server}
    app_ctx.config["INVOICE_PRINT_DIR"] = saved


# ------------------------------------------------------------------ reminders


def test_no_reminder_before_the_first_reminder_day(sent):
    result = invoice_documents.remind(FIRST_DAY - dt.timedelta(days=1))
    assert (result.first, result.second) == (0, 0) and sent["smtp"].messages == []


def test_the_first_reminder_goes_once_with_the_pdf_of_what_is_owed(sent):
    result = invoice_documents.remind(FIRST_DAY)
    assert (result.first, result.second, result.emails, result.printed) == (6, 0, 5, 1)
    [mail] = [m["message"] for m in sent["smtp"].messages if m["to"] == ["m4@example.no"]]
    invoice = invoice_of(sent["lise"])
    assert str(mail["subject"]) == "Påminnelse: ubetalt medlemskontingent januar–mars 2027 – Norsk Tjenesteforbund"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert ("Vi har ikke mottatt betaling av medlemskontingenten din for januar–mars 2027, som forfalt 15.01.2027."
            in body)
    assert f"KID: {invoice.kid}" in body and f"Å betale: kr 1{NBSP}278,00" in body
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == f"purring-2027-Q1-{invoice.kid}.pdf"
    text = pdf_text(attachment.get_content())
    assert f"Påminnelse: faktura {invoice.kid}" in text and "Å betale kr 1 278,00" in text
    assert "Vi har ikke mottatt betaling for denne fakturaen, som forfalt 15.01.2027." in text
    assert invoice.first_reminder_on == FIRST_DAY and invoice.second_reminder_on is None

    printed = sent["dir"] / f"purringer-{FIRST_DAY.isoformat()}-utskrift.pdf"
    assert result.print_file == str(printed)
    assert "Per Papir" in pdf_text(printed.read_bytes())

    again = invoice_documents.remind(FIRST_DAY)
    assert (again.first, again.second) == (0, 0) and len(sent["smtp"].messages) == 5


def test_the_second_reminder_follows_and_there_is_never_a_third(sent):
    invoice_documents.remind(FIRST_DAY)
    sent["smtp"].messages.clear()
    result = invoice_documents.remind(SECOND_DAY)
    assert (result.first, result.second) == (0, 6)
    [mail] = [m["message"] for m in sent["smtp"].messages if m["to"] == ["m4@example.no"]]
    assert str(mail["subject"]).startswith("Andre påminnelse: ubetalt medlemskontingent januar–mars 2027")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Dette er andre påminnelse." in body and "avslutte medlemskapet ditt" in body
    assert invoice_of(sent["lise"]).second_reminder_on == SECOND_DAY
    sent["smtp"].messages.clear()
    later = invoice_documents.remind(SECOND_DAY + dt.timedelta(days=60))
    assert (later.first, later.second) == (0, 0) and sent["smtp"].messages == []


def test_a_late_run_sends_the_first_reminder_only_and_the_second_keeps_its_distance(sent):
    late = SECOND_DAY + dt.timedelta(days=3)
    assert (invoice_documents.remind(late).first, invoice_documents.remind(late).second) == (6, 0)
    assert invoice_documents.remind(late + dt.timedelta(days=13)).second == 0
    assert invoice_documents.remind(late + dt.timedelta(days=14)).second == 6


def test_a_paid_invoice_gets_no_reminder_and_a_partly_paid_one_asks_for_the_rest(sent):
    pay(invoice_of(sent["lise"]), QUARTER_ORE, 1)
    pay(invoice_of(sent["leader"]), 50000, 2)
    invoice_documents.remind(FIRST_DAY)
    recipients = [m["to"][0] for m in sent["smtp"].messages]
    assert "m4@example.no" not in recipients
    [mail] = [m["message"] for m in sent["smtp"].messages if m["to"] == ["m5@example.no"]]
    assert "Å betale: kr 778,00" in mail.get_body(preferencelist=("plain",)).get_content()
    text = pdf_text(next(mail.iter_attachments()).get_content())
    assert "Betalt -500,00" in text and "Utestående 778,00" in text
    assert invoice_of(sent["lise"]).first_reminder_on is None


def test_an_invoice_never_sent_gets_no_reminder(app_ctx, world):
    add_initial_rate()
    add_direct_rates()
    invoices.generate(Q1, today=ISSUED)
    result = invoice_documents.remind(SECOND_DAY)
    assert (result.first, result.second) == (0, 0)


def test_reminders_while_the_mail_server_is_down_are_kept_and_follow(sent, app):
    server = MailServerLater(free_loopback_port())
    with mail_to_loopback(app, server.port):
        result = invoice_documents.remind(FIRST_DAY)
        assert (result.first, result.emails, result.waiting) == (6, 5, 5)
        assert result.summary().endswith("5 e-mails wait for the mail server (sent by `mail retry`)")
        assert invoice_documents.remind(FIRST_DAY).first == 0
        delivered = server.start()
        try:
            assert app.test_cli_runner().invoke(args=["mail", "retry"]).exit_code == 0
        finally:
            server.stop()
    assert len(delivered.messages) == 5


# ------------------------------------------------------------------ arrears


def test_the_arrears_list_shows_months_outstanding_due_date_and_reminders(sent, world):
    invoice_documents.remind(FIRST_DAY)
    pay(invoice_of(sent["lise"]), QUARTER_ORE, 1)
    pay(invoice_of(sent["leader"]), 50000, 2)
    before = invoices.generate(Quarter(2026, 4), today=dt.date(2026, 9, 10))  # Q4 for everyone, unpaid
    assert before.created == 6
    db.session.query(Invoice).filter(Invoice.period == "2026-Q4").update({Invoice.sent_at: dt.datetime(2026, 9, 10)})
    db.session.commit()
    rows = {row.member_id: row for row in arrears.arrears_rows(FIRST_DAY)}
    assert len(rows) == 6
    leader = rows[sent["leader"]]
    assert (leader.months_unpaid, leader.outstanding_ore, leader.oldest_due_date, leader.reminders_sent,
            leader.invoices) == (6, 2 * QUARTER_ORE - 50000, dt.date(2026, 10, 15), 1, 2)
    lise = rows[sent["lise"]]
    assert (lise.months_unpaid, lise.outstanding_ore, lise.invoices) == (3, QUARTER_ORE, 1)  # Q1 paid
    ordered = arrears.arrears_rows(FIRST_DAY)
    assert ordered[-1].member_id == sent["lise"]  # fewest months last
    assert [r.months_unpaid for r in ordered] == sorted([r.months_unpaid for r in ordered], reverse=True)
    assert arrears.arrears_rows(dt.date(2026, 10, 15)) == []  # nothing overdue on the due date itself


def test_credited_and_written_off_invoices_are_not_arrears(sent):
    invoices.credit_note(invoice_of(sent["lise"]).id, QUARTER_ORE, "Feil", None)
    invoices.write_off(invoice_of(sent["leader"]).id, None, "Uerholdelig", None)
    members = {row.member_id for row in arrears.arrears_rows(FIRST_DAY)}
    assert sent["lise"] not in members and sent["leader"] not in members and len(members) == 4


def office_id(world) -> int:
    return db.session.scalar(select(User.id).where(User.username == world.logins["office"]))


def test_the_office_ends_a_membership_for_non_payment_at_the_end_of_the_month(sent, world):
    today = dt.date(2027, 2, 10)
    member = arrears.end_membership_for_non_payment(sent["leader"], office_id(world), today,
                                                    "Ikke betalt etter purring")
    assert (member.left_on, member.leave_reason) == (dt.date(2027, 2, 28), LeaveReason.non_payment)
    assert is_active_member(member, dt.date(2027, 2, 28)) and not is_active_member(member, dt.date(2027, 3, 1))
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "end_membership_non_payment")).all()
    details = json.loads(entry.details)
    assert (entry.member_id, details["left_on"], details["reason"], details["months_unpaid"],
            details["outstanding_ore"], details["by_user_id"]) == (
        sent["leader"], "2027-02-28", "Ikke betalt etter purring", 3, QUARTER_ORE, office_id(world))
    # Not billed after the leave.
    invoices.generate(Quarter(2027, 2), today=dt.date(2027, 3, 10))
    assert invoice_of(sent["leader"]).period == "2027-Q1"


def test_ending_a_membership_is_refused_when_it_has_ended_or_nothing_is_overdue(sent, world):
    today = dt.date(2027, 2, 10)
    arrears.end_membership_for_non_payment(sent["leader"], office_id(world), today, "Ikke betalt")
    with pytest.raises(ArrearsError,
                       match=r"^Medlemskap: Leader Tillitsvalgt har allerede gått ut \(28\.02\.2027\)\.$"):
        arrears.end_membership_for_non_payment(sent["leader"], office_id(world), today, "Igjen")
    pay(invoice_of(sent["lise"]), QUARTER_ORE)
    with pytest.raises(ArrearsError, match=r"^Restanse: Lise Landsen har ingen forfalte fakturaer"):
        arrears.end_membership_for_non_payment(sent["lise"], office_id(world), today, "Ikke betalt")
    with pytest.raises(ArrearsError, match=r"^Restanse: Treasurer Tillitsvalgt har ingen forfalte"):
        arrears.end_membership_for_non_payment(world.members["treasurer"].id, None, DUE, "For tidlig")  # due today
    with pytest.raises(ArrearsError, match=r"^Begrunnelse: må fylles ut\.$"):
        arrears.end_membership_for_non_payment(world.members["treasurer"].id, None, today, "  ")
    with pytest.raises(ArrearsError, match=r"^Medlem: medlemmet finnes ikke\.$"):
        arrears.end_membership_for_non_payment(987654, None, today, "Ikke betalt")
    db.session.expire_all()
    assert db.session.get(Member, world.members["treasurer"].id).left_on is None
    assert db.session.get(Member, sent["lise"]).left_on is None
    assert len(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "end_membership_non_payment")).all()) == 1


def test_a_registered_resignation_is_not_ended_again(sent, world):
    member = db.session.get(Member, sent["lise"])
    member.left_on = dt.date(2027, 3, 31)
    db.session.commit()
    with pytest.raises(ArrearsError, match="har allerede gått ut"):
        arrears.end_membership_for_non_payment(sent["lise"], None, dt.date(2027, 2, 10), "Ikke betalt")
    assert db.session.get(Member, sent["lise"]).leave_reason is None


# ------------------------------------------------------------------ the command line


@pytest.fixture()
def past_quarter(app_ctx, world, smtp_server):
    """2026-Q3 billed and sent in June 2026: due 15 July 2026, so reminders and arrears are in the past."""
    add_initial_rate()
    add_direct_rates()
    invoices.generate(Quarter(2026, 3), today=dt.date(2026, 6, 10))
    invoice_documents.send(Quarter(2026, 3), dt.date(2026, 6, 10))
    smtp_server.messages.clear()
    return smtp_server


def test_cli_remind_and_arrears(past_quarter, app_ctx, world):
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["invoices", "remind", "--date", "2026-07-29"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2026-07-29: 5 first and 0 second reminders, 5 by e-mail, 0 to print"
    assert len(past_quarter.messages) == 5
    listing = runner.invoke(args=["invoices", "arrears", "--date", "2026-08-01"])
    assert listing.exit_code == 0
    lines = listing.output.strip().splitlines()
    assert lines[-1] == f"2026-08-01: 5 members in arrears, 6{NBSP}390,00 kr outstanding"
    assert lines[0].startswith(world.members["lf1_direct"].member_no) and "Lise Landsen" in lines[0]
    assert "3 months" in lines[0] and f"1{NBSP}278,00 kr" in lines[0] and "due since 2026-07-15" in lines[0]
    assert "reminders 1" in lines[0]


@pytest.mark.parametrize("argument, message", [
    ("2026-13-01", "is not a date of the form YYYY-MM-DD"),
    ("20260729", "is not a date of the form YYYY-MM-DD"),
    ("1899-12-31", "must lie from 1900-01-01 to 2100-12-31"),
    ((dt.date.today() + dt.timedelta(days=1)).isoformat(), "is in the future"),
])
def test_cli_remind_refuses_a_bad_date_naming_the_option(past_quarter, app_ctx, argument, message):
    result = app_ctx.test_cli_runner().invoke(args=["invoices", "remind", "--date", argument])
    assert result.exit_code == 2 and message in result.output and "--date" in result.output
    assert past_quarter.messages == []
