"""Bank files from Nets: OCR giro transactions (with the AvtaleGiro payments among them) and AvtaleGiro agreements.

`import_file` reads any of them in one transaction:

- OCR giro transactions: every transaction is stored once (its bank reference is unique; the same file
  twice adds nothing, its checksum is kept) with its signed amount: a reversal (Nets transaction types 18
  and 20) or a transaction with the minus sign is negative. Each is matched by KID (payment_matching):
  an employer KID to the employer-month when it has a deduction basis, a member KID to the invoice with
  that KID; anything else waits in the office's unmatched queue.
- AvtaleGiro agreements: new, changed and deleted mandates (webapp.services.avtalegiro).
- An AvtaleGiro payment-claims file (what the union sends to the bank) is read and counted; no money moved,
  so nothing is stored.

A malformed file is refused with the number of the line at fault, and nothing is saved.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal

import netsgiro
from flask_babel import gettext as _
from netsgiro.records import (
    AssignmentEnd,
    AssignmentStart,
    AvtaleGiroAgreement,
    TransactionAmountItem1,
    TransactionAmountItem2,
    TransactionAmountItem3,
    TransactionSpecification,
    TransmissionEnd,
    TransmissionStart,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Payment, PaymentImport
from webapp.models.choices import PaymentFileKind
from webapp.services import avtalegiro, bulk, payment_matching
from webapp.services.money import kroner

# The largest single payment accepted from a bank file: far above a month's dues of the largest employer,
# far below what would overflow the sums (64-bit øre). A larger amount means a corrupt or forged file.
PAYMENT_MAX_ORE = 1_000_000_000 * 100
# Nets transaction types that take money back (reversals, with KID and with text).
REVERSAL_TYPES = frozenset({netsgiro.TransactionType.REVERSING_WITH_KID, netsgiro.TransactionType.REVERSING_WITH_TEXT})
RECORD_LENGTH = 80
PAYMENT = Payment.__table__

_RECORD_CLASSES = {
    record_class.RECORD_TYPE: record_class
    for record_class in (TransmissionStart, TransmissionEnd, AssignmentStart, AssignmentEnd, TransactionAmountItem1,
                         TransactionAmountItem2, TransactionAmountItem3, TransactionSpecification, AvtaleGiroAgreement)
}


class PaymentFileError(ValueError):
    """The bank file was refused; the message names the line at fault. Nothing was saved."""


def _line_error(line: int, problem: str) -> PaymentFileError:
    return PaymentFileError(_("Line %(line)s: %(problem)s Nothing was imported.", line=line, problem=problem))


# ------------------------------------------------------------------ reading a Nets file


@dataclass(slots=True)
class BankTransaction:
    """One OCR giro transaction as stored: signed amount in øre, its identity at the bank, the file line."""

    line: int
    reference: str
    kid: str
    transaction_type: int
    amount_ore: int
    paid_on: dt.date
    payer_account: str | None


@dataclass
class NetsFile:
    """What a file holds. `transactions` holds the OCR giro transactions read by `read_file`; an import streams
    them instead (`_read`), and only counts them here."""

    transactions: list[BankTransaction] = field(default_factory=list)
    agreements: avtalegiro.AgreementsRead = field(default_factory=avtalegiro.AgreementsRead)
    claims: list[tuple[int, netsgiro.PaymentRequest]] = field(default_factory=list)
    transaction_count: int = 0

    @property
    def kind(self) -> PaymentFileKind | None:
        if self.agreements and not self.transaction_count:
            return PaymentFileKind.avtalegiro_agreements
        if self.transaction_count or not self.claims:
            return PaymentFileKind.ocr
        return None  # a payment-claims file: ours, not the bank's


def bank_reference(assignment_number: str, transaction: netsgiro.Transaction) -> str:
    """A transaction's identity at the bank, the same whichever file brings it."""
    return _reference(assignment_number, transaction.bank_date or transaction.date, transaction.centre_id,
                      transaction.day_code, transaction.partial_settlement_number,
                      transaction.partial_settlement_serial_number, transaction.number)


