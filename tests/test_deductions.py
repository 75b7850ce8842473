"""The monthly deduction cycle's services: KID, basis with changes, notices, lists, payments, reconciliation."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import select

from tests.factories import add_initial_rate, make_member
from webapp.extensions import db
from webapp.models import (
    DeductionBasis,
    DeductionBasisLine,
    DeductionNotice,
    Employment,
    Member,
    OrgUnit,
    Payment,
    Workplace,
)
from webapp.models.choices import BasisChange, DeviationReason, ListStatus, MemberCategory, ReconciliationStatus
from webapp.services import deduction_basis, deduction_lists, notices, payments
from webapp.services.kid import kid_for, parse_kid
from webapp.services.periods import Month, covers_month
from webapp.services.reconciliation import reconcile

SAMPLE_OCR = os.path.join(os.path.dirname(__file__), "data", "nets", "ocr_giro_transactions.txt")


@pytest.mark.parametrize(
    "customer,month,kid",
    [("94001761", "2021-01", "9019400176121012"), ("00080000", "2021-02", "9010008000021024"),
     ("00080000", "2021-03", "9010008000021032")],
)
def test_kid(customer, month, kid):
    assert kid_for(customer, Month.parse(month)) == kid
    assert parse_kid(kid) == (customer, Month.parse(month))


def test_kid_with_a_wrong_check_digit_is_not_ours():
    assert parse_kid("9019400176121013") is None


def test_periodization():
    march = Month(2026, 3)
    assert covers_month(dt.date(2026, 3, 1), None, march)  # joins on the 1st: same month
    assert not covers_month(dt.date(2026, 3, 2), None, march)  # joins later: from next month
    assert covers_month(dt.date(2020, 1, 1), dt.date(2026, 3, 2), march)  # leaves during the month: counts it
    assert not covers_month(dt.date(2020, 1, 1), dt.date(2026, 2, 28), march)


# ------------------------------------------------------------------ basis


def employ(member, workplace, start=dt.date(2020, 1, 1), end=None, pct=100):
    employment = Employment(member=member, employer=workplace.employer, workplace=workplace, start_date=start,
                            end_date=end, position_pct=pct, on_deduction=True)
    db.session.add(employment)
    return employment


@pytest.fixture()
def cycle(app_ctx, world):
    """World plus the four members of the issue's example, at employer E1 (workplace W1)."""
    add_initial_rate()
    w1 = db.session.get(Workplace, world.workplaces["W1"].id)
    av1 = db.session.get(OrgUnit, world.units["AV1"].id)
    joiner = make_member(av1, "Jo", "Innmelder")
    joiner.joined_on = dt.date(2026, 2, 15)
    employ(joiner, w1, start=dt.date(2026, 2, 15))
    leaver = make_member(av1, "Lea", "Slutter")
    employ(leaver, w1, end=dt.date(2026, 2, 10))
    opt_out = make_member(av1, "Odd", "Reiseløs")
    employ(opt_out, w1)
    apprentice = make_member(av1, "Ada", "Lærling")
    apprentice.category = MemberCategory.apprentice
    employ(apprentice, w1)
    db.session.commit()
    people = {"joiner": joiner.id, "leaver": leaver.id, "opt_out": opt_out.id, "apprentice": apprentice.id,
              "stable": world.members["inside"].id}
    return people


def basis_lines(employer_id: int, period: str) -> dict[int, DeductionBasisLine]:
    basis = db.session.scalars(
        select(DeductionBasis).where(DeductionBasis.employer_id == employer_id, DeductionBasis.period == period)
    ).one()
    return {line.member_id: line for line in basis.lines}


def test_join_leave_opt_out_and_apprentice_become_start_stop_change_change(cycle, world):
    february, march = Month(2026, 2), Month(2026, 3)
    deduction_basis.generate(february)
    before = basis_lines(world.employers["E1"].id, "2026-02")
    assert cycle["joiner"] not in before  # a join on the 15th counts from the next month
    assert before[cycle["leaver"]].on_deduction  # a leave counts to the end of its month
    assert before[cycle["apprentice"]].apprentice and before[cycle["apprentice"]].fixed_amount_ore == 4200
    assert before[cycle["opt_out"]].fixed_amount_ore == 8500 + 9100

    db.session.get(Member, cycle["opt_out"]).travel_insurance = False
    db.session.get(Member, cycle["apprentice"]).category = MemberCategory.ordinary
    db.session.commit()
    result = deduction_basis.generate(march)
    assert result.created >= 1

    lines = basis_lines(world.employers["E1"].id, "2026-03")
    assert lines[cycle["joiner"]].change == BasisChange.start
    assert lines[cycle["leaver"]].change == BasisChange.stop and not lines[cycle["leaver"]].on_deduction
    assert lines[cycle["opt_out"]].change == BasisChange.change
    assert lines[cycle["opt_out"]].change_detail == deduction_basis.TRAVEL_STOPPED
    assert lines[cycle["opt_out"]].fixed_amount_ore == 8500
    assert lines[cycle["apprentice"]].change == BasisChange.change
    assert lines[cycle["apprentice"]].change_detail == deduction_basis.APPRENTICE_TO_ORDINARY
    assert lines[cycle["stable"]].change is None
    basis = db.session.scalars(select(DeductionBasis).where(
        DeductionBasis.period == "2026-03", DeductionBasis.employer_id == world.employers["E1"].id)).one()
    assert basis.change_count == 4
    assert basis.kid == kid_for("94001761", march)


