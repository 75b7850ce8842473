"""The office's screens of direct payment: invoices with credit notes and write-offs, payments and the unmatched
queue (match, return, undo), arrears with ending a membership, direct dues rates and income bands, the member page.

Everything is asserted as the office sees it, in Norwegian: the row, the amount, the status, the message.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event, func, select

from tests.billing_screen_helpers import add_invoice, add_payment
from tests.concurrency import fire_together, postgres_only
from tests.helpers import login_as
from webapp.extensions import db
from webapp.models import (
    DeductionBasis,
    DirectDuesRate,
    IncomeBand,
    Invoice,
    InvoiceAdjustment,
    Member,
    Payment,
    PaymentAllocation,
)
from webapp.models.choices import InvoiceStatus, LeaveReason, MemberCategory
from webapp.services import kid
from webapp.services.periods import Month

TODAY = dt.date.today()
PAST_DUE = TODAY - dt.timedelta(days=40)
FUTURE_DUE = TODAY + dt.timedelta(days=10)


def text_of(response) -> str:
    """The page as a user reads it: tags dropped, whitespace and non-breaking spaces collapsed."""
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", page.replace("\u00a0", " "))


@pytest.fixture()
def office(client, world):
    login_as(client, world.logins["office"], "office")
    return client


@pytest.fixture()
def invoices(clean_app, world) -> dict[str, int]:
    """Kari (inside) owes an overdue quarter and an open month; Ola (club) has a paid one."""
    with clean_app.app_context():
        overdue = add_invoice(world.members["inside"].id, "2027-Q1", 90000, due_date=PAST_DUE)
        open_one = add_invoice(world.members["inside"].id, "2027-04", 42600, due_date=FUTURE_DUE)
        paid = add_invoice(world.members["club"].id, "2027-Q1", 90000, due_date=PAST_DUE)
        paid.paid_ore, paid.status = 90000, InvoiceStatus.paid
        db.session.commit()
        ids = {"overdue": overdue.id, "open": open_one.id, "paid": paid.id}
        db.session.remove()
    return ids


# ------------------------------------------------------------------ invoices


def test_invoice_list_shows_status_as_seen_and_outstanding(office, world, invoices):
    page = text_of(office.get("/invoiceview/list/"))
    assert "Fakturaer" in page
    assert "Forfalt" in page and "Åpen" in page and "Betalt" in page
    assert "900,00" in page and "426,00" in page
    assert "Nordmann" in page and "Æsøy" in page


@pytest.mark.parametrize("status,expected", [("overdue", {"overdue"}), ("open", {"open"}), ("paid", {"paid"}),
                                             ("credited", set()), ("nonsense", set())])
def test_invoice_list_filters_by_status_as_seen(office, invoices, status, expected):
    response = office.get(f"/invoiceview/list/?_flt_0_status={status}")
    assert response.status_code == 200
    shown = set(re.findall(r"/invoiceview/show/(\d+)", response.get_data(as_text=True)))
    assert shown == {str(invoices[key]) for key in expected}


def test_invoice_list_filters_by_membership_number_and_period(office, world, invoices):
    member_no = world.members["inside"].member_no
    shown = set(re.findall(r"/invoiceview/show/(\d+)",
                           office.get(f"/invoiceview/list/?_flt_0_member_id={member_no}").get_data(as_text=True)))
    assert shown == {str(invoices["overdue"]), str(invoices["open"])}
    shown = set(re.findall(r"/invoiceview/show/(\d+)",
                           office.get("/invoiceview/list/?_flt_0_period=2027-04").get_data(as_text=True)))
    assert shown == {str(invoices["open"])}


def test_invoice_list_filters_by_payment_method(office, world, clean_app, invoices):
    from webapp.models.choices import PaymentMethod

    with clean_app.app_context():
        claim = add_invoice(world.members["club"].id, "2027-05", 42600, method=PaymentMethod.avtalegiro).id
        db.session.remove()
    page = office.get("/invoiceview/list/?_flt_0_method=avtalegiro").get_data(as_text=True)
    assert set(re.findall(r"/invoiceview/show/(\d+)", page)) == {str(claim)}
    assert '\\"avtalegiro\\"\\u003eAvtaleGiro\\u003c/option' in page  # the search box (as JSON) offers labels


def test_invoice_list_loads_in_a_fixed_number_of_queries(office, world, clean_app):
    """No query per row: 60 invoices of 60 members take as many statements as 3."""
    from tests.factories import make_member
    from webapp.models import OrgUnit

    def statements_for_list() -> int:
        count = [0]

        def counter(*_args):
            count[0] += 1

        with clean_app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            assert office.get("/invoiceview/list/?psize_InvoiceView=100").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", counter)
        return count[0]

    with clean_app.app_context():
        unit = db.session.get(OrgUnit, world.units["AV1"].id)
        for number in range(3):
            add_invoice(make_member(unit, "Liten", f"Liste{number}", birth=dt.date(1960, 1, 1 + number)).id, "2027-Q1")
        db.session.remove()
    few = statements_for_list()
    with clean_app.app_context():
        unit = db.session.get(OrgUnit, world.units["AV1"].id)
        for number in range(57):
            add_invoice(make_member(unit, "Stor", f"Liste{number}",
                                    birth=dt.date(1961 + number // 28, 1 + number % 12, 1 + number % 28)).id,
                        "2027-Q1")
        db.session.remove()
    assert statements_for_list() == few


def test_invoice_page_shows_components_payments_and_forms(office, invoices):
    page = text_of(office.get(f"/invoiceview/show/{invoices['overdue']}"))
    assert "Status: Forfalt" in page and "Utestående: kr 900,00" in page
    assert "Registrer kreditnota" in page and "Avskriv" in page
    assert "Ingenting er betalt på denne fakturaen." in page
    paid = text_of(office.get(f"/invoiceview/show/{invoices['paid']}"))
    assert "Status: Betalt" in paid and "Registrer kreditnota" not in paid


def test_credit_note_in_kroner_reduces_what_is_owed(office, invoices, dbs):
    response = office.post(f"/invoiceview/adjust/{invoices['overdue']}",
                           data={"kind": "credit_note", "amount": "100,50", "reason": "Feil kategori"})
    assert response.status_code == 302
    page = text_of(office.get(f"/invoiceview/show/{invoices['overdue']}"))
    assert "Kreditnotaen er registrert." in page
    assert "Utestående: kr 799,50" in page and "Feil kategori" in page
    invoice = dbs.get(Invoice, invoices["overdue"])
    assert (invoice.credited_ore, invoice.outstanding_ore) == (10050, 79950)


def test_write_off_without_amount_takes_all_that_is_left(office, invoices, dbs):
    office.post(f"/invoiceview/adjust/{invoices['overdue']}", data={"kind": "credit_note", "amount": "100",
                                                                    "reason": "Rabatt"})
    response = office.post(f"/invoiceview/adjust/{invoices['overdue']}",
                           data={"kind": "write_off", "amount": "", "reason": "Dødsbo"}, follow_redirects=True)
    assert "Avskrivningen er registrert." in text_of(response)
    invoice = dbs.get(Invoice, invoices["overdue"])
    assert (invoice.written_off_ore, invoice.outstanding_ore, invoice.status) == (80000, 0, InvoiceStatus.written_off)
    assert "Status: Avskrevet" in text_of(office.get(f"/invoiceview/show/{invoices['overdue']}"))


@pytest.mark.parametrize("form,message", [
    ({"kind": "credit_note", "amount": "tusen", "reason": "x"}, "Beløp: «tusen» er ikke et beløp i kroner."),
    ({"kind": "credit_note", "amount": "", "reason": "x"}, "Beløp: må fylles ut."),
    ({"kind": "credit_note", "amount": "0", "reason": "x"}, "Beløp: må være mer enn 0."),
    ({"kind": "credit_note", "amount": "-5", "reason": "x"}, "Beløp: må være mer enn 0."),
    ({"kind": "credit_note", "amount": "1e30", "reason": "x"}, "Beløp: må være mer enn 0."),
    ({"kind": "credit_note", "amount": "12,345", "reason": "x"}, "Beløp: «12,345» er ikke et beløp i kroner."),
    ({"kind": "write_off", "amount": "900,01", "reason": "x"},
     "Beløp: høyst det som gjenstår av fakturaen, 900,00 kr."),
    ({"kind": "write_off", "amount": "10", "reason": " "}, "Begrunnelse: må fylles ut."),
    ({"kind": "write_off", "amount": "10", "reason": "x" * 501}, "Begrunnelse: høyst 500 tegn."),
])
def test_a_bad_adjustment_names_the_field_and_writes_nothing(office, invoices, dbs, form, message):
    response = office.post(f"/invoiceview/adjust/{invoices['overdue']}", data=form)
    assert response.status_code == 422
    assert message in text_of(response)
    assert dbs.scalar(select(func.count(InvoiceAdjustment.id))) == 0
    assert dbs.get(Invoice, invoices["overdue"]).outstanding_ore == 90000


def test_an_unknown_adjustment_kind_is_refused(office, invoices):
    assert office.post(f"/invoiceview/adjust/{invoices['overdue']}",
                       data={"kind": "gift", "amount": "1", "reason": "x"}).status_code == 400


def test_adjusting_a_settled_invoice_is_refused_in_words(office, invoices, dbs):
    response = office.post(f"/invoiceview/adjust/{invoices['paid']}",
                           data={"kind": "credit_note", "amount": "1", "reason": "x"})
    assert response.status_code == 422
    assert "det er ikke noe igjen å betale, så ingenting kan krediteres eller avskrives" in text_of(response)
    assert dbs.scalar(select(func.count(InvoiceAdjustment.id))) == 0


def test_office_downloads_the_invoice_pdf(office, invoices):
    response = office.get(f"/invoiceview/pdf/{invoices['overdue']}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


# ------------------------------------------------------------------ payments and the queue


@pytest.fixture()
def queue(clean_app, world, invoices) -> dict[str, int]:
    """Unmatched: Kari's payment for April 2027 under a KID with no invoice, an employer KID for a month
    without basis, and a text that is no KID; matched: a reversal of Ola's."""
    inside, club = world.members["inside"], world.members["club"]
    with clean_app.app_context():
        member_kid = kid.member_kid_for(inside.member_no, Month(2027, 2))
        employer_kid = kid.kid_for("94001761", Month(2027, 1))
        rows = {
            "member": add_payment(member_kid, 50000).id,
            "employer": add_payment(employer_kid, 123400).id,
            "junk": add_payment("12345", 1000).id,
            "reversal": add_payment(kid.member_kid_for(club.member_no, Month(2027, 1)), -20000, member_id=club.id,
                                    transaction_type=18).id,
        }
        db.session.remove()
    return rows


