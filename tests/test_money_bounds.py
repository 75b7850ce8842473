"""Money is 64-bit øre: a large union's monthly payment file passes 2^31 øre (21,474,836.47 kr) without error.

The overflow showed on PostgreSQL only (SQLite's INTEGER is 64-bit already); the suite runs on both.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.factories import add_initial_rate
from webapp.extensions import db
from webapp.models import DeductionBasis, Payment, PaymentImport
from webapp.services import deduction_basis, payments
from webapp.services.kid import kid_for
from webapp.services.periods import Month

MARCH = Month(2026, 3)
INT32_MAX = 2**31 - 1


def ocr_file(amounts: list[tuple[str, int]]) -> bytes:
    return payments.build_ocr_file([(kid, amount, dt.date(2026, 3, 20)) for kid, amount in amounts], "90010741504")


@pytest.fixture()
def march(app_ctx, world):
    add_initial_rate()
    deduction_basis.generate(MARCH)
    return world


def test_a_payment_file_above_two_to_the_31_ore_imports_with_exact_sums(march):
    e1_kid = kid_for("94001761", MARCH)
    big = INT32_MAX + 1_000  # one transaction above 2^31 øre: 21,474,846.47 kr
    amounts = [(e1_kid, big), ("1234567890", 1_500_000_000), ("1234567891", 999_999_999)]
    result = payments.import_file("stor-fil.txt", ocr_file(amounts))

    expected_total = sum(amount for _kid, amount in amounts)
    assert expected_total > INT32_MAX * 2
    assert result.new == 3 and result.total_ore == expected_total
    assert f"total {expected_total / 100:.2f} kr" in result.summary()
    db.session.expire_all()
    assert db.session.scalars(select(PaymentImport.total_ore)).one() == expected_total
    assert db.session.scalar(select(func.sum(Payment.amount_ore))) == expected_total
    assert db.session.scalars(select(Payment.amount_ore).where(Payment.kid == e1_kid)).one() == big
    basis = db.session.scalars(select(DeductionBasis).where(DeductionBasis.kid == e1_kid)).one()
    assert basis.paid_total_ore == big


def test_a_payment_above_the_largest_accepted_refuses_the_file_and_writes_nothing(march):
    e1_kid = kid_for("94001761", MARCH)
    file = ocr_file([(e1_kid, 100), ("1234567890", payments.PAYMENT_MAX_ORE + 1)])
    with pytest.raises(payments.PaymentFileError, match=r"^Linje 6: transaksjon 2: .*største betalingen som godtas"):
        payments.import_file("feil.txt", file)
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    assert db.session.scalar(select(func.count(PaymentImport.id))) == 0