def test_generate_twice_changes_nothing_and_refresh_respects_notices(cycle, world, smtp_server):
    march = Month(2026, 3)
    first = deduction_basis.generate(march)
    ids = set(db.session.scalars(select(DeductionBasisLine.id)))
    second = deduction_basis.generate(march)
    assert not second.changed_anything and second.already_there == first.created
    assert "nothing to do" in second.summary()
    assert set(db.session.scalars(select(DeductionBasisLine.id))) == ids

    refreshed = deduction_basis.generate(march, refresh=True)
    assert refreshed.refreshed == first.created
    notices.notify(march)
    after_notice = deduction_basis.generate(march, refresh=True)
    assert after_notice.refused_notified >= 1 and after_notice.refreshed == 0


def test_generate_without_rate_is_refused_and_writes_nothing(app_ctx, world):
    with pytest.raises(deduction_basis.BasisError, match="period"):
        deduction_basis.generate(Month(2026, 3))
    assert db.session.scalar(select(db.func.count(DeductionBasis.id))) == 0


# ------------------------------------------------------------------ notices


def test_notice_reaches_real_smtp_server_once(cycle, world, smtp_server):
    march = Month(2026, 3)
    deduction_basis.generate(march)
    result = notices.notify(march)
    assert result.emails >= 1
    bodies = smtp_server.bodies()
    kid = kid_for("94001761", march)
    body = next(b for b in bodies if kid in b)
    assert "9001 07 41504" in body
    assert "03/2026" in body
    assert "/portal/" in body
    assert "1,1" in body and "85,-" in body and "91,-" in body and "42,-" in body
    assert db.session.scalar(select(db.func.count(DeductionNotice.id))) == result.emails

    again = notices.notify(march)
    assert again.emails == 0 and "nothing to send" in again.summary()
    assert len(smtp_server.messages) == result.emails


# ------------------------------------------------------------------ lists


def test_list_prefilled_delivered_locked_reopened_and_logged(cycle, world):
    march = Month(2026, 3)
    deduction_basis.generate(march)
    employer_id = world.employers["E1"].id
    lst = deduction_lists.create_list(employer_id, "2026-03", None)
    member_ids = {line.member_id for line in lst.lines}
    assert cycle["joiner"] in member_ids and cycle["leaver"] not in member_ids

    rows = [deduction_lists.LineInput(line.national_id, line.name, "312,50") for line in lst.lines]
    rows[0].amount, rows[0].deviation = "", "leave_of_absence"
    deduction_lists.replace_lines(lst, rows)
    deduction_lists.approve(lst, None)
    assert lst.status == ListStatus.delivered
    assert lst.total_ore == 31250 * (len(rows) - 1)
    with pytest.raises(deduction_lists.ListLocked):
        deduction_lists.replace_lines(lst, rows)

    deduction_lists.reopen(lst, None, reason="wrong amount")
    assert lst.status == ListStatus.draft
    from webapp.models import AuditEntry

    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reopen")).one()
    assert entry.object_id == lst.id


def test_supplementary_list_after_delivery(cycle, world):
    deduction_basis.generate(Month(2026, 3))
    employer_id = world.employers["E1"].id
    main = deduction_lists.create_list(employer_id, "2026-03", None)
    deduction_lists.replace_lines(main,
                                  [deduction_lists.LineInput(line.national_id, line.name, "100")
                                   for line in main.lines])
    deduction_lists.approve(main, None)
    extra = deduction_lists.create_list(employer_id, "2026-03", None)
    assert extra.kind.name == "supplementary" and extra.lines == []


