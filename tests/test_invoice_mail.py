"""Invoices as the member gets them: the PDF, the e-mail that arrives at a real SMTP server, the office's print file."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.billing_helpers import add_direct_rates, direct_member, mandate
from tests.conftest import free_loopback_port, mail_to_loopback
from tests.factories import add_initial_rate
from tests.test_mail_queue import MailServerLater
from webapp.extensions import db
from webapp.models import Invoice, Member, OutboxAttachment, OutboxMail
from webapp.models.choices import ContactChoice, InvoiceDelivery
from webapp.services import invoice_documents, invoices
from webapp.services.periods import Quarter

Q1 = Quarter(2027, 1)
ISSUED = dt.date(2026, 12, 10)
NBSP = "\u00a0"


def pdf_text(data: bytes) -> str:
    """The PDF's text as a reader sees it, whitespace (and no-break spaces) made single spaces."""
    return " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
                    .replace(NBSP, " ").split())


def page_texts(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().replace(NBSP, " ").split()) for page in PdfReader(io.BytesIO(data)).pages]


def member_invoice(member_id: int) -> Invoice:
    db.session.expire_all()
    return db.session.scalars(select(Invoice).where(Invoice.member_id == member_id)).one()


@pytest.fixture()
def billed(app_ctx, world, tmp_path):
    """Q1 billed: the world's five direct payers (Lise with her work address chosen), two without e-mail, one
    by AvtaleGiro. The print directory is the test's own."""
    add_initial_rate()
    add_direct_rates()
    saved_print_dir = app_ctx.config["INVOICE_PRINT_DIR"]
    app_ctx.config["INVOICE_PRINT_DIR"] = str(tmp_path / "print")
    lise = db.session.get(Member, world.members["lf1_direct"].id)
    lise.address, lise.postcode, lise.city = "Storgata 1", "0150", "Oslo"
    lise.email_work, lise.email_to = "lise@jobb.example", ContactChoice.work
    paper = [direct_member(world, "Per", "Papir", email=None, address="Postveien 2", postcode="5003",
                           city="Bergen"),
             direct_member(world, "Pia", "Post", email=None)]
    giro = direct_member(world, "Aud", "Giro")
    mandate(giro, dt.date(2026, 11, 2))
    db.session.commit()
    invoices.generate(Q1, today=ISSUED)
    yield {"lise": lise.id, "paper": [m.id for m in paper], "giro": giro.id, "dir": tmp_path / "print"}
    app_ctx.config["INVOICE_PRINT_DIR"] = saved_print_dir


def test_the_invoice_pdf_says_what_to_pay_where_and_when(billed):
    invoice = member_invoice(billed["lise"])
    text = pdf_text(invoice_documents.invoice_pdf(invoice))
    for expected in (
        "Norsk Tjenesteforbund", "Lise Landsen", "Storgata 1", "0150 Oslo", "Medlemsnummer: 75000004",
        "Fakturadato: 10.12.2026", "Forfallsdato: 15.01.2027", "Faktura 9027500000427012",
        "Medlemskontingent til Norsk Tjenesteforbund for januar–mars 2027 (3 måneder).",
        "Kontingent januar–mars 2027 750,00", "Innboforsikring 255,00", "Reiseforsikring 273,00", "Sum 1 278,00",
        "Betales til 9001 07 41504", "KID 9027500000427012", "Å betale kr 1 278,00",
    ):
        assert expected in text, expected
    assert "Utestående" not in text  # nothing paid yet


def test_a_partly_paid_invoice_shows_what_is_left(billed):
    invoice = member_invoice(billed["lise"])
    invoices.credit_note(invoice.id, 27800, "Rabatt", None)
    text = pdf_text(invoice_documents.invoice_pdf(member_invoice(billed["lise"])))
    assert "Kreditert -278,00" in text and "Utestående 1 000,00" in text and "Å betale kr 1 000,00" in text


def test_an_avtalegiro_claim_says_it_is_drawn_from_the_account(billed):
    claim = db.session.scalars(select(Invoice).where(Invoice.member_id == billed["giro"])
                               .order_by(Invoice.first_month)).first()
    text = pdf_text(invoice_documents.invoice_pdf(claim))
    assert "Beløpet trekkes fra kontoen din med AvtaleGiro på forfallsdatoen." in text
    assert "Forfallsdato: 20.01.2027" in text and "(1 måneder)" in text


def test_send_mails_each_invoice_to_the_chosen_address_with_its_pdf(billed, smtp_server, world):
    result = invoice_documents.send(Q1, ISSUED)
    assert (result.emails, result.printed, result.waiting) == (5, 2, 0)
    by_address = {m["to"][0]: m["message"] for m in smtp_server.messages}
    assert sorted(by_address) == sorted(["lise@jobb.example"] + [
        db.session.get(Member, world.members[key].id).email_private
        for key in ("leader", "treasurer", "member_data_admin", "workplace_trustee")])
    mail = by_address["lise@jobb.example"]
    invoice = member_invoice(billed["lise"])
    assert str(mail["subject"]) == "Faktura for medlemskontingent januar–mars 2027 – Norsk Tjenesteforbund"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    for expected in ("Hei Lise!", "Vedlagt er fakturaen for medlemskontingenten din for januar–mars 2027.",
                     f"Å betale: kr 1{NBSP}278,00", "Betales til: 9001 07 41504", f"KID: {invoice.kid}",
                     "Forfallsdato: 15.01.2027"):
        assert expected in body, expected
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == f"faktura-2027-Q1-{invoice.kid}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert f"KID {invoice.kid}" in pdf_text(attachment.get_content())
    assert (invoice.delivery, invoice.sent_to) == (InvoiceDelivery.email, "lise@jobb.example")
    assert invoice.sent_at is not None


