"""Min side and direct payment: how the member pays and since when, the income band they declare, their invoices
with the status as shown (overdue derived) and the PDF of their own invoices only."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.billing_screen_helpers import add_invoice, add_payment
from tests.factories import make_user
from tests.helpers import login_as
from webapp.extensions import db
from webapp.models import AuditEntry, AvtaleGiroMandate, IncomeBand, Invoice, Member
from webapp.models.choices import InvoiceStatus, MemberCategory
from webapp.services import kid
from webapp.services.periods import Month

TODAY = dt.date.today()


def text_of(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", page.replace("\u00a0", " "))


@pytest.fixture()
def direct_payer(clean_app, world) -> dict:
    """Lise Landsen: an ordinary member with no employment (so she pays directly), with a login."""
    member_id = world.members["lf1_direct"].id
    with clean_app.app_context():
        member = db.session.get(Member, member_id)
        member.user = make_user(member.member_no, "Lise", "Landsen")
        db.session.add_all([IncomeBand(code="lav", lower_ore=0, upper_ore=30_000_000),
                            IncomeBand(code="middels", lower_ore=30_000_000, upper_ore=60_000_000, is_default=True),
                            IncomeBand(code="hoy", lower_ore=60_000_000)])
        db.session.commit()
        bands = {band.code: band.id for band in db.session.scalars(select(IncomeBand))}
        username = member.member_no
        db.session.remove()
    return {"id": member_id, "username": username, "bands": bands}


@pytest.fixture()
def payer(client, direct_payer):
    login_as(client, direct_payer["username"], "member")
    return client


def test_min_side_says_the_member_pays_by_invoice_and_since_when(payer, direct_payer):
    page = text_of(payer.get("/minside/"))
    assert "Betaling av kontingent" in page
    # Joined 1 January 2015 and never on a deduction basis: invoices since she joined.
    assert "Betalingsmåte Faktura, siden 01.01.2015" in page
    assert "Arbeidsgiveren din trekker ikke kontingenten i lønn" in page


def test_a_member_with_a_mandate_pays_by_avtalegiro(payer, direct_payer, clean_app):
    with clean_app.app_context():
        member = db.session.get(Member, direct_payer["id"])
        db.session.add(AvtaleGiroMandate(kid=kid.member_kid_for(member.member_no, Month(2026, 2)), member_id=member.id,
                                         notify=True, registered_at=dt.datetime(2026, 2, 3, 10)))
        db.session.commit()
        db.session.remove()
    page = text_of(payer.get("/minside/"))
    assert "Betalingsmåte AvtaleGiro, siden 03.02.2026" in page
    assert "Avtale registrert 03.02.2026 (varsel om hvert krav)" in page


def test_a_member_on_payroll_deduction_is_told_so(client, world):
    login_as(client, world.logins["member"], "member")
    page = text_of(client.get("/minside/"))
    assert "Betalingsmåte Trekk via lønn" in page
    assert "Arbeidsgiveren din trekker ikke" not in page


def test_member_declares_an_income_band(payer, direct_payer, dbs):
    page = text_of(payer.get("/minside/"))
    assert "Inntektstrinn Ikke oppgitt" in page and "Årsinntekten din" in page
    response = payer.post("/minside/income-band", data={"income_band": str(direct_payer["bands"]["hoy"])},
                          follow_redirects=True)
    page = text_of(response)
    assert "Inntektstrinnet ditt er lagret." in page
    assert f"600 000 kr – (oppgitt {TODAY:%d.%m.%Y})" in page
    member = dbs.get(Member, direct_payer["id"])
    assert (member.income_band_id, member.income_band_declared_on) == (direct_payer["bands"]["hoy"], TODAY)
    entry = dbs.scalar(select(AuditEntry).where(AuditEntry.action == "declare_income_band"))
    assert entry.member_id == direct_payer["id"] and "hoy" in entry.details
    again = payer.post("/minside/income-band", data={"income_band": str(direct_payer["bands"]["hoy"])},
                       follow_redirects=True)
    assert "Ingen endringer." in text_of(again)


@pytest.mark.parametrize("value", ["", "abc", "999999", str(2**70), "-1"])
def test_a_band_that_does_not_exist_is_refused(payer, direct_payer, dbs, value):
    response = payer.post("/minside/income-band", data={"income_band": value})
    assert response.status_code == 422
    assert "Inntektstrinn: velg ett av trinnene." in text_of(response)
    assert dbs.get(Member, direct_payer["id"]).income_band_id is None


def test_members_of_other_categories_declare_no_band(payer, direct_payer, clean_app):
    with clean_app.app_context():
        db.session.get(Member, direct_payer["id"]).category = MemberCategory.retired
        db.session.commit()
        db.session.remove()
    page = text_of(payer.get("/minside/"))
    assert "Årsinntekten din" not in page and "Inntektstrinn" not in page


@pytest.fixture()
def her_invoices(clean_app, direct_payer) -> dict[str, int]:
    """One invoice in each status a member can see."""
    member_id = direct_payer["id"]
    past, future = TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=10)
    with clean_app.app_context():
        made = {
            "overdue": add_invoice(member_id, "2026-Q1", 90000, due_date=past),
            "open": add_invoice(member_id, "2026-Q2", 90000, due_date=future),
            "partly": add_invoice(member_id, "2026-Q3", 90000, due_date=future),
            "paid": add_invoice(member_id, "2026-Q4", 90000, due_date=past),
            "credited": add_invoice(member_id, "2027-Q1", 90000, due_date=past),
            "written_off": add_invoice(member_id, "2027-Q2", 90000, due_date=past),
        }
        sums = {"partly": (40000, 0, 0, InvoiceStatus.partly_paid), "paid": (90000, 0, 0, InvoiceStatus.paid),
                "credited": (0, 90000, 0, InvoiceStatus.credited),
                "written_off": (0, 0, 90000, InvoiceStatus.written_off)}
        for key, (paid, credited, written_off, status) in sums.items():
            invoice = db.session.get(Invoice, made[key].id)
            invoice.paid_ore, invoice.credited_ore, invoice.written_off_ore, invoice.status = (
                paid, credited, written_off, status)
        db.session.commit()
        ids = {key: invoice.id for key, invoice in made.items()}
        db.session.remove()
    return ids


def test_invoices_are_under_the_documents_with_their_status(payer, her_invoices):
    page = payer.get("/minside/").get_data(as_text=True)
    documents = text_of_section(page, "documents")
    expected = {"overdue": "Forfalt", "open": "Åpen", "partly": "Delvis betalt", "paid": "Betalt",
                "credited": "Kreditert", "written_off": "Avskrevet"}
    for key, label in expected.items():
        row = re.search(rf'<tr data-invoice="{her_invoices[key]}">(.*?)</tr>', documents, re.S)
        assert row is not None, key
        assert label in row.group(1), key
    assert "Gjenstår å betale" in documents and "500,00" in documents


def text_of_section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start:page.index("</table>", page.index("id=\"invoices\"", start))]


def test_the_invoices_page_lists_them_all_with_the_account(payer, her_invoices):
    page = text_of(payer.get("/minside/invoices"))
    assert "Mine fakturaer" in page
    assert "Betal hver faktura til konto" in page
    for period in ("1. kvartal 2026", "2. kvartal 2026", "3. kvartal 2026", "4. kvartal 2026", "1. kvartal 2027",
                   "2. kvartal 2027"):
        assert period in page


def test_member_downloads_the_pdf_of_her_own_invoice(payer, her_invoices, dbs):
    response = payer.get(f"/minside/invoices/{her_invoices['overdue']}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    invoice = dbs.get(Invoice, her_invoices["overdue"])
    assert invoice.kid in text.replace(" ", "")
    entry = dbs.scalar(select(AuditEntry).where(AuditEntry.action == "download", AuditEntry.object_type == "invoice"))
    assert entry.object_id == invoice.id


def test_credit_shows_on_min_side(payer, direct_payer, clean_app):
    with clean_app.app_context():
        member = db.session.get(Member, direct_payer["id"])
        add_payment(kid.member_kid_for(member.member_no, Month(2026, 1)), 12550, member_id=member.id)
        db.session.remove()
    page = text_of(payer.get("/minside/"))
    assert "Tilgode kr 125,50" in page
    assert "Du har kr 125,50 til gode." in text_of(payer.get("/minside/invoices"))
