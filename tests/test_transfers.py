"""Transfers between this union and the other LO unions: incoming keeps the seniority, outgoing ends the
membership at the end of the month with a confirmation PDF for the receiving union, and the quarterly
report to LO counts them per union."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.concurrency import fire_together, postgres_only
from tests.factories import add_initial_rate
from tests.helpers import login_as
from webapp.extensions import db
from webapp.models import AuditEntry, DeductionBasis, DeductionBasisLine, Invoice, Member, Position
from webapp.models.choices import BasisChange, LeaveReason, PositionType, TransferDirection
from webapp.models.lifecycle import LoUnion, MembershipTransfer
from webapp.services import deduction_basis, resignations, transfers
from webapp.services.periods import Month, Quarter
from webapp.services.resignations import ResignationError
from webapp.services.transfers import TransferError

TODAY = dt.date.today()


class _ReportModule:
    """reports.transfers, imported on first use: imported before the services (as collection would), it meets
    the import cycle bounds -> validation -> bounds that the app's own start avoids."""

    def __getattr__(self, name):
        from reports import transfers as module

        return getattr(module, name)


transfer_report = _ReportModule()


def add_unions() -> dict[str, int]:
    unions = {
        "FF": LoUnion(code="FF", name="Fellesforbundet", org_number="938696917", active=True),
        "HK": LoUnion(code="HK", name="Handel og Kontor i Norge", active=True),
        "OLD": LoUnion(code="OLD", name="Nedlagt forbund", active=False),
    }
    db.session.add_all(unions.values())
    db.session.commit()
    return {code: union.id for code, union in unions.items()}


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(MembershipTransfer)),
            db.session.scalar(select(func.count()).select_from(AuditEntry)))


# --- incoming -----------------------------------------------------------------------------------------------


def test_record_incoming_keeps_the_seniority_and_is_audited(app_ctx, world):
    unions = add_unions()
    member = db.session.get(Member, world.members["inside"].id)
    since = dt.date(2009, 3, 1)
    transfer = transfers.record_incoming(member, unions["FF"], since, " FF-2026-17 ", user_id=None)
    db.session.commit()

    member = db.session.get(Member, member.id)
    assert member.seniority_on == since and member.seniority_date == since
    row = db.session.get(MembershipTransfer, transfer.id)
    assert row.direction == TransferDirection.incoming
    assert row.transfer_on == member.joined_on == dt.date(2015, 1, 1)
    assert row.other_union_since == since
    assert row.reference == "FF-2026-17"
    assert row.lo_union.name == "Fellesforbundet"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "transfer_in")).one()
    assert entry.member_id == member.id and "Fellesforbundet" in entry.details


@pytest.mark.parametrize(
    ("union", "since", "reference", "field", "words"),
    [
        ("missing", dt.date(2010, 1, 1), "", "lo_union", "LO-forbund: velg et forbund fra listen."),
        ("OLD", dt.date(2010, 1, 1), "", "lo_union", "Nedlagt forbund"),
        ("FF", TODAY + dt.timedelta(days=1), "", "since", "kan ikke være fram i tid"),
        ("FF", dt.date(2015, 1, 2), "", "since", "01.01.2015"),  # after the join date, which it names
        ("FF", "2010-01-01", "", "since", "skriv inn en dato"),
        ("FF", None, "", "since", "skriv inn en dato"),
        ("FF", dt.date(1899, 12, 31), "", "since", "1900"),
        ("FF", dt.date(2010, 1, 1), "x" * 101, "reference", "100"),
        ("FF", dt.date(2010, 1, 1), "a\x00b", "reference", "NUL"),
    ],
)
def test_record_incoming_refuses_bad_input_naming_the_field(app_ctx, world, union, since, reference, field, words):
    unions = add_unions()
    union_id = unions.get(union, 999_999)
    before = counts()
    member = db.session.get(Member, world.members["inside"].id)
    with pytest.raises(TransferError) as caught:
        transfers.record_incoming(member, union_id, since, reference, user_id=None)
    db.session.rollback()
    assert caught.value.field == field
    assert words in str(caught.value)
    assert counts() == before
    assert db.session.get(Member, member.id).seniority_on is None


# --- the office registers a transfer in on an existing member -------------------------------------------------