def _reference(assignment_number, day, centre_id, day_code, settlement, settlement_serial, number) -> str:
    return f"{_yyyymmdd(day)}-{assignment_number}-{centre_id}-{day_code}-{settlement}-{settlement_serial}-{number}"


@functools.lru_cache(maxsize=4096)  # a file has few dates and many transactions
def _yyyymmdd(day: dt.date) -> str:
    return f"{day:%Y%m%d}"


def signed_amount_ore(amount: int, transaction_type: int, sign: str | None, number: int, line: int) -> int:
    """A transaction's amount in øre, negative for a reversal or the minus sign; refused (the whole file)
    beyond PAYMENT_MAX_ORE."""
    if amount > PAYMENT_MAX_ORE:
        raise _line_error(line, _("transaction %(number)s: the amount %(amount)s kr is above the largest payment "
                                  "accepted (%(largest)s kr).", number=number,
                                  amount=kroner(amount), largest=kroner(PAYMENT_MAX_ORE, decimals=False)))
    if transaction_type in REVERSAL_TYPES or sign == "-":
        return -amount
    return amount


@dataclass(slots=True)
class _OcrItem:
    """An OCR giro amount item (record 30, 31 or 32), matched with netsgiro's own record pattern but converted here:
    netsgiro's record objects validate every field through attrs, several times slower for 100,000 transactions."""

    record_type: int
    transaction_type: int
    transaction_number: int
    fields: re.Match  # netsgiro's named fields, read as fields["kid"]
    day: dt.date | None  # item 1's Nets date, item 2's bank date
    service_code: int = netsgiro.ServiceCode.OCR_GIRO


_OCR_ITEM_PATTERNS = {"30": TransactionAmountItem1._PATTERNS[0], "31": TransactionAmountItem2._PATTERNS[0],
                      "32": TransactionAmountItem3._PATTERNS[0]}


_TRANSACTION_TYPES = frozenset(int(kind) for kind in netsgiro.TransactionType)


@functools.lru_cache(maxsize=4096)
def _nets_date(text: str) -> dt.date | None:
    """DDMMYY as netsgiro reads it (years 69-99 are 19xx); 000000 is no date."""
    if text == "000000":
        return None
    year = int(text[4:6])
    return dt.date(year + (1900 if year >= 69 else 2000), int(text[2:4]), int(text[0:2]))


# The date field of each amount item, read as a date.
_OCR_ITEM_DATES = {"30": "nets_date", "31": "bank_date"}


def _ocr_item(code: str, text: str) -> _OcrItem:
    match = _OCR_ITEM_PATTERNS[code].match(text)
    if match is None:
        raise ValueError(text)
    date_field = _OCR_ITEM_DATES.get(code)
    day = _nets_date(match[date_field]) if date_field is not None else None
    if code == "30" and day is None:
        raise ValueError(text)
    transaction_type = int(match["transaction_type"])
    if transaction_type not in _TRANSACTION_TYPES:
        raise ValueError(text)
    return _OcrItem(int(code), transaction_type, int(match["transaction_number"]), match, day)


def _record(line: int, text: str):
    if len(text) != RECORD_LENGTH:
        raise _line_error(line, _("a record is %(length)s characters long; this line has %(count)s.",
                                  length=RECORD_LENGTH, count=len(text)))
    code = text[6:8]
    ocr_item = code in _OCR_ITEM_PATTERNS and text.startswith("NY09")  # most records of an OCR file
    if not ocr_item:
        record_class = _RECORD_CLASSES.get(int(code)) if code.isdigit() else None
        if record_class is None:
            raise _line_error(line, _("'%(code)s' is not a record type of Nets' files.", code=code))
    try:
        return _ocr_item(code, text) if ocr_item else record_class.from_string(text)
    except (ValueError, TypeError, KeyError):
        raise _line_error(line, _("the record does not follow Nets' format for record type %(code)s.",
                                  code=code)) from None


def _check_counts(line: int, end, transactions: int, records: int) -> None:
    """An end record's counts against what was read: a truncated or spliced file is refused."""
    if end.num_transactions != transactions:
        raise _line_error(line, _("the end record counts %(expected)s transactions, but %(found)s were read.",
                                  expected=end.num_transactions, found=transactions))
    if end.num_records != records:
        raise _line_error(line, _("the end record counts %(expected)s records, but %(found)s were read.",
                                  expected=end.num_records, found=records))


