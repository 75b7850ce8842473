"""The quarterly report of transfers to and from the other LO unions, for LO: per union the transfers in and out
in the quarter, and the members moved (member number, name, date, direction, union, reference) for the office's
file to LO. As PDF, CSV and XLSX with the membership reports' writers (reports/exports.py).

A transfer counts in the quarter of its `transfer_on`: for a transfer in the day the membership here began, for
a transfer out the last day as a member here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reports.exports import CSV, PDF, XLSX, ReportFile, _bold_row, _csv_bytes, _sheet_title, _xlsx_bytes
from reports.membership import ReportError, norwegian_order
from webapp.extensions import db
from webapp.models.choices import TransferDirection
from webapp.models.lifecycle import MembershipTransfer
from webapp.services.bounds import FIRST_PERIOD_YEAR, last_period_year
from webapp.services.pdf import render_pdf
from webapp.services.periods import PeriodError, Quarter, period_label


@dataclass(frozen=True)
class UnionFigures:
    code: str
    name: str
    incoming: int
    outgoing: int


@dataclass(frozen=True)
class TransferLine:
    member_no: str
    name: str
    day: dt.date
    direction: TransferDirection
    union_code: str
    union_name: str
    reference: str


@dataclass(frozen=True)
class TransferReport:
    quarter: Quarter
    unions: list[UnionFigures]
    lines: list[TransferLine]

    @property
    def incoming(self) -> int:
        return sum(u.incoming for u in self.unions)

    @property
    def outgoing(self) -> int:
        return sum(u.outgoing for u in self.unions)

    @property
    def title(self) -> str:
        return _("Transfers between LO unions, %(quarter)s", quarter=period_label(self.quarter))


def parse_quarter(text: str) -> Quarter:
    """A quarter YYYY-Qn within the register's years; ReportError naming the field otherwise."""
    try:
        return Quarter.parse(text)
    except PeriodError as exc:
        raise ReportError(_("Quarter: must be a quarter of the form YYYY-Qn (n = 1 to 4) in the years %(first)s to "
                            "%(last)s.", first=FIRST_PERIOD_YEAR, last=last_period_year())) from exc


def transfer_report(quarter: Quarter) -> TransferReport:
    """Every transfer whose date lies in the quarter, counted per LO union (unions without any left out)."""
    transfers = db.session.scalars(
        select(MembershipTransfer)
        .where(MembershipTransfer.transfer_on >= quarter.first_day, MembershipTransfer.transfer_on <= quarter.last_day)
        .options(joinedload(MembershipTransfer.member), joinedload(MembershipTransfer.lo_union))
    ).all()
    counts: dict[int, dict[TransferDirection, int]] = {}
    unions = {}
    for transfer in transfers:
        unions[transfer.lo_union_id] = transfer.lo_union
        per_union = counts.setdefault(transfer.lo_union_id, {TransferDirection.incoming: 0,
                                                             TransferDirection.outgoing: 0})
        per_union[transfer.direction] += 1
    figures = sorted(
        (UnionFigures(unions[uid].code, unions[uid].name, c[TransferDirection.incoming],
                      c[TransferDirection.outgoing]) for uid, c in counts.items()),
        key=lambda u: norwegian_order(u.name),
    )
    lines = sorted(
        (TransferLine(t.member.member_no, t.member.full_name, t.transfer_on, t.direction, t.lo_union.code,
                      t.lo_union.name, t.reference or "") for t in transfers),
        key=lambda line: (line.day, line.direction.value, line.member_no),
    )
    return TransferReport(quarter, figures, lines)


def base_name(quarter: Quarter) -> str:
    return f"overforinger-{quarter}"


def report_files(report: TransferReport) -> list[ReportFile]:
    """The PDF (figures and members), the CSV of the figures per union, the XLSX (a sheet of each), and the CSV
    of the members moved."""
    name = base_name(report.quarter)
    pdf = render_pdf("pdf/transfer_report.html", report=report, union_name=current_app.config["UNION_NAME"])
    quarter = str(report.quarter)
    figures_csv = _csv_bytes(
        [_("Quarter"), _("Union code"), _("LO union"), _("Transferred in"), _("Transferred out")],
        [[quarter, u.code, u.name, u.incoming, u.outgoing] for u in report.unions]
        + [[quarter, "", _("Total"), report.incoming, report.outgoing]],
    )
    members_csv = _csv_bytes(_member_header(), [_member_row(line) for line in report.lines])
    return [
        ReportFile(f"{name}.pdf", pdf, PDF),
        ReportFile(f"{name}.csv", figures_csv, CSV),
        ReportFile(f"{name}.xlsx", _workbook(report), XLSX),
        ReportFile(f"{name}-medlemmer.csv", members_csv, CSV),
    ]


def _member_header() -> list[str]:
    return [_("Membership number"), _("Name"), _("Date"), _("Direction"), _("Union code"), _("LO union"),
            _("Reference")]


def _member_row(line: TransferLine) -> list:
    return [line.member_no, line.name, line.day.strftime("%d.%m.%Y"), str(line.direction.label), line.union_code,
            line.union_name, line.reference]


def _workbook(report: TransferReport) -> bytes:
    from openpyxl import Workbook  # here, not at the top: the CLI starts sooner
    from openpyxl.styles import Font

    workbook = Workbook()
    figures = workbook.active
    figures.title = _sheet_title(_("Per LO union"))
    figures.append([report.title])
    figures["A1"].font = Font(bold=True, size=13)
    figures.append([])
    figures.append([_("Union code"), _("LO union"), _("Transferred in"), _("Transferred out")])
    _bold_row(figures)
    for union in report.unions:
        figures.append([union.code, union.name, union.incoming, union.outgoing])
    figures.append(["", _("Total"), report.incoming, report.outgoing])
    _bold_row(figures)
    figures.column_dimensions["B"].width = 42
    members = workbook.create_sheet(_sheet_title(_("Members")))
    members.append(_member_header())
    _bold_row(members)
    for line in report.lines:
        members.append(_member_row(line))
    members.column_dimensions["B"].width = 30
    members.column_dimensions["F"].width = 36
    return _xlsx_bytes(workbook)


def file_for(quarter_text: str, name: str) -> ReportFile:
    """The report file of a quarter by its file name (as the download links give it); ReportError otherwise."""
    quarter = parse_quarter(quarter_text)
    files = {f.name: f for f in report_files(transfer_report(quarter))}
    if name not in files:
        raise ReportError(_("File: no such file of the transfer report."))
    return files[name]