def test_payment_list_shows_sign_state_and_member(office, queue):
    page = text_of(office.get("/paymentview/list/"))
    assert "Tilbakeføring" in page and "-200,00" in page
    assert "Koblet til medlem" in page and "Æsøy" in page
    assert "Uavklart" in page


def test_queue_says_what_each_kid_says(office, world, queue):
    page = text_of(office.get("/payments/unmatched/"))
    number = int(world.members["inside"].member_no)
    assert f"Medlem {number}, februar 2027, ingen faktura" in page
    assert "Virksomhet E1, januar 2027, intet trekkgrunnlag" in page
    assert "Ikke en KID fra oss" in page
    assert "Innbetalinger som venter: 3" in page
    assert str(queue["reversal"]) not in re.findall(r'data-payment="(\d+)"', page)


def test_queue_pages_answer_a_bad_page_with_400(office, queue):
    for page in ("-1", "abc", "99999999999999999999"):
        assert office.get(f"/payments/unmatched/?page={page}").status_code == 400
    assert office.get("/payments/unmatched/?page=5").status_code == 200


def test_match_to_an_invoice_then_undo(office, queue, invoices, dbs):
    page = text_of(office.get(f"/payments/{queue['member']}"))
    assert "Koble til 1. kvartal 2027 (utestående kr 900,00)" in page
    overdue_kid = dbs.get(Invoice, invoices["overdue"]).kid
    response = office.post(f"/payments/{queue['member']}/invoice", data={"invoice": overdue_kid},
                           follow_redirects=True)
    assert f"Innbetalingen er koblet til faktura {overdue_kid}." in text_of(response)
    dbs.expire_all()
    assert dbs.get(Payment, queue["member"]).matched_manually
    assert dbs.get(Invoice, invoices["overdue"]).outstanding_ore == 40000
    assert "Utestående: kr 400,00" in text_of(office.get(f"/invoiceview/show/{invoices['overdue']}"))
    assert str(queue["member"]) not in re.findall(r'data-payment="(\d+)"',
                                                  office.get("/payments/unmatched/").get_data(as_text=True))

    response = office.post(f"/payments/{queue['member']}/undo", follow_redirects=True)
    assert "Angret: innbetalingen er tilbake blant de uavklarte." in text_of(response)
    dbs.expire_all()
    assert dbs.get(Payment, queue["member"]).member_id is None
    assert dbs.get(Invoice, invoices["overdue"]).outstanding_ore == 90000
    assert dbs.scalar(select(func.count(PaymentAllocation.id))) == 0


