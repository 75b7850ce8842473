"""Resignations: on Min side (end of the current month) and registered by the office from a letter (end of the
letter's month): the leave, the reason, the positions ended, STOP on the next deduction basis, direct billing
credited after the leave, the confirmation e-mail through the outbox, and every bad input refused."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from tests.billing_helpers import add_direct_rates, direct_member
from tests.conftest import free_loopback_port, mail_to_loopback
from tests.factories import add_initial_rate
from tests.helpers import login_as
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    DeductionBasis,
    DeductionBasisLine,
    Invoice,
    Member,
    OutboxMail,
    Position,
)
from webapp.models.choices import BasisChange, LeaveReason, PositionType
from webapp.services import deduction_basis, invoices, resignations
from webapp.services.periods import Month, Quarter
from webapp.services.resignations import ResignationError

MID_MARCH = dt.date(2026, 3, 14)


def office_id(world) -> int:
    return db.session.scalar(select(User.id).where(User.username == world.logins["office"]))


def member(world, key: str = "inside") -> Member:
    return db.session.get(Member, world.members[key].id)


def written() -> tuple[int, int, int]:
    """Audit entries, mails in the outbox, members with a leave: what a refused resignation must not change."""
    return (db.session.scalar(select(func.count()).select_from(AuditEntry)),
            db.session.scalar(select(func.count()).select_from(OutboxMail)),
            db.session.scalar(select(func.count()).select_from(Member).where(Member.left_on.is_not(None))))


def basis_line(member_id: int, period: str) -> DeductionBasisLine | None:
    return db.session.scalars(
        select(DeductionBasisLine).join(DeductionBasis, DeductionBasis.id == DeductionBasisLine.basis_id)
        .where(DeductionBasis.period == period, DeductionBasisLine.member_id == member_id)
    ).first()


# ------------------------------------------------------------------ on Min side


def test_a_resignation_mid_month_ends_the_membership_at_the_month_end_and_mails_the_member(app_ctx, world,
                                                                                           smtp_server):
    kari = member(world)
    db.session.add(Position(member_id=kari.id, type=PositionType.workplace_trustee,
                            workplace_id=world.workplaces["W1"].id, start_date=dt.date(2020, 1, 1)))
    db.session.commit()
    address = kari.email_private

    result = resignations.resign(kari, "new_job", "Ny jobb i kommunen", today=MID_MARCH)

    assert result.left_on == dt.date(2026, 3, 31) and result.mail_sent and result.address == address
    kari = member(world)
    assert (kari.left_on, kari.leave_reason) == (dt.date(2026, 3, 31), LeaveReason.new_job)
    position = db.session.scalars(select(Position).where(Position.member_id == kari.id)).one()
    assert position.end_date == dt.date(2026, 3, 31)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "resignation")).one()
    details = json.loads(entry.details)
    assert (entry.member_id, details["source"], details["reason"], details["text"], details["left_on"]) == (
        kari.id, "member", "new_job", "Ny jobb i kommunen", "2026-03-31")
    assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.member_id == kari.id)).all().count(
        "end_membership") == 1

    [mail] = smtp_server.messages
    assert mail["to"] == [address]
    assert mail["message"]["Subject"] == "Utmeldingen din fra Norsk Tjenesteforbund"
    body = smtp_server.bodies()[0]
    assert "Hei Kari!" in body
    assert "31.03.2026" in body
    assert "trekk av kontingent" in body.lower() and "april 2026" in body
    assert "60 måneder" in body
    assert "Ny jobb utenfor forbundets område" in body  # the reason as chosen
    waiting = db.session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None)))
    assert waiting == 0


def test_the_mail_goes_to_the_address_the_member_chose(app_ctx, world, smtp_server):
    from webapp.models.choices import ContactChoice

    kari = member(world)
    kari.email_work, kari.email_to = "kari@jobb.example", ContactChoice.work
    db.session.commit()
    resignations.resign(kari, LeaveReason.retired, "", today=MID_MARCH)
    assert [m["to"] for m in smtp_server.messages] == [["kari@jobb.example"]]


def test_a_mail_server_that_is_down_never_fails_the_resignation_and_the_mail_waits(app, app_ctx, world):
    with mail_to_loopback(app, free_loopback_port()):  # nothing listens there
        result = resignations.resign(member(world), "financial", None, today=MID_MARCH)
    assert not result.mail_sent
    assert member(world).left_on == dt.date(2026, 3, 31)
    [waiting] = db.session.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None))).all()
    assert json.loads(waiting.recipients) == [result.address] and "31.03.2026" in waiting.body


def test_a_member_without_an_address_resigns_all_the_same(app_ctx, world):
    ola = member(world, "club")  # no login either
    ola.email_private = ola.email_work = None
    db.session.commit()
    result = resignations.resign(ola, "other", "", today=MID_MARCH)
    assert result.address is None and not result.mail_sent
    assert member(world, "club").left_on == dt.date(2026, 3, 31)
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_the_next_basis_shows_stop_and_the_month_after_nothing(app_ctx, world):
    add_initial_rate()
    kari_id = world.members["inside"].id
    deduction_basis.generate(Month(2026, 3))
    assert basis_line(kari_id, "2026-03").on_deduction

    resignations.resign(member(world), "dissatisfied", "", today=MID_MARCH)
    deduction_basis.generate(Month(2026, 4))
    deduction_basis.generate(Month(2026, 5))

    stop = basis_line(kari_id, "2026-04")
    assert stop.change == BasisChange.stop and not stop.on_deduction
    assert basis_line(kari_id, "2026-05") is None
    assert basis_line(world.members["club"].id, "2026-05").on_deduction  # the others stay


def test_a_direct_payers_invoice_for_months_after_the_leave_is_credited(app_ctx, world):
    add_initial_rate()
    add_direct_rates()
    payer = direct_member(world, "Dina", "Direkte")
    db.session.commit()
    invoices.generate(Quarter(2026, 1), today=dt.date(2025, 12, 10))
    invoice = db.session.scalars(select(Invoice).where(Invoice.member_id == payer.id)).one()
    amount = invoice.amount_ore

    resignations.resign(db.session.get(Member, payer.id), "financial", "", today=dt.date(2026, 2, 10))

    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.credited_ore == amount // 3  # March, after the leave on 28.02
    assert invoice.outstanding_ore == amount - amount // 3
    invoices.generate(Quarter(2026, 2), today=dt.date(2026, 3, 10))
    assert db.session.scalar(select(func.count()).select_from(Invoice).where(Invoice.member_id == payer.id)) == 1


def test_a_second_resignation_is_refused(app_ctx, world):
    resignations.resign(member(world), "new_job", "", today=MID_MARCH)
    before = written()
    with pytest.raises(ResignationError, match=r"Kari Nordmann har allerede gått ut \(31\.03\.2026\)"):
        resignations.resign(member(world), "other", "", today=MID_MARCH)
    with pytest.raises(ResignationError, match="allerede gått ut"):
        resignations.register_from_letter(world.members["inside"].id, "other", MID_MARCH, "", None, today=MID_MARCH)
    assert written() == before
    assert member(world).leave_reason == LeaveReason.new_job


@pytest.mark.parametrize(
    ("reason", "comment", "field", "message"),
    [
        ("transferred", "", "reason", "Grunn: velg en av grunnene i listen."),
        ("non_payment", "", "reason", "Grunn: velg en av grunnene i listen."),
        ("", "", "reason", "Grunn: velg en av grunnene i listen."),
        ("bogus", "", "reason", "Grunn: velg en av grunnene i listen."),
        ("new_job", "x" * 501, "comment", "Kommentar: høyst 500 tegn."),
        ("new_job", "a\x00b", "comment", "NUL"),
    ],
)
def test_bad_input_on_min_side_is_refused_naming_the_field(app_ctx, world, reason, comment, field, message):
    before = written()
    with pytest.raises(ResignationError) as caught:
        resignations.resign(member(world), reason, comment, today=MID_MARCH)
    assert caught.value.field == field and message in str(caught.value)
    assert written() == before


# ------------------------------------------------------------------ from a letter


def test_the_office_registers_a_letter_the_leave_is_the_end_of_the_letters_month(app_ctx, world, smtp_server):
    result = resignations.register_from_letter(world.members["club"].id, "retired", dt.date(2026, 2, 27),
                                               "Brev mottatt 02.03.2026", office_id(world), today=MID_MARCH)
    assert result.left_on == dt.date(2026, 2, 28) and result.mail_sent
    ola = member(world, "club")
    assert (ola.left_on, ola.leave_reason) == (dt.date(2026, 2, 28), LeaveReason.retired)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "resignation")).one()
    details = json.loads(entry.details)
    assert (details["source"], details["letter_date"], details["text"], details["by_user_id"]) == (
        "office letter", "2026-02-27", "Brev mottatt 02.03.2026", office_id(world))
    assert "28.02.2026" in smtp_server.bodies()[0]


@pytest.mark.parametrize(
    ("letter_date", "field", "message"),
    [
        (dt.date(2014, 12, 31), "letter_date", "Brevets dato: må ligge fra 01.01.2015"),  # before the join month
        (dt.date(2026, 5, 1), "letter_date", "til slutten av neste måned, 30.04.2026"),  # after next month
        ("2026-03-01", "letter_date", "Brevets dato: skriv inn en dato"),
        (None, "letter_date", "Brevets dato: skriv inn en dato"),
        (dt.date(1899, 1, 1), "letter_date", "1900"),
    ],
)
def test_a_letter_date_outside_the_window_is_refused(app_ctx, world, letter_date, field, message):
    before = written()
    with pytest.raises(ResignationError) as caught:
        resignations.register_from_letter(world.members["club"].id, "other", letter_date, "", None, today=MID_MARCH)
    assert caught.value.field == field and message in str(caught.value)
    assert written() == before


def test_the_letter_may_date_from_the_join_month_to_next_month(app_ctx, world):
    first = resignations.register_from_letter(world.members["club"].id, "other", dt.date(2015, 1, 20), "", None,
                                              today=MID_MARCH)
    assert first.left_on == dt.date(2015, 1, 31)
    last = resignations.register_from_letter(world.members["inside"].id, "other", dt.date(2026, 4, 30), "", None,
                                             today=MID_MARCH)
    assert last.left_on == dt.date(2026, 4, 30)


def test_a_letter_for_no_member_or_an_oversize_note_is_refused(app_ctx, world):
    before = written()
    with pytest.raises(ResignationError, match="Medlem: medlemmet finnes ikke"):
        resignations.register_from_letter(987654, "other", MID_MARCH, "", None, today=MID_MARCH)
    with pytest.raises(ResignationError) as caught:
        resignations.register_from_letter(world.members["club"].id, "other", MID_MARCH, "n" * 501, None,
                                          today=MID_MARCH)
    assert caught.value.field == "note" and "500" in str(caught.value)
    assert written() == before


# ------------------------------------------------------------------ the pages


def test_a_member_resigns_on_min_side_and_sees_it_afterwards(client, world, dbs, smtp_server):
    kari = world.members["inside"]
    month_end = Month.of(dt.date.today()).last_day
    login_as(client, world.logins["member"])
    mypage = client.get("/minside/").get_data(as_text=True)
    assert 'id="resign-link"' in mypage and "Medlem siden" in mypage
    form = client.get("/minside/resign").get_data(as_text=True)
    assert f"til og med {month_end:%d.%m.%Y}" in form and 'id="resign-form"' in form
    for reason in ("new_job", "retired", "financial", "dissatisfied", "other"):
        assert f'value="{reason}"' in form
    assert 'value="transferred"' not in form and 'value="non_payment"' not in form

    unconfirmed = client.post("/minside/resign", data={"reason": "new_job"})
    assert unconfirmed.status_code == 422
    assert "Bekreftelse: kryss av i boksen" in unconfirmed.get_data(as_text=True)
    bad = client.post("/minside/resign", data={"reason": "transferred", "confirm": "1"})
    assert bad.status_code == 422 and "Grunn: velg en av grunnene i listen." in bad.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(Member, kari.id).left_on is None

    done = client.post("/minside/resign", data={"reason": "new_job", "comment": "Takk for nå", "confirm": "1"},
                       follow_redirects=True)
    text = done.get_data(as_text=True)
    assert done.status_code == 200
    assert f"Utmeldingen din er registrert. Du er medlem til og med {month_end:%d.%m.%Y}." in text
    assert f"Utmeldt fra {month_end:%d.%m.%Y}" in text and 'id="resign-form"' not in text
    mypage = client.get("/minside/").get_data(as_text=True)
    assert f"Utmeldt fra {month_end:%d.%m.%Y}" in mypage and 'id="resign-link"' not in mypage
    dbs.expire_all()
    member_row = dbs.get(Member, kari.id)
    assert (member_row.left_on, member_row.leave_reason) == (month_end, LeaveReason.new_job)
    assert len(smtp_server.messages) == 1 and f"{month_end:%d.%m.%Y}" in smtp_server.bodies()[0]

    again = client.post("/minside/resign", data={"reason": "other", "confirm": "1"})
    assert again.status_code == 200 and 'id="resign-form"' not in again.get_data(as_text=True)
    dbs.expire_all()
    assert dbs.get(Member, kari.id).leave_reason == LeaveReason.new_job
    assert dbs.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "resignation")) == 1


def test_a_member_cannot_resign_for_someone_else(client, world, dbs):
    login_as(client, world.logins["member"])
    outside = world.members["outside"].id
    response = client.post("/minside/resign", data={"reason": "other", "confirm": "1", "member_id": outside,
                                                      "pk": outside})
    assert response.status_code == 302
    dbs.expire_all()
    assert dbs.get(Member, outside).left_on is None  # the form's ids are ignored: only the acting member resigns
    assert dbs.get(Member, world.members["inside"].id).left_on is not None
    # The office's form is not theirs.
    assert client.post(f"/transfers/member/{outside}/resign",
                       data={"reason": "other", "letter_date": dt.date.today().isoformat()}).status_code == 403
    dbs.expire_all()
    assert dbs.get(Member, outside).left_on is None


@pytest.mark.parametrize("role", ["leader", "treasurer", "member_data_admin", "workplace_trustee", "analyst"])
def test_only_the_office_registers_a_resignation_from_a_letter(client, world, dbs, role):
    kari = world.members["inside"].id
    login_as(client, world.logins[role], role)
    assert client.get(f"/transfers/member/{kari}/resign").status_code == 403
    assert client.post(f"/transfers/member/{kari}/resign",
                       data={"reason": "other", "letter_date": dt.date.today().isoformat()}).status_code == 403
    dbs.expire_all()
    assert dbs.get(Member, kari).left_on is None


def test_the_office_registers_a_letter_in_the_form(client, world, dbs, smtp_server):
    ola = world.members["club"].id
    login_as(client, world.logins["office"])
    letter = dt.date.today().replace(day=1)
    bad = client.post(f"/transfers/member/{ola}/resign", data={"reason": "retired", "letter_date": "2010-01-01"})
    assert bad.status_code == 422 and "Brevets dato: må ligge fra 01.01.2015" in bad.get_data(as_text=True)
    response = client.post(f"/transfers/member/{ola}/resign",
                           data={"reason": "retired", "letter_date": letter.isoformat(), "note": "Brev 1"},
                           follow_redirects=True)
    text = response.get_data(as_text=True)
    month_end = Month.of(letter).last_day
    assert f"Utmeldingen til Ola Æsøy er registrert: medlemskapet avsluttes {month_end:%d.%m.%Y}." in text
    dbs.expire_all()
    assert dbs.get(Member, ola).leave_reason == LeaveReason.retired
    assert len(smtp_server.messages) == 1


def test_min_side_shows_the_seniority_and_the_transfers(client, world, dbs):
    from webapp.models.lifecycle import LoUnion
    from webapp.services import transfers

    kari = world.members["inside"]
    union = LoUnion(code="FF", name="Fellesforbundet", active=True)
    dbs.add(union)
    dbs.commit()
    transfers.register_incoming_for_member(kari.id, union.id, dt.date(2004, 9, 1), "FF-1", None)
    login_as(client, world.logins["member"])
    page = client.get("/minside/").get_data(as_text=True)
    assert "Medlem siden" in page and "01.01.2015" in page
    assert "Ansiennitet fra" in page and "01.09.2004" in page
    assert "Fra annet LO-forbund" in page and "Fellesforbundet" in page
