"""AvtaleGiro: mandates from the bank's agreement files, and the monthly payment-claims file built with netsgiro."""

from __future__ import annotations

import datetime as dt

import netsgiro
import pytest
from sqlalchemy import select

from tests.billing_helpers import DEFAULT_ORDINARY_MONTH_ORE, add_direct_rates, direct_member
from tests.factories import add_initial_rate
from tests.payment_helpers import agreements_file, make_invoice, ocr
from webapp.extensions import db
from webapp.models import AvtaleGiroMandate, Invoice, Member
from webapp.models.choices import InvoiceDelivery, PaymentMethod
from webapp.services import avtalegiro, payments
from webapp.services.kid import kid_for, member_kid_for
from webapp.services.periods import Month

NEW, DELETED, ACTIVE = 1, 2, 0
MONTH = Month(2027, 1)


def mandates() -> dict[str, AvtaleGiroMandate]:
    db.session.expire_all()
    return {m.kid: m for m in db.session.scalars(select(AvtaleGiroMandate))}


@pytest.fixture()
def members(app_ctx, world):
    return {key: db.session.get(Member, world.members[key].id) for key in ("lf1_direct", "inside", "outside")}


# ------------------------------------------------------------------ agreements


def test_agreements_attach_mandates_to_members_by_member_kid_of_any_month(members):
    lise, kari = members["lf1_direct"], members["inside"]
    lise_kid = member_kid_for(lise.member_no, Month(2026, 2))
    kari_kid = member_kid_for(kari.member_no, Month(2023, 11))
    strangers = [member_kid_for("99999999", Month(2026, 2)), kid_for("94001761", Month(2026, 2)), "000112000507155"]

    result = payments.import_file("avtaler.txt", agreements_file(
        [(lise_kid, NEW, True), (kari_kid, NEW, False)] + [(kid, NEW, False) for kid in strangers]))

    assert (result.mandates.new, result.mandates.without_member) == (5, 3)
    stored = mandates()
    assert (stored[lise_kid].member_id, stored[lise_kid].notify, stored[lise_kid].active) == (lise.id, True, True)
    assert (stored[kari_kid].member_id, stored[kari_kid].notify) == (kari.id, False)
    assert all(stored[kid].member_id is None for kid in strangers)


def test_a_changed_and_a_deleted_agreement_update_the_mandate(members):
    lise, kari = members["lf1_direct"], members["inside"]
    lise_kid, kari_kid = member_kid_for(lise.member_no, MONTH), member_kid_for(kari.member_no, MONTH)
    payments.import_file("1.txt", agreements_file([(lise_kid, NEW, False), (kari_kid, NEW, True)], number=1))

    result = payments.import_file("2.txt", agreements_file([(lise_kid, NEW, True), (kari_kid, DELETED, True)],
                                                           number=2))

    assert (result.mandates.changed, result.mandates.deleted, result.mandates.new) == (1, 1, 0)
    stored = mandates()
    assert stored[lise_kid].notify and stored[lise_kid].active and stored[lise_kid].changed_at is not None
    assert not stored[kari_kid].active and stored[kari_kid].deleted_at is not None
    assert len(stored) == 2


def test_a_full_list_of_active_agreements_ends_the_mandates_it_leaves_out(members):
    lise, kari = members["lf1_direct"], members["inside"]
    lise_kid, kari_kid = member_kid_for(lise.member_no, MONTH), member_kid_for(kari.member_no, MONTH)
    payments.import_file("1.txt", agreements_file([(lise_kid, NEW, False), (kari_kid, NEW, False)], number=1))

    result = payments.import_file("alle.txt", agreements_file([(lise_kid, ACTIVE, False)], number=2))

    assert result.mandates.ended_by_full_list == 1
    stored = mandates()
    assert stored[lise_kid].active and not stored[kari_kid].active