def test_the_office_registers_a_transfer_in_once(app_ctx, world):
    unions = add_unions()
    ola_id = world.members["club"].id
    transfer = transfers.register_incoming_for_member(ola_id, str(unions["HK"]), dt.date(2001, 8, 1), "HK 123", None)
    assert (transfer.direction, transfer.other_union_since, transfer.transfer_on) == (
        TransferDirection.incoming, dt.date(2001, 8, 1), dt.date(2015, 1, 1))
    assert db.session.get(Member, ola_id).seniority_on == dt.date(2001, 8, 1)
    before = counts()
    with pytest.raises(TransferError, match="allerede registrert for Ola Æsøy") as caught:
        transfers.register_incoming_for_member(ola_id, unions["FF"], dt.date(2005, 1, 1), "", None)
    assert caught.value.field == "member" and counts() == before
    assert db.session.get(Member, ola_id).seniority_on == dt.date(2001, 8, 1)
    with pytest.raises(TransferError, match="medlemmet finnes ikke"):
        transfers.register_incoming_for_member(987654, unions["FF"], dt.date(2005, 1, 1), "", None)


# --- outgoing -----------------------------------------------------------------------------------------------

MID_MARCH = dt.date(2026, 3, 14)


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def basis_line(member_id: int, period: str) -> DeductionBasisLine | None:
    return db.session.scalars(
        select(DeductionBasisLine).join(DeductionBasis, DeductionBasis.id == DeductionBasisLine.basis_id)
        .where(DeductionBasis.period == period, DeductionBasisLine.member_id == member_id)
    ).first()


def test_a_transfer_out_ends_the_membership_at_the_month_end_records_it_and_stops_the_deduction(app_ctx, world):
    add_initial_rate()
    unions = add_unions()
    kari_id = world.members["inside"].id
    db.session.add(Position(member_id=kari_id, type=PositionType.workplace_trustee,
                            workplace_id=world.workplaces["W1"].id, start_date=dt.date(2020, 1, 1)))
    db.session.commit()
    deduction_basis.generate(Month(2026, 3))

    transfer = transfers.transfer_out(kari_id, unions["FF"], dt.date(2026, 3, 20), "FF-sak 2026/88", None,
                                      today=MID_MARCH)

    kari = db.session.get(Member, kari_id)
    assert (kari.left_on, kari.leave_reason) == (dt.date(2026, 3, 31), LeaveReason.transferred)
    assert (transfer.direction, transfer.transfer_on, transfer.reference, transfer.lo_union.name) == (
        TransferDirection.outgoing, dt.date(2026, 3, 31), "FF-sak 2026/88", "Fellesforbundet")
    assert db.session.scalars(select(Position.end_date).where(Position.member_id == kari_id)).one() == kari.left_on
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.member_id == kari_id)).all()
    assert actions.count("end_membership") == 1 and actions.count("transfer_out") == 1

    deduction_basis.generate(Month(2026, 4))
    deduction_basis.generate(Month(2026, 5))
    stop = basis_line(kari_id, "2026-04")
    assert stop.change == BasisChange.stop and not stop.on_deduction
    assert basis_line(kari_id, "2026-05") is None


def test_the_confirmation_pdf_names_the_member_the_unions_and_the_dates(app_ctx, world):
    add_initial_rate()
    unions = add_unions()
    kari = db.session.get(Member, world.members["inside"].id)
    kari.seniority_on = dt.date(2009, 3, 1)
    db.session.commit()
    deduction_basis.generate(Month(2026, 3))
    transfer = transfers.transfer_out(kari.id, unions["FF"], dt.date(2026, 3, 2), "FF-sak 2026/88", None,
                                      today=MID_MARCH)
    kari = db.session.get(Member, kari.id)

    data = transfers.confirmation_pdf(transfer)
    text = pdf_text(data)
    assert data.startswith(b"%PDF")
    assert transfers.confirmation_filename(transfer) == f"overforingsbekreftelse-{kari.member_no}.pdf"
    assert "Overføringsbekreftelse" in text
    assert "Til: Fellesforbundet" in text and "Organisasjonsnummer 938696917" in text
    assert "Kari Nordmann går over fra Norsk Tjenesteforbund til Fellesforbundet" in text
    assert f"Fødselsdato {kari.birth_date:%d.%m.%Y}" in text
    assert f"Fødselsnummer (de seks første sifrene) {kari.national_id[:6]}" in text
    assert kari.national_id not in text  # never the whole number
    assert f"Medlemsnummer hos oss {kari.member_no}" in text
    assert "Medlem siden 01.01.2015" in text and "Ansiennitet fra 01.03.2009" in text
    assert "Siste dag som medlem 31.03.2026" in text
    assert "Kontingent betalt til og med mars 2026 (Trekk via lønn)" in text
    assert "Referanse FF-sak 2026/88" in text
    assert f"Dato {TODAY:%d.%m.%Y}" in text
    assert "Forbundskontoret" in text


