"""Property: whatever happens (invoices, credit notes, write-offs, partial, over-, reversed and duplicated payments,
manual matches, returns, undos, credit applied, rematching), the money adds up to the øre, from the raw rows.

- every invoice: outstanding = amount - credited - written off - the sum of its allocations, never below 0 and
  never paid below 0;
- every payment is exactly one of employer-matched, member-matched, returned, unmatched; allocations come only
  from member payments to that member's invoices, with the payment's sign;
- the sum of all imported transactions (each stored once, with its sign) = employer-matched + allocated + member
  credit + unmatched + returned; the employer-month's reconciliation shows what is matched to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import netsgiro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from tests.factories import add_initial_rate
from tests.payment_helpers import make_invoice, ocr
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    DeductionBasis,
    Invoice,
    InvoiceAdjustment,
    Payment,
    PaymentAllocation,
    PaymentImport,
)
from webapp.models.choices import InvoiceAdjustmentKind
from webapp.services import deduction_basis, invoices, payment_matching, payments
from webapp.services.invoice_ledger import stored_status
from webapp.services.kid import kid_for, member_kid_for
from webapp.services.periods import Month
from webapp.services.reconciliation import reconcile

MONTHS = [Month(2026, 1), Month(2026, 4), Month(2026, 7)]
BASIS_MONTH = Month(2026, 3)
MEMBER_KEYS = ("lf1_direct", "inside")

amounts = st.integers(min_value=1, max_value=150_000)
signed_amounts = st.tuples(amounts, st.sampled_from([1, 1, 1, -1])).map(lambda pair: pair[0] * pair[1])
# Where a transaction's KID points: ("invoice", i) one of the invoices made so far, ("member", m, month) a member
# KID with perhaps no invoice, ("employer", with basis?), ("stranger",).
kid_targets = st.one_of(
    st.tuples(st.just("invoice"), st.integers(0, 5)),
    st.tuples(st.just("member"), st.integers(0, 1), st.integers(0, 2)),
    st.tuples(st.just("employer"), st.booleans()),
    st.tuples(st.just("stranger")),
)
operations = st.one_of(
    st.tuples(st.just("invoice"), st.integers(0, 1), st.integers(0, 2), amounts),
    st.tuples(st.just("pay"), st.lists(st.tuples(kid_targets, signed_amounts), min_size=1, max_size=4)),
    st.tuples(st.just("same_file_again"), st.integers(0, 5)),
    st.tuples(st.just("same_transactions_in_a_new_file"), st.integers(0, 5)),
    st.tuples(st.just("credit_note"), st.integers(0, 5), st.integers(1, 100)),
    st.tuples(st.just("write_off"), st.integers(0, 5), st.integers(1, 100)),
    st.tuples(st.just("match_invoice"), st.integers(0, 20), st.integers(0, 5)),
    st.tuples(st.just("match_employer"), st.integers(0, 20)),
    st.tuples(st.just("return"), st.integers(0, 20)),
    st.tuples(st.just("undo"), st.integers(0, 20)),
    st.tuples(st.just("apply_credit"), st.integers(0, 1)),
    st.tuples(st.just("rematch"),),
)


class Run:
    """The state of one example: what was made, and every transaction the bank sent (by bank reference)."""

    def __init__(self, union: Union):
        self.members = union.members
        self.employer_id = union.employer_id
        self.invoice_ids: list[int] = []
        self.files: list[bytes] = []
        # What the bank sent, each transaction once: how many and their signed sum.
        self.sent_count = 0
        self.sent_total = 0

    def kid(self, target) -> str:
        kind = target[0]
        if kind == "invoice" and self.invoice_ids:
            return db.session.get(Invoice, self.invoice_ids[target[1] % len(self.invoice_ids)]).kid
        if kind in ("invoice", "member"):
            member = self.members[target[1] % 2] if kind == "member" else self.members[0]
            return member_kid_for(member.member_no, MONTHS[target[2] % 3] if kind == "member" else MONTHS[0])
        if kind == "employer":
            return kid_for("94001761", BASIS_MONTH if target[1] else BASIS_MONTH.next)
        return "1234567890"

    def import_file(self, data: bytes) -> None:
        payments.import_file(f"fil{len(self.files)}.txt", data)
        self.files.append(data)

    def payment_id(self, index: int) -> int | None:
        ids = list(db.session.scalars(select(Payment.id).order_by(Payment.id)))
        return ids[index % len(ids)] if ids else None

    def invoice_id(self, index: int) -> int | None:
        return self.invoice_ids[index % len(self.invoice_ids)] if self.invoice_ids else None


def apply(run: Run, operation) -> None:
    kind, *args = operation
    handler = HANDLERS[kind]
    try:
        handler(run, *args)
    except (payment_matching.PaymentMatchError, invoices.InvoiceError):
        db.session.rollback()  # a refusal: nothing written, the properties still hold


def make(run: Run, member_index: int, month_index: int, amount: int) -> None:
    member = run.members[member_index]
    month = MONTHS[month_index]
    if db.session.scalar(select(Invoice.id).where(Invoice.member_id == member.id,
                                                  Invoice.first_month == str(month))) is None:
        run.invoice_ids.append(make_invoice(member.id, member.member_no, month, amount).id)


def pay(run: Run, entries) -> None:
    run.import_file(ocr([(run.kid(target), amount) for target, amount in entries], file_number=len(run.files) + 1))
    run.sent_count += len(entries)
    run.sent_total += sum(amount for _target, amount in entries)


def same_file_again(run: Run, index: int) -> None:
    if run.files:
        run.import_file(run.files[index % len(run.files)])


def same_transactions_in_a_new_file(run: Run, index: int) -> None:
    if run.files:
        transmission = netsgiro.parse(run.files[index % len(run.files)].decode("iso-8859-1"))
        transmission.number = f"{9_000_000 + len(run.files):07d}"
        run.import_file(transmission.to_ocr().encode("iso-8859-1"))


def adjust(kind: InvoiceAdjustmentKind):
    def handler(run: Run, index: int, percent: int) -> None:
        invoice_id = run.invoice_id(index)
        if invoice_id is None:
            return
        left = db.session.get(Invoice, invoice_id).outstanding_ore
        amount = max(1, left * percent // 100)
        action = invoices.credit_note if kind == InvoiceAdjustmentKind.credit_note else invoices.write_off
        action(invoice_id, amount, "Eiendomstest", None)

    return handler


def match_invoice(run: Run, payment_index: int, invoice_index: int) -> None:
    payment_id, invoice_id = run.payment_id(payment_index), run.invoice_id(invoice_index)
    if payment_id and invoice_id:
        payment_matching.match_to_invoice(payment_id, invoice_id, None)


def match_employer(run: Run, payment_index: int) -> None:
    payment_id = run.payment_id(payment_index)
    if payment_id:
        payment_matching.match_to_employer_month(payment_id, run.employer_id, str(BASIS_MONTH), None)


def return_payment(run: Run, payment_index: int) -> None:
    payment_id = run.payment_id(payment_index)
    if payment_id:
        payment_matching.return_payment(payment_id, "Sendt tilbake", None)


def undo(run: Run, payment_index: int) -> None:
    payment_id = run.payment_id(payment_index)
    if payment_id:
        payment_matching.undo_manual_match(payment_id, None)


def apply_credit(run: Run, member_index: int) -> None:
    payment_matching.apply_member_credit([run.members[member_index].id])
    db.session.commit()


HANDLERS = {
    "invoice": make, "pay": pay, "same_file_again": same_file_again,
    "same_transactions_in_a_new_file": same_transactions_in_a_new_file,
    "credit_note": adjust(InvoiceAdjustmentKind.credit_note), "write_off": adjust(InvoiceAdjustmentKind.write_off),
    "match_invoice": match_invoice, "match_employer": match_employer, "return": return_payment, "undo": undo,
    "apply_credit": apply_credit, "rematch": lambda run: payment_matching.rematch_unmatched(),
}


# ------------------------------------------------------------------ the properties, from raw rows


def raw_sum(query) -> int:
    return int(db.session.scalar(query) or 0)


def check_invoices() -> None:
    paid = dict(db.session.execute(select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_ore))
                                   .group_by(PaymentAllocation.invoice_id)).all())
    adjusted = {(i, k): int(t) for i, k, t in db.session.execute(
        select(InvoiceAdjustment.invoice_id, InvoiceAdjustment.kind, func.sum(InvoiceAdjustment.amount_ore))
        .group_by(InvoiceAdjustment.invoice_id, InvoiceAdjustment.kind)).all()}
    for invoice in db.session.scalars(select(Invoice)):
        raw_paid = int(paid.get(invoice.id) or 0)
        credited = adjusted.get((invoice.id, InvoiceAdjustmentKind.credit_note), 0)
        written_off = adjusted.get((invoice.id, InvoiceAdjustmentKind.write_off), 0)
        outstanding = invoice.amount_ore - credited - written_off - raw_paid
        assert invoice.outstanding_ore == outstanding, invoice.kid
        assert (invoice.paid_ore, invoice.credited_ore, invoice.written_off_ore) == (raw_paid, credited, written_off)
        assert outstanding >= 0 and raw_paid >= 0, invoice.kid
        assert invoice.status == stored_status(invoice.amount_ore, raw_paid, credited, written_off)


def check_payments(run: Run) -> None:
    rows = db.session.execute(select(Payment.id, Payment.amount_ore, Payment.employer_id, Payment.member_id,
                                     Payment.returned_at)).all()
    for row in rows:
        assert (row.employer_id is not None) + (row.member_id is not None) + (row.returned_at is not None) <= 1
    # Each transaction the bank sent is stored once, with its sign.
    assert len(rows) == run.sent_count
    for payment_amount, allocation, payment_member, invoice_member in db.session.execute(
        select(Payment.amount_ore, PaymentAllocation.amount_ore, Payment.member_id, Invoice.member_id)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
    ):
        assert payment_member == invoice_member
        assert allocation * payment_amount > 0

    total = sum(row.amount_ore for row in rows)
    employer = sum(row.amount_ore for row in rows if row.employer_id is not None)
    member = sum(row.amount_ore for row in rows if row.member_id is not None)
    returned = sum(row.amount_ore for row in rows if row.returned_at is not None)
    unmatched = sum(row.amount_ore for row in rows
                    if row.employer_id is None and row.member_id is None and row.returned_at is None)
    allocated = raw_sum(select(func.sum(PaymentAllocation.amount_ore)))
    credit = member - allocated
    assert total == run.sent_total
    assert total == employer + allocated + credit + unmatched + returned
    basis_paid = raw_sum(select(func.sum(DeductionBasis.paid_total_ore)).where(DeductionBasis.period == "2026-03"))
    assert basis_paid == employer


# ------------------------------------------------------------------ the test


def wipe_payment_side() -> None:
    db.session.rollback()
    for model in (PaymentAllocation, InvoiceAdjustment, Invoice, Payment, PaymentImport, AuditEntry):
        db.session.execute(delete(model))
    reconcile(str(BASIS_MONTH))
    db.session.commit()


@dataclass(frozen=True)
class Member:
    id: int
    member_no: str


@dataclass(frozen=True)
class Union:
    members: list[Member]
    employer_id: int


@pytest.fixture()
def union(app_ctx, world):
    add_initial_rate()
    deduction_basis.generate(BASIS_MONTH)
    return Union([Member(world.members[key].id, world.members[key].member_no) for key in MEMBER_KEYS],
                 world.employers["E1"].id)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(operations, min_size=1, max_size=14))
def test_the_money_adds_up_to_the_ore_whatever_happens(union, steps):
    wipe_payment_side()
    run = Run(union)
    for step in steps:
        apply(run, step)
        db.session.expire_all()
    check_invoices()
    check_payments(run)
