"""One winner in direct billing, on PostgreSQL: the same change fired by several processes' sessions at once.

Each call runs in an app context (and database connection) of its own, all released together: credit notes
and write-offs never take more than an invoice has left, a membership is ended once, every invoice and every
reminder goes out once, and two billing runs make each invoice once.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.billing_helpers import add_direct_rates, direct_member
from tests.concurrency import fire_together, postgres_only
from tests.factories import add_initial_rate
from webapp.extensions import db
from webapp.models import AuditEntry, Invoice, InvoiceAdjustment, Member
from webapp.services import arrears, invoice_documents, invoices
from webapp.services.periods import Quarter

pytestmark = postgres_only

N = 6
Q1 = Quarter(2027, 1)
ISSUED = dt.date(2026, 12, 10)
QUARTER_ORE = 127800


class Refused(str):
    """A service's refusal, as the loser was told it (a value, so that fire_together hands it back)."""


def in_app(app, work: Callable):
    with app.app_context():
        try:
            return work()
        except ValueError as refusal:  # the services' refusals: the loser's answer
            return Refused(refusal)
        finally:
            db.session.remove()


def together(app, works: list[Callable]) -> list:
    return fire_together([lambda work=work: in_app(app, work) for work in works])


def refusals(results) -> list[str]:
    return [str(r) for r in results if isinstance(r, Refused)]


@pytest.fixture()
def billed(clean_app, world, tmp_path):
    """Q1 billed for the world's five direct payers and two members without e-mail."""
    saved = clean_app.config["INVOICE_PRINT_DIR"]
    clean_app.config["INVOICE_PRINT_DIR"] = str(tmp_path)

    def setup():
        add_initial_rate()
        add_direct_rates()
        for last in ("Papir", "Post"):
            direct_member(world, "Per", last, email=None)
        db.session.commit()
        invoices.generate(Q1, today=ISSUED)
        return {m.member_id: m.id for m in db.session.scalars(select(Invoice))}

    yield in_app(clean_app, setup)
    clean_app.config["INVOICE_PRINT_DIR"] = saved


def test_concurrent_credit_notes_never_credit_more_than_is_left(clean_app, world, billed):
    invoice_id = billed[world.members["lf1_direct"].id]
    results = together(clean_app, [lambda: invoices.credit_note(invoice_id, 60000, "Rabatt", None)] * N)
    assert len(refusals(results)) == N - 2
    assert all("høyst det som gjenstår av fakturaen" in text for text in refusals(results))

    def check():
        invoice = db.session.get(Invoice, invoice_id)
        raw = db.session.scalar(select(func.sum(InvoiceAdjustment.amount_ore))
                                .where(InvoiceAdjustment.invoice_id == invoice_id))
        return invoice.credited_ore, invoice.outstanding_ore, raw

    assert in_app(clean_app, check) == (120000, QUARTER_ORE - 120000, 120000)


def test_concurrent_write_offs_and_credit_notes_adjust_exactly_what_was_owed(clean_app, world, billed):
    invoice_id = billed[world.members["leader"].id]
    works = [lambda: invoices.write_off(invoice_id, None, "Uerholdelig", None),
             lambda: invoices.credit_note(invoice_id, 100000, "Feil", None)] * (N // 2)
    results = together(clean_app, works)
    won = [r for r in results if not isinstance(r, Refused)]
    assert 1 <= len(won) <= 2

    def check():
        invoice = db.session.get(Invoice, invoice_id)
        return invoice.outstanding_ore, invoice.credited_ore + invoice.written_off_ore

    assert in_app(clean_app, check) == (0, QUARTER_ORE)


def test_concurrent_ends_of_a_membership_have_one_winner(clean_app, world, billed):
    member_id = world.members["treasurer"].id
    results = together(clean_app, [
        lambda: arrears.end_membership_for_non_payment(member_id, None, dt.date(2027, 2, 10), "Ikke betalt")] * N)
    assert len(refusals(results)) == N - 1
    assert all("Treasurer Tillitsvalgt har allerede gått ut" in text for text in refusals(results))

    def check():
        member = db.session.get(Member, member_id)
        entries = db.session.scalar(select(func.count(AuditEntry.id))
                                    .where(AuditEntry.action == "end_membership_non_payment"))
        return member.left_on, entries

    assert in_app(clean_app, check) == (dt.date(2027, 2, 28), 1)


def printed_kids(directory) -> list[str]:
    kids = []
    for path in sorted(directory.iterdir()):
        for page in PdfReader(io.BytesIO(path.read_bytes())).pages:
            kids.extend(word for word in page.extract_text().split() if word.startswith("902") and len(word) == 16)
    return kids


def test_concurrent_sending_mails_and_prints_each_invoice_once(clean_app, world, billed, smtp_server, tmp_path):
    results = together(clean_app, [lambda: invoice_documents.send(Q1, ISSUED)] * N)
    assert sum(r.emails for r in results) == 5 and sum(r.printed for r in results) == 2
    assert sorted(m["to"][0] for m in smtp_server.messages) == sorted(
        in_app(clean_app, lambda: [db.session.get(Member, world.members[key].id).email_private
                                   for key in ("lf1_direct", "leader", "treasurer", "member_data_admin",
                                               "workplace_trustee")]))
    # Every invoice of the two without e-mail is on one page of one print file, once (each KID twice on it).
    paper = in_app(clean_app, lambda: sorted(db.session.scalars(
        select(Invoice.kid).join(Member).where(Member.email_private.is_(None)))))
    assert sorted(set(printed_kids(tmp_path))) == paper
    assert len(printed_kids(tmp_path)) == 2 * len(paper)


def test_concurrent_reminder_runs_remind_once(clean_app, world, billed, smtp_server):
    in_app(clean_app, lambda: invoice_documents.send(Q1, ISSUED))
    smtp_server.messages.clear()
    results = together(clean_app, [lambda: invoice_documents.remind(dt.date(2027, 1, 29))] * N)
    assert sum(r.first for r in results) == 7
    assert len(smtp_server.messages) == 5


def test_concurrent_billing_runs_make_each_invoice_once(clean_app, world, billed):
    def wipe():
        db.session.execute(Invoice.__table__.delete())
        db.session.commit()

    in_app(clean_app, wipe)
    results = together(clean_app, [lambda: invoices.generate(Q1, today=ISSUED)] * N)
    assert refusals(results) == []
    assert sum(r.created for r in results) == 7
    assert in_app(clean_app, lambda: db.session.scalar(select(func.count(Invoice.id)))) == 7
