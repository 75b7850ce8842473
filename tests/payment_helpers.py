"""Helpers of the payment tests: Nets sample files, OCR files with our KIDs, invoices made directly."""

from __future__ import annotations

import datetime as dt
import os

import attr
import netsgiro
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Invoice, Payment, PaymentAllocation, PaymentImport
from webapp.models.choices import InvoiceStatus, PaymentMethod
from webapp.services import payments
from webapp.services.kid import member_kid_for
from webapp.services.periods import Month

NETS_DIR = os.path.join(os.path.dirname(__file__), "data", "nets")
SAMPLE_OCR = os.path.join(NETS_DIR, "ocr_giro_transactions.txt")
SAMPLE_AGREEMENTS = os.path.join(NETS_DIR, "avtalegiro_agreements.txt")
SAMPLE_CLAIMS = os.path.join(NETS_DIR, "avtalegiro_payment_request.txt")
ACCOUNT = "90010741504"
PAID_ON = dt.date(2026, 3, 20)


def sample(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def sample_transmission(path: str = SAMPLE_OCR) -> netsgiro.Transmission:
    return netsgiro.parse(sample(path).decode("iso-8859-1"))


def with_transactions(transmission: netsgiro.Transmission, change) -> bytes:
    """The transmission written back with `change(index, transaction)` applied to each OCR transaction."""
    assignments = [
        attr.evolve(a, transactions=[change(i, t) for i, t in enumerate(a.transactions)])
        for a in transmission.assignments
    ]
    return attr.evolve(transmission, assignments=assignments).to_ocr().encode("iso-8859-1")


def ocr(entries: list[tuple], file_number: int = 1) -> bytes:
    """An OCR file of (kid, øre[, date[, type]]) entries: a negative amount is a reversal (type 18)."""
    rows = []
    for entry in entries:
        kid, amount = entry[:2]
        paid_on = entry[2] if len(entry) > 2 else PAID_ON
        rows.append((kid, amount, paid_on) + tuple(entry[3:]))
    return payments.build_ocr_file(rows, ACCOUNT, file_number=file_number)


def make_invoice(member_id: int, member_no: str, first_month: Month, amount_ore: int,
                 method: PaymentMethod = PaymentMethod.invoice, month_count: int | None = None) -> Invoice:
    """An invoice row as the billing run makes it (the tests of the payment side need no rates)."""
    month_count = month_count or (1 if method == PaymentMethod.avtalegiro else 3)
    period = str(first_month) if month_count == 1 else str(first_month.quarter)
    invoice = Invoice(
        member_id=member_id, period=period, first_month=str(first_month), month_count=month_count,
        kid=member_kid_for(member_no, first_month), method=method, issued_on=first_month.first_day,
        due_date=first_month.first_day + dt.timedelta(days=19), dues_ore=amount_ore, amount_ore=amount_ore,
        status=InvoiceStatus.open, created_at=dt.datetime.now(),
    )
    db.session.add(invoice)
    db.session.commit()
    return invoice


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def nothing_saved() -> bool:
    return count(Payment) == 0 and count(PaymentImport) == 0 and count(PaymentAllocation) == 0


def allocated_to(invoice_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(PaymentAllocation.amount_ore), 0))
                                 .where(PaymentAllocation.invoice_id == invoice_id)))


def agreements_file(entries: list[tuple[str, int, bool]], number: int = 1) -> bytes:
    """A Nets AvtaleGiro agreements file of (kid, registration type 0/1/2, notify) entries."""
    transmission = netsgiro.Transmission(number=f"{number:07d}", data_transmitter="00008080",
                                         data_recipient="00010200", date=PAID_ON)
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.AVTALEGIRO, assignment_type=netsgiro.AssignmentType.AVTALEGIRO_AGREEMENTS,
        number=f"{number:07d}", account=ACCOUNT)
    assignment.transactions.extend(
        netsgiro.Agreement(service_code=netsgiro.ServiceCode.AVTALEGIRO, number=index, registration_type=kind,
                           kid=kid, notify=notify)
        for index, (kid, kind, notify) in enumerate(entries, start=1)
    )
    return transmission.to_ocr().encode("iso-8859-1")