_BODY_RECORDS = (_OcrItem, TransactionAmountItem1, TransactionAmountItem2, TransactionAmountItem3,
                 TransactionSpecification, AvtaleGiroAgreement)


class _Assignment:
    """The assignment being read: its start, its current transaction's records, and what it has counted.

    Each transaction is read as soon as its records are complete, so a file of 100,000 transactions never holds
    more than one transaction's records at a time; an OCR giro transaction goes to `on_transaction`."""

    def __init__(self, line: int, start: AssignmentStart, result: NetsFile, on_transaction):
        self.line, self.start, self.result, self.on_transaction = line, start, result, on_transaction
        self.records, self.transactions = 1, 0
        self.group_line, self.group = 0, []

    def add(self, line: int, record) -> None:
        body = type(record) is _OcrItem or isinstance(record, _BODY_RECORDS)  # netsgiro's records are ABCs: slow
        if not body or record.service_code != self.start.service_code:
            raise _line_error(line, _("the record does not belong in the assignment that begins on line %(start)s.",
                                      start=self.line))
        self.records += 1
        if self.group and record.transaction_number != self.group[0].transaction_number:
            self._read_group()
        if not self.group:
            self.group_line = line
        self.group.append(record)

    def end(self, line: int, end: AssignmentEnd) -> int:
        """Check the end record against the assignment; returns its transaction count."""
        if self.group:
            self._read_group()
        if (end.service_code, end.assignment_type) != (self.start.service_code, self.start.assignment_type):
            raise _line_error(line, _("the end record does not belong to the assignment that begins on line "
                                      "%(start)s.", start=self.line))
        _check_counts(line, end, self.transactions, self.records + 1)
        return self.transactions

    def _read_group(self) -> None:
        group, self.group = self.group, []
        self.transactions += 1
        line, start = self.group_line, self.start
        try:
            if start.service_code == netsgiro.ServiceCode.OCR_GIRO:
                transaction, keep = _bank_transaction(start.assignment_number, line, group), None
            elif start.assignment_type == netsgiro.AssignmentType.AVTALEGIRO_AGREEMENTS:
                transaction, keep = netsgiro.Agreement.from_records(list(group)), self.result.agreements.add
            else:  # netsgiro pops the records it reads
                transaction, keep = (line, netsgiro.PaymentRequest.from_records(list(group))), self.result.claims.append
        except PaymentFileError:
            raise
        except Exception:  # the records of a transaction missing or in the wrong order (netsgiro asserts them)
            raise _line_error(line, _("transaction %(number)s: its records are incomplete or out of order.",
                                      number=group[0].transaction_number)) from None
        # Outside the try: what the import does with a transaction (its database work) is no fault of the file.
        if keep is None:
            self.result.transaction_count += 1
            self.on_transaction(transaction)
        else:
            keep(transaction)


def _bank_transaction(assignment_number: str, line: int, group: list) -> BankTransaction:
    """An OCR giro transaction from its records: amount item 1 and 2, and item 3 (text) for some types."""
    if [getattr(item, "record_type", None) for item in group] not in ([30, 31], [30, 31, 32]):
        raise ValueError("records out of order")
    first, second = group[0], group[1]
    one, two = first.fields, second.fields
    number = first.transaction_number
    return BankTransaction(
        line=line,
        reference=_reference(assignment_number, second.day or first.day, one["centre_id"], int(one["day_code"]),
                             int(one["partial_settlement_number"]), one["partial_settlement_serial_number"], number),
        kid=one["kid"].strip(),
        transaction_type=first.transaction_type,
        amount_ore=signed_amount_ore(int(one["amount"]), first.transaction_type, one["sign"], number, line),
        paid_on=first.day,
        payer_account=two["debit_account"],
    )