def test_the_confirmation_of_a_direct_payer_says_what_is_paid(app_ctx, world):
    from tests.billing_helpers import add_direct_rates, direct_member
    from tests.payment_helpers import ocr
    from webapp.services import invoices, payments

    add_initial_rate()
    add_direct_rates()
    unions = add_unions()
    payer = direct_member(world, "Dina", "Direkte")
    db.session.commit()
    invoices.generate(Quarter(2026, 1), today=dt.date(2025, 12, 10))
    first = db.session.scalars(select(Invoice).where(Invoice.member_id == payer.id)).one()
    payments.import_file("ocr-1.txt", ocr([(first.kid, first.amount_ore)], file_number=1), "test")
    invoices.generate(Quarter(2026, 2), today=dt.date(2026, 3, 10))

    transfer = transfers.transfer_out(payer.id, unions["HK"], dt.date(2026, 5, 5), "", None,
                                      today=dt.date(2026, 5, 5))
    # Q2 is billed and unpaid: April and May are owed; June is credited.
    second = db.session.scalars(select(Invoice).where(Invoice.member_id == payer.id, Invoice.id != first.id)).one()
    assert second.credited_ore == second.amount_ore // 3
    text = pdf_text(transfers.confirmation_pdf(transfer))
    assert "Siste dag som medlem 31.05.2026" in text
    assert "Kontingent betalt til og med mars 2026 (Faktura)" in text


def test_no_confirmation_for_a_transfer_in(app_ctx, world):
    unions = add_unions()
    transfer = transfers.register_incoming_for_member(world.members["club"].id, unions["HK"], dt.date(2001, 8, 1),
                                                      "", None)
    with pytest.raises(TransferError):
        transfers.confirmation_pdf(transfer)


def test_a_second_transfer_or_a_resignation_after_it_is_refused(app_ctx, world):
    unions = add_unions()
    kari_id = world.members["inside"].id
    transfers.transfer_out(kari_id, unions["FF"], MID_MARCH, "", None, today=MID_MARCH)
    before = counts()
    with pytest.raises(TransferError, match=r"Kari Nordmann har allerede gått ut \(31\.03\.2026\)") as caught:
        transfers.transfer_out(kari_id, unions["HK"], MID_MARCH, "", None, today=MID_MARCH)
    assert caught.value.field == "member"
    with pytest.raises(ResignationError, match="allerede gått ut"):
        resignations.register_from_letter(kari_id, "other", MID_MARCH, "", None, today=MID_MARCH)
    assert counts() == before
    assert db.session.get(Member, kari_id).leave_reason == LeaveReason.transferred


@pytest.mark.parametrize(
    ("union", "on", "reference", "field", "message"),
    [
        ("missing", MID_MARCH, "", "lo_union", "LO-forbund: velg et forbund fra listen."),
        (None, MID_MARCH, "", "lo_union", "LO-forbund: velg et forbund fra listen."),
        ("OLD", MID_MARCH, "", "lo_union", "Nedlagt forbund er ikke lenger i bruk"),
        ("FF", MID_MARCH, "r" * 101, "reference", "Referanse: høyst 100 tegn."),
        ("FF", "14.03.2026", "", "on", "Overføringsdato: skriv inn en dato"),
        ("FF", None, "", "on", "Overføringsdato: skriv inn en dato"),
        ("FF", dt.date(2014, 12, 31), "", "on", "må ligge fra 01.01.2015"),
        ("FF", dt.date(2026, 5, 1), "", "on", "til slutten av neste måned, 30.04.2026"),
    ],
)
def test_bad_input_to_a_transfer_out_is_refused_naming_the_field(app_ctx, world, union, on, reference, field,
                                                                 message):
    unions = add_unions()
    union_id = unions.get(union, 999_999) if union else None
    before = counts()
    with pytest.raises(TransferError) as caught:
        transfers.transfer_out(world.members["inside"].id, union_id, on, reference, None, today=MID_MARCH)
    assert caught.value.field == field and message in str(caught.value)
    assert counts() == before
    assert db.session.get(Member, world.members["inside"].id).left_on is None