def test_match_by_invoice_number_and_a_second_tab_is_told(office, queue, invoices, dbs):
    assert office.post(f"/payments/{queue['member']}/invoice",
                       data={"invoice": str(invoices["open"])}).status_code == 302
    second = office.post(f"/payments/{queue['member']}/invoice", data={"invoice": str(invoices["overdue"])})
    assert second.status_code == 422
    assert "Betaling: den er allerede koblet; angre den koblingen først." in text_of(second)
    dbs.expire_all()
    assert dbs.get(Invoice, invoices["overdue"]).outstanding_ore == 90000
    assert dbs.get(Invoice, invoices["open"]).outstanding_ore == 0


def test_match_to_an_unknown_invoice_names_the_field(office, queue, dbs):
    for reference in ("", "abc", "9999999", "9" * 16):
        response = office.post(f"/payments/{queue['member']}/invoice", data={"invoice": reference})
        assert response.status_code == 422
        assert "Faktura:" in text_of(response)
    assert dbs.get(Payment, queue["member"]).member_id is None


def test_match_to_an_employer_month_needs_a_basis(office, world, queue, dbs, clean_app):
    e1 = world.employers["E1"].id
    response = office.post(f"/payments/{queue['employer']}/employer-month", data={"employer_id": e1,
                                                                                  "period": "2027-01"})
    assert response.status_code == 422
    assert "Måned: Virksomhet E1 har ikke noe trekkgrunnlag for 2027-01" in text_of(response)
    for form in ({"employer_id": "", "period": "2027-01"}, {"employer_id": "abc", "period": "2027-01"},
                 {"employer_id": str(2**70), "period": "2027-01"}):
        response = office.post(f"/payments/{queue['employer']}/employer-month", data=form)
        assert response.status_code == 422 and "Arbeidsgiver: velg arbeidsgiveren" in text_of(response)
    response = office.post(f"/payments/{queue['employer']}/employer-month",
                           data={"employer_id": e1, "period": "januar"})
    assert response.status_code == 422 and "Måned:" in text_of(response)

    from tests.factories import add_initial_rate
    from webapp.services import deduction_basis

    with clean_app.app_context():
        add_initial_rate()
        deduction_basis.generate(Month(2027, 1))
        db.session.remove()
    # Making the basis matched the payment with the employer's KID by itself; a payment without a KID is matched
    # to the employer-month by hand.
    dbs.expire_all()
    automatic = dbs.get(Payment, queue["employer"])
    assert (automatic.employer_id, automatic.period, automatic.matched_manually) == (e1, "2027-01", False)
    response = office.post(f"/payments/{queue['junk']}/employer-month", data={"employer_id": e1,
                                                                              "period": "2027-01"},
                           follow_redirects=True)
    assert "Innbetalingen er koblet til Virksomhet E1, januar 2027." in text_of(response)
    dbs.expire_all()
    payment = dbs.get(Payment, queue["junk"])
    assert (payment.employer_id, payment.period, payment.matched_manually) == (e1, "2027-01", True)
    basis = dbs.scalar(select(DeductionBasis).where(DeductionBasis.employer_id == e1,
                                                    DeductionBasis.period == "2027-01"))
    assert basis.paid_total_ore == 123400 + 1000


