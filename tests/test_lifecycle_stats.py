"""The membership's movements per month (webapp.services.lifecycle_stats) against a hand count over a small world
built for it: joins, leaves by reason, transfers both ways, on the first and last days of months, per home unit,
and over months with nothing in them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from reports import exports
from reports.membership import movement_months
from tests.factories import make_member
from tests.helpers import login_as
from webapp.extensions import db
from webapp.models import Member, OrgUnit
from webapp.models.choices import LeaveReason, TransferDirection
from webapp.models.lifecycle import LoUnion, MembershipTransfer
from webapp.services.lifecycle_stats import (
    MAX_MONTHS,
    MovementsError,
    monthly_movements,
    reason_code,
    reason_label,
    reasons_in,
    total,
)
from webapp.services.periods import Month

JAN, FEB, MAR = Month(2026, 1), Month(2026, 2), Month(2026, 3)
R = LeaveReason


def _unit(code: str) -> OrgUnit:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def _member(unit_code: str, name: str, joined_on: dt.date, left_on=None, reason=None) -> Member:
    member = make_member(_unit(unit_code), name, "Flyttesen", left_on=left_on, leave_reason=reason)
    member.joined_on = joined_on
    return member


def _transfer(member: Member, direction: TransferDirection, on: dt.date) -> None:
    union = db.session.scalar(select(LoUnion).where(LoUnion.code == "FF"))
    if union is None:
        union = LoUnion(code="FF", name="Fellesforbundet")
        db.session.add(union)
        db.session.flush()
    db.session.add(MembershipTransfer(member_id=member.id, direction=direction, lo_union_id=union.id, transfer_on=on,
                                      reference="Ref", registered_at=dt.datetime(2026, 4, 1, 12)))


@pytest.fixture()
def moving(app_ctx, world):
    """The movements of January to March 2026 in AV1 (with KL1 below it) and AV2. The world's own members all
    joined in 2015 and never left."""
    d = dt.date
    _member("AV1", "NewYear", d(2026, 1, 1))  # first day of January
    _member("AV1", "JanEnd", d(2026, 1, 31), left_on=d(2026, 3, 31), reason=R.new_job)  # last days of Jan and Mar
    _member("KL1", "OldYear", d(2025, 12, 31), left_on=d(2026, 1, 31), reason=R.resigned)  # joined before the range
    _member("AV2", "Short", d(2026, 2, 1), left_on=d(2026, 2, 28), reason=R.non_payment)  # both in February
    _member("AV2", "Legacy", d(2010, 5, 1), left_on=d(2026, 2, 28))  # a leave without a reason
    _member("AV2", "Gone", d(2010, 5, 1), left_on=d(2025, 12, 31), reason=R.resigned)  # left before the range
    _member("AV2", "Later", d(2026, 4, 1))  # joined after the range
    _member("AV1", "Rejoined", d(2026, 2, 10))  # back after an earlier membership: the new join date counts
    came = _member("AV1", "Came", d(2026, 3, 15))  # came from another LO union
    _transfer(came, TransferDirection.incoming, d(2026, 3, 15))
    went = _member("KL1", "Went", d(2012, 1, 1), left_on=d(2026, 3, 31), reason=R.transferred)
    _transfer(went, TransferDirection.outgoing, d(2026, 3, 10))
    seniority = _member("AV2", "Seniority", d(2016, 1, 1))  # a transfer in registered later: no join
    _transfer(seniority, TransferDirection.incoming, d(2026, 2, 1))
    outside = _member("AV2", "WentLater", d(2012, 1, 1), left_on=d(2026, 4, 30), reason=R.transferred)
    _transfer(outside, TransferDirection.outgoing, d(2026, 4, 1))
    db.session.commit()
    return world


def _figures(movements) -> dict[str, tuple]:
    return {str(m.month): (m.joins, dict(m.leaves_by_reason), m.transfers_in, m.transfers_out, m.net)
            for m in movements}


def test_movements_equal_the_hand_count(moving):
    # month: (joins, leaves by reason, transfers in, transfers out, net)
    assert _figures(monthly_movements(JAN, MAR)) == {
        "2026-01": (2, {R.resigned: 1}, 0, 0, 1),
        "2026-02": (2, {R.non_payment: 1, None: 1}, 1, 0, 0),
        "2026-03": (1, {R.new_job: 1, R.transferred: 1}, 1, 1, -1),
    }
    [february] = monthly_movements(FEB, FEB)
    assert (february.joins, february.leaves, february.leaves_for(None), february.leaves_for(R.deceased)) == (2, 2, 1, 0)
    # One month earlier and later: the edges of the range move the joins and leaves on the months' first and last days.
    assert _figures(monthly_movements(Month(2025, 12), Month(2025, 12))) == {"2025-12": (1, {R.resigned: 1}, 0, 0, 0)}
    assert _figures(monthly_movements(Month(2026, 4), Month(2026, 4))) == {"2026-04": (1, {R.transferred: 1}, 0, 1, 0)}


def test_scope_by_home_units(moving):
    east = {_unit("AV1").id, _unit("KL1").id}
    assert _figures(monthly_movements(JAN, MAR, east)) == {
        "2026-01": (2, {R.resigned: 1}, 0, 0, 1),
        "2026-02": (1, {}, 0, 0, 1),
        "2026-03": (1, {R.new_job: 1, R.transferred: 1}, 1, 1, -1),
    }
    assert _figures(monthly_movements(JAN, MAR, [_unit("AV2").id])) == {
        "2026-01": (0, {}, 0, 0, 0),
        "2026-02": (1, {R.non_payment: 1, None: 1}, 1, 0, -1),
        "2026-03": (0, {}, 0, 0, 0),
    }
    # A unit's own members only: the club below AV1 is not in AV1's figures unless it is named.
    assert [m.joins for m in monthly_movements(JAN, MAR, {_unit("KL1").id})] == [0, 0, 0]
    # No units: nobody (fail closed), every month still listed.
    assert _figures(monthly_movements(JAN, FEB, set())) == {"2026-01": (0, {}, 0, 0, 0), "2026-02": (0, {}, 0, 0, 0)}


def test_months_without_movements_and_bad_ranges(moving):
    quiet = monthly_movements(Month(2024, 11), Month(2025, 2))
    assert [str(m.month) for m in quiet] == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert all((m.joins, m.leaves, m.transfers_in, m.transfers_out, m.net) == (0, 0, 0, 0, 0) for m in quiet)
    with pytest.raises(MovementsError, match="months: the last month 2026-01 is before the first month 2026-02"):
        monthly_movements(FEB, JAN)
    with pytest.raises(MovementsError, match=f"at most {MAX_MONTHS}"):
        monthly_movements(Month(1990, 1), Month(2040, 12))


def test_totals_and_reason_columns(moving):
    movements = monthly_movements(JAN, MAR)
    summed = total(movements)
    assert (summed.month, summed.joins, summed.leaves, summed.transfers_in, summed.transfers_out, summed.net) == (
        JAN, 5, 5, 2, 1, 0)
    # The columns a table needs: the reasons that occur, in LeaveReason's order, no reason last.
    assert reasons_in(movements) == [R.resigned, R.new_job, R.transferred, R.non_payment, None]
    assert list(summed.leaves_by_reason) == reasons_in(movements)
    assert [reason_code(reason) for reason in (R.non_payment, None)] == ["non_payment", "unknown"]
    # The app speaks Norwegian.
    assert (reason_label(None), reason_label(R.deceased)) == ("Ingen årsak registrert", "Død")


# ------------------------------------------------------------------ the LO report


def test_lo_report_files_hold_the_movements_of_its_quarter(moving):
    report, [pdf, csv_file, xlsx] = exports.build(exports.LO, dt.date(2026, 3, 15))
    movements = monthly_movements(JAN, MAR)
    assert movement_months(dt.date(2026, 3, 15)) == (JAN, MAR) and movement_months(dt.date(2026, 4, 1)) == (
        Month(2026, 4), Month(2026, 4))
    assert report.movements == movements

    # CSV: per month and figure, the same numbers as the service.
    rows = list(csv.reader(io.StringIO(csv_file.data.decode("utf-8-sig")), delimiter=";"))
    in_csv = {(row[0], row[2]): int(row[4]) for row in rows if row[1] == "Inn- og utmeldinger"}
    expected = {}
    for month in movements:
        figures = {"joins": month.joins, "transfers_in": month.transfers_in, "leaves": month.leaves,
                   "transfers_out": month.transfers_out, "net": month.net}
        figures |= {f"leaves:{reason_code(reason)}": month.leaves_for(reason) for reason in [*LeaveReason, None]}
        expected |= {(str(month.month), code): count for code, count in figures.items()}
    assert in_csv == expected
    assert (in_csv[("2026-02", "leaves:unknown")], in_csv[("2026-03", "net")]) == (1, -1)

    # XLSX: a sheet of its own, one row per month and a total.
    sheet = [list(row) for row in load_workbook(io.BytesIO(xlsx.data))["Inn- og utmeldinger"].iter_rows(
        values_only=True)]
    header = sheet.index(next(row for row in sheet if row[0] == "Måned"))
    columns = sheet[header]
    assert columns[:6] == ["Måned", "Innmeldinger", "Overført inn", "Utmeldinger", "Overført ut", "Netto endring"]
    by_month = {row[0]: dict(zip(columns, row, strict=True)) for row in sheet[header + 1:]}
    assert list(by_month) == ["januar 2026", "februar 2026", "mars 2026", "Sum"]
    for label, month in zip(by_month, [*movements, total(movements)], strict=True):
        shown = by_month[label]
        assert [shown["Innmeldinger"], shown["Overført inn"], shown["Utmeldinger"], shown["Overført ut"],
                shown["Netto endring"]] == [month.joins, month.transfers_in, month.leaves, month.transfers_out,
                                            month.net]
        assert shown["Utmeldinger: Manglende betaling"] == month.leaves_for(R.non_payment)
        assert shown["Utmeldinger: Ingen årsak registrert"] == month.leaves_for(None)
    assert by_month["Sum"]["Innmeldinger"] == 5

    # PDF: the month table's rows and the reasons' totals as a reader sees them.
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Inn- og utmeldinger per måned fra januar 2026 til mars 2026" in text
    figures = r"\s*\n\s*".join
    for label, month in [("januar 2026", movements[0]), ("mars 2026", movements[2]), ("Sum", total(movements))]:
        row = figures([label, *(str(n) for n in (month.joins, month.transfers_in, month.leaves, month.transfers_out,
                                                 month.net))])
        assert re.search(row, text), (label, text[-1500:])
    assert re.search(figures(["Manglende betaling", "0", "1", "0", "1"]), text)
    assert re.search(figures(["Ingen årsak\\s+registrert", "0", "1", "0", "1"]), text)


def test_lo_report_without_movements_lists_every_reason_with_zero(app_ctx, world):
    report, [_pdf, csv_file, _xlsx] = exports.build(exports.LO, dt.date(2026, 2, 10))
    assert [str(m.month) for m in report.movements] == ["2026-01", "2026-02"]
    assert report.leave_reasons == list(LeaveReason)  # no leave without a reason, so no row for it
    rows = [row for row in csv.reader(io.StringIO(csv_file.data.decode("utf-8-sig")), delimiter=";")
            if row[1] == "Inn- og utmeldinger"]
    assert len(rows) == 2 * (5 + len(LeaveReason)) and {row[4] for row in rows} == {"0"}


def test_report_screen_shows_the_movements_to_the_analyst(moving, client):
    login_as(client, moving.logins["analyst"], "analyst")
    html = client.get("/reports/?report=lo&date=2026-03-15").get_data(as_text=True)
    assert "Inn- og utmeldinger per måned fra januar 2026 til mars 2026" in html
    table = html[html.index('id="movements"'):html.index('id="leave-reasons"')]
    rows = re.findall(r"<tr><td>([a-z]+ 2026)</td>((?:<td class=\"text-right\">-?\d+</td>)+)</tr>", table)
    shown = {month: [int(n) for n in re.findall(r">(-?\d+)<", cells)] for month, cells in rows}
    assert shown == {month_label: [m.joins, m.transfers_in, m.leaves, m.transfers_out, m.net] for month_label, m in
                     zip(["januar 2026", "februar 2026", "mars 2026"], monthly_movements(JAN, MAR), strict=True)}
    reasons = html[html.index('id="leave-reasons"'):]
    assert re.search(r"<td>Ingen årsak registrert</td><td[^>]*>0</td><td[^>]*>1</td><td[^>]*>0</td>", reasons)
    # The employer associations' reports have no movements.
    assert 'id="movements"' not in client.get("/reports/?report=spekter&date=2026-03-15").get_data(as_text=True)