def test_a_transfer_out_for_no_member_is_refused(app_ctx, world):
    unions = add_unions()
    with pytest.raises(TransferError, match="Medlem: medlemmet finnes ikke"):
        transfers.transfer_out(987654, unions["FF"], MID_MARCH, "", None, today=MID_MARCH)


# --- the quarterly report ------------------------------------------------------------------------------------


def add_transfer(member_id: int, union_id: int, direction: TransferDirection, day: dt.date, reference: str = ""):
    db.session.add(MembershipTransfer(member_id=member_id, lo_union_id=union_id, direction=direction,
                                      transfer_on=day, reference=reference, registered_at=dt.datetime.now()))


@pytest.fixture()
def quarter_transfers(app_ctx, world):
    """Transfers in 2026: five in Q1 over two unions, one just outside on each side."""
    unions = add_unions()
    m = {key: world.members[key].id for key in ("inside", "club", "outside", "lf1_direct", "leader", "treasurer")}
    incoming, outgoing = TransferDirection.incoming, TransferDirection.outgoing
    rows = [
        (m["inside"], unions["FF"], incoming, dt.date(2026, 1, 1), "=HYPERLINK(\"x\")"),
        (m["club"], unions["FF"], incoming, dt.date(2026, 2, 15), "FF-2"),
        (m["outside"], unions["FF"], outgoing, dt.date(2026, 3, 31), "FF-3"),
        (m["lf1_direct"], unions["HK"], outgoing, dt.date(2026, 1, 31), "HK-1"),
        (m["leader"], unions["HK"], outgoing, dt.date(2026, 2, 28), ""),
        (m["treasurer"], unions["HK"], incoming, dt.date(2025, 12, 31), "before"),
        (m["treasurer"], unions["FF"], outgoing, dt.date(2026, 4, 30), "after"),
    ]
    for row in rows:
        add_transfer(*row)
    db.session.commit()
    return rows


def independent_counts(rows, quarter: Quarter) -> dict[str, tuple[int, int]]:
    names = {union.id: union.name for union in db.session.scalars(select(LoUnion))}
    result: dict[str, list[int]] = {}
    for _member, union_id, direction, day, _ref in rows:
        if quarter.first_day <= day <= quarter.last_day:
            pair = result.setdefault(names[union_id], [0, 0])
            pair[0 if direction == TransferDirection.incoming else 1] += 1
    return {name: tuple(pair) for name, pair in result.items()}


def test_the_quarterly_report_counts_what_an_independent_count_finds(quarter_transfers):
    q1 = Quarter(2026, 1)
    report = transfer_report.transfer_report(q1)
    assert {u.name: (u.incoming, u.outgoing) for u in report.unions} == independent_counts(quarter_transfers, q1) == {
        "Fellesforbundet": (2, 1), "Handel og Kontor i Norge": (0, 2)}
    assert (report.incoming, report.outgoing) == (2, 3)
    assert [(line.day, line.direction) for line in report.lines] == [
        (dt.date(2026, 1, 1), TransferDirection.incoming), (dt.date(2026, 1, 31), TransferDirection.outgoing),
        (dt.date(2026, 2, 15), TransferDirection.incoming), (dt.date(2026, 2, 28), TransferDirection.outgoing),
        (dt.date(2026, 3, 31), TransferDirection.outgoing)]
    q2 = transfer_report.transfer_report(Quarter(2026, 2))
    assert {u.name: (u.incoming, u.outgoing) for u in q2.unions} == independent_counts(quarter_transfers,
                                                                                        Quarter(2026, 2))