def test_return_needs_a_reason_and_can_be_undone(office, queue, dbs):
    response = office.post(f"/payments/{queue['junk']}/return", data={"reason": "  "})
    assert response.status_code == 422 and "Begrunnelse: må fylles ut." in text_of(response)
    response = office.post(f"/payments/{queue['junk']}/return", data={"reason": "Ukjent betaler, sendt tilbake"},
                           follow_redirects=True)
    assert "Innbetalingen er merket som returnert til betaleren." in text_of(response)
    assert "Angre returen" in text_of(response)
    dbs.expire_all()
    assert dbs.get(Payment, queue["junk"]).return_reason == "Ukjent betaler, sendt tilbake"
    again = office.post(f"/payments/{queue['junk']}/return", data={"reason": "igjen"})
    assert again.status_code == 422
    office.post(f"/payments/{queue['junk']}/undo")
    dbs.expire_all()
    assert dbs.get(Payment, queue["junk"]).returned_at is None


def test_undo_of_an_automatic_match_is_refused(office, queue, dbs):
    response = office.post(f"/payments/{queue['reversal']}/undo")
    assert response.status_code == 422
    dbs.expire_all()
    assert dbs.get(Payment, queue["reversal"]).member_id is not None


def test_payment_routes_answer_404_for_a_payment_nobody_has(office, queue):
    for path in ("/payments/999999", f"/payments/{2**70}"):
        assert office.get(path).status_code == 404
    for action in ("invoice", "return", "undo", "employer-month"):
        assert office.post(f"/payments/999999/{action}", data={"reason": "x"}).status_code == 404


