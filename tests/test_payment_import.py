"""`payments import`: every kind of Nets file, signed amounts, matching by KID, idempotence, malformed files."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import attr
import netsgiro
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.factories import add_initial_rate
from tests.payment_helpers import (
    SAMPLE_AGREEMENTS,
    SAMPLE_CLAIMS,
    SAMPLE_OCR,
    allocated_to,
    count,
    make_invoice,
    nothing_saved,
    ocr,
    sample,
    sample_transmission,
    with_transactions,
)
from webapp.extensions import db
from webapp.models import AvtaleGiroMandate, DeductionBasis, Invoice, Payment, PaymentImport
from webapp.models.choices import InvoiceStatus, PaymentFileKind, PaymentMethod
from webapp.services import deduction_basis, invoice_ledger, payments
from webapp.services.kid import kid_for, member_kid_for
from webapp.services.periods import Month

REVERSING_WITH_KID = netsgiro.TransactionType.REVERSING_WITH_KID
REVERSING_WITH_TEXT = netsgiro.TransactionType.REVERSING_WITH_TEXT


def payments_by_kid() -> dict[str, Payment]:
    return {p.kid: p for p in db.session.scalars(select(Payment))}


def total_paid() -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(Payment.amount_ore), 0))))


# ------------------------------------------------------------------ Nets' own samples


def test_nets_sample_ocr_file_imports_every_transaction_with_its_amount(app_ctx):
    transmission = sample_transmission()
    expected = sum(t.amount_in_cents for a in transmission.assignments for t in a.transactions)
    assert expected == 5_144_900  # the transmission end record's total, 51 449.00 kr

    result = payments.import_file("ocr_giro_transactions.txt", sample(SAMPLE_OCR))

    assert (result.transactions, result.new, result.unmatched, result.kind) == (20, 20, 20, PaymentFileKind.ocr)
    assert total_paid() == expected == result.total_ore
    assert all(p.amount_ore > 0 for p in db.session.scalars(select(Payment)))
    assert Counter(db.session.scalars(select(Payment.transaction_type))) == {10: 10, 13: 5, 11: 2, 12: 2, 21: 1}
    batch = db.session.scalars(select(PaymentImport)).one()
    assert (batch.kind, batch.transaction_count, batch.total_ore) == (PaymentFileKind.ocr, 20, expected)


def test_nets_sample_agreements_file_stores_the_mandates(app_ctx):
    result = payments.import_file("avtalegiro_agreements.txt", sample(SAMPLE_AGREEMENTS))

    assert result.kind == PaymentFileKind.avtalegiro_agreements
    assert (result.mandates.count, result.mandates.new, result.mandates.without_member) == (16, 16, 16)
    mandates = db.session.scalars(select(AvtaleGiroMandate)).all()
    assert len(mandates) == 16 and all(m.active and m.member_id is None for m in mandates)
    # The file's notification choices: J (yes) 11 times, N (no) 5 times.
    assert Counter(m.notify for m in mandates) == {True: 11, False: 5}
    assert {m.kid for m in mandates} >= {"000112000507155", "001186100509492"}
    batch = db.session.scalars(select(PaymentImport)).one()
    assert (batch.kind, batch.mandate_count, batch.transaction_count) == (
        PaymentFileKind.avtalegiro_agreements, 16, 0)
    assert count(Payment) == 0


def test_nets_sample_claims_file_is_read_but_moves_no_money(app_ctx):
    result = payments.import_file("avtalegiro_payment_request.txt", sample(SAMPLE_CLAIMS))

    assert result.kind is None and result.claims == 6 and result.claims_total_ore == 600
    assert "6 AvtaleGiro payment claims" in result.summary()
    assert nothing_saved()


# ------------------------------------------------------------------ signs


def test_reversals_and_the_minus_sign_subtract(app_ctx):
    transmission = sample_transmission()
    amounts = [t.amount_in_cents for a in transmission.assignments for t in a.transactions]

    def change(index, transaction):
        if index == 0:
            return attr.evolve(transaction, type=REVERSING_WITH_KID)
        if index == 1:
            return attr.evolve(transaction, type=REVERSING_WITH_TEXT, text="Tilbakeført")
        if index == 2:
            return attr.evolve(transaction, sign="-")
        return transaction

    result = payments.import_file("reverseringer.txt", with_transactions(transmission, change))

    expected = sum(amounts) - 2 * sum(amounts[:3])
    assert total_paid() == expected == result.total_ore
    stored = db.session.scalars(select(Payment).order_by(Payment.id)).all()
    assert [(p.transaction_type, p.amount_ore) for p in stored[:3]] == [
        (18, -amounts[0]), (20, -amounts[1]), (int(transmission.assignments[0].transactions[2].type), -amounts[2])]
    assert all(p.amount_ore > 0 for p in stored[3:])


def test_a_reversal_written_with_both_type_and_sign_subtracts_once(app_ctx):
    payments.import_file("a.txt", ocr([("1234567890", -5000)]))  # type 18 and the minus sign
    assert total_paid() == -5000


# ------------------------------------------------------------------ employer KIDs


@pytest.fixture()
def march_basis(app_ctx, world):
    add_initial_rate()
    deduction_basis.generate(Month(2026, 3))
    return world


def test_a_built_file_is_what_netsgiro_writes_and_parses_back_with_its_counts(app_ctx):
    """build_ocr_file writes each transaction as it is built and counts it as it passes (netsgiro's assignment holds
    them all and counts by building them again); the file is byte for byte the one netsgiro's own assignment
    writes, and its end records' counts, total and dates parse back."""
    entries = [("90200001234561", 10_000, dt.date(2026, 3, 20)), ("90200001234562", -2_500, dt.date(2026, 3, 21)),
               ("90200001234563", 7_700, dt.date(2026, 3, 22), netsgiro.TransactionType.FROM_AVTALEGIRO)]
    data = payments.build_ocr_file(entries, "12345678903", file_number=7)
    parsed = netsgiro.parse(data.decode("iso-8859-1"))  # its assignments are netsgiro's own, counting as it does
    assert type(parsed.assignments[0]) is netsgiro.Assignment
    assert data == parsed.to_ocr().encode("iso-8859-1")
    [assignment] = parsed.assignments
    # the start and end records, a purchase with text (3 records), a reversal (2), a claim paid (2)
    assert (assignment.get_num_transactions(), assignment.get_num_records()) == (3, 2 + 3 + 2 + 2)
    assert (assignment.get_total_amount(), assignment.get_earliest_transaction_date(),
            assignment.get_latest_transaction_date()) == (Decimal("202.00"), dt.date(2026, 3, 20), dt.date(2026, 3, 22))


