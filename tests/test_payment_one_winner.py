"""One winner on PostgreSQL: the office's actions on one payment, fired at the same instant from separate sessions.

Each call runs in its own thread with its own app context (so its own database session and transaction), all
released together by a barrier: the payment row lock and the re-check inside the transaction let exactly one
win, and the loser is refused with a message, having written nothing.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.concurrency import postgres_only
from tests.factories import add_initial_rate
from tests.payment_helpers import make_invoice, ocr
from webapp.extensions import db
from webapp.models import AuditEntry, Invoice, Payment, PaymentAllocation
from webapp.services import deduction_basis, payment_matching, payments
from webapp.services.periods import Month

pytestmark = postgres_only

ROUNDS = 5


def together(app, calls) -> list:
    """Run each call in its own thread and app context, released at once; the result or the refusal of each."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        with app.app_context():
            barrier.wait()
            try:
                call()
                results[index] = "ok"
            except payment_matching.PaymentMatchError as refusal:
                results[index] = refusal
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(result is not None for result in results), "a concurrent call did not finish"
    return results


@pytest.fixture()
def setup(app_ctx, world):
    add_initial_rate()
    deduction_basis.generate(Month(2026, 3))
    lise, kari = world.members["lf1_direct"], world.members["inside"]
    invoices = [make_invoice(lise.id, lise.member_no, Month(2026, 1), 90_000).id,
                make_invoice(kari.id, kari.member_no, Month(2026, 1), 90_000).id]
    db.session.remove()
    return app_ctx, world, invoices


def new_unmatched_payments(amounts: list[int], file_number: int) -> list[int]:
    payments.import_file(f"fil{file_number}.txt", ocr([("1234567890", a) for a in amounts], file_number=file_number))
    ids = list(db.session.scalars(select(Payment.id).order_by(Payment.id.desc()).limit(len(amounts))))
    db.session.remove()
    return sorted(ids)


def winners(results) -> int:
    return sum(result == "ok" for result in results)


def test_two_matches_of_one_payment_to_two_invoices_have_one_winner(setup):
    app, _world, (lise_invoice, kari_invoice) = setup
    for round_number in range(ROUNDS):
        [payment_id] = new_unmatched_payments([10_000], round_number + 1)
        results = together(app, [
            lambda p=payment_id: payment_matching.match_to_invoice(p, lise_invoice, None),
            lambda p=payment_id: payment_matching.match_to_invoice(p, kari_invoice, None),
        ])
        assert winners(results) == 1, results
        refusal = next(r for r in results if r != "ok")
        assert str(refusal).startswith("Betaling: den er allerede koblet")
        assert db.session.scalar(select(func.count(PaymentAllocation.id))
                                 .where(PaymentAllocation.payment_id == payment_id)) == 1
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.object_id == payment_id,
                                                                         AuditEntry.object_type == "payment")) == 1
        db.session.remove()


def test_match_to_an_employer_month_against_a_return_has_one_winner(setup):
    app, world, _invoices = setup
    employer_id = world.employers["E1"].id
    for round_number in range(ROUNDS):
        [payment_id] = new_unmatched_payments([50_000], 100 + round_number)
        results = together(app, [
            lambda p=payment_id: payment_matching.match_to_employer_month(p, employer_id, "2026-03", None),
            lambda p=payment_id: payment_matching.return_payment(p, "Feil mottaker", None),
        ])
        assert winners(results) == 1, results
        payment = db.session.get(Payment, payment_id)
        assert (payment.employer_id is not None) != (payment.returned_at is not None)
        db.session.remove()


def test_two_undos_of_one_manual_match_have_one_winner(setup):
    app, _world, (lise_invoice, _kari_invoice) = setup
    for round_number in range(ROUNDS):
        [payment_id] = new_unmatched_payments([1_000], 200 + round_number)
        payment_matching.match_to_invoice(payment_id, lise_invoice, None)
        db.session.remove()
        results = together(app, [lambda p=payment_id: payment_matching.undo_manual_match(p, None)] * 2)
        assert winners(results) == 1, results
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.object_id == payment_id, AuditEntry.action == "payment_undo")) == 1
        db.session.remove()


def test_two_payments_matched_to_one_invoice_at_once_never_overpay_it(setup):
    app, _world, (lise_invoice, _kari_invoice) = setup
    first, second = new_unmatched_payments([60_000, 60_000], 300)
    results = together(app, [
        lambda: payment_matching.match_to_invoice(first, lise_invoice, None),
        lambda: payment_matching.match_to_invoice(second, lise_invoice, None),
    ])
    assert winners(results) == 2
    invoice = db.session.get(Invoice, lise_invoice)
    assert (invoice.paid_ore, invoice.outstanding_ore) == (90_000, 0)
    assert db.session.scalar(select(func.sum(PaymentAllocation.amount_ore))
                             .where(PaymentAllocation.invoice_id == lise_invoice)) == 90_000


def test_one_file_imported_twice_at_once_is_stored_once(setup):
    app, _world, (lise_invoice, _kari_invoice) = setup
    kid = db.session.get(Invoice, lise_invoice).kid
    db.session.remove()
    for round_number in range(ROUNDS):
        data = ocr([(kid, 1_000), ("1234567890", 500)], file_number=400 + round_number)
        results = together(app, [lambda d=data: payments.import_file("samme.txt", d)] * 2)
        assert results == ["ok", "ok"]
    assert db.session.scalar(select(func.count(Payment.id))) == 2 * ROUNDS
    invoice = db.session.get(Invoice, lise_invoice)
    assert invoice.paid_ore == 1_000 * ROUNDS