def test_payment_files_show_kind_and_mandates(office, clean_app):
    from webapp.models import PaymentImport
    from webapp.models.choices import PaymentFileKind

    with clean_app.app_context():
        db.session.add(PaymentImport(filename="avtaler.txt", kind=PaymentFileKind.avtalegiro_agreements,
                                     mandate_count=17, sha256="a" * 64, imported_at=dt.datetime.now()))
        db.session.commit()
        db.session.remove()
    page = text_of(office.get("/paymentimportview/list/"))
    assert "avtaler.txt" in page and "AvtaleGiro-avtaler" in page and "17" in page


# ------------------------------------------------------------------ arrears


def test_arrears_list_and_ending_a_membership(office, world, invoices, dbs):
    page = text_of(office.get("/arrears/"))
    assert "Nordmann" in page and "Avslutt medlemskap for manglende betaling" in page
    assert "Medlemmer i restanse: 1" in page and "Æsøy" not in page  # Ola's invoice is paid
    member_id = world.members["inside"].id
    confirm = text_of(office.get(f"/arrears/{member_id}/end"))
    assert "avsluttes for manglende betaling ved utgangen av denne måneden" in confirm
    response = office.post(f"/arrears/{member_id}/end", data={"reason": ""})
    assert response.status_code == 422 and "Begrunnelse: må fylles ut." in text_of(response)
    assert dbs.get(Member, member_id).left_on is None
    response = office.post(f"/arrears/{member_id}/end", data={"reason": "Tre purringer uten svar"},
                           follow_redirects=True)
    month_end = Month.of(TODAY).last_day
    assert f"avsluttes for manglende betaling {month_end:%d.%m.%Y}" in text_of(response)
    dbs.expire_all()
    member = dbs.get(Member, member_id)
    assert (member.left_on, member.leave_reason) == (month_end, LeaveReason.non_payment)
    second = office.post(f"/arrears/{member_id}/end", data={"reason": "igjen"})
    assert second.status_code == 422