def test_employer_kid_matches_only_a_month_with_a_basis(march_basis):
    e1 = march_basis.employers["E1"].id
    march, april = kid_for("94001761", Month(2026, 3)), kid_for("94001761", Month(2026, 4))

    result = payments.import_file("arbeidsgivere.txt", ocr([(march, 120_000), (april, 80_000), (march, -20_000)]))

    assert (result.matched, result.unmatched, result.employer_matched) == (2, 1, 2)
    stored = db.session.scalars(select(Payment).order_by(Payment.id)).all()
    assert [(p.employer_id, p.period) for p in stored] == [(e1, "2026-03"), (None, None), (e1, "2026-03")]
    basis = db.session.scalars(select(DeductionBasis).where(DeductionBasis.employer_id == e1,
                                                            DeductionBasis.period == "2026-03")).one()
    assert basis.paid_total_ore == 100_000  # 1 200 kr less the 200 kr reversal
    assert result.periods == ("2026-03",)


def test_an_employer_month_whose_payment_was_reversed_shows_no_payment(march_basis):
    from webapp.models.choices import ReconciliationStatus
    from webapp.services import deduction_lists

    e1 = march_basis.employers["E1"].id
    listed = deduction_lists.create_list(e1, "2026-03", None)
    deduction_lists.replace_lines(listed, [deduction_lists.LineInput(line.national_id, line.name, "100")
                                           for line in listed.lines])
    deduction_lists.approve(listed, None)
    march = kid_for("94001761", Month(2026, 3))
    reported = 10_000 * len(listed.lines)

    payments.import_file("betaling.txt", ocr([(march, reported)]))
    basis = db.session.scalars(select(DeductionBasis).where(DeductionBasis.employer_id == e1,
                                                            DeductionBasis.period == "2026-03")).one()
    assert (basis.paid_total_ore, basis.reconciliation_status) == (reported, ReconciliationStatus.ok)

    payments.import_file("retur.txt", ocr([(march, -reported)], file_number=2))
    db.session.refresh(basis)
    assert (basis.paid_total_ore, basis.reconciliation_status) == (0, ReconciliationStatus.no_payment)
    # A reversal of more than was paid leaves the month below zero: still no payment, not "amount differs".
    payments.import_file("retur2.txt", ocr([(march, -5_000)], file_number=3))
    db.session.refresh(basis)
    assert (basis.paid_total_ore, basis.reconciliation_flags) == (-5_000, "no_payment")