def test_members_without_email_go_into_one_print_file_one_invoice_per_page(billed, smtp_server):
    result = invoice_documents.send(Q1, ISSUED)
    path = billed["dir"] / "fakturaer-2027-Q1-utskrift.pdf"
    assert result.print_file == str(path)
    pages = page_texts(path.read_bytes())
    paper = [member_invoice(member_id) for member_id in billed["paper"]]
    assert len(pages) == 2
    assert "Per Papir" in pages[0] and "Postveien 2" in pages[0] and f"KID {paper[0].kid}" in pages[0]
    assert "Pia Post" in pages[1] and f"KID {paper[1].kid}" in pages[1]
    assert all((i.delivery, i.sent_to) == (InvoiceDelivery.print, path.name) for i in paper)
    assert not any("Papir" in str(m["message"]) for m in smtp_server.messages)


def test_avtalegiro_claims_are_not_sent_as_invoices(billed, smtp_server):
    invoice_documents.send(Q1, ISSUED)
    db.session.expire_all()
    claims = db.session.scalars(select(Invoice).where(Invoice.member_id == billed["giro"])).all()
    assert len(claims) == 3 and all(claim.sent_at is None for claim in claims)
    assert len(smtp_server.messages) == 5


def test_each_invoice_is_sent_once(billed, smtp_server):
    invoice_documents.send(Q1, ISSUED)
    again = invoice_documents.send(Q1, ISSUED)
    assert (again.emails, again.printed, again.already_sent) == (0, 0, 7)
    assert again.summary() == "2027-Q1: 0 sent by e-mail, 0 to print; 7 were sent before"
    assert len(smtp_server.messages) == 5
    assert sorted(p.name for p in billed["dir"].iterdir()) == ["fakturaer-2027-Q1-utskrift.pdf"]


def test_a_later_print_run_never_overwrites_the_first_file(billed, smtp_server, world):
    invoice_documents.send(Q1, ISSUED)
    first = (billed["dir"] / "fakturaer-2027-Q1-utskrift.pdf").read_bytes()
    late = direct_member(world, "Lars", "Sen", email=None, joined=dt.date(2027, 1, 15))
    db.session.commit()
    invoices.generate(Q1, today=dt.date(2027, 1, 20))
    result = invoice_documents.send(Q1, dt.date(2027, 1, 20))
    assert result.print_file == str(billed["dir"] / "fakturaer-2027-Q1-utskrift-2.pdf")
    assert (billed["dir"] / "fakturaer-2027-Q1-utskrift.pdf").read_bytes() == first
    [page] = page_texts((billed["dir"] / "fakturaer-2027-Q1-utskrift-2.pdf").read_bytes())
    assert "Lars Sen" in page and member_invoice(late.id).kid in page


@pytest.fixture()
def mail_down(app):
    server = MailServerLater(free_loopback_port())
    try:
        with mail_to_loopback(app, server.port):
            yield server
    finally:
        server.stop()


def test_the_mail_server_down_does_not_fail_the_run_and_the_invoices_follow_once(billed, mail_down, app_ctx):
    result = invoice_documents.send(Q1, ISSUED)
    assert (result.emails, result.printed, result.waiting) == (5, 2, 5)
    assert result.summary().endswith("; 5 e-mails wait for the mail server (sent by `mail retry`)")
    db.session.expire_all()
    waiting = db.session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None))).all()
    assert len(waiting) == 5
    assert db.session.scalars(select(OutboxAttachment.filename)).all()  # the PDFs wait with them
    assert invoice_documents.send(Q1, ISSUED).emails == 0  # counted as handed over: not made again

    delivered = mail_down.start()
    retry = app_ctx.test_cli_runner().invoke(args=["mail", "retry"])
    assert retry.exit_code == 0 and "5 sent, 0 still waiting" in retry.output
    assert len(delivered.messages) == 5
    lise = member_invoice(billed["lise"])
    [mail] = [m["message"] for m in delivered.messages if m["to"] == ["lise@jobb.example"]]
    [attachment] = list(mail.iter_attachments())
    assert f"KID {lise.kid}" in pdf_text(attachment.get_content())


def test_cli_send(billed, smtp_server, app_ctx):
    result = app_ctx.test_cli_runner().invoke(args=["invoices", "send", "2027-Q1"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2027-Q1: 5 sent by e-mail, 2 to print (")
    assert "fakturaer-2027-Q1-utskrift.pdf" in result.output
    bad = app_ctx.test_cli_runner().invoke(args=["invoices", "send", "2027-Q7"])
    assert bad.exit_code == 2 and "YYYY-Qn" in bad.output