def test_a_member_without_arrears_is_not_ended(office, world, invoices, dbs):
    member_id = world.members["club"].id
    response = office.post(f"/arrears/{member_id}/end", data={"reason": "Feil"})
    assert response.status_code == 422
    assert dbs.get(Member, member_id).left_on is None
    assert office.get("/arrears/999999/end").status_code == 404


# ------------------------------------------------------------------ direct dues rates and income bands


@pytest.fixture()
def bands(clean_app) -> dict[str, int]:
    with clean_app.app_context():
        low = IncomeBand(code="lav", lower_ore=0, upper_ore=30_000_000, is_default=True)
        high = IncomeBand(code="hoy", lower_ore=30_000_000)
        db.session.add_all([low, high])
        db.session.commit()
        ids = {"lav": low.id, "hoy": high.id}
        db.session.remove()
    return ids


def test_office_adds_a_direct_dues_rate(office, bands, dbs):
    form = {"valid_from": "2027-01-01", "category": "ordinary", "income_band": str(bands["hoy"]),
            "monthly_ore": "350", "note": "Høy inntekt"}  # kroner
    office.post("/directduesrateview/add", data=form)
    rate = dbs.scalar(select(DirectDuesRate))
    assert (rate.category, rate.income_band_id, rate.monthly_ore) == (MemberCategory.ordinary, bands["hoy"], 35000)
    assert "350,00" in text_of(office.get("/directduesrateview/list/"))


@pytest.mark.parametrize("changes,message", [
    ({"income_band": ""}, "Inntektstrinn: en sats for ordinære medlemmer gjelder ett inntektstrinn."),
    ({"category": "student"}, "Inntektstrinn: bare satser for ordinære medlemmer har inntektstrinn."),
    ({"monthly_ore": "100000,01"}, "Kontingent per måned (kr): må være et beløp fra kr 0,00 til kr 100 000,00."),
    ({"monthly_ore": "-1"}, "Kontingent per måned (kr): må være et beløp fra kr 0,00 til kr 100 000,00."),
    ({"valid_from": "1800-01-01"}, "Gjelder fra"),
])
def test_a_bad_direct_dues_rate_is_refused(office, bands, dbs, changes, message):
    form = {"valid_from": "2027-01-01", "category": "ordinary", "income_band": str(bands["hoy"]),
            "monthly_ore": "35000", **changes}
    response = office.post("/directduesrateview/add", data=form, follow_redirects=True)
    assert response.status_code == 200
    assert message in text_of(response)
    assert dbs.scalar(select(func.count(DirectDuesRate.id))) == 0


def test_income_bands_one_default_and_no_delete_while_in_use(office, world, bands, dbs, clean_app):
    form = {"code": "midt", "lower_ore": "20000000", "upper_ore": "40000000", "is_default": "y"}
    response = office.post("/incomebandview/add", data=form, follow_redirects=True)
    assert "et annet trinn er allerede standard" in text_of(response)
    response = office.post("/incomebandview/add", data={**form, "upper_ore": "100"}, follow_redirects=True)
    assert "Årsinntekt til: må være over nedre grense." in text_of(response)
    assert dbs.scalar(select(func.count(IncomeBand.id))) == 2
    with clean_app.app_context():
        db.session.get(Member, world.members["inside"].id).income_band_id = bands["hoy"]
        db.session.commit()
        db.session.remove()
    response = office.post(f"/incomebandview/delete/{bands['hoy']}", follow_redirects=True)
    assert "er i bruk" in text_of(response)
    dbs.expire_all()
    assert dbs.get(IncomeBand, bands["hoy"]) is not None


# ------------------------------------------------------------------ the member page


def test_office_member_page_shows_method_credit_and_invoices(office, world, invoices, clean_app):
    with clean_app.app_context():
        add_payment("1" * 16, 5000, member_id=world.members["inside"].id)
        db.session.remove()
    page = text_of(office.get(f"/memberview/show/{world.members['inside'].id}"))
    assert "Betaling av kontingent" in page
    assert "Betalingsmåte" in page and "siden" in page
    assert "Tilgode kr 50,00" in page
    assert "1. kvartal 2027" in page and "Forfalt" in page and "april 2027" in page


