"""The office's manual actions on payments, member credit and rematching: exact sums, audited, undoable."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.factories import add_initial_rate, make_user
from tests.payment_helpers import allocated_to, make_invoice, ocr
from webapp.extensions import db
from webapp.models import AuditEntry, DeductionBasis, Invoice, Payment, PaymentAllocation
from webapp.models.choices import InvoiceStatus
from webapp.services import bulk, deduction_basis, invoice_ledger, invoices, payments
from webapp.services.kid import kid_for, member_kid_for
from webapp.services.payment_matching import (
    PaymentMatchError,
    apply_member_credit,
    match_to_employer_month,
    match_to_invoice,
    rematch_unmatched,
    return_payment,
    undo_manual_match,
)
from webapp.services.periods import Month

STRANGER_KID = "1234567890"


@pytest.fixture()
def office(app_ctx, world):
    add_initial_rate()
    deduction_basis.generate(Month(2026, 3))
    user = make_user("kasse", roles=["office"])
    db.session.commit()
    return user.id


def unmatched_payment(amount: int, kid: str = STRANGER_KID, file_number: int = 1) -> int:
    payments.import_file(f"fil{file_number}.txt", ocr([(kid, amount)], file_number=file_number))
    return db.session.scalar(select(Payment.id).order_by(Payment.id.desc()))


def payment(payment_id: int) -> Payment:
    db.session.expire_all()
    return db.session.get(Payment, payment_id)


def invoice(invoice_id: int) -> Invoice:
    db.session.expire_all()
    return db.session.get(Invoice, invoice_id)


def audit_actions(payment_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "payment",
                                                                   AuditEntry.object_id == payment_id)
                                   .order_by(AuditEntry.id)))


def member_invoice(world, key="lf1_direct", month=Month(2026, 1), amount=90_000) -> Invoice:
    member = world.members[key]
    return make_invoice(member.id, member.member_no, month, amount)


def basis(employer_id: int, period: str) -> DeductionBasis:
    db.session.expire_all()
    return db.session.scalars(select(DeductionBasis).where(DeductionBasis.employer_id == employer_id,
                                                           DeductionBasis.period == period)).one()


# ------------------------------------------------------------------ employer-month


def test_match_to_an_employer_month_reconciles_it_and_is_audited(office, world):
    e1 = world.employers["E1"].id
    payment_id = unmatched_payment(55_000)

    match_to_employer_month(payment_id, e1, "2026-03", office)

    matched = payment(payment_id)
    assert (matched.employer_id, matched.period, matched.matched_manually, matched.matched_by_id) == (
        e1, "2026-03", True, office)
    assert basis(e1, "2026-03").paid_total_ore == 55_000
    assert audit_actions(payment_id) == ["payment_match_employer_month"]


def test_match_to_a_month_without_basis_is_refused_and_nothing_changes(office, world):
    payment_id = unmatched_payment(55_000)
    with pytest.raises(PaymentMatchError, match=r"^Måned: Virksomhet E1 har ikke noe trekkgrunnlag for 2026-04"):
        match_to_employer_month(payment_id, world.employers["E1"].id, "2026-04", office)
    with pytest.raises(PaymentMatchError, match=r"^Måned: må være en måned"):
        match_to_employer_month(payment_id, world.employers["E1"].id, "april", office)
    assert payment(payment_id).employer_id is None and audit_actions(payment_id) == []


def test_undo_of_an_employer_match_puts_the_payment_back_and_reconciles(office, world):
    e1 = world.employers["E1"].id
    payment_id = unmatched_payment(55_000)
    match_to_employer_month(payment_id, e1, "2026-03", office)

    undo_manual_match(payment_id, office)

    undone = payment(payment_id)
    assert (undone.employer_id, undone.period, undone.matched_manually) == (None, None, False)
    assert basis(e1, "2026-03").paid_total_ore == 0
    assert audit_actions(payment_id) == ["payment_match_employer_month", "payment_undo"]


def test_an_automatic_match_cannot_be_undone_or_matched_again(office, world):
    payment_id = unmatched_payment(55_000, kid_for("94001761", Month(2026, 3)))
    assert payment(payment_id).employer_id == world.employers["E1"].id
    with pytest.raises(PaymentMatchError, match=r"^Betaling: bare en manuell kobling"):
        undo_manual_match(payment_id, office)
    with pytest.raises(PaymentMatchError, match=r"^Betaling: den er allerede koblet"):
        match_to_employer_month(payment_id, world.employers["E2"].id, "2026-03", office)


# ------------------------------------------------------------------ invoices


def test_match_to_invoice_allocates_up_to_outstanding_and_the_rest_is_credit(office, world):
    inv = member_invoice(world)
    payment_id = unmatched_payment(100_000)

    match_to_invoice(payment_id, inv.id, office)

    assert invoice(inv.id).status == InvoiceStatus.paid and allocated_to(inv.id) == 90_000
    matched = payment(payment_id)
    assert matched.member_id == inv.member_id and matched.matched_manually
    assert invoice_ledger.member_credit_ore(inv.member_id) == 10_000
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == payment_id)).one()
    assert entry.action == "payment_match_invoice" and entry.member_id == inv.member_id
    assert json.loads(entry.details)["allocated_ore"] == 90_000


def test_undo_of_an_invoice_match_removes_its_allocations_also_the_credit_applied_elsewhere(office, world):
    first = member_invoice(world, month=Month(2026, 1))
    payment_id = unmatched_payment(120_000)
    match_to_invoice(payment_id, first.id, office)
    second = member_invoice(world, month=Month(2026, 4))
    assert apply_member_credit([first.member_id]) == 30_000
    db.session.commit()
    assert invoice(second.id).status == InvoiceStatus.partly_paid

    undo_manual_match(payment_id, office)

    assert (invoice(first.id).paid_ore, invoice(second.id).paid_ore) == (0, 0)
    assert invoice(first.id).status == InvoiceStatus.open
    assert db.session.scalar(select(PaymentAllocation.id)) is None
    assert payment(payment_id).member_id is None
    assert invoice_ledger.member_credit_ore(first.member_id) == 0


def test_undo_is_refused_when_a_reversal_has_taken_back_what_the_payment_paid(office, world):
    inv = member_invoice(world)
    payment_id = unmatched_payment(90_000)
    match_to_invoice(payment_id, inv.id, office)
    payments.import_file("retur.txt", ocr([(inv.kid, -90_000)], file_number=2))
    assert invoice(inv.id).paid_ore == 0

    with pytest.raises(PaymentMatchError, match=r"^Betaling: en tilbakeføring"):
        undo_manual_match(payment_id, office)
    assert payment(payment_id).member_id == inv.member_id and allocated_to(inv.id) == 0


def test_a_negative_payment_matched_by_hand_takes_back_at_most_what_the_invoice_was_paid(office, world):
    inv = member_invoice(world)
    payments.import_file("betaling.txt", ocr([(inv.kid, 40_000)], file_number=1))
    reversal = unmatched_payment(-60_000, file_number=2)

    match_to_invoice(reversal, inv.id, office)

    assert invoice(inv.id).paid_ore == 0 and invoice(inv.id).outstanding_ore == 90_000
    assert invoice_ledger.member_credit_ore(inv.member_id) == -20_000


def test_the_ledger_refresh_updates_a_loaded_invoice_and_writes_only_what_changed(office, world, monkeypatch):
    """invoice_ledger.refresh writes the kept sums through the table, by one statement: an invoice this session
    holds reads the new figures at once (before any commit), and one whose figures stand is not written."""
    paid, untouched = member_invoice(world), member_invoice(world, month=Month(2026, 4), amount=30_000)
    payment_id = unmatched_payment(40_000)
    db.session.execute(PaymentAllocation.__table__.insert().values(payment_id=payment_id, invoice_id=paid.id,
                                                                   amount_ore=40_000, created_at=paid.created_at))
    written = []
    update_rows = bulk.update_rows

    def recorded(table, columns, rows):
        written.append([row[0] for row in rows])
        update_rows(table, columns, rows)

    monkeypatch.setattr(bulk, "update_rows", recorded)
    assert invoice_ledger.refresh([paid.id, untouched.id]) == 2
    assert (paid.paid_ore, paid.status) == (40_000, InvoiceStatus.partly_paid)  # no expire_all, no commit
    assert (untouched.paid_ore, untouched.status) == (0, InvoiceStatus.open)
    assert written == [[paid.id]]
    db.session.expire_all()
    assert db.session.get(Invoice, paid.id).status == InvoiceStatus.partly_paid  # in the database, not only loaded


def test_an_import_keeps_the_figures_a_refresh_computes(office, world, monkeypatch):
    """A bank file's import keeps the paid sums and status from the figures it locked and the allocations it made
    (invoice_ledger.store_paid), not by reading the rows again: a refresh of every invoice after it finds nothing to
    write. The file pays one invoice twice, one in part, one beyond its amount, takes back from a paid one, and pays
    invoices with a credit note and a write-off."""
    twice, part, over = (member_invoice(world, month=Month(2026, m), amount=30_000) for m in (1, 4, 7))
    reversed_ = member_invoice(world, key="inside", month=Month(2026, 1), amount=20_000)
    credited = member_invoice(world, key="inside", month=Month(2026, 4), amount=50_000)
    written = member_invoice(world, key="inside", month=Month(2026, 7), amount=50_000)
    payments.import_file("first.txt", ocr([(reversed_.kid, 20_000)], file_number=1))
    invoices.credit_note(credited.id, 20_000, "Feil sats", office)
    invoices.write_off(written.id, 40_000, "Uerholdelig", office)
    written_ids = []
    update_rows = bulk.update_rows

    def recorded(table, columns, rows):
        written_ids.extend(row[0] for row in rows)
        update_rows(table, columns, rows)

    monkeypatch.setattr(bulk, "update_rows", recorded)
    payments.import_file("second.txt", ocr([(twice.kid, 10_000), (part.kid, 5_000), (over.kid, 45_000),
                                            (twice.kid, 20_000), (reversed_.kid, -15_000), (credited.kid, 30_000),
                                            (written.kid, 10_000)], file_number=2))
    assert sorted(written_ids) == sorted(i.id for i in (twice, part, over, reversed_, credited, written))
    figures = {i.id: (invoice(i.id).paid_ore, invoice(i.id).status)
               for i in (twice, part, over, reversed_, credited, written)}
    assert figures == {twice.id: (30_000, InvoiceStatus.paid), part.id: (5_000, InvoiceStatus.partly_paid),
                       over.id: (30_000, InvoiceStatus.paid), reversed_.id: (5_000, InvoiceStatus.partly_paid),
                       credited.id: (30_000, InvoiceStatus.paid), written.id: (10_000, InvoiceStatus.written_off)}

    written_ids.clear()
    every_invoice = db.session.scalars(select(Invoice.id)).all()
    assert invoice_ledger.refresh(every_invoice) == len(every_invoice) and written_ids == []


def test_match_to_a_missing_invoice_or_payment_is_refused(office, world):
    payment_id = unmatched_payment(10_000)
    with pytest.raises(PaymentMatchError, match=r"^Faktura: fakturaen finnes ikke"):
        match_to_invoice(payment_id, 999_999, office)
    with pytest.raises(PaymentMatchError, match=r"^Betaling: betalingen finnes ikke"):
        match_to_invoice(999_999, 1, office)
    assert payment(payment_id).member_id is None


# ------------------------------------------------------------------ returns


def test_return_needs_a_reason_and_can_be_undone(office, world):
    payment_id = unmatched_payment(25_000)
    with pytest.raises(PaymentMatchError, match=r"^Begrunnelse: må fylles ut"):
        return_payment(payment_id, "   ", office)
    with pytest.raises(PaymentMatchError, match=r"^Begrunnelse: .*500"):
        return_payment(payment_id, "x" * 501, office)

    return_payment(payment_id, "Betalt til feil mottaker", office)
    returned = payment(payment_id)
    assert returned.returned_at is not None and returned.return_reason == "Betalt til feil mottaker"
    with pytest.raises(PaymentMatchError, match=r"^Betaling: den er sendt tilbake"):
        match_to_invoice(payment_id, member_invoice(world).id, office)

    undo_manual_match(payment_id, office)
    assert payment(payment_id).returned_at is None
    assert audit_actions(payment_id) == ["payment_return", "payment_undo"]


def test_a_reversal_cannot_be_returned(office):
    payment_id = unmatched_payment(-25_000)
    with pytest.raises(PaymentMatchError, match=r"^Betaling: bare en innbetaling"):
        return_payment(payment_id, "Feil", office)


# ------------------------------------------------------------------ member credit


@pytest.mark.parametrize("one_pass_from", [5000, 1], ids=["per-member lists", "one grouped pass"])
def test_member_credit_goes_to_open_invoices_oldest_first_never_beyond_the_credit(office, world, monkeypatch,
                                                                                  one_pass_from):
    """Both ways of finding the members with credit (an IN list for a few, one pass for many) agree."""
    import webapp.services.payment_matching as matching

    monkeypatch.setattr(matching, "_ONE_PASS_FROM", one_pass_from)
    older = member_invoice(world, month=Month(2026, 1), amount=30_000)
    payments.import_file("over.txt", ocr([(older.kid, 80_000)]))  # 30 000 to the invoice, 50 000 credit
    newer = member_invoice(world, month=Month(2026, 7), amount=40_000)
    middle = member_invoice(world, month=Month(2026, 4), amount=40_000)

    assert apply_member_credit([older.member_id, world.members["inside"].id]) == 50_000
    db.session.commit()

    assert invoice(middle.id).status == InvoiceStatus.paid
    assert (invoice(newer.id).paid_ore, invoice(newer.id).status) == (10_000, InvoiceStatus.partly_paid)
    assert invoice_ledger.member_credit_ore(older.member_id) == 0
    assert apply_member_credit([older.member_id]) == 0


def test_member_credit_net_of_a_reversal_is_what_is_applied(office, world):
    inv = member_invoice(world, month=Month(2026, 1), amount=30_000)
    payments.import_file("over.txt", ocr([(inv.kid, 80_000)], file_number=1))
    other_kid = member_kid_for(world.members["lf1_direct"].member_no, Month(2026, 4))
    later = member_invoice(world, month=Month(2026, 4), amount=40_000)
    assert later.kid == other_kid
    reversal = unmatched_payment(-35_000, file_number=2)
    match_to_invoice(reversal, inv.id, office)  # takes back 30 000 from the invoice, 5 000 from the credit
    assert invoice_ledger.member_credit_ore(inv.member_id) == 45_000

    assert apply_member_credit([inv.member_id]) == 45_000
    db.session.commit()
    assert invoice_ledger.member_credit_ore(inv.member_id) == 0
    assert invoice(inv.id).outstanding_ore == 0 and invoice(later.id).outstanding_ore == 25_000


# ------------------------------------------------------------------ rematching


def test_rematch_matches_member_payments_once_the_invoice_exists_and_leaves_manual_decisions(office, world):
    member = world.members["lf1_direct"]
    kid = member_kid_for(member.member_no, Month(2026, 7))
    waiting = unmatched_payment(20_000, kid, file_number=1)
    returned = unmatched_payment(20_000, kid, file_number=2)
    return_payment(returned, "Dobbelt betalt", office)
    by_hand = unmatched_payment(20_000, kid, file_number=3)
    match_to_employer_month(by_hand, world.employers["E1"].id, "2026-03", office)

    inv = make_invoice(member.id, member.member_no, Month(2026, 7), 30_000)
    assert rematch_unmatched() == 1

    assert payment(waiting).member_id == member.id and not payment(waiting).matched_manually
    assert invoice(inv.id).paid_ore == 20_000
    assert payment(returned).returned_at is not None and payment(returned).member_id is None
    assert payment(by_hand).employer_id == world.employers["E1"].id