def test_agreements_applied_a_few_kids_at_a_time_give_the_same_mandates_and_counts(members, monkeypatch):
    """The file's KIDs are applied _APPLY_CHUNK at a time: a KID named twice (in what would be different chunks)
    counts once by its last word, and a full list ends the mandates of every chunk it leaves out."""
    monkeypatch.setattr(avtalegiro, "_APPLY_CHUNK", 2)
    lise, kari, per = members["lf1_direct"], members["inside"], members["outside"]
    lise_kid, kari_kid, per_kid = (member_kid_for(m.member_no, MONTH) for m in (lise, kari, per))
    strangers = [member_kid_for(f"9999999{k}", MONTH) for k in range(4)]
    payments.import_file("1.txt", agreements_file([(lise_kid, NEW, False), (kari_kid, NEW, False)]
                                                  + [(kid, NEW, False) for kid in strangers], number=1))

    result = payments.import_file("2.txt", agreements_file(
        [(lise_kid, NEW, True), (per_kid, NEW, False), (strangers[0], NEW, False), (kari_kid, NEW, False),
         (strangers[1], DELETED, False), (lise_kid, DELETED, False), (per_kid, NEW, True)], number=2))

    counts = result.mandates
    assert (counts.count, counts.new, counts.changed, counts.deleted, counts.unchanged, counts.without_member) == (
        7, 1, 0, 2, 2, 2)
    stored = mandates()
    assert not stored[lise_kid].active and stored[per_kid].notify and stored[per_kid].member_id == per.id

    ended = payments.import_file("alle.txt", agreements_file(
        [(kid, ACTIVE, False) for kid in (per_kid, strangers[2])], number=3)).mandates
    assert ended.ended_by_full_list == 3  # kari and two strangers; lise and strangers[1] had ended already
    stored = mandates()
    assert {kid for kid, mandate in stored.items() if mandate.active} == {per_kid, strangers[2]}
    assert all(mandate.import_id == stored[per_kid].import_id for kid, mandate in stored.items()
               if kid not in (lise_kid, strangers[1]))


# ------------------------------------------------------------------ the claims file


def mandate_for(member, notify: bool) -> str:
    kid = member_kid_for(member.member_no, Month(2026, 11))
    payments.import_file(f"avtale-{member.id}.txt", agreements_file([(kid, NEW, notify)], number=member.id))
    return kid


def claims_of(data: bytes) -> list[netsgiro.PaymentRequest]:
    transmission = netsgiro.parse(data.decode("iso-8859-1"))
    assert len(transmission.assignments) == 1
    assignment = transmission.assignments[0]
    assert (assignment.service_code, assignment.type) == (netsgiro.ServiceCode.AVTALEGIRO,
                                                          netsgiro.AssignmentType.TRANSACTIONS)
    assert assignment.account == "90010741504"
    return assignment.transactions


def test_claims_file_parses_back_to_the_months_claims(members):
    lise, kari, per = members["lf1_direct"], members["inside"], members["outside"]
    mandate_for(lise, notify=True)
    mandate_for(kari, notify=False)
    lise_inv = make_invoice(lise.id, lise.member_no, MONTH, 42_600, PaymentMethod.avtalegiro)
    kari_inv = make_invoice(kari.id, kari.member_no, MONTH, 10_000, PaymentMethod.avtalegiro)
    payments.import_file("delvis.txt", ocr([(kari_inv.kid, 2_500)]))  # partly paid: 75 kr left to claim
    # Not claimed: no mandate, another month, an invoice payer, a paid claim.
    make_invoice(per.id, per.member_no, MONTH, 42_600, PaymentMethod.avtalegiro)
    make_invoice(lise.id, lise.member_no, MONTH.next, 42_600, PaymentMethod.avtalegiro)
    paid = make_invoice(kari.id, kari.member_no, MONTH.previous, 10_000, PaymentMethod.avtalegiro)
    payments.import_file("betalt.txt", ocr([(paid.kid, 10_000)], file_number=2))

    claims = avtalegiro.build_claims(MONTH, today=dt.date(2026, 12, 15))
    parsed = claims_of(claims.data)

    assert [(c.kid, c.amount_in_cents, c.date) for c in parsed] == [
        (lise_inv.kid, 42_600, lise_inv.due_date), (kari_inv.kid, 7_500, kari_inv.due_date)]
    assert (claims.count, claims.total_ore, claims.notified) == (2, 50_100, 1)
    assert claims.invoice_ids == [lise_inv.id, kari_inv.id]
    notified, by_payee = parsed
    assert notified.type == netsgiro.TransactionType.AVTALEGIRO_WITH_BANK_NOTIFICATION
    assert [line.strip() for line in notified.text.splitlines()] == [
        f"Kontingent for 2027-01, medlemsnummer {lise.member_no}.",
        f"Beløp 426,00 kr, forfall 20.01.2027, KID {lise_inv.kid}."]
    assert by_payee.type == netsgiro.TransactionType.AVTALEGIRO_WITH_PAYEE_NOTIFICATION and not by_payee.text
    assert notified.reference == "Kontingent 2027-01"
    assert notified.payer_name == f"{lise.last_name} {lise.first_name}"[:10]
    assert avtalegiro.claims_file(MONTH, today=dt.date(2026, 12, 15)) == claims.data


