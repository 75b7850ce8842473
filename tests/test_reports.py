"""Membership reports on the small known register: who counts at a date, the files, the CLI with a real SMTP
server, the screens, and what the analyst may and may not open."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from reports import exports
from reports.membership import (
    BREAKDOWN_LABELS,
    ReportError,
    employer_association_report,
    lo_report,
    members_counted,
    membership_development,
    parse_association,
    parse_date,
)
from tests.document_helpers import job_of, job_result
from tests.factories import make_member
from tests.helpers import api_token, login_as
from webapp.extensions import db
from webapp.models import Employment, Member, OrgUnit, ReportDispatch, Workplace
from webapp.models.choices import EmployerAssociation, Gender, MemberCategory
from webapp.services.periods import Month

LAST_MONTH = Month.of(dt.date.today()).previous
# The 15th of last month: every date in the tests lies in the past.
DAY = LAST_MONTH.first_day + dt.timedelta(days=14)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def groups(report, breakdown) -> dict[str, int]:
    return {group.code: group.members for group in report.breakdowns[breakdown]}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def xlsx_cells(data: bytes) -> dict[str, list[list]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets}


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def add_member(unit_code: str, first: str, **values) -> Member:
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
    # Set after the factory: it fixes join date and category, and its national ids only encode 1900s births.
    overrides = {name: values.pop(name) for name in ("birth_date", "joined_on", "category") if name in values}
    member = make_member(unit, first, "Testesen", **values)
    for name, value in overrides.items():
        setattr(member, name, value)
    return member


def employ(member: Member, workplace_key: str, pct=100, start=dt.date(2020, 1, 1), end=None) -> None:
    workplace = db.session.scalar(select(Workplace).where(Workplace.name == f"Arbeidssted {workplace_key}"))
    db.session.add(Employment(member=member, employer_id=workplace.employer_id, workplace=workplace, start_date=start,
                              end_date=end, position_pct=pct, on_deduction=True))


# ------------------------------------------------------------------ who counts


def test_periodized_membership_decides_who_counts(app_ctx, world):
    first = LAST_MONTH.first_day
    add_member("AV1", "JoinedOnFirst", joined_on=first)
    add_member("AV1", "JoinedOnSecond", joined_on=first + dt.timedelta(days=1))  # counts from next month
    add_member("AV1", "LeftThisMonth", joined_on=dt.date(2010, 1, 1), left_on=first)  # counts to the month's end
    add_member("AV1", "LeftMonthBefore", joined_on=dt.date(2010, 1, 1), left_on=first - dt.timedelta(days=1))
    db.session.commit()
    report = lo_report(DAY)
    names = set(db.session.scalars(select(Member.first_name)))
    # The world's 8 members (4 plain, 4 officers) all joined in 2015, plus the two that count of the four above.
    assert {"JoinedOnFirst", "LeftThisMonth"} <= names
    assert report.total == 8 + 2 == members_counted(DAY)
    # The same members on any day of the month: the report is the month's.
    assert lo_report(LAST_MONTH.last_day).total == report.total
    assert lo_report(first).total == report.total


def test_age_band_turns_on_the_birthday(app_ctx, world):
    add_member("AV1", "TwentyToday", birth_date=DAY.replace(year=DAY.year - 20))
    add_member("AV1", "TwentyTomorrow", birth_date=DAY.replace(year=DAY.year - 20) + dt.timedelta(days=1))
    add_member("AV1", "SixtySevenToday", birth_date=DAY.replace(year=DAY.year - 67))
    db.session.commit()
    bands = groups(lo_report(DAY), "age_band")
    assert bands["under_20"] == 1 and bands["67_plus"] == 1
    assert bands["20_29"] == 1
    assert bands["40_49"] == 8  # the world's members, all born 1980-05-17... 45 or 46 years old
    assert sum(bands.values()) == 11


def test_lo_breakdowns_on_the_known_register(app_ctx, world):
    # "inside" has a second, smaller job in Akershus: the main workplace (largest position) decides the county.
    inside = db.session.get(Member, world.members["inside"].id)
    employ(inside, "W1b", pct=20)
    retired = add_member("AV2", "Pensjonist", category=MemberCategory.retired)
    retired.gender = None
    db.session.commit()
    report = lo_report(DAY)
    assert report.total == 9
    for name, found in report.breakdowns.items():
        assert sum(group.members for group in found) == report.total, name
    assert groups(report, "county") == {"Akershus": 1, "Oslo": 1, "Vestland": 1, "unknown": 6}
    assert groups(report, "sector") == {"state": 3, "municipal": 0, "private": 0, "unknown": 6}
    assert groups(report, "category")["retired"] == 1 and groups(report, "category")["ordinary"] == 8
    assert groups(report, "gender")["unknown"] == 1
    # Home units AV1 and KL1 are below LF1, AV2 below LF2; the world's "lf1_direct" member sits in LF1 itself.
    assert groups(report, "org_unit") == {"LF1": 7, "LF2": 2}


def test_employer_association_report_counts_members_employed_at_the_date(app_ctx, world):
    outside = db.session.get(Member, world.members["outside"].id)
    # A second employment at the same enterprise counts the member once there.
    employ(outside, "W2", pct=10)
    # An employment that ended before the month does not count.
    club = db.session.get(Member, world.members["club"].id)
    employ(club, "W2", start=dt.date(2019, 1, 1), end=LAST_MONTH.first_day - dt.timedelta(days=1))
    db.session.commit()
    spekter = employer_association_report(EmployerAssociation.spekter, DAY)
    assert [(row.org_number, row.members) for row in spekter.rows] == [("971524960", 1)]
    staten = employer_association_report(EmployerAssociation.staten, DAY)
    assert [(row.org_number, row.name, row.members) for row in staten.rows] == [("974760673", "Virksomhet E1", 2)]
    assert staten.total == staten.distinct_members == 2
    nho = employer_association_report(EmployerAssociation.nho, DAY)
    assert nho.rows == [] and nho.total == 0


def test_development_adds_up_month_to_month(app_ctx, world):
    add_member("AV1", "Joiner", joined_on=LAST_MONTH.first_day - dt.timedelta(days=3))  # counts from LAST_MONTH
    add_member("AV1", "Leaver", joined_on=dt.date(2010, 1, 1), left_on=LAST_MONTH.previous.first_day)
    db.session.commit()
    rows = membership_development(LAST_MONTH.shift(-2), LAST_MONTH)
    per_month: dict[str, list[int]] = {}
    for row in rows:
        figures = per_month.setdefault(row.month, [0, 0, 0])
        figures[0] += row.members
        figures[1] += row.joins
        figures[2] += row.leaves
    months = [str(LAST_MONTH.shift(-2)), str(LAST_MONTH.previous), str(LAST_MONTH)]
    assert per_month[months[2]] == [9, 1, 1]  # Joiner in, Leaver out (left in the month before)
    assert per_month[months[1]] == [9, 0, 0]
    assert per_month[months[2]][0] - per_month[months[1]][0] == per_month[months[2]][1] - per_month[months[2]][2]
    assert per_month[months[2]][0] == members_counted(LAST_MONTH.first_day)


def test_bad_input_names_the_field():
    with pytest.raises(ReportError, match=r"^date: '2026-02-30' is not a date of the form YYYY-MM-DD"):
        parse_date("2026-02-30")
    for text in ("20260101", "2026-W01-1", "1.1.2026", ""):
        with pytest.raises(ReportError, match="is not a date of the form YYYY-MM-DD"):
            parse_date(text)
    with pytest.raises(ReportError, match="in the future"):
        parse_date((dt.date.today() + dt.timedelta(days=1)).isoformat())
    with pytest.raises(ReportError, match=r"^--date: 1899-12-31 is before 1900-01-01"):
        parse_date("1899-12-31", "--date")
    with pytest.raises(ReportError, match=r"^association: 'Fagforbundet' is not an employer association"):
        parse_association("Fagforbundet")
    assert parse_association("Spekter") == EmployerAssociation.spekter
    assert parse_association("NHO") == EmployerAssociation.nho
    with pytest.raises(ReportError, match="not an employer association"):
        parse_association("none")


# ------------------------------------------------------------------ files


def test_files_hold_the_figures_and_no_national_ids(app_ctx, world):
    report, files = exports.build(exports.LO, DAY)
    assert [f.name for f in files] == [f"medlemstall-lo-{DAY.isoformat()}.{ext}" for ext in ("pdf", "csv", "xlsx")]
    pdf, csv_file, xlsx = files
    text = pdf_text(pdf.data)
    assert "LO / LO Stat" in text and "Vestland" in text and DAY.strftime("%d.%m.%Y") in text
    rows = csv_rows(csv_file.data)
    assert rows[1][0] == DAY.isoformat() and rows[1][2] == "total" and rows[1][4] == str(report.total)
    gender = str(BREAKDOWN_LABELS["gender"])
    by_gender = dict(db.session.execute(select(Member.gender, func.count(Member.id)).group_by(Member.gender)).all())
    assert {row[2]: int(row[4]) for row in rows if row[1] == gender} == {
        "female": by_gender.get(Gender.female, 0), "male": by_gender.get(Gender.male, 0)}
    sheets = xlsx_cells(xlsx.data)
    assert next(iter(sheets.values()))[3][1] == report.total
    county_sheet = sheets[str(BREAKDOWN_LABELS["county"])]
    assert ["Vestland", "Vestland", 1] in [list(row) for row in county_sheet]
    assert county_sheet[-1][2] == report.total
    national_ids = db.session.scalars(select(Member.national_id)).all()
    for content in (text, csv_file.data.decode("utf-8-sig"), str(sheets)):
        assert not any(nid in content or nid[:6] in content for nid in national_ids)


# ------------------------------------------------------------------ CLI and e-mail


def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_payload(decode=True) for part in message.iter_attachments()}


def test_cli_sends_the_lo_report_once(clean_app, world, smtp_server, tmp_path):
    day = DAY.isoformat()
    result = run(clean_app, "reports", "lo", "--date", day, "--send", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    paths = [line for line in result.output.splitlines() if line.startswith(str(tmp_path))]
    assert [p.rsplit("/", 1)[1] for p in paths] == [f"medlemstall-lo-{day}.{e}" for e in ("pdf", "csv", "xlsx")]
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert sorted(sent["to"]) == sorted(clean_app.config["REPORT_RECIPIENTS"]["lo"])
    files = attachments(sent["message"])
    assert set(files) == {f"medlemstall-lo-{day}.{e}" for e in ("pdf", "csv", "xlsx")}
    with clean_app.app_context():
        total = members_counted(DAY)
    text = pdf_text(files[f"medlemstall-lo-{day}.pdf"])
    assert "LO / LO Stat" in text and DAY.strftime("%d.%m.%Y") in text and str(total) in text
    cells = xlsx_cells(files[f"medlemstall-lo-{day}.xlsx"])
    summary = next(iter(cells.values()))
    assert summary[3][1] == total
    gender_sheet = next(rows for rows in cells.values() if any(r and r[1] == "female" for r in rows))
    assert sum(r[2] for r in gender_sheet if r and r[1] in ("female", "male", "unknown")) == total
    assert csv_rows(files[f"medlemstall-lo-{day}.csv"])[1][4] == str(total)
    assert (tmp_path / f"medlemstall-lo-{day}.pdf").read_bytes() == files[f"medlemstall-lo-{day}.pdf"]
    with clean_app.app_context():
        dispatch = db.session.scalar(select(ReportDispatch))
        assert dispatch.member_total == total and dispatch.sent_by == "cli" and not dispatch.forced
        assert exports.ReportFile("x", files[f"medlemstall-lo-{day}.xlsx"], "").sha256 in dispatch.files

    # The same report for the same date again: refused, nothing sent, nothing written.
    (tmp_path / f"medlemstall-lo-{day}.pdf").unlink()
    again = run(clean_app, "reports", "lo", "--date", day, "--send", "--out", str(tmp_path))
    assert again.exit_code != 0 and "--force" in again.output and "already sent" in again.output
    assert len(smtp_server.messages) == 1
    assert not (tmp_path / f"medlemstall-lo-{day}.pdf").exists()
    with clean_app.app_context():
        assert db.session.scalar(select(func.count(ReportDispatch.id))) == 1

    forced = run(clean_app, "reports", "lo", "--date", day, "--send", "--force", "--out", str(tmp_path))
    assert forced.exit_code == 0, forced.output
    assert len(smtp_server.messages) == 2
    with clean_app.app_context():
        assert db.session.scalars(select(ReportDispatch.forced).order_by(ReportDispatch.id)).all() == [False, True]


def test_cli_sends_an_employer_association_report(clean_app, world, smtp_server, tmp_path):
    day = DAY.isoformat()
    result = run(clean_app, "reports", "employer-association", "Staten", "--date", day, "--send", "--out",
                 str(tmp_path))
    assert result.exit_code == 0, result.output
    message = smtp_server.messages[0]
    assert message["to"] == clean_app.config["REPORT_RECIPIENTS"]["staten"]
    files = attachments(message["message"])
    text = pdf_text(files[f"medlemstall-staten-{day}.pdf"])
    assert "974760673" in text and "Virksomhet E1" in text and "971524960" not in text
    sheet = next(iter(xlsx_cells(files[f"medlemstall-staten-{day}.xlsx"]).values()))
    assert ["974760673", "Virksomhet E1", 2] in [list(row) for row in sheet]
    assert csv_rows(files[f"medlemstall-staten-{day}.csv"])[1:] == [[day, "974760673", "Virksomhet E1", "2"]]
    # Another association's report for the same date is another report: no --force needed.
    other = run(clean_app, "reports", "employer-association", "spekter", "--date", day, "--send", "--out",
                str(tmp_path))
    assert other.exit_code == 0, other.output
    assert len(smtp_server.messages) == 2


def test_cli_writes_files_without_sending(clean_app, world, smtp_server, tmp_path):
    result = run(clean_app, "reports", "lo", "--date", DAY.isoformat(), "--out", str(tmp_path / "new"))
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "new").iterdir())) == 3
    assert smtp_server.messages == []


@pytest.mark.parametrize("args,named", [
    (("lo", "--date", "2026-13-01"), "--date"),
    (("lo", "--date", "yesterday"), "--date"),
    (("lo",), "--date"),
    (("employer-association", "Fagforbundet", "--date", "2026-01-01"), "NAME"),
    (("employer-association", "lo", "--date", "2026-01-01"), "NAME"),
])
def test_cli_bad_input_names_the_argument(clean_app, smtp_server, tmp_path, args, named):
    result = run(clean_app, "reports", *args, "--send", "--out", str(tmp_path))
    assert result.exit_code == 2 and named in result.output, result.output
    assert smtp_server.messages == [] and not list(tmp_path.iterdir())


def test_mail_down_queues_the_report_with_its_files(clean_app, world, tmp_path):
    from webapp.models import OutboxMail

    state = clean_app.extensions["mail"]
    saved = (state.server, state.port, state.suppress)
    state.server, state.port, state.suppress = "127.0.0.1", 9, False  # nothing listens on the discard port
    try:
        result = run(clean_app, "reports", "lo", "--date", DAY.isoformat(), "--send", "--out", str(tmp_path))
    finally:
        state.server, state.port, state.suppress = saved
    assert result.exit_code == 0 and "mail retry" in result.output, result.output
    with clean_app.app_context():
        assert db.session.scalar(select(func.count(ReportDispatch.id))) == 1
        waiting = db.session.scalars(select(OutboxMail)).one()
        assert waiting.sent_at is None and len(waiting.attachments) == 3


# ------------------------------------------------------------------ screens and who may use them


@pytest.mark.parametrize("role", ["office", "analyst"])
def test_office_and_analyst_produce_download_and_send(client, world, smtp_server, role):
    login_as(client, world.logins[role], role)
    page = client.get(f"/reports/?report=lo&date={DAY.isoformat()}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="report-total">9<' not in html and 'id="report-total">8<' in html
    for fmt, mimetype in exports.FORMATS.items():  # made by a job: its result link is the file asked for
        response = job_result(client, client.get(f"/reports/download/lo/{DAY.isoformat()}.{fmt}"))
        assert response.status_code == 200 and response.content_type.startswith(mimetype.split(";")[0])
    pdf = job_result(client, client.get(f"/reports/download/staten/{DAY.isoformat()}.pdf"))
    assert "Virksomhet E1" in pdf_text(pdf.data)
    association_page = client.get(f"/reports/?report=spekter&date={DAY.isoformat()}").get_data(as_text=True)
    assert "971524960" in association_page and "974760673" not in association_page

    sent = client.post("/reports/send", data={"report": "spekter", "date": DAY.isoformat()})
    assert job_of(client, sent)["status"] == "done" and len(smtp_server.messages) == 1  # sent by a job
    assert len(list(smtp_server.messages[0]["message"].iter_attachments())) == 3
    again = client.post("/reports/send", data={"report": "spekter", "date": DAY.isoformat()}, follow_redirects=True)
    assert len(smtp_server.messages) == 1 and "already-sent" in again.get_data(as_text=True)
    forced = client.post("/reports/send", data={"report": "spekter", "date": DAY.isoformat(), "force": "y"})
    assert job_of(client, forced)["status"] == "done" and len(smtp_server.messages) == 2
    listing = client.get("/reportdispatchview/list/")
    assert listing.status_code == 200 and "medlemstall@spekter.example" in listing.get_data(as_text=True)


def test_report_screen_refuses_bad_input(client, world, smtp_server):
    login_as(client, world.logins["office"], "office")
    page = client.get("/reports/?report=fagforbundet&date=2026-02-30").get_data(as_text=True)
    assert 'data-field="report"' in page and 'data-field="date"' in page and 'id="report-total"' not in page
    assert client.get(f"/reports/download/lo/{DAY.isoformat()}.docx").status_code == 404
    assert client.get("/reports/download/lo/2026-02-30.pdf").status_code == 404
    assert client.get(f"/reports/download/fagforbundet/{DAY.isoformat()}.pdf").status_code == 404
    client.post("/reports/send", data={"report": "lo", "date": "tomorrow"})
    assert smtp_server.messages == []


def test_analyst_sees_no_member_rows(client, world):
    login_as(client, world.logins["analyst"], "analyst")
    member_id = world.members["inside"].id
    assert client.get(f"/memberview/show/{member_id}").status_code in (403, 404)
    assert client.get("/memberview/list/").status_code in (403, 404)
    assert client.get(f"/employmentview/show/{world.employments['inside'].id}").status_code in (403, 404)
    html = client.get(f"/reports/?report=lo&date={DAY.isoformat()}").get_data(as_text=True)
    for member in world.members.values():
        assert member.national_id not in html and member.national_id[:6] not in html and member.last_name not in html
    api = client.application.test_client()
    headers = api_token(api, world.logins["analyst"])
    assert api.get(f"/api/v1/member/{member_id}", headers=headers).status_code in (403, 404)
    assert api.get("/api/v1/member/", headers=headers).status_code in (403, 404)


@pytest.mark.parametrize("role", ["leader", "treasurer", "member_data_admin", "workplace_trustee", "deduction_contact",
                                  "member"])
def test_other_roles_cannot_use_reports(client, world, role):
    login_as(client, world.logins[role], role)
    assert client.get("/reports/").status_code in (302, 403)
    assert client.get(f"/reports/download/lo/{DAY.isoformat()}.csv").status_code in (302, 403)
    assert client.post("/reports/send", data={"report": "lo", "date": DAY.isoformat()}).status_code in (302, 403)
    assert client.get("/reportdispatchview/list/").status_code in (302, 403)
