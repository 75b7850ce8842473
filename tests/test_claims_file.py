"""The AvtaleGiro claims file written record by record (webapp/services/nets_claims_file.py) is byte for byte the
file netsgiro builds from the same claims, and netsgiro reads it back."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import netsgiro
import pytest
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from tests.factories import make_member
from tests.payment_helpers import agreements_file, make_invoice
from webapp.extensions import db
from webapp.models import AvtaleGiroMandate, Invoice, Member, OrgUnit
from webapp.models.choices import PaymentMethod
from webapp.services import avtalegiro, invoice_ledger, payments
from webapp.services.kid import member_kid_for
from webapp.services.nets_claims_file import ClaimsFileWriter
from webapp.services.periods import Month

MONTH = Month(2027, 1)
TODAY = dt.date(2026, 12, 15)
NOW = dt.datetime(2026, 12, 15, 9, 30)


def netsgiro_claims_file(month: Month, today: dt.date, again: bool, now: dt.datetime) -> bytes:
    """The reference: the file as build_claims made it before, every claim a netsgiro object (the same rows)."""
    config = current_app.config
    active_members = select(AvtaleGiroMandate.member_id).where(AvtaleGiroMandate.active.is_(True),
                                                               AvtaleGiroMandate.member_id.is_not(None))
    outstanding = invoice_ledger.outstanding_expression()
    not_claimed_yet = () if again else (Invoice.sent_at.is_(None),)
    rows = db.session.execute(
        select(Invoice.id, Invoice.member_id, Invoice.kid, Invoice.due_date, outstanding, Member.member_no,
               Member.first_name, Member.last_name)
        .join(Member, Member.id == Invoice.member_id)
        .where(Invoice.method == PaymentMethod.avtalegiro, Invoice.first_month == str(month), outstanding > 0,
               Invoice.member_id.in_(active_members), *not_claimed_yet)
        .order_by(Invoice.id)
    ).all()
    if not rows:
        return b""
    notify = dict(db.session.execute(  # member id -> notify of the member's newest active mandate
        select(AvtaleGiroMandate.member_id, AvtaleGiroMandate.notify)
        .where(AvtaleGiroMandate.active.is_(True), AvtaleGiroMandate.member_id.is_not(None))
        .order_by(AvtaleGiroMandate.registered_at, AvtaleGiroMandate.id)
    ).all())
    number = avtalegiro.transmission_number(now)
    transmission = netsgiro.Transmission(number=number, data_transmitter=config["NETS_DATA_TRANSMITTER"],
                                         data_recipient=config["NETS_DATA_RECIPIENT"], date=today)
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.AVTALEGIRO, assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        agreement_id=config["AVTALEGIRO_AGREEMENT_ID"], number=number, account=config["UNION_ACCOUNT_NUMBER"])
    reference = _("Union dues %(month)s", month=str(month))[:25]
    bank_notice = avtalegiro._BankNotice(month)
    for _invoice_id, member_id, kid, due_date, outstanding, member_no, first_name, last_name in rows:
        notice = notify.get(member_id, False) and bank_notice(member_no, int(outstanding), due_date, kid)
        assignment.add_payment_request(kid=kid, due_date=due_date, amount=Decimal(int(outstanding)) / 100,
                                       reference=reference, payer_name=f"{last_name} {first_name}"[:10],
                                       bank_notification=notice or False)
    return transmission.to_ocr().encode("iso-8859-1", errors="replace") + b"\n"


PEOPLE = [  # first name, last name, notify, amount øre, due date offset in days
    ("Lise", "Hansen", True, 42_600, 0),
    ("Kari Anne Margrethe", "Kristiansen-Bjørnstad", False, 10_000, 0),
    ("Łukasz", "Wiśniewski", True, 1, 5),  # letters outside ISO-8859-1 become '?'
    ("Zoë", " Ødegård ", False, 123_456_789, -3),  # spaces around the payer name are stripped
    ("Nguyễn", "", True, 99_999, 10),  # no last name: the payer name starts with the space netsgiro strips
    ("Ola", "O'Brien & Søn", False, 5_000, 5),
    ("Åse", "Æsøy", True, 7_550, -3),
]


@pytest.fixture()
def claims_register(app_ctx, world):
    unit = db.session.get(OrgUnit, db.session.get(Member, world.members["inside"].id).home_unit_id)
    people = [make_member(unit, person[0], person[1]) for person in PEOPLE]
    db.session.commit()
    payments.import_file("avtaler.txt", agreements_file(
        [(member_kid_for(m.member_no, Month(2026, 11)), 1, person[2]) for m, person in zip(people, PEOPLE)],
        number=7))
    # Kari signs again with another KID asking for the bank's notice: the newest active mandate decides.
    payments.import_file("avtale2.txt", agreements_file([(member_kid_for(people[1].member_no, Month(2026, 12)), 1,
                                                          True)], number=8))
    for member, (_first, _last, _notify, amount, offset) in zip(people, PEOPLE):
        invoice = make_invoice(member.id, member.member_no, MONTH, amount, PaymentMethod.avtalegiro)
        invoice.due_date += dt.timedelta(days=offset)
    db.session.commit()
    return people


def test_the_written_file_is_byte_for_byte_netsgiros(claims_register):
    made = avtalegiro.build_claims(MONTH, today=TODAY, now=NOW)

    assert made.count == len(PEOPLE) and made.notified == 5
    assert made.data == netsgiro_claims_file(MONTH, TODAY, False, NOW)
    assert b"?" in made.data and "Æsøy".encode("iso-8859-1") in made.data


def test_netsgiro_reads_the_written_file_back(claims_register):
    made = avtalegiro.build_claims(MONTH, today=TODAY, now=NOW)

    transmission = netsgiro.parse(made.data.decode("iso-8859-1"))
    [assignment] = transmission.assignments
    claims = assignment.transactions
    assert [c.amount_in_cents for c in claims] == [person[3] for person in PEOPLE]
    assert [c.type == netsgiro.TransactionType.AVTALEGIRO_WITH_BANK_NOTIFICATION for c in claims] == [
        person[2] or person is PEOPLE[1] for person in PEOPLE]
    assert assignment.get_total_amount() * 100 == made.total_ore
    assert transmission.date == min(c.date for c in claims)
    assert len({c.date for c in claims}) == 4
    assert [c.number for c in claims] == list(range(1, len(PEOPLE) + 1))


def test_claims_sent_before_are_in_the_file_again_only_when_asked(claims_register):
    made = avtalegiro.build_claims(MONTH, today=TODAY, now=NOW)
    avtalegiro.mark_claimed(made.invoice_ids[:3])
    db.session.commit()

    rest = avtalegiro.build_claims(MONTH, today=TODAY, now=NOW)
    again = avtalegiro.build_claims(MONTH, today=TODAY, again=True, now=NOW)

    assert rest.count == len(PEOPLE) - 3 and rest.data == netsgiro_claims_file(MONTH, TODAY, False, NOW)
    assert again.data == made.data == netsgiro_claims_file(MONTH, TODAY, True, NOW)
    assert avtalegiro.build_claims(Month(2027, 2), today=TODAY, now=NOW).data == b""


@pytest.mark.parametrize("notice", [
    "one line",
    "A line of exactly eighty characters, split by the writer into two halves of 40..\nand a second",
    "first\r\nsecond\x0bthird\u2028fourth\n\nsixth",  # every line break str.splitlines knows
    " ",
])
def test_a_notice_and_any_fields_are_written_as_netsgiro_writes_them(notice):
    fields = {"number": "3491234", "data_transmitter": "00012345", "data_recipient": "00008080",
              "account": "90010741504"}
    claims = [
        {"kid": "00075000012270112", "due_date": dt.date(2027, 1, 20), "amount_ore": 42_600,
         "reference": "Kontingent 2027-01", "payer_name": "Hansen Lis", "notice": notice},
        {"kid": " 123 ", "due_date": dt.date(2026, 12, 31), "amount_ore": 5, "reference": None,
         "payer_name": "  \n", "notice": None},
        {"kid": "1" * 25, "due_date": dt.date(2027, 2, 1), "amount_ore": 10**15, "reference": " kort\n",
         "payer_name": "Ä very long payer name", "notice": ""},
    ]
    for agreement_id in ("000123456", None):
        transmission = netsgiro.Transmission(number=fields["number"], data_transmitter=fields["data_transmitter"],
                                             data_recipient=fields["data_recipient"], date=dt.date(2026, 12, 1))
        assignment = transmission.add_assignment(
            service_code=netsgiro.ServiceCode.AVTALEGIRO, assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
            agreement_id=agreement_id, number=fields["number"], account=fields["account"])
        out = io.BytesIO()
        writer = ClaimsFileWriter(out, transmission_number=fields["number"],
                                  data_transmitter=fields["data_transmitter"], data_recipient=fields["data_recipient"],
                                  agreement_id=agreement_id, account=fields["account"])
        for claim in claims:
            assignment.add_payment_request(kid=claim["kid"], due_date=claim["due_date"],
                                           amount=Decimal(claim["amount_ore"]) / 100, reference=claim["reference"],
                                           payer_name=claim["payer_name"], bank_notification=claim["notice"] or False)
            writer.add_claim(**claim)
        writer.close()
        assert out.getvalue() == transmission.to_ocr().encode("iso-8859-1", errors="replace") + b"\n"


def test_fields_of_the_wrong_length_are_refused_by_name():
    with pytest.raises(ValueError, match="The account number must be exactly 11 characters"):
        ClaimsFileWriter(io.BytesIO(), transmission_number="1234567", data_transmitter="00012345",
                         data_recipient="00008080", agreement_id=None, account="123")
    with pytest.raises(ValueError, match="The transmission number must be exactly 7 characters"):
        ClaimsFileWriter(io.BytesIO(), transmission_number="123", data_transmitter="00012345",
                         data_recipient="00008080", agreement_id=None, account="90010741504")