def test_a_claim_is_for_the_outstanding_amount_only_while_the_mandate_is_active(members):
    lise = members["lf1_direct"]
    kid = mandate_for(lise, notify=False)
    make_invoice(lise.id, lise.member_no, MONTH, 42_600, PaymentMethod.avtalegiro)
    assert avtalegiro.build_claims(MONTH).count == 1

    payments.import_file("slettet.txt", agreements_file([(kid, DELETED, False)], number=99))

    nothing = avtalegiro.build_claims(MONTH)
    assert nothing.count == 0 and nothing.data == b""


def test_the_command_generates_the_months_claim_rows_writes_the_file_and_marks_them_sent(clean_app, world, tmp_path):
    month = Month.of(dt.date.today()).next
    with clean_app.app_context():
        add_initial_rate()
        add_direct_rates()
        member = direct_member(world, "Avtale", "Giro")
        db.session.commit()
        member_id, member_no = member.id, member.member_no
        mandate_for(member, notify=True)
    out = tmp_path / "krav.txt"

    runner = clean_app.test_cli_runner()
    result = runner.invoke(args=["avtalegiro", "claims", str(month), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert f"AvtaleGiro claims {month}: 1 claims, 1 notified" in result.output
    [claim] = claims_of(out.read_bytes())
    assert (claim.kid, claim.amount_in_cents) == (member_kid_for(member_no, month), DEFAULT_ORDINARY_MONTH_ORE)
    with clean_app.app_context():
        invoice = db.session.scalars(select(Invoice).where(Invoice.member_id == member_id)).one()
        assert (invoice.method, invoice.first_month, invoice.kid) == (PaymentMethod.avtalegiro, str(month), claim.kid)
        assert invoice.delivery == InvoiceDelivery.avtalegiro and invoice.sent_at is not None
    second = runner.invoke(args=["avtalegiro", "claims", str(month), "--out", str(tmp_path / "krav2.txt")])
    assert second.exit_code == 0 and "0 claims" in second.output and "no file written" in second.output
    assert not (tmp_path / "krav2.txt").exists()
    again = runner.invoke(args=["avtalegiro", "claims", str(month), "--out", str(out), "--again"])
    assert again.exit_code == 0 and "1 claims" in again.output
    assert [c.kid for c in claims_of(out.read_bytes())] == [claim.kid]
    assert runner.invoke(args=["avtalegiro", "claims", "2027-13", "--out", str(out)]).exit_code != 0


def test_two_claims_files_a_minute_apart_have_different_transmission_numbers():
    morning = dt.datetime(2027, 1, 5, 9, 30)
    numbers = {avtalegiro.transmission_number(morning + dt.timedelta(minutes=m)) for m in range(0, 24 * 60)}
    assert len(numbers) == 24 * 60 and all(len(n) == 7 and n.isdigit() for n in numbers)
    assert avtalegiro.transmission_number(dt.datetime(2027, 12, 31, 23, 59)) == "3651439"


def test_claimed_invoices_are_marked_by_runs_of_ids_exactly():
    assert avtalegiro.id_runs([8, 1, 2, 3, 7, 3]) == [(1, 3), (7, 8)]
    assert avtalegiro.id_runs([]) == []


def test_only_the_claimed_invoices_are_marked_sent(members):
    lise, kari = members["lf1_direct"], members["inside"]
    claimed = make_invoice(lise.id, lise.member_no, MONTH, 42_600, PaymentMethod.avtalegiro)
    between = make_invoice(kari.id, kari.member_no, MONTH, 10_000, PaymentMethod.avtalegiro)
    last = make_invoice(lise.id, lise.member_no, MONTH.next, 42_600, PaymentMethod.avtalegiro)

    assert avtalegiro.mark_claimed([claimed.id, last.id]) == 2

    db.session.expire_all()
    assert [db.session.get(Invoice, i).sent_at is not None for i in (claimed.id, between.id, last.id)] == [
        True, False, True]


def test_a_long_run_of_claims_and_scattered_ones_are_marked_exactly_once(members):
    """A long run of ids is marked by its range, the short runs by their ids; nothing between them is touched."""
    lise = members["lf1_direct"]
    ids = [make_invoice(lise.id, lise.member_no, MONTH.shift(i), 42_600, PaymentMethod.avtalegiro).id
           for i in range(avtalegiro.LONG_RUN + 15)]
    claimed = ids[:avtalegiro.LONG_RUN + 5] + [ids[-9], ids[-7], *ids[-4:-1]]

    assert avtalegiro.mark_claimed(list(reversed(claimed))) == len(claimed)
    assert avtalegiro.mark_claimed(claimed) == 0  # once: the first sending stays

    db.session.expire_all()
    sent = {invoice_id for invoice_id in ids if db.session.get(Invoice, invoice_id).sent_at is not None}
    assert sent == set(claimed)
