"""Reconciliation of direct payments: the service's figures against sums of the raw rows made here.

Rows are built directly (invoices, payments, allocations, adjustments), not through the billing and payment
services, and the expected figures are summed with plain SQL over each table on its own, so that a wrong
join or grouping in the service cannot hide behind the same mistake in the test.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest
from sqlalchemy import text

from tests.factories import build_world, make_member
from webapp.extensions import db
from webapp.models import Invoice, InvoiceAdjustment, Payment, PaymentAllocation, PaymentImport
from webapp.models.choices import InvoiceAdjustmentKind, InvoiceStatus, PaymentMethod
from webapp.services import direct_reconciliation, invoice_ledger, kid
from webapp.services.periods import Month, Quarter

TODAY = dt.date(2026, 6, 10)
NOW = dt.datetime(2026, 6, 10, 12)
PERIODS = ["2025-Q4", "2026-Q2", "2026-01", "2026-02", "2026-03"]  # no two start in the same month


class Rows:
    """Makes invoices, payments, allocations and adjustments with plain inserts."""

    def __init__(self):
        self.payment_import = PaymentImport(filename="test.txt", sha256="0" * 64, imported_at=NOW)
        db.session.add(self.payment_import)
        db.session.flush()
        self.number = 0

    def invoice(self, member, period: str, amount: int, due: dt.date) -> Invoice:
        first = Quarter.parse(period).months[0] if "Q" in period else Month.parse(period)
        months = 3 if "Q" in period else 1
        invoice = Invoice(
            member_id=member.id, period=period, first_month=str(first), month_count=months,
            kid=kid.member_kid_for(member.member_no, first),
            method=PaymentMethod.invoice if months == 3 else PaymentMethod.avtalegiro,
            issued_on=first.first_day, due_date=due, dues_ore=amount, amount_ore=amount, created_at=NOW,
        )
        db.session.add(invoice)
        db.session.flush()
        return invoice

    def payment(self, amount: int, paid_on: dt.date = TODAY, member=None, employer=None, returned=False,
                payment_kid: str = "12345") -> Payment:
        self.number += 1
        payment = Payment(
            import_id=self.payment_import.id, bank_reference=f"ref-{self.number}", kid=payment_kid,
            amount_ore=amount, paid_on=paid_on, transaction_type=18 if amount < 0 else 10,
            member_id=member.id if member else None, employer_id=employer.id if employer else None,
            period="2026-01" if employer else None, returned_at=NOW if returned else None,
        )
        db.session.add(payment)
        db.session.flush()
        return payment

    def allocate(self, payment: Payment, invoice: Invoice, amount: int) -> None:
        db.session.add(PaymentAllocation(payment_id=payment.id, invoice_id=invoice.id, amount_ore=amount,
                                         created_at=NOW))

    def adjust(self, invoice: Invoice, kind: InvoiceAdjustmentKind, amount: int) -> None:
        db.session.add(InvoiceAdjustment(invoice_id=invoice.id, kind=kind, amount_ore=amount, reason="test",
                                         created_at=NOW))


def _sum_by(sql: str) -> dict:
    return {key: int(value) for key, value in db.session.execute(text(sql)).all()}


def raw_period_figures(today: dt.date) -> dict[str, dict[str, int]]:
    """Per period, from each table on its own: invoices and their amount, allocations, adjustments by kind."""
    invoice_period = dict(db.session.execute(text("SELECT id, period FROM invoice")).all())
    amounts = _sum_by("SELECT id, amount_ore FROM invoice")
    dues = dict(db.session.execute(text("SELECT id, due_date FROM invoice")).all())
    paid = _sum_by("SELECT invoice_id, SUM(amount_ore) FROM payment_allocation GROUP BY invoice_id")
    adjustments = defaultdict(int)
    for invoice_id, kind, amount in db.session.execute(text("SELECT invoice_id, kind, amount_ore "
                                                            "FROM invoice_adjustment")).all():
        adjustments[(invoice_id, kind)] += int(amount)
    figures: dict[str, dict[str, int]] = {}
    for invoice_id, period in invoice_period.items():
        row = figures.setdefault(period, defaultdict(int))
        credited = adjustments[(invoice_id, "credit_note")]
        written_off = adjustments[(invoice_id, "write_off")]
        outstanding = amounts[invoice_id] - credited - written_off - paid.get(invoice_id, 0)
        due = dues[invoice_id] if isinstance(dues[invoice_id], dt.date) else dt.date.fromisoformat(dues[invoice_id])
        row["invoices"] += 1
        row["billed_ore"] += amounts[invoice_id]
        row["paid_ore"] += paid.get(invoice_id, 0)
        row["credited_ore"] += credited
        row["written_off_ore"] += written_off
        row["outstanding_ore"] += outstanding
        if outstanding > 0 and due < today:
            row["overdue_count"] += 1
            row["overdue_ore"] += outstanding
    return figures


def _random_year(rng: random.Random) -> list:
    """Members with random invoices, payments (partial, over, reversed), adjustments; the kept sums refreshed."""
    world = build_world()
    rows = Rows()
    members = [make_member(world.units["AV1"], f"Direkte{n}", "Betaler") for n in range(6)]
    employer = world.employers["E1"]
    invoices = []
    for member in members:
        for period in rng.sample(PERIODS, 3):
            due = dt.date(2026, rng.randint(1, 8), 14)
            invoice = rows.invoice(member, period, rng.randint(50_000, 200_000), due)
            invoices.append(invoice)
            what = rng.random()
            if what < 0.6:  # paid, partly or over
                amount = rng.choice([invoice.amount_ore, invoice.amount_ore // 2, invoice.amount_ore + 12_345])
                payment = rows.payment(amount, member=member)
                rows.allocate(payment, invoice, min(amount, invoice.amount_ore))
                if rng.random() < 0.3:  # then reversed
                    reversal = rows.payment(-amount, member=member)
                    rows.allocate(reversal, invoice, -min(amount, invoice.amount_ore))
            elif what < 0.75:
                rows.adjust(invoice, InvoiceAdjustmentKind.credit_note, rng.randint(1, invoice.amount_ore))
            elif what < 0.85:
                rows.adjust(invoice, InvoiceAdjustmentKind.write_off, invoice.amount_ore)
    for _ in range(4):
        rows.payment(rng.randint(100, 900_000), employer=employer)
        rows.payment(rng.randint(100, 90_000))  # unmatched
    rows.payment(77_700, returned=True)
    rows.payment(55_500, member=members[0])  # all credit
    rows.payment(-5_500, member=members[0])  # a reversal of part of it
    db.session.flush()
    invoice_ledger.refresh([invoice.id for invoice in invoices])
    db.session.commit()
    return members


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_figures_per_period_equal_the_raw_sums(app_ctx, seed):
    _random_year(random.Random(seed))
    expected = raw_period_figures(TODAY)
    got = {row.period: row for row in direct_reconciliation.by_period(TODAY)}
    assert sorted(got) == sorted(expected)
    for period, row in got.items():
        assert {name: getattr(row, name) for name in expected[period]} == dict(expected[period]), period
        assert row.ledger_differences == 0
    total = direct_reconciliation.add_periods("", list(got.values()))
    assert total.billed_ore == db.session.scalar(text("SELECT SUM(amount_ore) FROM invoice"))
    assert total.paid_ore == db.session.scalar(text("SELECT SUM(amount_ore) FROM payment_allocation"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_payment_ore_is_explained(app_ctx, seed):
    _random_year(random.Random(seed))
    figures = direct_reconciliation.payment_figures()

    def raw(where: str) -> tuple[int, int]:
        count, total = db.session.execute(text(f"SELECT COUNT(*), COALESCE(SUM(amount_ore), 0) FROM payment "
                                                f"WHERE {where}")).one()
        return int(count), int(total)

    allocated_to_member_payments = db.session.scalar(text(
        "SELECT COALESCE(SUM(a.amount_ore), 0) FROM payment_allocation a JOIN payment p ON p.id = a.payment_id "
        "WHERE p.member_id IS NOT NULL AND p.returned_at IS NULL"))
    assert (figures.total_count, figures.total_ore) == raw("1 = 1")
    assert (figures.employer_count, figures.employer_ore) == raw("employer_id IS NOT NULL")
    assert (figures.member_count, figures.member_ore) == raw("member_id IS NOT NULL AND returned_at IS NULL")
    assert (figures.unmatched_count, figures.unmatched_ore) == raw(
        "employer_id IS NULL AND member_id IS NULL AND returned_at IS NULL")
    assert (figures.returned_count, figures.returned_ore) == raw("returned_at IS NOT NULL")
    assert (figures.reversal_count, figures.reversal_ore) == raw("amount_ore < 0")
    assert figures.allocated_ore == db.session.scalar(text("SELECT SUM(amount_ore) FROM payment_allocation"))
    assert figures.credit_ore == figures.member_ore - allocated_to_member_payments
    assert figures.credit_ore > 0 and figures.reversal_count > 0
    assert figures.unexplained_ore == 0
    # Month by month the same, added up.
    months = direct_reconciliation.payments_by_month()
    assert [m.month for m in months] == ["2026-06"]
    assert months[0].figures == figures


def test_an_allocation_left_on_a_returned_payment_is_unexplained(app_ctx):
    world = build_world()
    rows = Rows()
    member = world.members["inside"]
    invoice = rows.invoice(member, "2026-Q1", 100_000, dt.date(2026, 1, 14))
    payment = rows.payment(100_000, member=member)
    rows.allocate(payment, invoice, 100_000)
    db.session.commit()
    assert direct_reconciliation.payment_figures().unexplained_ore == 0
    # Returned without taking its allocation back: the 1,000 kr now count twice.
    payment.returned_at = NOW
    db.session.commit()
    figures = direct_reconciliation.payment_figures()
    assert (figures.returned_ore, figures.allocated_ore, figures.credit_ore) == (100_000, 100_000, 0)
    assert figures.unexplained_ore == -100_000


def test_a_payment_matched_to_an_employer_and_a_member_is_unexplained(app_ctx):
    world = build_world()
    rows = Rows()
    rows.payment(40_000, member=world.members["inside"], employer=world.employers["E1"])
    db.session.commit()
    assert direct_reconciliation.payment_figures().unexplained_ore == -40_000


def test_kept_sums_that_differ_from_the_allocations_are_counted(app_ctx):
    world = build_world()
    rows = Rows()
    member = world.members["inside"]
    invoice = rows.invoice(member, "2026-Q2", 90_000, dt.date(2026, 4, 14))
    payment = rows.payment(30_000, member=member)
    rows.allocate(payment, invoice, 30_000)
    db.session.flush()
    invoice_ledger.refresh([invoice.id])
    db.session.commit()
    [row] = direct_reconciliation.by_period(TODAY)
    assert (row.paid_ore, row.outstanding_ore, row.ledger_differences) == (30_000, 60_000, 0)
    invoice.paid_ore = 90_000  # kept sum written by hand, past the ledger
    db.session.commit()
    [row] = direct_reconciliation.by_period(TODAY)
    assert (row.paid_ore, row.outstanding_ore, row.ledger_differences) == (30_000, 60_000, 1)


def test_overdue_and_statuses(app_ctx):
    world = build_world()
    rows = Rows()
    member = world.members["inside"]
    late = rows.invoice(member, "2026-Q1", 100_000, dt.date(2026, 1, 14))
    paid = rows.invoice(member, "2026-Q2", 100_000, dt.date(2026, 4, 14))
    future = rows.invoice(member, "2026-Q3", 100_000, dt.date(2026, 7, 14))
    partly = rows.invoice(member, "2026-05", 20_000, dt.date(2026, 5, 20))
    written = rows.invoice(member, "2026-06", 20_000, dt.date(2026, 6, 20))
    payment = rows.payment(108_000, member=member)
    rows.allocate(payment, paid, 100_000)
    rows.allocate(payment, partly, 8_000)
    rows.adjust(written, InvoiceAdjustmentKind.write_off, 20_000)
    db.session.flush()
    invoice_ledger.refresh([late.id, paid.id, future.id, partly.id, written.id])
    db.session.commit()

    figures = {row.period: row for row in direct_reconciliation.by_period(TODAY)}
    assert (figures["2026-Q1"].overdue_count, figures["2026-Q1"].overdue_ore) == (1, 100_000)
    assert figures["2026-Q2"].overdue_count == 0 and figures["2026-Q3"].overdue_count == 0
    assert (figures["2026-05"].overdue_count, figures["2026-05"].overdue_ore) == (1, 12_000)
    assert figures["2026-06"].is_monthly and not figures["2026-Q1"].is_monthly
    assert direct_reconciliation.by_period(TODAY, periods=["2026-Q3"]) == [figures["2026-Q3"]]

    statuses = {(row["period"], row["status"]): row["invoices"]
                for row in direct_reconciliation.status_counts(TODAY)}
    assert statuses == {
        ("2026-06", InvoiceStatus.written_off): 1, ("2026-05", InvoiceStatus.overdue): 1,
        ("2026-Q1", InvoiceStatus.overdue): 1, ("2026-Q2", InvoiceStatus.paid): 1, ("2026-Q3", InvoiceStatus.open): 1,
    }
    # Before the first due date nothing is overdue.
    early = direct_reconciliation.status_counts(dt.date(2026, 1, 1))
    assert early and all(row["status"] != InvoiceStatus.overdue for row in early)

    result = direct_reconciliation.reconcile(TODAY)
    assert result.unexplained_ore == 0 and result.ledger_differences == 0
    assert result.members_with_credit == 0
    assert result.billed.billed_ore == 340_000 and result.billed.outstanding_ore == 100_000 + 100_000 + 12_000


def test_members_with_credit(app_ctx):
    world = build_world()
    rows = Rows()
    over, under = world.members["inside"], world.members["club"]
    invoice = rows.invoice(over, "2026-Q1", 50_000, dt.date(2026, 1, 14))
    payment = rows.payment(60_000, member=over)
    rows.allocate(payment, invoice, 50_000)
    rows.payment(-5_000, member=under)  # a reversal with nothing left to take back: negative credit
    rows.payment(5_000, member=world.members["outside"], returned=True)  # returned: nobody's credit
    db.session.commit()
    assert direct_reconciliation.members_with_credit() == 1
    figures = direct_reconciliation.payment_figures()
    assert figures.credit_ore == 10_000 - 5_000 and figures.unexplained_ore == 0


def test_no_rows_no_figures(app_ctx):
    result = direct_reconciliation.reconcile(TODAY)
    assert result.periods == [] and result.payments == direct_reconciliation.PaymentFigures()
    assert direct_reconciliation.payments_by_month() == []