def test_a_payment_for_a_month_without_basis_is_matched_when_the_basis_is_made(march_basis):
    from webapp.services.payment_matching import rematch_unmatched

    april = kid_for("94001761", Month(2026, 4))
    payments.import_file("april.txt", ocr([(april, 80_000)]))
    assert payments_by_kid()[april].employer_id is None

    result = deduction_basis.generate(Month(2026, 4))
    assert result.payments_matched == 1 and "1 waiting payments matched" in result.summary()
    db.session.expire_all()
    payment = payments_by_kid()[april]
    assert payment.period == "2026-04" and not payment.matched_manually
    basis = db.session.scalars(select(DeductionBasis).where(DeductionBasis.period == "2026-04",
                                                            DeductionBasis.employer_id == payment.employer_id)).one()
    assert basis.paid_total_ore == 80_000
    assert rematch_unmatched() == 0


# ------------------------------------------------------------------ member KIDs


@pytest.fixture()
def member(app_ctx, world):
    return world.members["lf1_direct"]


def invoice_of(member, first_month=Month(2026, 1), amount=90_000, method=PaymentMethod.invoice) -> Invoice:
    return make_invoice(member.id, member.member_no, first_month, amount, method)


def reread(invoice: Invoice) -> Invoice:
    db.session.expire_all()
    return db.session.get(Invoice, invoice.id)


def test_member_kid_partial_payment_is_allocated_and_the_invoice_partly_paid(member):
    invoice = invoice_of(member)
    result = payments.import_file("delvis.txt", ocr([(invoice.kid, 30_000)]))

    assert (result.member_matched, result.allocated_ore) == (1, 30_000)
    invoice = reread(invoice)
    assert (invoice.paid_ore, invoice.outstanding_ore, invoice.status) == (30_000, 60_000, InvoiceStatus.partly_paid)
    assert payments_by_kid()[invoice.kid].member_id == member.id
    assert invoice_ledger.member_credit_ore(member.id) == 0


def test_member_overpayment_pays_the_invoice_and_the_rest_is_credit(member):
    invoice = invoice_of(member)
    payments.import_file("over.txt", ocr([(invoice.kid, 100_000)]))

    invoice = reread(invoice)
    assert (invoice.paid_ore, invoice.outstanding_ore, invoice.status) == (90_000, 0, InvoiceStatus.paid)
    assert invoice_ledger.member_credit_ore(member.id) == 10_000


def test_two_payments_in_one_file_never_push_the_invoice_below_zero(member):
    invoice = invoice_of(member)
    payments.import_file("to.txt", ocr([(invoice.kid, 60_000), (invoice.kid, 60_000)]))

    invoice = reread(invoice)
    assert (invoice.paid_ore, invoice.outstanding_ore) == (90_000, 0)
    assert invoice_ledger.member_credit_ore(member.id) == 30_000


def test_a_member_reversal_takes_back_from_its_invoice_at_most_what_it_was_paid(member):
    invoice = invoice_of(member)
    payments.import_file("betaling.txt", ocr([(invoice.kid, 100_000)]))
    payments.import_file("tilbakeforing.txt", ocr([(invoice.kid, -100_000, dt.date(2026, 3, 25))], file_number=2))

    invoice = reread(invoice)
    assert (invoice.paid_ore, invoice.outstanding_ore, invoice.status) == (0, 90_000, InvoiceStatus.open)
    assert allocated_to(invoice.id) == 0
    assert invoice_ledger.member_credit_ore(member.id) == 0
    assert total_paid() == 0