class _Reader:
    """Walks the records of a file in order: a transmission of assignments of transactions."""

    def __init__(self, on_transaction=None):
        self.result = NetsFile()
        self.on_transaction = on_transaction or self.result.transactions.append
        self.state = "before"  # before, transmission, after
        self.assignment: _Assignment | None = None
        self.transactions = self.records = self.last_line = 0

    def feed(self, line: int, record) -> None:
        self.last_line = line
        if self.state == "after":
            raise _line_error(line, _("the transmission has ended; nothing may follow its end record."))
        if self.state == "before":
            if not isinstance(record, TransmissionStart):
                raise _line_error(line, _("a file begins with the start of a transmission (record type 10)."))
            self.state, self.records = "transmission", 1
            return
        self.records += 1
        if self.assignment is not None:
            self._in_assignment(line, record)
        elif isinstance(record, AssignmentStart):
            self.assignment = _Assignment(line, record, self.result, self.on_transaction)
        elif isinstance(record, TransmissionEnd):
            _check_counts(line, record, self.transactions, self.records)
            self.state = "after"
        else:
            raise _line_error(line, _("the record lies outside an assignment (an assignment begins with record "
                                      "type 20)."))

    def _in_assignment(self, line: int, record) -> None:
        if type(record) is _OcrItem:  # most records of an OCR file: spared the checks below (netsgiro's are ABCs)
            self.assignment.add(line, record)
        elif isinstance(record, (AssignmentStart, TransmissionStart, TransmissionEnd)):
            raise _line_error(line, _("the assignment that begins on line %(start)s has no end record (type 88).",
                                      start=self.assignment.line))
        elif isinstance(record, AssignmentEnd):
            self.transactions += self.assignment.end(line, record)
            self.assignment = None
        else:
            self.assignment.add(line, record)

    def finish(self) -> NetsFile:
        if self.state == "before":
            raise PaymentFileError(_("File: it holds no records of a Nets file. Nothing was imported."))
        if self.assignment is not None:
            raise _line_error(self.last_line, _("the assignment that begins on line %(start)s has no end record "
                                                "(type 88).", start=self.assignment.line))
        if self.state != "after":
            raise _line_error(self.last_line, _("the file ends before the end of the transmission (record type 89)."))
        return self.result


def read_file(data: bytes | str) -> NetsFile:
    """Read a Nets file line by line (ISO-8859-1); a malformed one raises PaymentFileError naming the line."""
    return _read(data, None)


def _read(data: bytes | str, on_transaction) -> NetsFile:
    """Read a Nets file, handing each OCR giro transaction to `on_transaction` as soon as it is read (None: keep
    them in the result). A malformed file raises PaymentFileError naming the line."""
    reader = _Reader(on_transaction)
    for number, line in enumerate(_lines(data), start=1):
        if line and not line.isspace():
            reader.feed(number, _record(number, line))
    return reader.finish()


# A line: what comes before \r\n, \r, \n or the end, where anything is left (so the end makes no empty line).
_LINE = re.compile(r"(?=[\s\S])([^\r\n]*)(?:\r\n|\r|\n|\Z)")
# The bytes split into lines at a time: about 12,000 records.
_BLOCK = 1 << 20


def _lines(data: bytes | str):
    """The lines of a file, one at a time (bytes decoded as ISO-8859-1), ended by \\n, \\r\\n or \\r as universal
    newlines read them. Neither the whole text nor a list of all lines is made: a million records are 80 MB of
    bytes, and io.StringIO would copy them at four bytes a character."""
    if isinstance(data, str):
        for match in _LINE.finditer(data):
            yield match.group(1)
        return
    start = 0
    while start < len(data):
        # A block ends after a \n (never between the \r and \n of one ending); bytes.splitlines() splits at \n,
        # \r\n and \r alone, as universal newlines do (a str's splitlines() splits at more).
        end = data.find(b"\n", start + _BLOCK)
        end = len(data) if end < 0 else end + 1
        for line in data[start:end].splitlines():
            yield line.decode("iso-8859-1")
        start = end


# ------------------------------------------------------------------ importing