def test_the_report_files_hold_the_figures_and_the_members(quarter_transfers, world):
    report = transfer_report.transfer_report(Quarter(2026, 1))
    files = {f.name: f for f in transfer_report.report_files(report)}
    assert set(files) == {"overforinger-2026-Q1.pdf", "overforinger-2026-Q1.csv", "overforinger-2026-Q1.xlsx",
                          "overforinger-2026-Q1-medlemmer.csv"}

    figures = list(csv.reader(io.StringIO(files["overforinger-2026-Q1.csv"].data.decode("utf-8-sig")), delimiter=";"))
    assert figures == [["Kvartal", "Forbundskode", "LO-forbund", "Overført inn", "Overført ut"],
                       ["2026-Q1", "FF", "Fellesforbundet", "2", "1"],
                       ["2026-Q1", "HK", "Handel og Kontor i Norge", "0", "2"],
                       ["2026-Q1", "", "Sum", "2", "3"]]
    members = list(csv.reader(io.StringIO(files["overforinger-2026-Q1-medlemmer.csv"].data.decode("utf-8-sig")),
                              delimiter=";"))
    kari = world.members["inside"]
    assert members[0] == ["Medlemsnummer", "Navn", "Dato", "Retning", "Forbundskode", "LO-forbund", "Referanse"]
    assert members[1] == [kari.member_no, "Kari Nordmann", "01.01.2026", "Fra annet LO-forbund", "FF",
                          "Fellesforbundet", "'=HYPERLINK(\"x\")"]  # neutralised
    assert len(members) == 6

    workbook = load_workbook(io.BytesIO(files["overforinger-2026-Q1.xlsx"].data))
    sheet = workbook["Per LO-forbund"]
    rows = [tuple(c for c in row) for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert rows == [("FF", "Fellesforbundet", 2, 1), ("HK", "Handel og Kontor i Norge", 0, 2),
                    (None, "Sum", 2, 3)]
    assert workbook["Medlemmer"].max_row == 6

    text = pdf_text(files["overforinger-2026-Q1.pdf"].data)
    assert "Overføringer mellom LO-forbund, 1. kvartal 2026" in text
    assert "Fellesforbundet 2 1" in text and "Handel og Kontor i Norge 0 2" in text and "Sum 2 3" in text
    assert kari.member_no in text and "HK-1" in text


def test_a_bad_quarter_is_refused_naming_the_field(app_ctx):
    from reports.membership import ReportError

    for text in ("2026-Q5", "2026", "1999-Q1", "", "2026-Q1; drop"):
        with pytest.raises(ReportError, match=r"^Kvartal: må være et kvartal på formen"):
            transfer_report.parse_quarter(text)


# --- the office's screens --------------------------------------------------------------------------------------

OTHER_ROLES = ["leader", "treasurer", "member_data_admin", "workplace_trustee", "deduction_contact", "member",
               "analyst"]


@pytest.fixture()
def unions_web(clean_app, world) -> dict[str, int]:
    with clean_app.app_context():
        unions = add_unions()
        db.session.remove()
    return unions


def office(client, world):
    login_as(client, world.logins["office"])
    return client


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_only_the_office_reaches_the_transfer_screens_and_actions(client, world, unions_web, dbs, role):
    kari = world.members["inside"].id
    login_as(client, world.logins[role], role)
    for path in ("/transfers/", "/transfers/report?quarter=2026-Q1",
                 "/transfers/report/2026-Q1/overforinger-2026-Q1.csv", f"/transfers/member/{kari}/resign",
                 f"/transfers/member/{kari}/out", f"/transfers/member/{kari}/in"):
        assert client.get(path).status_code == 403, path
    posts = {
        f"/transfers/member/{kari}/out": {"lo_union": unions_web["FF"], "on": "2026-11-15"},
        f"/transfers/member/{kari}/in": {"lo_union": unions_web["FF"], "since": "2010-01-01"},
        f"/transfers/member/{kari}/resign": {"reason": "other", "letter_date": "2026-11-15"},
    }
    for path, data in posts.items():
        assert client.post(path, data=data).status_code == 403, path
    dbs.expire_all()
    assert dbs.get(Member, kari).left_on is None and dbs.get(Member, kari).seniority_on is None
    assert dbs.scalar(select(func.count()).select_from(MembershipTransfer)) == 0


def test_the_member_page_shows_the_office_its_leaving_actions_and_no_one_else(client, world, unions_web):
    kari = world.members["inside"].id
    page = office(client, world).get(f"/memberview/show/{kari}").get_data(as_text=True)
    assert 'id="member-leaving"' in page
    for action in ("Registrer utmelding (brev)", "Overføring til annet LO-forbund", "Overføring fra annet LO-forbund"):
        assert action in page
    client.get("/logout/")
    login_as(client, world.logins["member_data_admin"], "member_data_admin")
    page = client.get(f"/memberview/show/{kari}")
    assert page.status_code == 200 and b"member-leaving" not in page.data


def test_the_office_transfers_a_member_out_in_the_browser_form(client, world, unions_web, dbs):
    kari = world.members["inside"]
    office(client, world)
    today = dt.date.today()
    response = client.post(f"/transfers/member/{kari.id}/out",
                           data={"lo_union": unions_web["HK"], "on": today.isoformat(), "reference": "HK 2026-9"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/memberview/show/{kari.id}")
    month_end = Month.of(today).last_day
    page = client.get(f"/memberview/show/{kari.id}").get_data(as_text=True)
    assert f"Medlemskapet avsluttes {month_end:%d.%m.%Y}" in page and "Handel og Kontor i Norge" in page
    assert 'id="action-transfer-out"' not in page  # no second transfer offered

    listing = client.get("/transfers/?direction=outgoing").get_data(as_text=True)
    assert "HK 2026-9" in listing and "Overføringer: 1" in listing
    transfer_id = dbs.scalar(select(MembershipTransfer.id))
    pdf = client.get(f"/transfers/{transfer_id}/confirmation.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert f'filename="overforingsbekreftelse-{kari.member_no}.pdf"' in pdf.headers["Content-Disposition"]
    assert "Handel og Kontor i Norge" in pdf_text(pdf.data)
    assert "Overføringer: 0" in client.get("/transfers/?direction=incoming").get_data(as_text=True)


def test_a_bad_transfer_form_answers_422_naming_the_field_and_saves_nothing(client, world, unions_web, dbs):
    kari = world.members["inside"].id
    office(client, world)
    cases = [
        ({"lo_union": "", "on": "2026-11-15"}, "LO-forbund: velg et forbund fra listen."),
        ({"lo_union": "abc", "on": "2026-11-15"}, "LO-forbund: velg et forbund fra listen."),
        ({"lo_union": unions_web["OLD"], "on": "2026-11-15"}, "Nedlagt forbund er ikke lenger i bruk"),
        ({"lo_union": unions_web["FF"], "on": "15/11/2026"}, "Overføringsdato: skriv inn en dato"),
        ({"lo_union": unions_web["FF"], "on": "2099-01-01"}, "til slutten av neste måned"),
        ({"lo_union": unions_web["FF"], "on": "2026-11-15", "reference": "x" * 101}, "Referanse: høyst 100 tegn."),
    ]
    for data, message in cases:
        response = client.post(f"/transfers/member/{kari}/out", data=data)
        assert response.status_code == 422 and message in response.get_data(as_text=True), data
    since_cases = [
        ({"lo_union": unions_web["FF"], "since": "2030-01-01"}, "kan ikke være fram i tid"),
        ({"lo_union": unions_web["FF"], "since": "2016-01-01"}, "kan ikke være etter dagen medlemskapet her begynte"),
        ({"lo_union": unions_web["FF"], "since": ""}, "skriv inn en dato"),
    ]
    for data, message in since_cases:
        response = client.post(f"/transfers/member/{kari}/in", data=data)
        assert response.status_code == 422 and message in response.get_data(as_text=True), data
    dbs.expire_all()
    assert dbs.get(Member, kari).left_on is None and dbs.get(Member, kari).seniority_on is None
    assert dbs.scalar(select(func.count()).select_from(MembershipTransfer)) == 0


def test_the_office_registers_a_transfer_in_in_the_form(client, world, unions_web, dbs):
    ola = world.members["club"].id
    office(client, world)
    response = client.post(f"/transfers/member/{ola}/in",
                           data={"lo_union": unions_web["FF"], "since": "02.05.2003", "reference": "FF-77"})
    assert response.status_code == 302
    page = client.get(f"/memberview/show/{ola}").get_data(as_text=True)
    assert "Ansiennitet fra" in page and "02.05.2003" in page
    assert 'id="action-transfer-in"' not in page  # registered once
    dbs.expire_all()
    assert dbs.get(Member, ola).seniority_on == dt.date(2003, 5, 2)


def test_the_transfer_list_filters_and_refuses_bad_filters(client, world, quarter_transfers):
    office(client, world)
    assert "Overføringer: 7" in client.get("/transfers/").get_data(as_text=True)
    hk = db.session.scalar(select(LoUnion.id).where(LoUnion.code == "HK"))
    page = client.get(f"/transfers/?union={hk}&direction=outgoing").get_data(as_text=True)
    assert "Overføringer: 2" in page and "HK-1" in page and "FF-3" not in page
    page = client.get("/transfers/?from=2026-01-01&to=2026-03-31").get_data(as_text=True)
    assert "Overføringer: 5" in page and "after" not in page.split('id="transfers"')[1]
    for query, message in (("direction=sideways", "Retning: velg en av retningene i listen."),
                           ("from=2026-13-01", "Fra: skriv inn en dato"), ("to=31.02.2026", "Til: skriv inn en dato"),
                           ("union=99999999999999999999999", "LO-forbund: velg et forbund fra listen.")):
        response = client.get(f"/transfers/?{query}")
        assert response.status_code == 422 and message in response.get_data(as_text=True), query


def test_the_report_page_and_its_files(client, world, quarter_transfers):
    office(client, world)
    page = client.get("/transfers/report?quarter=2026-Q1").get_data(as_text=True)
    assert 'id="total-in">2<' in page and 'id="total-out">3<' in page
    for name, mimetype in (("overforinger-2026-Q1.pdf", "application/pdf"), ("overforinger-2026-Q1.csv", "text/csv"),
                           ("overforinger-2026-Q1-medlemmer.csv", "text/csv"),
                           ("overforinger-2026-Q1.xlsx",
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        assert f"/transfers/report/2026-Q1/{name}" in page
        response = client.get(f"/transfers/report/2026-Q1/{name}")
        assert response.status_code == 200 and response.mimetype == mimetype, name
        assert f'filename="{name}"' in response.headers["Content-Disposition"]
    assert client.get("/transfers/report/2026-Q1/passwords.csv").status_code == 404
    assert client.get("/transfers/report/2026-Q9/overforinger-2026-Q9.csv").status_code == 404
    response = client.get("/transfers/report?quarter=2026-Q9", follow_redirects=True)
    assert "Kvartal: må være et kvartal på formen" in response.get_data(as_text=True)


# --- one winner --------------------------------------------------------------------------------------------------


@postgres_only
def test_of_a_transfer_out_and_a_resignation_at_once_one_wins(clean_app, world):
    with clean_app.app_context():
        unions = add_unions()
        db.session.remove()
    kari_id = world.members["inside"].id

    def attempt(work):
        with clean_app.app_context():
            try:
                return work()
            except (TransferError, ResignationError) as refusal:
                return f"refused: {refusal}"
            finally:
                db.session.remove()

    works = [lambda: transfers.transfer_out(kari_id, unions["FF"], TODAY, "", None) and "won",
             lambda: resignations.register_from_letter(kari_id, "other", TODAY, "", None) and "won"] * 3
    results = fire_together([lambda work=work: attempt(work) for work in works])
    assert results.count("won") == 1, results
    assert all("har allerede gått ut" in r for r in results if r != "won"), results
    with clean_app.app_context():
        kari = db.session.get(Member, kari_id)
        transfers_made = db.session.scalar(select(func.count()).select_from(MembershipTransfer))
        ended = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.action == "end_membership"))
        assert ended == 1 and kari.left_on == Month.of(TODAY).last_day
        assert transfers_made == (1 if kari.leave_reason == LeaveReason.transferred else 0)
        db.session.remove()


def test_hostile_ids_and_arguments_answer_404_or_422_never_a_server_error(client, world, quarter_transfers):
    office(client, world)
    huge = "99999999999999999999"
    for path in (f"/transfers/{huge}/confirmation.pdf", f"/transfers/{2**63}/confirmation.pdf",
                 f"/transfers/member/{huge}/out", f"/transfers/member/{huge}/in", f"/transfers/member/{huge}/resign",
                 "/transfers/member/0/out"):
        assert client.get(path).status_code == 404, path
    incoming = db.session.scalar(select(MembershipTransfer.id).where(
        MembershipTransfer.direction == TransferDirection.incoming))
    assert client.get(f"/transfers/{incoming}/confirmation.pdf").status_code == 404  # only transfers out have one
    # A NUL byte is turned away before any view (webapp/views/request_guard.py): 400.
    for query in (f"union={huge}", "from=a%00b", "to=" + "9" * 5000, "direction=%00", f"from={huge}"):
        assert client.get(f"/transfers/?{query}").status_code in (400, 422), query
    for quarter in ("a%00b", huge, "2026-Q1%00"):
        assert client.get(f"/transfers/report/{quarter}/x.csv").status_code in (400, 404), quarter
        assert client.get(f"/transfers/report?quarter={quarter}").status_code in (302, 400), quarter
    kari = world.members["inside"].id
    response = client.post(f"/transfers/member/{kari}/out", data={"lo_union": huge, "on": "31.02.2026",
                                                                  "reference": "x" * 5000})
    assert response.status_code == 422