def test_csv_upload_reports_every_bad_row_and_saves_nothing(cycle, world):
    deduction_basis.generate(Month(2026, 3))
    lst = deduction_lists.create_list(world.employers["E1"].id, "2026-03", None)
    before = [(line.national_id, line.amount_ore) for line in lst.lines]
    good = lst.lines[0].national_id
    data = (
        "medlemsnummer;fodselsnummer;navn;belop;avvik;kommentar\n"
        f";{good};;312,50;;\n"
        ";12345678901;Feil Person;100;;\n"
        f";{lst.lines[1].national_id};;abc;;\n"
        f";{lst.lines[2].national_id};;;holiday;\n"
        "7588888;;;100;;\n"
    ).encode()
    with pytest.raises(deduction_lists.ListError) as caught:
        deduction_lists.import_csv(lst, data)
    message = str(caught.value)
    assert all(f"Linje {number}: " in message for number in (3, 4, 5, 6)), message
    assert "Linje 2" not in message
    assert "Beløp: «abc» er ikke et beløp i kroner" in message
    assert "Medlemsnummer: 7588888 står ikke på arbeidsgiverens trekkgrunnlag" in message
    db.session.refresh(lst)
    assert [(line.national_id, line.amount_ore) for line in lst.lines] == before


def test_a_file_with_many_bad_rows_names_the_first_and_counts_the_rest(cycle, world):
    deduction_basis.generate(Month(2026, 3))
    lst = deduction_lists.create_list(world.employers["E1"].id, "2026-03", None)
    shown = deduction_lists.ERRORS_SHOWN
    rows = "".join(f";;;{number},5,5;;\n" for number in range(shown + 5))
    with pytest.raises(deduction_lists.ListError) as caught:
        deduction_lists.import_csv(lst, ("medlemsnummer;fodselsnummer;navn;belop;avvik;kommentar\n" + rows).encode())
    message = str(caught.value)
    assert f"Linje {shown + 1}: " in message and f"Linje {shown + 2}: " not in message
    assert message.endswith("… og 5 feil til.")


def test_a_member_twice_in_a_file_is_named_with_a_masked_national_id(cycle, world):
    deduction_basis.generate(Month(2026, 3))
    lst = deduction_lists.create_list(world.employers["E1"].id, "2026-03", None)
    member = db.session.get(Member, lst.lines[0].member_id)
    twice = f"{member.member_no};;;100;;\n" * 2
    with pytest.raises(deduction_lists.ListError) as caught:
        deduction_lists.import_csv(lst, ("medlemsnummer;fodselsnummer;navn;belop;avvik;kommentar\n" + twice).encode())
    message = str(caught.value)
    assert message == f"Linje 3: Fødselsnummer: {member.national_id[:6]}***** står to ganger."
    assert member.national_id not in message


def test_csv_template_round_trip(cycle, world):
    deduction_basis.generate(Month(2026, 3))
    lst = deduction_lists.create_list(world.employers["E1"].id, "2026-03", None)
    rows = [deduction_lists.LineInput(line.national_id, line.name, "250,00") for line in lst.lines]
    deduction_lists.replace_lines(lst, rows)
    template = deduction_lists.csv_template(lst).encode()
    assert deduction_lists.import_csv(lst, template) == len(rows)
    assert {line.amount_ore for line in lst.lines} == {25000}


def test_adding_unknown_person_by_national_id(cycle, world):
    from tests.factories import national_id

    deduction_basis.generate(Month(2026, 3))
    lst = deduction_lists.create_list(world.employers["E1"].id, "2026-03", None)
    stranger = national_id(dt.date(1990, 4, 4), 211)
    line = deduction_lists.add_line(lst, deduction_lists.LineInput(stranger, "Ukjent Person", "300"))
    assert line.member_id is None
    with pytest.raises(deduction_lists.ListError, match=r"^Navn: personen står ikke på arbeidsgiverens trekkgrunnlag"):
        deduction_lists.add_line(lst, deduction_lists.LineInput(national_id(dt.date(1991, 5, 5), 212), "", "300"))
    # A member of another employer is not on this employer's basis: kept as typed, for the office to resolve.
    known = db.session.get(Member, world.members["outside"].id)
    line = deduction_lists.add_line(lst,
                                    deduction_lists.LineInput(known.national_id, "Som skrevet", "", "other",
                                                              "moved here"))
    assert (line.member_id, line.outside_basis, line.name) == (None, True, "Som skrevet")
    assert line.deviation == DeviationReason.other


# ------------------------------------------------------------------ payments