@dataclass
class ImportResult:
    filename: str
    kind: PaymentFileKind | None = None
    already_imported: bool = False
    transactions: int = 0
    new: int = 0
    duplicates: int = 0
    matched: int = 0
    employer_matched: int = 0
    member_matched: int = 0
    unmatched: int = 0
    total_ore: int = 0
    allocated_ore: int = 0
    periods: tuple[str, ...] = ()
    mandates: object = None  # avtalegiro.AgreementResult
    claims: int = 0
    claims_total_ore: int = 0

    def summary(self) -> str:
        if self.already_imported:
            return f"{self.filename}: already imported, nothing added"
        parts = []
        if self.kind is None:
            parts.append(f"{self.claims} AvtaleGiro payment claims ({self.claims_total_ore / 100:.2f} kr), a file "
                         f"for the bank, not from it: nothing imported")
        if self.transactions:
            parts.append(
                f"{self.transactions} transactions, {self.new} new ({self.matched} matched, {self.unmatched} "
                f"unmatched; {self.employer_matched} to employer-months, {self.member_matched} to invoices, "
                f"{self.allocated_ore / 100:.2f} kr allocated), {self.duplicates} already known; "
                f"total {self.total_ore / 100:.2f} kr"
            )
        if self.mandates is not None:
            parts.append(self.mandates.summary())
        if not parts:
            parts.append("no transactions")
        return f"{self.filename}: " + "; ".join(parts)


def import_file(filename: str, data: bytes, imported_by: str | None = None) -> ImportResult:
    """Store and match every transaction of a Nets file, or apply its AvtaleGiro agreements, in one transaction.

    Two imports at the same time of one file (or of files sharing transactions): the second to commit hits the
    unique checksum or bank reference, rolls back, and runs again, finding what the first stored."""
    with bulk.fewer_collections():
        try:
            return _import_once(filename, data, imported_by)
        except IntegrityError:
            db.session.rollback()
            return _import_once(filename, data, imported_by)


def _import_once(filename: str, data: bytes, imported_by: str | None) -> ImportResult:
    result = ImportResult(filename=filename)
    checksum = hashlib.sha256(data).hexdigest()
    if db.session.scalar(select(PaymentImport.id).where(PaymentImport.sha256 == checksum)) is not None:
        result.already_imported = True
        return result
    now = dt.datetime.now()

    def new_batch(kind: PaymentFileKind) -> PaymentImport:
        batch = PaymentImport(filename=filename[:255], sha256=checksum, imported_at=now, imported_by=imported_by,
                              kind=kind)
        db.session.add(batch)
        db.session.flush()
        return batch

    try:
        bulk.plan_each_statement()  # the writer reads back the payments and allocations it writes, chunk by chunk
        writer = _PaymentWriter(new_batch, result, now)
        nets = _read(data, writer.add)
        writer.finish()
        result.kind = nets.kind
        result.claims = len(nets.claims)
        result.claims_total_ore = sum(claim.amount_in_cents for _line, claim in nets.claims)
        if result.kind is None:  # a payment-claims file: it has no transactions, so nothing was written
            return result
        batch = writer.batch or new_batch(result.kind)
        if nets.agreements:
            result.mandates = avtalegiro.import_agreements(nets.agreements, batch.id, now)
            batch.mandate_count = result.mandates.count
        batch.transaction_count = result.new
        batch.matched_count = result.matched
        batch.total_ore = result.total_ore
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


_PAYMENT_COLUMNS = ("import_id", "bank_reference", "kid", "transaction_type", "amount_ore", "paid_on",
                    "payer_account", "employer_id", "period", "member_id", "matched_at")
# The transactions stored at a time: a file of a million payments holds no more than this many rows in memory.
_STORE_CHUNK = 20_000