def test_officers_see_no_payment_facts_on_the_member_page(client, world, invoices):
    login_as(client, world.logins["leader"], "leader")
    response = client.get(f"/memberview/show/{world.members['inside'].id}")
    assert response.status_code == 200
    page = text_of(response)
    assert "Nordmann" in page
    assert "Betaling av kontingent" not in page and "1. kvartal 2027" not in page


# ------------------------------------------------------------------ two tabs, two people: one winner (PostgreSQL)


def _office_sessions(live_server, world, count: int):
    from tests.concurrency import browser_session

    return [browser_session(live_server, world.logins["office"]) for _ in range(count)]


@postgres_only
def test_concurrent_match_and_return_of_one_payment_one_wins(live_server, world, queue, invoices, dbs):
    url = f"{live_server}/payments/{queue['member']}"
    overdue_kid = dbs.get(Invoice, invoices["overdue"]).kid
    calls = [
        (lambda s=s: s.post(f"{url}/invoice", data={"invoice": overdue_kid}, allow_redirects=False)) if i % 2 else
        (lambda s=s: s.post(f"{url}/return", data={"reason": "Ukjent"}, allow_redirects=False))
        for i, s in enumerate(_office_sessions(live_server, world, 6))
    ]
    responses = fire_together(calls)
    assert sorted(r.status_code for r in responses) == [302] + [422] * 5
    refused = [r.text for r in responses if r.status_code == 422]
    assert all("Betaling: den er allerede koblet; angre den koblingen først." in text or
               "Betaling: den er sendt tilbake til betaleren" in text for text in refused)
    dbs.expire_all()
    payment = dbs.get(Payment, queue["member"])
    matched, returned = payment.member_id is not None, payment.returned_at is not None
    assert matched != returned
    allocated = dbs.scalar(select(func.coalesce(func.sum(PaymentAllocation.amount_ore), 0)))
    assert allocated == (50000 if matched else 0)
    assert dbs.get(Invoice, invoices["overdue"]).outstanding_ore == (40000 if matched else 90000)


@postgres_only
def test_concurrent_credit_notes_never_credit_more_than_is_left(live_server, world, invoices, dbs):
    url = f"{live_server}/invoiceview/adjust/{invoices['overdue']}"
    calls = [lambda s=s: s.post(url, data={"kind": "credit_note", "amount": "600", "reason": "Dobbelt"},
                                allow_redirects=False)
             for s in _office_sessions(live_server, world, 5)]
    responses = fire_together(calls)
    assert sorted(r.status_code for r in responses) == [302] + [422] * 4
    assert all("høyst det som gjenstår av fakturaen, 300,00 kr" in r.text for r in responses if r.status_code == 422)
    dbs.expire_all()
    assert dbs.get(Invoice, invoices["overdue"]).outstanding_ore == 30000


@postgres_only
def test_concurrent_endings_of_a_membership_one_wins(live_server, world, invoices, dbs):
    url = f"{live_server}/arrears/{world.members['inside'].id}/end"
    calls = [lambda s=s: s.post(url, data={"reason": "Tre purringer"}, allow_redirects=False)
             for s in _office_sessions(live_server, world, 4)]
    responses = fire_together(calls)
    assert sorted(r.status_code for r in responses) == [302] + [422] * 3
    assert all("har allerede gått ut" in r.text for r in responses if r.status_code == 422)
    dbs.expire_all()
    assert dbs.get(Member, world.members["inside"].id).leave_reason == LeaveReason.non_payment


def test_payment_detail_names_its_file_and_links_to_the_actions(office, queue):
    page = office.get(f"/paymentview/show/{queue['reversal']}").get_data(as_text=True)
    assert "-OCR.txt" in page and "object at 0x" not in page
    assert f'href="/payments/{queue["reversal"]}"' in page