def ocr_file(payments_by_kid: list[tuple[str, int]]) -> bytes:
    """An OCR giro file written with netsgiro, with our KIDs and amounts (øre)."""
    return payments.build_ocr_file([(kid, amount, dt.date(2026, 3, 20)) for kid, amount in payments_by_kid],
                                   "90010741504")


def test_the_banks_sample_file_imports_as_unmatched_payments(app_ctx):
    """The Nets sample (tests/data/nets): every transaction stored, none of its KIDs ours."""
    with open(SAMPLE_OCR, "rb") as handle:
        result = payments.import_file("ocr_giro_transactions.txt", handle.read())
    assert result.new == result.transactions == 20 and result.unmatched == 20


def test_ocr_import_matches_two_months_and_keeps_unknown_kid(cycle, world):
    for month in (Month(2026, 2), Month(2026, 3)):
        deduction_basis.generate(month)
    e1 = world.employers["E1"].id
    feb, mar = kid_for("94001761", Month(2026, 2)), kid_for("94001761", Month(2026, 3))
    data = ocr_file([(feb, 120000), (mar, 130050), ("1234567890", 5000)])
    result = payments.import_file("innbetalinger.txt", data)
    assert (result.new, result.matched, result.unmatched) == (3, 2, 1)

    stored = {p.kid: p for p in db.session.scalars(select(Payment))}
    assert stored[feb].employer_id == e1 and stored[feb].period == "2026-02"
    assert stored[mar].period == "2026-03" and stored[mar].amount_ore == 130050
    assert stored["1234567890"].employer_id is None

    basis = db.session.scalars(select(DeductionBasis).where(DeductionBasis.employer_id == e1,
                                                            DeductionBasis.period == "2026-03")).one()
    assert basis.paid_total_ore == 130050
    assert basis.reconciliation_status == ReconciliationStatus.no_list

    again = payments.import_file("innbetalinger.txt", data)
    assert again.already_imported and db.session.scalar(select(db.func.count(Payment.id))) == 3


def test_reconciliation_flags_amount_difference_and_unreported(cycle, world):
    deduction_basis.generate(Month(2026, 3))
    e1 = world.employers["E1"].id
    lst = deduction_lists.create_list(e1, "2026-03", None)
    rows = [deduction_lists.LineInput(line.national_id, line.name, "100") for line in lst.lines[1:]]
    deduction_lists.replace_lines(lst, rows)
    deduction_lists.approve(lst, None)
    payments.import_file("a.txt", ocr_file([(kid_for("94001761", Month(2026, 3)), 100 * 100 * len(rows) - 1)]))
    basis = db.session.scalars(select(DeductionBasis).where(DeductionBasis.employer_id == e1,
                                                            DeductionBasis.period == "2026-03")).one()
    assert basis.reported_total_ore == 10000 * len(rows)
    assert basis.paid_total_ore == 10000 * len(rows) - 1
    assert basis.reconciliation_status == ReconciliationStatus.amount_differs
    assert "members_not_reported" in basis.reconciliation_flags and basis.not_reported_count == 1


def test_a_member_counts_as_reported_only_on_the_months_delivered_lists(cycle, world):
    """Not reported: a basis line whose member is on no delivered list of that employer for that month; last
    month's delivered list, or a draft of the month, does not report them."""
    e1 = world.employers["E1"].id
    for month in (Month(2026, 2), Month(2026, 3)):
        deduction_basis.generate(month)

    def fill(lst, lines) -> None:
        deduction_lists.replace_lines(lst, [deduction_lists.LineInput(line.national_id, line.name, "100")
                                            for line in lines])

    february = deduction_lists.create_list(e1, "2026-02", None)
    fill(february, february.lines)
    deduction_lists.approve(february, None)
    march = deduction_lists.create_list(e1, "2026-03", None)
    left_out = march.lines[0]
    fill(march, march.lines[1:])
    deduction_lists.approve(march, None)
    supplementary = deduction_lists.create_list(e1, "2026-03", None)
    fill(supplementary, [left_out])  # a draft: not delivered

    for period, not_reported in (("2026-03", 1), ("2026-02", 0)):
        reconcile(period)
        basis = db.session.scalars(select(DeductionBasis).where(DeductionBasis.employer_id == e1,
                                                                DeductionBasis.period == period)).one()
        assert basis.not_reported_count == not_reported, period
        assert ("members_not_reported" in basis.reconciliation_flags) == bool(not_reported)


def test_bad_ocr_file_is_refused_with_message(app_ctx):
    with pytest.raises(payments.PaymentFileError, match=r"^Linje 1: en post er 80 tegn lang"):
        payments.import_file("x.txt", b"this is not an ocr file")
