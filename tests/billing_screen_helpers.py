"""Rows of direct payment for the tests of its screens, made directly (the services have their own tests)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

from webapp.extensions import db
from webapp.models import Invoice, Member, Payment, PaymentImport
from webapp.models.choices import InvoiceStatus, PaymentMethod
from webapp.services import invoice_ledger, kid
from webapp.services.periods import Month, Quarter

_sequence = itertools.count(1)


def add_invoice(member_id: int, period: str = "2027-Q1", amount_ore: int = 90000, due_date: dt.date | None = None,
                method: PaymentMethod = PaymentMethod.invoice) -> Invoice:
    """An invoice of the member for a quarter ("2027-Q1") or a month ("2027-01"), issued on the period's first day."""
    member = db.session.get(Member, member_id)
    if "Q" in period:
        quarter = Quarter.parse(period)
        first, months = quarter.months[0], 3
    else:
        first, months = Month.parse(period), 1
    invoice = Invoice(
        member_id=member_id, period=period, first_month=str(first), month_count=months,
        kid=kid.member_kid_for(member.member_no, first), method=method, issued_on=first.first_day,
        due_date=due_date or first.first_day + dt.timedelta(days=14), dues_ore=amount_ore - 17600 * months // 3,
        contents_insurance_ore=8500 * months // 3, travel_insurance_ore=9100 * months // 3, amount_ore=amount_ore,
        status=InvoiceStatus.open, created_at=dt.datetime.now(),
    )
    db.session.add(invoice)
    db.session.flush()
    invoice_ledger.refresh([invoice.id])
    db.session.commit()
    return invoice


def payment_file(filename: str = "OCR.txt") -> PaymentImport:
    number = next(_sequence)
    checksum = hashlib.sha256(f"{number}{filename}".encode()).hexdigest()
    row = PaymentImport(filename=f"{number}-{filename}", sha256=checksum, imported_at=dt.datetime.now(),
                        imported_by="test")
    db.session.add(row)
    db.session.flush()
    return row


def add_payment(kid_text: str, amount_ore: int, paid_on: dt.date = dt.date(2027, 1, 20), **values) -> Payment:
    """A bank transaction as imported, unmatched unless `values` say to whom (employer_id+period, member_id)."""
    imported = payment_file()
    payment = Payment(import_id=imported.id, bank_reference=f"test-{next(_sequence)}", kid=kid_text,
                      amount_ore=amount_ore, paid_on=paid_on, transaction_type=values.pop("transaction_type", 10),
                      payer_account="12345678903", **values)
    db.session.add(payment)
    db.session.commit()
    return payment