class _PaymentWriter:
    """Stores a file's OCR giro transactions as they are read, a chunk at a time: each new one once (its bank
    reference against those stored, this file's earlier chunks included), matched by KID, in bulk; the members'
    payments allocated to their invoices and those invoices' sums brought up to date, so a later chunk paying the
    same invoice finds what is still owed. The employer-months are reconciled at the end. The import record is
    made with the first new transaction (`new_batch`)."""

    def __init__(self, new_batch, result: ImportResult, now: dt.datetime):
        self.new_batch, self.result, self.now = new_batch, result, now
        self.batch: PaymentImport | None = None
        self.pending: list[BankTransaction] = []
        self.employer_months: dict[str, set[int]] = {}
        self.columns, self.defaults = bulk.with_defaults(PAYMENT, _PAYMENT_COLUMNS)

    def add(self, transaction: BankTransaction) -> None:
        self.pending.append(transaction)
        if len(self.pending) >= _STORE_CHUNK:
            self._store(self.pending)
            self.pending = []

    def finish(self) -> None:
        self._store(self.pending)
        self.pending = []
        result = self.result
        result.matched = result.employer_matched + result.member_matched
        result.unmatched = result.new - result.matched
        result.periods = tuple(sorted(self.employer_months))
        payment_matching.settle(self.employer_months, ())

    def _store(self, transactions: list[BankTransaction]) -> None:
        result = self.result
        result.transactions += len(transactions)
        known = set(_payment_ids([t.reference for t in transactions]))
        fresh = []
        for transaction in transactions:
            if transaction.reference in known:
                result.duplicates += 1
                continue
            known.add(transaction.reference)
            fresh.append(transaction)
        if not fresh:
            return
        if self.batch is None:
            self.batch = self.new_batch(PaymentFileKind.ocr)
        targets = payment_matching.resolve_kids(t.kid for t in fresh)
        nothing = payment_matching.Target()
        matched = [(t, targets.get(t.kid, nothing)) for t in fresh]
        # COPY on PostgreSQL, the driver's executemany on SQLite (bulk.write_tuples), not the ORM's bulk insert nor
        # RETURNING: several times faster for 100,000 rows.
        bulk.write_tuples(PAYMENT, self.columns, (
            (self.batch.id, t.reference, t.kid, t.transaction_type, t.amount_ore, t.paid_on, t.payer_account,
             target.employer_id, target.period, target.member_id,
             self.now if target.employer_id is not None or target.member_id is not None else None, *self.defaults)
            for t, target in matched))
        id_of = _payment_ids([t.reference for t in fresh])
        to_allocate = []
        for t, target in matched:
            result.total_ore += t.amount_ore
            if target.employer_id is not None:
                result.employer_matched += 1
                self.employer_months.setdefault(target.period, set()).add(target.employer_id)
            elif target.invoice_id is not None:
                result.member_matched += 1
                to_allocate.append((id_of[t.reference], t.amount_ore, target.invoice_id))
        result.new += len(fresh)
        allocated = payment_matching.allocate(to_allocate, self.now)
        result.allocated_ore += allocated


def _payment_ids(references: list[str]) -> dict[str, int]:
    """The stored payments among these bank references: reference -> payment id."""
    return dict(bulk.select_in(select(Payment.bank_reference, Payment.id), Payment.bank_reference, references))


# ------------------------------------------------------------------ writing OCR files (demo data and tests)


def build_ocr_file(payments: list[tuple], account: str, file_number: int = 1,
                   payer_account: str = "12345678903") -> bytes:
    """An OCR giro file (Nets format) with one transaction per (kid, øre, date[, transaction type]), as the bank
    sends it. A negative amount is written as a reversal (type 18 with the minus sign); the default type of a
    payment is "purchase with text" (21), AvtaleGiro payments are type 15.

    Used for demo data and tests; the import reads it like any bank file.
    """
    day = max((entry[2] for entry in payments), default=dt.date.today())
    assignment = StreamedAssignment(
        service_code=netsgiro.ServiceCode.OCR_GIRO,
        type=netsgiro.AssignmentType.TRANSACTIONS,
        number=f"{file_number:07d}",
        account=account,
        agreement_id="000000000",
        date=day,
    ).of(_ocr_transaction(number, entry, file_number, payer_account)
         for number, entry in enumerate(payments, start=1))
    return write_transmission(netsgiro.Transmission(
        number=f"{file_number:07d}", data_transmitter="00008080", data_recipient="00010200", date=day,
        assignments=[assignment],
    ))


