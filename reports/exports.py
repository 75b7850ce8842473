"""The membership reports as files: PDF (through reports.pdf), CSV and XLSX. No member rows, no national ids.

`build(spec, day)` makes a report and its three files; `write_files` puts them in a directory. A report is
named by a `ReportSpec`: LO / LO Stat, or one employer association.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _

from reports.membership import (
    BREAKDOWNS,
    REPORTED_ASSOCIATIONS,
    AssociationReport,
    LoReport,
    ReportError,
    employer_association_report,
    lo_report,
    parse_association,
)
from webapp.models.choices import EmployerAssociation, ReportKind
from webapp.services import lifecycle_stats
from webapp.services.export_cells import neutralised, neutralised_row
from webapp.services.pdf import render_pdf
from webapp.services.periods import period_label

if TYPE_CHECKING:
    from openpyxl import Workbook

PDF = "application/pdf"
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"pdf": PDF, "csv": CSV, "xlsx": XLSX}


@dataclass(frozen=True)
class ReportSpec:
    """Which report: LO / LO Stat, or the report of one employer association."""

    kind: ReportKind
    association: EmployerAssociation | None = None

    @property
    def code(self) -> str:
        """'lo' or the association's code: the name used in URLs, file names and recipient settings."""
        return "lo" if self.kind == ReportKind.lo else self.association.name

    @property
    def label(self) -> str:
        return str(self.kind.label) if self.kind == ReportKind.lo else str(self.association.label)

    @classmethod
    def parse(cls, code: str, field_name: str = "report") -> ReportSpec:
        if str(code or "").strip().lower() == "lo":
            return LO
        try:
            return cls(ReportKind.employer_association, parse_association(code, field_name))
        except ReportError:
            codes = ", ".join(spec.code for spec in all_specs())
            raise ReportError(f"{field_name}: '{code}' is not a report (one of {codes})") from None


LO = ReportSpec(ReportKind.lo)


def all_specs() -> list[ReportSpec]:
    return [LO] + [ReportSpec(ReportKind.employer_association, a) for a in REPORTED_ASSOCIATIONS]