def test_a_reversal_larger_than_what_was_paid_reduces_the_credit(member):
    invoice = invoice_of(member)
    payments.import_file("betaling.txt", ocr([(invoice.kid, 50_000)]))
    payments.import_file("tilbakeforing.txt", ocr([(invoice.kid, -70_000, dt.date(2026, 3, 25))], file_number=2))

    invoice = reread(invoice)
    assert invoice.paid_ore == 0 and invoice.outstanding_ore == 90_000
    assert invoice_ledger.member_credit_ore(member.id) == -20_000


def test_avtalegiro_payment_arrives_as_an_ocr_transaction_and_pays_its_claim(member):
    invoice = invoice_of(member, Month(2026, 2), 30_000, PaymentMethod.avtalegiro)
    payments.import_file("avtalegiro.txt", ocr([(invoice.kid, 30_000, dt.date(2026, 2, 20),
                                                 netsgiro.TransactionType.FROM_AVTALEGIRO)]))

    invoice = reread(invoice)
    assert invoice.status == InvoiceStatus.paid
    assert payments_by_kid()[invoice.kid].transaction_type == 15


def test_member_kid_without_invoice_stays_unmatched(member):
    kid = member_kid_for(member.member_no, Month(2026, 4))
    result = payments.import_file("uten-faktura.txt", ocr([(kid, 30_000)]))

    assert (result.matched, result.unmatched) == (0, 1)
    payment = payments_by_kid()[kid]
    assert payment.member_id is None and payment.employer_id is None


# ------------------------------------------------------------------ idempotence


def test_the_same_file_twice_adds_nothing(member):
    invoice = invoice_of(member)
    data = ocr([(invoice.kid, 30_000), ("1234567890", 5_000)])
    payments.import_file("fil.txt", data)
    again = payments.import_file("fil-kopi.txt", data)

    assert again.already_imported and "already imported" in again.summary()
    assert count(Payment) == 2 and count(PaymentImport) == 1
    assert reread(invoice).paid_ore == 30_000


def test_a_transaction_in_two_different_files_is_stored_once(member):
    invoice = invoice_of(member)
    first = ocr([(invoice.kid, 30_000)], file_number=7)
    transmission = netsgiro.parse(first.decode("iso-8859-1"))
    # The same transaction again, in a file that also brings a new one (another transmission number).
    second = attr.evolve(transmission, number="0000008")
    extra = attr.evolve(transmission.assignments[0].transactions[0], number=2, kid="1234567890")
    second.assignments[0].transactions.append(extra)

    payments.import_file("en.txt", first)
    result = payments.import_file("to.txt", second.to_ocr().encode("iso-8859-1"))

    assert (result.transactions, result.new, result.duplicates) == (2, 1, 1)
    assert count(Payment) == 2
    assert reread(invoice).paid_ore == 30_000


def test_a_transaction_twice_in_one_file_is_stored_once(app_ctx):
    transmission = sample_transmission()
    assignment = transmission.assignments[0]
    assignment.transactions.append(assignment.transactions[0])
    result = payments.import_file("dobbel.txt", transmission.to_ocr().encode("iso-8859-1"))

    assert (result.transactions, result.new, result.duplicates) == (21, 20, 1)


def test_a_file_stored_a_chunk_at_a_time_pays_an_invoice_once_and_knows_its_earlier_chunks(member, monkeypatch):
    """The import stores a file's transactions as they are read, _STORE_CHUNK at a time: a later chunk finds what an
    earlier one paid on an invoice and the transactions it stored."""
    monkeypatch.setattr(payments, "_STORE_CHUNK", 1)
    invoice = invoice_of(member)
    transmission = netsgiro.parse(ocr([(invoice.kid, 60_000), (invoice.kid, 60_000), ("1234567890", 5_000)])
                                  .decode("iso-8859-1"))
    assignment = transmission.assignments[0]
    assignment.transactions.append(assignment.transactions[0])  # the first again, three chunks later

    result = payments.import_file("biter.txt", transmission.to_ocr().encode("iso-8859-1"))

    assert (result.transactions, result.new, result.duplicates, result.member_matched, result.unmatched,
            result.allocated_ore, result.total_ore) == (4, 3, 1, 2, 1, 90_000, 125_000)
    invoice = reread(invoice)
    assert (invoice.paid_ore, invoice.outstanding_ore, invoice.status) == (90_000, 0, InvoiceStatus.paid)
    assert invoice_ledger.member_credit_ore(member.id) == 30_000
    assert (count(PaymentImport), count(Payment)) == (1, 3)
    batch = db.session.scalars(select(PaymentImport)).one()
    assert (batch.transaction_count, batch.matched_count, batch.total_ore) == (3, 2, 125_000)