class StreamedAssignment(netsgiro.Assignment):
    """netsgiro's assignment, its transactions written as they are built (`of`: an iterable of netsgiro's
    transactions, agreements or claims), so a file of a million payments holds one at a time; its end record's
    counts, total and dates are taken as the transactions pass, since it follows them. So it is written once
    (write_transmission), and its counts are known only then. netsgiro's own assignment holds every transaction and
    builds each one's records again to count them (twice for a transmission)."""

    def of(self, transactions) -> StreamedAssignment:
        self.__dict__["source"] = transactions
        return self

    def to_records(self):
        passed = self.__dict__["passed"] = _Passed()
        yield self._get_start_record()
        for transaction in self.__dict__["source"]:
            passed.add(transaction)
            for record in transaction.to_records():
                passed.records += 1
                yield record
        yield self._get_end_record()

    def get_num_transactions(self) -> int:
        return self.__dict__["passed"].transactions

    def get_num_records(self) -> int:
        return self.__dict__["passed"].records

    def get_total_amount(self) -> Decimal:
        return self.__dict__["passed"].total

    def get_earliest_transaction_date(self) -> dt.date | None:
        return self.__dict__["passed"].earliest

    def get_latest_transaction_date(self) -> dt.date | None:
        return self.__dict__["passed"].latest


@dataclass
class _Passed:
    """What an assignment's written transactions add up to, as netsgiro's assignment counts them."""

    transactions: int = 0
    records: int = 2  # the assignment's start and end
    total: Decimal = Decimal(0)
    earliest: dt.date | None = None
    latest: dt.date | None = None

    def add(self, transaction) -> None:
        self.transactions += 1
        self.total += getattr(transaction, "amount", None) or 0
        day = getattr(transaction, "date", None)
        if day:
            self.earliest = day if self.earliest is None else min(self.earliest, day)
            self.latest = day if self.latest is None else max(self.latest, day)


def write_transmission(transmission: netsgiro.Transmission) -> bytes:
    """The transmission's file as netsgiro writes it (its records' lines joined by \\n), built a record at a time."""
    written = bytearray()
    for record in transmission.to_records():
        if written:
            written += b"\n"
        written += record.to_ocr().encode("iso-8859-1")
    return bytes(written)


def _ocr_transaction(number: int, entry: tuple, file_number: int, payer_account: str) -> OcrGiroPayment:
    kid, amount, paid_on = entry[:3]
    kind = entry[3] if len(entry) > 3 else None
    if kind is None:
        kinds = netsgiro.TransactionType
        kind = kinds.REVERSING_WITH_KID if amount < 0 else kinds.PURCHASE_WITH_TEXT
    return OcrGiroPayment(int(kind), number, kid, amount, paid_on, file_number, payer_account)


@functools.lru_cache(maxsize=64)
def _ddmmyy(day: dt.date) -> str:
    return f"{day:%d%m%y}"


class OcrRecord(str):
    """A record's line, formatted already."""

    def to_ocr(self) -> str:
        return str(self)


class OcrGiroPayment:
    """One transaction of an OCR giro file, its records formatted here as netsgiro formats those of its
    `Transaction` with the same fields (centre 13, settlement 1 of the file's number, no text; a test compares
    them): building netsgiro's transaction and records, each field converted and validated, was most of the time
    of writing a demo year's bank files. `amount` and `date` are what an assignment adds up (StreamedAssignment)."""

    __slots__ = ("_records", "amount", "date")

    _WITH_TEXT = frozenset({netsgiro.TransactionType.PURCHASE_WITH_TEXT, netsgiro.TransactionType.REVERSING_WITH_TEXT})

    def __init__(self, kind: int, number: int, kid: str, amount_ore: int, paid_on: dt.date, file_number: int,
                 payer_account: str):
        self.amount, self.date = Decimal(abs(amount_ore)) / 100, paid_on
        day = _ddmmyy(paid_on)
        head = f"NY09{kind:02d}3"
        records = [
            OcrRecord(f"{head}0{number:07d}{day}13{paid_on.day:02d}1{file_number % 100000:05d}"
                      f"{'-' if amount_ore < 0 else '0'}{abs(amount_ore):017d}{kid.strip():>25}000000"),
            OcrRecord(f"{head}1{number:07d}{number:010d}{number:09d}0000000{day}{payer_account:11}{'0' * 22}"),
        ]
        if kind in self._WITH_TEXT:
            records.append(OcrRecord(f"{head}2{number:07d}{' ' * 40}{'0' * 25}"))
        self._records = records

    def to_records(self) -> list[OcrRecord]:
        return self._records