@dataclass(frozen=True)
class ReportFile:
    name: str
    data: bytes
    mimetype: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def extension(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def base_name(spec: ReportSpec, day: dt.date) -> str:
    return f"medlemstall-{spec.code}-{day.isoformat()}"


def _csv_bytes(header: list[str], rows: list[list]) -> bytes:
    """Semicolons and a byte-order mark, so a Norwegian Excel opens it with æøå intact."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(neutralised_row(header))
    writer.writerows(neutralised_row(row) for row in rows)
    return out.getvalue().encode("utf-8-sig")


def _xlsx_bytes(workbook: Workbook) -> bytes:
    """The workbook as a file. We write no formulas of our own, so every text cell of every sheet is neutralised
    here, whichever code appended it (openpyxl would store text starting with = as a formula)."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = neutralised(cell.value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(text: str) -> str:
    """Excel allows 31 characters and none of []:*?/\\ in a sheet name."""
    return "".join(c for c in str(text) if c not in "[]:*?/\\")[:31]


def _heading(sheet, title: str, day: dt.date) -> None:
    from openpyxl.styles import Font

    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([_("Members at %(date)s", date=day.strftime("%d.%m.%Y"))])
    sheet.append([])


def _bold_row(sheet) -> None:
    from openpyxl.styles import Font

    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


# ------------------------------------------------------------------ LO / LO Stat


def lo_files(report: LoReport) -> list[ReportFile]:
    name = base_name(LO, report.day)
    breakdowns = [(key, str(label)) for key, label in BREAKDOWNS]
    pdf = render_pdf(
        "pdf/lo_report.html", report=report, breakdowns=breakdowns, union_name=current_app.config["UNION_NAME"],
        movements_total=lifecycle_stats.total(report.movements), reason_label=lifecycle_stats.reason_label,
    )

    labels = dict(breakdowns)
    day = report.day.isoformat()
    rows = [[day, _("Total"), "total", _("Total"), report.total]]
    rows += [[day, labels[key], code, label, members] for key, code, label, members in report.group_rows()]
    rows += movement_rows(report)
    csv_data = _csv_bytes([_("Date"), _("Breakdown"), _("Code"), _("Group"), _("Members")], rows)

    from openpyxl import Workbook  # here, not at the top: the CLI starts sooner (so below)

    workbook = Workbook()
    summary = workbook.active
    summary.title = _sheet_title(_("Summary"))
    _heading(summary, report.title, report.day)
    summary.append([_("Members in total"), report.total])
    _bold_row(summary)
    for key, label in breakdowns:
        sheet = workbook.create_sheet(_sheet_title(label))
        _heading(sheet, report.title, report.day)
        sheet.append([label, _("Code"), _("Members")])
        _bold_row(sheet)
        for group in report.breakdowns[key]:
            sheet.append([group.label, group.code, group.members])
        sheet.append([_("Total"), "", report.total])
        _bold_row(sheet)
        sheet.column_dimensions["A"].width = 42
    summary.column_dimensions["A"].width = 42
    _movements_sheet(workbook, report)
    return _three_files(name, pdf, csv_data, workbook)


def movement_rows(report: LoReport) -> list[list]:
    """The CSV's rows of the movements: per month (in the date column, YYYY-MM) the joins, transfers in, leaves,
    leaves per reason (code 'leaves:<reason>'), transfers out and the net change."""
    breakdown = _("Joins and leaves")
    rows = []
    for month in report.movements:
        period = str(month.month)
        rows += [[period, breakdown, "joins", _("Joins"), month.joins],
                 [period, breakdown, "transfers_in", _("Transfers in"), month.transfers_in],
                 [period, breakdown, "leaves", _("Leaves"), month.leaves]]
        rows += [[period, breakdown, f"leaves:{lifecycle_stats.reason_code(reason)}",
                  _("Leaves: %(reason)s", reason=lifecycle_stats.reason_label(reason)), month.leaves_for(reason)]
                 for reason in report.leave_reasons]
        rows += [[period, breakdown, "transfers_out", _("Transfers out"), month.transfers_out],
                 [period, breakdown, "net", _("Net change"), month.net]]
    return rows


def movement_columns(report: LoReport) -> list[str]:
    """The headings of the XLSX sheet of the movements, one row per month."""
    return [_("Month"), _("Joins"), _("Transfers in"), _("Leaves"), _("Transfers out"), _("Net change")] + [
        _("Leaves: %(reason)s", reason=lifecycle_stats.reason_label(reason)) for reason in report.leave_reasons]


def _movements_sheet(workbook: Workbook, report: LoReport) -> None:
    sheet = workbook.create_sheet(_sheet_title(_("Joins and leaves")))
    _heading(sheet, report.title, report.day)
    first, last = report.movements[0].month, report.movements[-1].month
    sheet.append([_("Joins and leaves per month from %(first)s to %(last)s", first=period_label(first),
                    last=period_label(last))])
    sheet.append(movement_columns(report))
    _bold_row(sheet)
    summed = lifecycle_stats.total(report.movements)
    for label, month in [(period_label(m.month), m) for m in report.movements] + [(_("Total"), summed)]:
        sheet.append([label, month.joins, month.transfers_in, month.leaves, month.transfers_out, month.net]
                     + [month.leaves_for(reason) for reason in report.leave_reasons])
    _bold_row(sheet)
    sheet.column_dimensions["A"].width = 20


def _three_files(name: str, pdf: bytes, csv_data: bytes, workbook: Workbook) -> list[ReportFile]:
    """A report's PDF, CSV and XLSX files under one base name."""
    return [
        ReportFile(f"{name}.pdf", pdf, PDF),
        ReportFile(f"{name}.csv", csv_data, CSV),
        ReportFile(f"{name}.xlsx", _xlsx_bytes(workbook), XLSX),
    ]


# ------------------------------------------------------------------ employer associations


def association_files(report: AssociationReport) -> list[ReportFile]:
    from openpyxl import Workbook

    from reports.association_pdf import association_pdf  # reportlab: loaded when a report is made

    spec = ReportSpec(ReportKind.employer_association, report.association)
    name = base_name(spec, report.day)
    pdf = association_pdf(report, current_app.config["UNION_NAME"])
    csv_data = _csv_bytes(
        [_("Date"), _("Organisation number"), _("Enterprise"), _("Members")],
        [[report.day.isoformat(), row.org_number, row.name, row.members] for row in report.rows],
    )

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(report.association.label)
    _heading(sheet, report.title, report.day)
    sheet.append([_("Organisation number"), _("Enterprise"), _("Members")])
    _bold_row(sheet)
    for row in report.rows:
        sheet.append([row.org_number, row.name, row.members])
    sheet.append([_("Total"), "", report.total])
    _bold_row(sheet)
    sheet.append([_("Different members"), "", report.distinct_members])
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 50
    return _three_files(name, pdf, csv_data, workbook)


# ------------------------------------------------------------------ one entry point


def build_report(spec: ReportSpec, day: dt.date) -> LoReport | AssociationReport:
    if spec.kind == ReportKind.lo:
        return lo_report(day)
    return employer_association_report(spec.association, day)


def files_for(report: LoReport | AssociationReport) -> list[ReportFile]:
    return lo_files(report) if isinstance(report, LoReport) else association_files(report)


def build(spec: ReportSpec, day: dt.date) -> tuple[LoReport | AssociationReport, list[ReportFile]]:
    report = build_report(spec, day)
    return report, files_for(report)


def build_all(day: dt.date) -> list[tuple[ReportSpec, LoReport | AssociationReport, list[ReportFile]]]:
    """Every report for `day`: LO / LO Stat and each employer association, with their files."""
    return [(spec, *build(spec, day)) for spec in all_specs()]


def write_all(day: dt.date, directory: str | None = None) -> list[str]:
    """Write the files of every report for `day` (default directory: REPORTS_DIR); returns the paths."""
    directory = directory or default_directory()
    return [path for _spec, _report, files in build_all(day) for path in write_files(files, directory)]


def write_files(files: list[ReportFile], directory: str) -> list[str]:
    """Write each file whole or not at all (a temporary file renamed into place); returns the paths."""
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"out: cannot create the directory {directory} ({exc.strerror})") from None
    paths = []
    for report_file in files:
        path = os.path.join(directory, report_file.name)
        try:
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=".partial-")
            os.chmod(temporary, 0o644)  # mkstemp makes it private; these are aggregated figures for sharing
            with os.fdopen(handle, "wb") as out:
                out.write(report_file.data)
            os.replace(temporary, path)
        except OSError as exc:
            raise ReportError(f"out: cannot write {path} ({exc.strerror})") from None
        paths.append(path)
    return paths


def default_directory() -> str:
    return current_app.config.get("REPORTS_DIR") or os.path.join(current_app.instance_path, "reports")