# ------------------------------------------------------------------ malformed files


def lines_of(path=SAMPLE_OCR) -> list[str]:
    return sample(path).decode("iso-8859-1").splitlines()


def refused(data: bytes, match: str) -> None:
    with pytest.raises(payments.PaymentFileError, match=match):
        payments.import_file("feil.txt", data)
    assert nothing_saved()


def joined(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("iso-8859-1")


def test_a_short_line_is_refused_with_its_number(app_ctx):
    lines = lines_of()
    lines[6] = lines[6][:70]
    refused(joined(lines), r"^Linje 7: .*80 tegn.*70")


def test_an_unknown_record_type_is_refused_with_its_number(app_ctx):
    lines = lines_of()
    lines[4] = lines[4][:6] + "55" + lines[4][8:]
    refused(joined(lines), r"^Linje 5: .*'55'")


def test_a_record_that_breaks_its_format_is_refused_with_its_number(app_ctx):
    lines = lines_of()
    lines[2] = lines[2][:15] + "999999" + lines[2][21:]  # an impossible date
    refused(joined(lines), r"^Linje 3: ")


def test_a_missing_transaction_line_is_refused_at_the_assignment_end(app_ctx):
    lines = lines_of()
    del lines[3]  # the second record of the first transaction
    refused(joined(lines), r"^Linje 3: transaksjon 1:")


def test_a_removed_transaction_is_caught_by_the_end_record_count(app_ctx):
    lines = lines_of()
    del lines[2:5]  # the whole first transaction: the assignment end still counts 20
    refused(joined(lines), r"^Linje 41: sluttposten teller 20 transaksjoner, men 19 ble lest")


@pytest.mark.parametrize("line_end", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_a_file_with_other_line_ends_reads_the_same_and_names_the_same_lines(app_ctx, line_end):
    """Lines end with \\n, \\r\\n or a lone \\r (universal newlines); a blank line still counts."""
    lines = lines_of()
    with_blank = lines[:2] + [""] + lines[2:]
    assert payments.read_file(line_end.join(with_blank)) == payments.read_file(joined(with_blank))
    with_blank[7] = with_blank[7][:70]
    refused(line_end.join(with_blank).encode("iso-8859-1"), r"^Linje 8: .*80 tegn.*70")


def test_lines_of_bytes_split_in_blocks_are_the_lines_universal_newlines_read(monkeypatch):
    """The bytes are split a block at a time: a block ends after a \\n, so a \\r\\n is never split, and a Latin-1
    byte that str.splitlines() would take for a line end (\\x85, \\x1c) stays in its line."""
    monkeypatch.setattr(payments, "_BLOCK", 7)
    text = "NY000010\r\nab\x85c\x1cd\r\re\n\nf\rg\r\n\r\nlast"
    expected = payments._LINE.findall(text)  # the str path, by the pattern of universal newlines
    assert list(payments._lines(text.encode("iso-8859-1"))) == expected == [
        "NY000010", "ab\x85c\x1cd", "", "e", "", "f", "g", "", "last"]
    for size in range(1, 12):
        monkeypatch.setattr(payments, "_BLOCK", size)
        for end in ("\n", "\r\n", "\r", ""):
            assert list(payments._lines((text + end).encode("iso-8859-1"))) == expected, (size, end)


def test_a_truncated_file_is_refused(app_ctx):
    refused(joined(lines_of()[:-1]), r"^Linje 44: filen slutter før slutten på forsendelsen")


def test_a_file_that_does_not_begin_with_a_transmission_is_refused(app_ctx):
    refused(joined(lines_of()[1:]), r"^Linje 1: ")


def test_a_file_of_no_records_is_refused(app_ctx):
    refused(b"\n\n", r"^Fil: ")
    refused(b"this is not an ocr file", r"^Linje 1: ")


def test_an_amount_above_the_bound_is_refused_with_the_line(app_ctx):
    data = ocr([("1234567890", 100), ("1234567891", payments.PAYMENT_MAX_ORE + 1)])
    refused(data, r"^Linje 6: transaksjon 2: ")


@pytest.mark.parametrize("store_chunk", [payments._STORE_CHUNK, 1], ids=["one chunk", "a chunk per transaction"])
def test_a_malformed_line_after_good_ones_saves_nothing_of_the_good_ones(member, monkeypatch, store_chunk):
    monkeypatch.setattr(payments, "_STORE_CHUNK", store_chunk)  # with 1, the first payment is written before line 7
    invoice = invoice_of(member)
    lines = ocr([(invoice.kid, 30_000), ("1234567890", 5_000)]).decode("iso-8859-1").splitlines()
    lines[6] = "NY" + "x" * 78
    refused(joined(lines), r"^Linje 7: ")
    assert reread(invoice).paid_ore == 0


# ------------------------------------------------------------------ the command


def run(app, *args):
    return CliRunner().invoke(app.cli, list(args), catch_exceptions=False, standalone_mode=False)


def test_the_command_imports_an_agreements_file_and_refuses_a_bad_one(clean_app, tmp_path):
    good = tmp_path / "avtaler.txt"
    good.write_bytes(sample(SAMPLE_AGREEMENTS))
    bad = tmp_path / "feil.txt"
    bad.write_bytes(joined(lines_of(SAMPLE_AGREEMENTS)[:-2]))

    runner = clean_app.test_cli_runner()
    result = runner.invoke(args=["payments", "import", str(good)])
    assert result.exit_code == 0 and "16 AvtaleGiro agreements: 16 new" in result.output
    refusal = runner.invoke(args=["payments", "import", str(bad)])
    assert refusal.exit_code == 2 and "payments import: Linje 18: oppdraget som begynner på linje 2" in refusal.output
    with clean_app.app_context():
        assert count(PaymentImport) == 1


def test_ocr_files_written_here_are_the_records_netsgiro_writes_for_the_same_transactions():
    """payments.build_ocr_file formats the transactions' records itself (OcrGiroPayment): the same lines as
    netsgiro's Transaction with the same fields, for payments, reversals and each transaction type, and a file
    netsgiro parses back to the same amounts, KIDs and dates."""
    entries = [("000123456789", 12_345, dt.date(2026, 3, 20), None),
               ("12345678903", -4_200, dt.date(2026, 3, 1), None),
               ("1234567890123456789012345", 1, dt.date(2026, 12, 31), netsgiro.TransactionType.FROM_AVTALEGIRO),
               ("55", 99_999_999_999, dt.date(2027, 1, 9), netsgiro.TransactionType.FROM_GIRO_DEBITED_ACCOUNT),
               ("7", 100, dt.date(2026, 2, 28), REVERSING_WITH_TEXT)]
    for number, (kid, amount, day, kind) in enumerate(entries, start=1):
        for file_number in (1, 123_456):
            ours = payments._ocr_transaction(number, (kid, amount, day, kind), file_number, "12345678903")
            theirs = netsgiro.Transaction(
                service_code=netsgiro.ServiceCode.OCR_GIRO,
                type=kind or (REVERSING_WITH_KID if amount < 0 else netsgiro.TransactionType.PURCHASE_WITH_TEXT),
                number=number, date=day, amount=Decimal(abs(amount)) / 100, kid=kid, reference=f"{number:09d}",
                text=None, centre_id="13", day_code=day.day, partial_settlement_number=1,
                partial_settlement_serial_number=f"{file_number % 100000:05d}", sign="-" if amount < 0 else "0",
                form_number=f"{number:010d}", bank_date=day, debit_account="12345678903", filler=None)
            assert [record.to_ocr() for record in ours.to_records()] == [
                record.to_ocr() for record in theirs.to_records()]
            assert (ours.amount, ours.date) == (theirs.amount, theirs.date)

    data = payments.build_ocr_file([entry[:3] for entry in entries], "90010741504", file_number=42)
    parsed = netsgiro.parse(data.decode("iso-8859-1"))
    transactions = parsed.assignments[0].transactions
    assert [(t.kid, t.amount_in_cents, t.date) for t in transactions] == [
        (kid, abs(amount), day) for kid, amount, day, _kind in entries]
    assert parsed.assignments[0].get_total_amount() == sum(Decimal(abs(e[1])) / 100 for e in entries)
