"""Bank payments: import an OCR giro file (Nets format) and match each payment by KID.

Every transaction is stored. A KID of ours names the employer (customer
number) and the month; any other KID stays an unmatched payment for the office.
The same file imported twice adds nothing (its checksum is kept), and a
transaction already imported from another file is not stored twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import netsgiro
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Employer, Payment, PaymentImport
from webapp.services.kid import parse_kid

# The largest single payment accepted from a bank file: far above a month's dues of the largest employer,
# far below what would overflow the sums (64-bit øre). A larger amount means a corrupt or forged file.
PAYMENT_MAX_ORE = 1_000_000_000 * 100


class PaymentFileError(ValueError):
    pass


@dataclass
class ImportResult:
    filename: str
    already_imported: bool = False
    transactions: int = 0
    new: int = 0
    duplicates: int = 0
    matched: int = 0
    unmatched: int = 0
    total_ore: int = 0
    periods: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.already_imported:
            return f"{self.filename}: already imported, nothing added"
        return (
            f"{self.filename}: {self.transactions} transactions, {self.new} new "
            f"({self.matched} matched, {self.unmatched} unmatched), {self.duplicates} already known; "
            f"total {self.total_ore / 100:.2f} kr"
        )


def bank_reference(transmission, assignment, transaction) -> str:
    """A transaction's identity at the bank, the same whichever file brings it."""
    return (
        f"{transaction.bank_date or transaction.date:%Y%m%d}-{assignment.number}-{transaction.centre_id}-"
        f"{transaction.day_code}-{transaction.partial_settlement_number}-{transaction.partial_settlement_serial_number}-"
        f"{transaction.number}"
    )


def parse_file(data: bytes | str):
    text = data.decode("iso-8859-1") if isinstance(data, bytes) else data
    try:
        return netsgiro.parse(text)
    except Exception as exc:  # netsgiro raises ValueError and friends on malformed records
        raise PaymentFileError(f"file: not a valid OCR giro file ({exc})") from None


def import_file(filename: str, data: bytes, imported_by: str | None = None) -> ImportResult:
    """Store and match every transaction of the file, in one transaction."""
    result = ImportResult(filename=filename)
    checksum = hashlib.sha256(data).hexdigest()
    if db.session.scalar(select(PaymentImport.id).where(PaymentImport.sha256 == checksum)) is not None:
        result.already_imported = True
        return result
    transmission = parse_file(data)
    customers = dict(db.session.execute(select(Employer.customer_no, Employer.id)).all())
    references = [
        bank_reference(transmission, assignment, transaction)
        for assignment in transmission.assignments
        for transaction in assignment.transactions
    ]
    known = set()
    for start in range(0, len(references), 900):
        chunk = references[start : start + 900]
        known.update(db.session.scalars(select(Payment.bank_reference).where(Payment.bank_reference.in_(chunk))))
    try:
        batch = PaymentImport(filename=filename, sha256=checksum, imported_at=dt.datetime.now(),
                              imported_by=imported_by)
        db.session.add(batch)
        db.session.flush()
        periods = set()
        for assignment in transmission.assignments:
            for transaction in assignment.transactions:
                result.transactions += 1
                reference = bank_reference(transmission, assignment, transaction)
                if reference in known:
                    result.duplicates += 1
                    continue
                known.add(reference)
                parsed = parse_kid(transaction.kid or "")
                employer_id = customers.get(parsed[0]) if parsed else None
                period = str(parsed[1]) if parsed and employer_id else None
                amount = checked_amount(transaction)
                db.session.add(
                    Payment(
                        import_id=batch.id,
                        bank_reference=reference,
                        kid=(transaction.kid or "").strip(),
                        amount_ore=amount,
                        paid_on=transaction.date,
                        payer_account=transaction.debit_account,
                        employer_id=employer_id,
                        period=period,
                    )
                )
                result.new += 1
                result.total_ore += amount
                if employer_id:
                    result.matched += 1
                    periods.add(period)
                else:
                    result.unmatched += 1
        batch.transaction_count = result.new
        batch.matched_count = result.matched
        batch.total_ore = result.total_ore
        result.periods = tuple(sorted(periods))
        db.session.flush()
        from webapp.services.reconciliation import reconcile

        for period in result.periods:
            reconcile(period)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def checked_amount(transaction) -> int:
    """The transaction's amount in øre, refused (the whole file) when it exceeds PAYMENT_MAX_ORE."""
    amount = int(transaction.amount_in_cents)
    if abs(amount) > PAYMENT_MAX_ORE:
        raise PaymentFileError(
            f"transaction {transaction.number}: the amount {amount / 100:.2f} kr is above the largest payment accepted "
            f"({PAYMENT_MAX_ORE // 100} kr); nothing was imported"
        )
    return amount


def match_unmatched() -> int:
    """Match stored payments whose KID has since become known (e.g. a new employer). Returns how many."""
    customers = dict(db.session.execute(select(Employer.customer_no, Employer.id)).all())
    count = 0
    for payment in db.session.scalars(select(Payment).where(Payment.employer_id.is_(None))):
        parsed = parse_kid(payment.kid)
        if parsed and parsed[0] in customers:
            payment.employer_id = customers[parsed[0]]
            payment.period = str(parsed[1])
            count += 1
    db.session.commit()
    return count


def build_ocr_file(
    payments: list[tuple[str, int, dt.date]], account: str, file_number: int = 1, payer_account: str = "12345678903"
) -> bytes:
    """An OCR giro file (Nets format) with one incoming payment per (kid, øre, date), as the bank sends it.

    Used for demo data and tests; the import reads it like any bank file.
    """
    from decimal import Decimal

    dates = [paid_on for _kid, _amount, paid_on in payments] or [dt.date.today()]
    transactions = [
        netsgiro.Transaction(
            service_code=netsgiro.ServiceCode.OCR_GIRO,
            type=netsgiro.TransactionType.PURCHASE_WITH_TEXT,
            number=number,
            date=paid_on,
            amount=Decimal(amount) / 100,
            kid=kid,
            reference=f"{number:09d}",
            text=None,
            centre_id="13",
            day_code=paid_on.day,
            partial_settlement_number=1,
            partial_settlement_serial_number=f"{file_number % 100000:05d}",
            sign="0",
            form_number=f"{number:010d}",
            bank_date=paid_on,
            debit_account=payer_account,
            filler=None,
        )
        for number, (kid, amount, paid_on) in enumerate(payments, start=1)
    ]
    assignment = netsgiro.Assignment(
        service_code=netsgiro.ServiceCode.OCR_GIRO,
        type=netsgiro.AssignmentType.TRANSACTIONS,
        number=f"{file_number:07d}",
        account=account,
        agreement_id="000000000",
        date=max(dates),
        transactions=transactions,
    )
    transmission = netsgiro.Transmission(
        number=f"{file_number:07d}", data_transmitter="00008080", data_recipient="00010200", date=max(dates),
        assignments=[assignment],
    )
    return transmission.to_ocr().encode("iso-8859-1")
